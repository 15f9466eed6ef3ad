// Every RPC over a real gRPC server with real TLS on loopback: roles and
// databases, Recover's ranges and placeholders, Snapshot under concurrent
// writers, Publish exactly-once, access-list reloads, limits and bad requests.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <condition_variable>
#include <map>
#include <thread>

#include "control_rig.hpp"
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "engine/control/service.hpp"
#include "engine/control/tls.hpp"
#include "engine/wire/update.hpp"
#include "store/checksum.hpp"
#include "store/replica.hpp"

namespace replicast::control::testing {
namespace {

using ::testing::HasSubstr;
using replicast::testing::Ops;

v1::PublishRequest puts(const std::string& db, const std::vector<std::pair<std::string, std::uint32_t>>& keys,
                        const std::string& request_id = "") {
    v1::PublishRequest r;
    r.set_database(db);
    r.set_request_id(request_id);
    for (const auto& [k, g] : keys) {
        v1::Update* u = r.add_updates();
        u->set_op(v1::OP_PUT);
        u->set_key(k);
        u->set_value("value-of-" + k);
        u->set_reader_group(g);
    }
    return r;
}

/// One unary call of `method` whose request is `bytes` as they are (gRPC's generic stub), as `who`.
std::uint64_t steady_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

// Polls `done` (bounded: 20 s) for conditions on the clock, such as a lease running out.
bool wait_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

grpc::Status raw_call(Rig& rig, const std::string& who, const std::string& method, const std::string& bytes) {
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    args.SetMaxSendMessageSize(-1);
    const ClientTls t = tls_for(who);
    auto channel = grpc::CreateCustomChannel(
        rig.target(), client_credentials(read_pem(t.certificate, "c"), read_pem(t.private_key, "k"), read_pem(t.ca, "ca")), args);
    grpc::GenericStub stub(channel);
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1), reply;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    grpc::Status status;
    stub.UnaryCall(&ctx, "/replicast.v1.Replicast/" + method, grpc::StubOptions(), &request, &reply, [&](grpc::Status s) {
        std::lock_guard lock(mu);
        status = std::move(s);
        done = true;
        cv.notify_all();
    });
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done; });
    return status;
}

std::uint32_t subscribe(Rig& rig, const std::string& db) {
    v1::Subscription sub;
    const Result r = rig.client("subscriber")->subscribe(db, sub);
    EXPECT_TRUE(r) << r.text();
    return sub.stream_id();
}

TEST(ControlRpc, SubscribeHandsOutTheStream) {
    Rig rig;
    v1::PublishReply pr;
    ASSERT_TRUE(rig.client("publisher")->publish(puts("orders", {{"a", 0}, {"b", 2}}), pr));
    v1::Subscription sub;
    ASSERT_TRUE(rig.client("subscriber")->subscribe("orders", sub));
    EXPECT_EQ(sub.database(), "orders");
    EXPECT_NE(sub.stream_id(), 0u);
    EXPECT_EQ(sub.group(), "239.0.0." + std::to_string(1 + sub.stream_id()));
    EXPECT_EQ(sub.source(), "127.0.0.1");
    EXPECT_EQ(sub.port(), 5000u);
    EXPECT_EQ(sub.store_uuid(), std::string(reinterpret_cast<const char*>(rig.master.uuid().data()), 16));
    EXPECT_EQ(sub.key_epoch(), 1u);
    ASSERT_EQ(sub.keys_size(), 1);
    const crypto::Key k = TestBackend::key_for(sub.stream_id(), 1);
    EXPECT_EQ(sub.keys(0).key(), std::string(k.begin(), k.end()));
    EXPECT_FALSE(sub.all_groups());
    EXPECT_THAT(sub.reader_groups(), ::testing::ElementsAre(2u));
    EXPECT_EQ(sub.last_lsn(), 2u);
    EXPECT_EQ(sub.oldest_lsn(), 1u);
    EXPECT_EQ(sub.lease_ms(), 30'000u) << "the default lease length";
    EXPECT_GT(rig.backend.horizon(sub.stream_id()), steady_ns() + 20'000'000'000) << "a lease of 30 s was taken";

    v1::KeysReply keys;
    ASSERT_TRUE(rig.client("subscriber")->keys(sub.stream_id(), keys));
    EXPECT_EQ(keys.key_epoch(), 1u);
    EXPECT_GT(keys.lease_ms(), 20'000u);
    ASSERT_TRUE(rig.client("subscriber")->unsubscribe(sub.stream_id()));
    EXPECT_LE(rig.backend.horizon(sub.stream_id()), steady_ns()) << "Unsubscribe ended the lease: idle from now";
    const int calls = rig.backend.horizon_calls_.load();
    // Another Unsubscribe (or one of an identity that never subscribed) ends nothing.
    ASSERT_TRUE(rig.client("subscriber")->unsubscribe(sub.stream_id()));
    ASSERT_TRUE(rig.client("admin")->unsubscribe(sub.stream_id()));
    EXPECT_EQ(rig.backend.horizon_calls_.load(), calls);
    ASSERT_TRUE(rig.client("subscriber")->keys(sub.stream_id(), keys));
    EXPECT_EQ(keys.lease_ms(), 0u) << "no lease after Unsubscribe";
}

// Subscriptions are leases: calls that carry ReceiveStats renew them, calls
// without do not, a lapsed one is not renewed (Subscribe takes it again), and
// Stats and Databases count the identities holding one.
TEST(ControlRpc, LeasesAreRenewedByCallsWithStatsAndRunOut) {
    Rig rig([](ControlConfig& c) { c.lease_ms = 3'000; });
    v1::PublishReply pr;
    ASSERT_TRUE(rig.client("publisher")->publish(puts("orders", {{"a", 2}}), pr));
    auto sc = rig.client("subscriber");
    v1::ReceiveStats rs;
    rs.set_packets(1);
    v1::Subscription sub;
    ASSERT_TRUE(sc->subscribe("orders", sub, &rs));
    const std::uint32_t id = sub.stream_id();
    EXPECT_EQ(sub.lease_ms(), 3'000u);
    const std::uint64_t first = rig.backend.horizon(id);

    auto subscribers = [&] {
        v1::StatsReply st;
        EXPECT_TRUE(rig.client("admin")->stats(st));
        for (const auto& row : st.streams()) {
            if (row.stream_id() == id) return std::make_pair(row.subscribers(), row.leases_size() == 1 ? row.leases(0).identity() : "");
        }
        return std::make_pair(UINT32_MAX, std::string());
    };
    EXPECT_EQ(subscribers(), std::make_pair(1u, std::string("subscriber")));
    v1::DatabasesReply dbs;
    ASSERT_TRUE(sc->databases(dbs));
    ASSERT_EQ(dbs.databases_size(), 1);
    EXPECT_EQ(dbs.databases(0).subscribers(), 1u);

    // Keys without statistics (a tool) leaves the lease as it is; with them (a replica reporting) renews it.
    v1::KeysReply keys;
    const int calls = rig.backend.horizon_calls_.load();
    ASSERT_TRUE(sc->keys(id, keys));
    EXPECT_EQ(rig.backend.horizon_calls_.load(), calls);
    wait_until([&] { return steady_ns() > first - 2'500'000'000; });  // 0.5 s: a visible step for the renewal
    ASSERT_TRUE(sc->keys(id, keys, &rs));
    EXPECT_GT(keys.lease_ms(), 2'000u);
    EXPECT_GT(rig.backend.horizon(id), first) << "renewed: the horizon moved on";
    // Recover with statistics renews too (a replica off multicast follows by Recover).
    const std::uint64_t second = rig.backend.horizon(id);
    wait_until([&] { return steady_ns() > second - 2'500'000'000; });
    ASSERT_TRUE(sc->recover(id, 1, 1, [](const v1::RecoverBatch&) { return true; }, &rs));
    EXPECT_GT(rig.backend.horizon(id), second);

    // Nobody renews: it runs out; Stats counts nobody; a report no longer renews it.
    const std::uint64_t last = rig.backend.horizon(id);
    ASSERT_TRUE(wait_until([&] { return steady_ns() > last; }));
    EXPECT_EQ(subscribers(), std::make_pair(0u, std::string()));
    ASSERT_TRUE(sc->keys(id, keys, &rs));
    EXPECT_EQ(keys.lease_ms(), 0u) << "lapsed: only Subscribe takes it again";
    EXPECT_EQ(rig.backend.horizon(id), last) << "the horizon stays where the lease ran out";
    ASSERT_TRUE(sc->subscribe("orders", sub, &rs));
    EXPECT_GT(rig.backend.horizon(id), steady_ns());
    EXPECT_EQ(subscribers().first, 1u);
}

// [control] threads_nice: the server's own gRPC threads (those that run the
// handlers) get the nice value; the thread that built the server keeps its own.
TEST(ControlRpc, ThreadsNiceLowersTheServersThreadsOnly) {
    errno = 0;
    const int before = getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
    ASSERT_EQ(errno, 0);
    ASSERT_LT(before, 7) << "the test runs at nice 7 or more already: nothing to see";
    Rig rig([](ControlConfig& c) { c.threads_nice = 7; });
    v1::PublishReply pr;
    ASSERT_TRUE(rig.client("publisher")->publish(puts("orders", {{"a", 0}}), pr));  // a handler has run
    EXPECT_EQ(getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid())), before);
    int handlers = 0;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
        std::ifstream in(task.path() / "stat");
        std::string stat;
        std::getline(in, stat);
        const auto open = stat.find('('), close = stat.rfind(')');
        if (open == std::string::npos || close == std::string::npos) continue;
        if (stat.compare(open + 1, close - open - 1, "grpcpp_sync_ser") != 0) continue;
        std::istringstream rest(stat.substr(close + 2));  // state ppid ... priority nice (fields 3..19)
        std::string field;
        for (int i = 3; i <= 19 && rest >> field; ++i) {
        }
        EXPECT_EQ(field, "7") << task.path();
        ++handlers;
    }
    EXPECT_GT(handlers, 0) << "no grpcpp_sync_server thread found";
}

TEST(ControlRpc, SubscribeFailsWhenTheDatabaseIsNotStreamed) {
    Rig rig;
    v1::PublishReply pr;
    ASSERT_TRUE(rig.client("publisher")->publish(puts("orders", {{"a", 0}}), pr));
    rig.backend.set_startable(false);
    v1::Subscription sub;
    EXPECT_EQ(rig.client("subscriber")->subscribe("orders", sub).code(), Code::failed_precondition);
    EXPECT_EQ(rig.client("subscriber")->subscribe("prices", sub).code(), Code::not_found) << "no such database";
}

TEST(ControlRpc, PermissionDeniedForUnknownIdentitiesDatabasesAndRoles) {
    Rig rig;
    v1::PublishReply pr;
    ASSERT_TRUE(rig.client("publisher")->publish(puts("orders", {{"a", 0}}), pr));
    ASSERT_TRUE(rig.client("publisher")->publish(puts("secret", {{"s", 0}}), pr));
    const std::uint32_t orders = subscribe(rig, "orders");
    const std::uint64_t last = rig.last_lsn("orders");

    // "stranger" has a valid lab certificate but is not in the access list.
    auto stranger = rig.client("stranger");
    v1::Subscription sub;
    v1::KeysReply keys;
    v1::DatabasesReply dbs;
    EXPECT_EQ(stranger->subscribe("orders", sub).code(), Code::permission_denied);
    EXPECT_EQ(stranger->keys(orders, keys).code(), Code::permission_denied);
    EXPECT_EQ(stranger->databases(dbs).code(), Code::permission_denied);
    EXPECT_EQ(stranger->publish(puts("orders", {{"x", 0}}), pr).code(), Code::permission_denied);
    EXPECT_EQ(stranger->recover(orders, 1, 1, [](const v1::RecoverBatch&) { return true; }).code(),
              Code::permission_denied);

    // Wrong database.
    auto subscriber = rig.client("subscriber");
    EXPECT_EQ(subscriber->subscribe("secret", sub).code(), Code::permission_denied);
    EXPECT_EQ(subscriber->snapshot("secret", [](const v1::SnapshotPage&) { return true; }).code(),
              Code::permission_denied);
    // Wrong role.
    EXPECT_EQ(subscriber->publish(puts("orders", {{"x", 0}}), pr).code(), Code::permission_denied);
    v1::StatsReply stats;
    EXPECT_EQ(subscriber->stats(stats).code(), Code::permission_denied);
    std::uint32_t epoch = 0;
    EXPECT_EQ(subscriber->rotate_key("orders", epoch).code(), Code::permission_denied);
    auto publisher = rig.client("publisher");
    EXPECT_EQ(publisher->keys(orders, keys).code(), Code::permission_denied);
    EXPECT_EQ(publisher->subscribe("orders", sub).code(), Code::permission_denied);
    EXPECT_EQ(publisher->snapshot("orders", [](const v1::SnapshotPage&) { return true; }).code(),
              Code::permission_denied);

    EXPECT_EQ(rig.last_lsn("orders"), last) << "a denied call changed the store";
    EXPECT_TRUE(rig.backend.rotated().empty());
    ASSERT_TRUE(rig.client("admin")->stats(stats));
    EXPECT_GE(stats.control().denied(), 13u);
}

TEST(ControlRpc, DatabasesListsWhatTheIdentityMayUse) {
    Rig rig;
    v1::PublishReply pr;
    for (const char* db : {"orders", "prices", "secret"}) ASSERT_TRUE(rig.client("publisher")->publish(puts(db, {{"k", 0}}), pr));
    ASSERT_TRUE(rig.client("publisher")->publish(puts("orders", {{"k2", 0}}), pr));
    subscribe(rig, "orders");
    v1::DatabasesReply dbs;
    ASSERT_TRUE(rig.client("subscriber")->databases(dbs));
    ASSERT_EQ(dbs.databases_size(), 2);
    EXPECT_EQ(dbs.databases(0).name(), "orders");
    EXPECT_TRUE(dbs.databases(0).streaming());
    EXPECT_NE(dbs.databases(0).stream_id(), 0u);
    EXPECT_EQ(dbs.databases(0).last_lsn(), 2u);
    EXPECT_EQ(dbs.databases(1).name(), "prices");
    EXPECT_FALSE(dbs.databases(1).streaming());
    ASSERT_TRUE(rig.client("publisher")->databases(dbs));
    EXPECT_EQ(dbs.databases_size(), 3);
}

// 12 updates alternating readable (groups 0, 2) and unreadable (group 7) runs.
TEST(ControlRpc, RecoverReturnsExactlyTheRangeWithPlaceholders) {
    Rig rig([](ControlConfig& c) { c.recover_batch_bytes = 1024; });
    const std::vector<std::uint32_t> groups{0, 2, 7, 7, 0, 7, 2, 2, 2, 7, 0, 0};
    v1::PublishReply pr;
    for (std::size_t i = 0; i < groups.size(); ++i) {
        ASSERT_TRUE(rig.client("publisher")->publish(puts("orders", {{"k" + std::to_string(i), groups[i]}}), pr));
    }
    const std::uint32_t stream = subscribe(rig, "orders");
    auto c = rig.client("subscriber");
    for (const auto& [from, to] : std::vector<std::pair<std::uint64_t, std::uint64_t>>{{1, 12}, {3, 9}, {4, 4}, {10, 100}}) {
        std::vector<v1::RecoverBatch> batches;
        const Result r = c->recover(stream, from, to, [&](const v1::RecoverBatch& b) {
            batches.push_back(b);
            return true;
        });
        ASSERT_TRUE(r) << r.text();
        std::uint64_t next = from;
        for (const v1::RecoverBatch& b : batches) {
            ASSERT_EQ(b.first_lsn(), next) << "batches must be contiguous and in order";
            ASSERT_GE(b.update_count(), 1u);
            std::size_t at = 0;
            EXPECT_FALSE(b.placeholder()) << "unreadable updates travel as key-only deletes, not placeholders";
            for (std::uint32_t i = 0; i < b.update_count(); ++i) {
                const std::uint32_t g = groups[b.first_lsn() - 1 + i];
                wire::UpdateView u;
                std::size_t used = 0;
                const auto* p = reinterpret_cast<const std::uint8_t*>(b.body().data());
                ASSERT_EQ(wire::parse_update({p + at, b.body().size() - at}, u, used), wire::WireError::ok);
                EXPECT_EQ(std::string(u.key.begin(), u.key.end()), "k" + std::to_string(b.first_lsn() - 1 + i));
                EXPECT_EQ(u.reader_group, g);
                if (g == 7) {
                    // Group 7 is not this identity's: its key, as a delete, and never the value.
                    EXPECT_EQ(u.op, wire::Op::del) << "LSN " << b.first_lsn() + i;
                    EXPECT_TRUE(u.value.empty());
                } else {
                    EXPECT_EQ(u.op, wire::Op::put);
                    EXPECT_FALSE(u.value.empty());
                }
                at += used;
            }
            EXPECT_EQ(at, b.body().size()) << "the body holds exactly update_count updates";
            next = b.first_lsn() + b.update_count();
        }
        EXPECT_EQ(next, std::min<std::uint64_t>(to, 12) + 1) << "[" << from << ", " << to << "] clipped at the log's end";
    }
    // A range past the end is empty, a reversed one is invalid.
    int seen = 0;
    EXPECT_TRUE(c->recover(stream, 13, 20, [&](const v1::RecoverBatch&) { return ++seen > 0; }));
    EXPECT_EQ(seen, 0);
    EXPECT_EQ(c->recover(stream, 5, 4, [](const v1::RecoverBatch&) { return true; }).code(), Code::invalid_argument);
    EXPECT_EQ(c->recover(stream, 0, 4, [](const v1::RecoverBatch&) { return true; }).code(), Code::invalid_argument);
    EXPECT_EQ(c->recover(9999, 1, 4, [](const v1::RecoverBatch&) { return true; }).code(), Code::not_found);
}

TEST(ControlRpc, RecoverBatchesRespectTheByteLimit) {
    Rig rig([](ControlConfig& c) { c.recover_batch_bytes = 1024; });
    v1::PublishRequest big;
    big.set_database("orders");
    for (int i = 0; i < 100; ++i) {
        v1::Update* u = big.add_updates();
        u->set_op(v1::OP_PUT);
        u->set_key("key-" + std::to_string(i));
        u->set_value(std::string(100, 'x'));
    }
    v1::PublishReply pr;
    ASSERT_TRUE(rig.client("publisher")->publish(big, pr));
    const std::uint32_t stream = subscribe(rig, "orders");
    std::size_t batches = 0, lsns = 0;
    ASSERT_TRUE(rig.client("subscriber")->recover(stream, 1, 100, [&](const v1::RecoverBatch& b) {
        ++batches;
        lsns += b.update_count();
        EXPECT_LE(b.body().size(), 1024u);
        return true;
    }));
    EXPECT_EQ(lsns, 100u);
    EXPECT_GE(batches, 10u);
}

TEST(ControlRpc, RecoverIsOutOfRangeAfterTrim) {
    Rig rig;
    v1::PublishReply pr;
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(rig.client("publisher")->publish(puts("orders", {{"k" + std::to_string(i), 0}}), pr));
    const std::uint32_t stream = subscribe(rig, "orders");
    std::uint64_t removed = 0;
    ASSERT_TRUE(rig.master.trim("orders", {.keep_updates = 4}, removed));
    ASSERT_EQ(removed, 6u);
    auto c = rig.client("subscriber");
    const Result r = c->recover(stream, 6, 10, [](const v1::RecoverBatch&) { return true; });
    EXPECT_EQ(r.code(), Code::out_of_range) << r.text();
    EXPECT_THAT(r.message(), HasSubstr("snapshot"));
    std::uint64_t lsns = 0;
    EXPECT_TRUE(c->recover(stream, 7, 10, [&](const v1::RecoverBatch& b) { lsns += b.update_count(); return true; }));
    EXPECT_EQ(lsns, 4u);
}

// The master's state at `lsn` for the subscriber's groups, from the log, hashed the checksum's way.
std::string master_digest_at(store::MasterStore& m, const std::string& db, std::uint64_t lsn, std::uint64_t& records) {
    const auto table = replicast::testing::replay_log(m, db, lsn);
    store::RecordDigest d;
    records = 0;
    for (const auto& [k, gv] : table) {
        if (gv.first != 0 && gv.first != 2) continue;
        d.add({.key = {reinterpret_cast<const std::uint8_t*>(k.data()), k.size()}, .group = gv.first,
               .value = {reinterpret_cast<const std::uint8_t*>(gv.second.data()), gv.second.size()}});
        ++records;
    }
    return d.hex();
}

TEST(ControlRpc, SnapshotUnderTwoWritersMatchesTheMasterAtItsLsnAndBuildsAVerifiedReplica) {
    Rig rig([](ControlConfig& c) { c.snapshot_page_bytes = 4096; });
    v1::PublishReply pr;
    for (int i = 0; i < 300; ++i) {
        ASSERT_TRUE(rig.client("publisher")->publish(puts("orders", {{"seed" + std::to_string(i), static_cast<std::uint32_t>(i % 3) * 2 + (i % 5 == 0)}}), pr));
    }
    std::atomic<bool> stop{false};
    std::atomic<int> written{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < 2; ++w) {
        writers.emplace_back([&, w] {
            auto c = rig.client("publisher");
            for (int i = 0; i < 2000 && !stop.load(); ++i) {
                v1::PublishReply r;
                if (c->publish(puts("orders", {{"w" + std::to_string(w) + "-" + std::to_string(i % 150), static_cast<std::uint32_t>(i % 4)},
                                               {"seed" + std::to_string(i % 300), 2}}), r)) {
                    written.fetch_add(1);
                }
            }
        });
    }
    // Let the writers get going (bounded wait on a condition, not a sleep).
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (written.load() < 50 && std::chrono::steady_clock::now() < until) std::this_thread::yield();
    ASSERT_GE(written.load(), 50);

    TempDir rdir("replica");
    store::ReplicaStore replica(rdir.str(), replicast::testing::fast());
    std::uint64_t lsn = 0, count = 0, pages = 0;
    std::string sha;
    bool began = false;
    std::vector<std::uint16_t> kept{2};
    const Result r = rig.client("subscriber")->snapshot("orders", [&](const v1::SnapshotPage& p) {
        if (pages++ == 0) {
            lsn = p.lsn();
            std::array<std::uint8_t, 16> uuid{};
            EXPECT_EQ(p.store_uuid().size(), 16u);
            std::memcpy(uuid.data(), p.store_uuid().data(), std::min<std::size_t>(16, p.store_uuid().size()));
            EXPECT_TRUE(replica.begin_bootstrap("orders", uuid));
            began = true;
        }
        std::vector<store::Record> recs;
        for (const v1::SnapshotRecord& rec : p.records()) {
            EXPECT_TRUE(rec.reader_group() == 0 || rec.reader_group() == 2) << "a record of another group was sent";
            recs.push_back({.key = {reinterpret_cast<const std::uint8_t*>(rec.key().data()), rec.key().size()},
                            .group = static_cast<std::uint16_t>(rec.reader_group()),
                            .value = {reinterpret_cast<const std::uint8_t*>(rec.value().data()), rec.value().size()}});
        }
        EXPECT_TRUE(replica.bootstrap_page("orders", recs));
        if (p.last()) {
            count = p.record_count();
            sha = p.sha256();
        }
        return true;
    });
    const int during = written.load();
    stop = true;
    for (auto& t : writers) t.join();
    ASSERT_TRUE(r) << r.text();
    ASSERT_TRUE(began);
    EXPECT_GT(pages, 1u) << "small pages: the copy spans several";
    EXPECT_LT(during, 4000) << "the writers finished before the snapshot: nothing ran concurrently";
    ASSERT_TRUE(replica.finish_bootstrap("orders", lsn));

    std::uint64_t master_records = 0;
    EXPECT_EQ(sha, master_digest_at(rig.master, "orders", lsn, master_records)) << "at LSN " << lsn;
    EXPECT_EQ(count, master_records);
    store::Checksum rc;
    ASSERT_TRUE(store::checksum(replica, "orders", rc));
    EXPECT_EQ(rc.sha256, sha) << "the replica built from the snapshot verifies";
    EXPECT_EQ(rc.records, count);
    EXPECT_EQ(rc.lsn, lsn);
    EXPECT_GT(rig.last_lsn("orders"), 300u);
}

TEST(ControlRpc, SnapshotOfAQuietStoreEqualsReplicastChecksum) {
    Rig rig;
    v1::PublishReply pr;
    ASSERT_TRUE(rig.client("publisher")->publish(puts("orders", {{"a", 0}, {"b", 2}, {"c", 3}, {"d", 2}}), pr));
    std::string sha;
    std::uint64_t n = 0;
    ASSERT_TRUE(rig.client("subscriber")->snapshot("orders", [&](const v1::SnapshotPage& p) {
        if (p.last()) { sha = p.sha256(); n = p.record_count(); }
        return true;
    }));
    const std::uint16_t g[] = {2};
    store::Checksum c;
    ASSERT_TRUE(store::checksum(rig.master, "orders", {.all = false, .groups = g}, c));
    EXPECT_EQ(sha, c.sha256);
    EXPECT_EQ(n, 3u);
    EXPECT_EQ(c.records, 3u);
}

TEST(ControlRpc, PublishWithARetriedRequestIdWritesOnce) {
    Rig rig;
    auto c = rig.client("publisher");
    v1::PublishReply first, again, other;
    ASSERT_TRUE(c->publish(puts("orders", {{"a", 0}, {"b", 0}}, "req-42"), first));
    EXPECT_EQ(first.first_lsn(), 1u);
    EXPECT_EQ(first.update_count(), 2u);
    EXPECT_FALSE(first.duplicate());
    ASSERT_TRUE(c->publish(puts("orders", {{"a", 0}, {"b", 0}}, "req-42"), again));
    EXPECT_TRUE(again.duplicate());
    EXPECT_EQ(again.first_lsn(), 1u);
    EXPECT_EQ(rig.last_lsn("orders"), 2u) << "the retry wrote again";
    ASSERT_TRUE(c->publish(puts("orders", {{"a", 0}}, "req-43"), other));
    EXPECT_EQ(other.first_lsn(), 3u);
    v1::StatsReply stats;
    ASSERT_TRUE(rig.client("admin")->stats(stats));
    EXPECT_EQ(stats.control().publishes(), 3u);
    EXPECT_EQ(stats.control().duplicate_publishes(), 1u);
    EXPECT_EQ(stats.control().published_updates(), 3u);
}

TEST(ControlRpc, MalformedAndOversizedRequestsChangeNothing) {
    Rig rig([](ControlConfig& c) { c.max_message_bytes = 64 << 10; c.recover_batch_bytes = 16 << 10; c.snapshot_page_bytes = 16 << 10; });
    auto c = rig.client("publisher");
    v1::PublishReply pr;
    ASSERT_TRUE(c->publish(puts("orders", {{"a", 0}}), pr));
    auto expect_invalid = [&](v1::PublishRequest r, const char* what) {
        const Result res = c->publish(r, pr);
        EXPECT_EQ(res.code(), Code::invalid_argument) << what << ": " << res.text();
    };
    v1::PublishRequest r = puts("orders", {{std::string(512, 'k'), 0}});
    expect_invalid(r, "key of 512 bytes");
    expect_invalid(puts("orders", {{"", 0}}), "empty key");
    expect_invalid(puts("orders", {{"k", 65536}}), "group 65536");
    expect_invalid(puts("orders", {}), "no updates");
    expect_invalid(puts("orders", {{"k", 0}}, std::string(65, 'r')), "request id of 65 bytes");
    expect_invalid(puts("_log", {{"k", 0}}), "reserved database name");
    r = puts("orders", {{"a", 0}, {"k", 0}});
    r.mutable_updates(1)->set_op(v1::OP_DELETE);  // a delete with a value, after a good put
    expect_invalid(r, "delete with a value");
    r.mutable_updates(1)->set_op(v1::OP_UNSPECIFIED);
    r.mutable_updates(1)->clear_value();
    expect_invalid(r, "no op");
    // Over max_message_bytes: refused by gRPC before the handler.
    v1::PublishRequest huge = puts("orders", {{"big", 0}});
    huge.mutable_updates(0)->set_value(std::string(100 << 10, 'v'));
    EXPECT_EQ(c->publish(huge, pr).code(), Code::resource_exhausted);
    // Bytes that do not parse as a PublishRequest (invalid UTF-8 in the database name), sent raw.
    const grpc::Status raw = raw_call(rig, "publisher", "Publish", "\x0a\x02\xff\xfe");
    EXPECT_EQ(raw.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << raw.error_message();
    EXPECT_EQ(rig.last_lsn("orders"), 1u) << "a refused request wrote something";
    v1::StatsReply stats;
    ASSERT_TRUE(rig.client("admin")->stats(stats));
    EXPECT_EQ(stats.control().invalid(), 9u);
    EXPECT_EQ(stats.control().exhausted(), 1u) << "the over-size request is counted";
    EXPECT_EQ(stats.control().oversize(), 1u);
}

TEST(ControlRpc, OversizedRequestsAreCountedOnEveryKindOfMethod) {
    Rig rig([](ControlConfig& c) { c.max_message_bytes = 64 << 10; c.recover_batch_bytes = 16 << 10; c.snapshot_page_bytes = 16 << 10; });
    const std::string big(100 << 10, '\xff');
    for (const char* method : {"Keys", "Publish", "Recover", "Snapshot", "Stats"}) {
        const grpc::Status st = raw_call(rig, "subscriber", method, big);
        EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << method << ": " << st.error_message();
    }
    // Just under the limit: read, and refused for what it is (bytes that are not the message).
    EXPECT_EQ(raw_call(rig, "subscriber", "Keys", std::string(60 << 10, '\xff')).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
    v1::StatsReply stats;
    ASSERT_TRUE(rig.client("admin")->stats(stats));
    EXPECT_EQ(stats.control().oversize(), 5u);
    EXPECT_EQ(stats.control().exhausted(), 5u);
    EXPECT_EQ(stats.control().invalid(), 1u);
    v1::DatabasesReply dbs;
    EXPECT_TRUE(rig.client("subscriber")->databases(dbs)) << "the caller is served again";
}

TEST(ControlRpc, CallsWaitingForTheirRequestAreBoundedPerIdentity) {
    Rig rig;
    // Calls that send their headers and never their request: each holds a
    // server thread until it ends, so one identity may have only so many.
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    const ClientTls t = tls_for("subscriber");
    auto channel = grpc::CreateCustomChannel(
        rig.target(), client_credentials(read_pem(t.certificate, "c"), read_pem(t.private_key, "k"), read_pem(t.ca, "ca")), args);
    grpc::GenericStub stub(channel);
    grpc::CompletionQueue cq;
    constexpr int kHeld = 8;  // GrpcService::kMaxReadingPerIdentity
    std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
    std::vector<std::unique_ptr<grpc::GenericClientAsyncReaderWriter>> calls;
    for (int i = 0; i < kHeld; ++i) {
        contexts.push_back(std::make_unique<grpc::ClientContext>());
        calls.push_back(stub.PrepareCall(contexts.back().get(), "/replicast.v1.Replicast/Keys", &cq));
        calls.back()->StartCall(reinterpret_cast<void*>(static_cast<std::intptr_t>(i + 1)));
    }
    for (int i = 0; i < kHeld; ++i) {
        void* tag = nullptr;
        bool ok = false;
        ASSERT_TRUE(cq.Next(&tag, &ok));
        ASSERT_TRUE(ok);
    }
    // The server has matched them once one more call of this identity is refused.
    v1::DatabasesReply dbs;
    Result r;
    for (int i = 0; i < 200 && (r = rig.client("subscriber")->databases(dbs)); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polls the server's state: bounded
    }
    EXPECT_EQ(r.code(), Code::resource_exhausted) << r.text();
    EXPECT_THAT(r.message(), HasSubstr("waiting for their request"));
    EXPECT_TRUE(rig.client("publisher")->databases(dbs)) << "another identity is served";
    for (auto& c : contexts) c->TryCancel();
    for (int i = 0; i < 200; ++i) {
        if ((r = rig.client("subscriber")->databases(dbs))) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(r) << "served again once those calls ended: " << r.text();
    cq.Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (cq.Next(&tag, &ok)) {
    }
}

TEST(ControlRpc, StatsShowsTheLastReportOfEachIdentity) {
    Rig rig;
    v1::PublishReply pr;
    ASSERT_TRUE(rig.client("publisher")->publish(puts("orders", {{"a", 0}}), pr));
    v1::ReceiveStats rs;
    rs.set_packets(1000);
    rs.set_gaps(3);
    v1::Subscription sub;
    ASSERT_TRUE(rig.client("subscriber")->subscribe("orders", sub, &rs));
    rs.set_packets(2000);
    v1::DatabasesReply dbs;
    ASSERT_TRUE(rig.client("subscriber")->databases(dbs, &rs));
    v1::StatsReply stats;
    ASSERT_TRUE(rig.client("admin")->stats(stats));
    EXPECT_EQ(stats.uptime_ms(), 1234u) << "the backend's part";
    ASSERT_EQ(stats.streams_size(), 1);
    ASSERT_EQ(stats.identities_size(), 1);
    EXPECT_EQ(stats.identities(0).identity(), "subscriber");
    EXPECT_EQ(stats.identities(0).stats().packets(), 2000u) << "the last report";
    EXPECT_EQ(stats.identities(0).stats().gaps(), 3u);
    EXPECT_LT(stats.identities(0).age_ms(), 60'000u);
    EXPECT_EQ(stats.control().calls(), 4u);
}

TEST(ControlRpc, RotateKeyAnnouncesANewEpoch) {
    Rig rig;
    v1::PublishReply pr;
    ASSERT_TRUE(rig.client("publisher")->publish(puts("orders", {{"a", 0}}), pr));
    std::uint32_t epoch = 0;
    EXPECT_EQ(rig.client("admin")->rotate_key("orders", epoch).code(), Code::failed_precondition) << "not streamed yet";
    const std::uint32_t stream = subscribe(rig, "orders");
    ASSERT_TRUE(rig.client("admin")->rotate_key("orders", epoch));
    EXPECT_EQ(epoch, 2u);
    v1::KeysReply keys;
    ASSERT_TRUE(rig.client("subscriber")->keys(stream, keys));
    ASSERT_EQ(keys.keys_size(), 2);
    EXPECT_EQ(keys.keys(1).epoch(), 2u);
}

TEST(ControlRpc, AccessListReload) {
    Rig rig;
    v1::PublishReply pr;
    ASSERT_TRUE(rig.client("publisher")->publish(puts("orders", {{"a", 0}}), pr));
    ASSERT_TRUE(rig.client("publisher")->publish(puts("prices", {{"a", 0}}), pr));
    const std::uint32_t orders = subscribe(rig, "orders");
    auto sub = rig.client("subscriber");
    v1::KeysReply keys;
    ASSERT_TRUE(sub->keys(orders, keys));

    // A bad file keeps the old list and says why.
    write_file(rig.config.access_list, "[[identity]]\nname = \"admin\"\nroles = [\"boss\"]\ndatabases = [\"*\"]\n");
    const Result bad = rig.server->reload_access_list();
    EXPECT_EQ(bad.code(), Code::invalid_argument);
    EXPECT_THAT(bad.message(), HasSubstr("access.toml:3: identity[0].roles"));
    EXPECT_TRUE(sub->keys(orders, keys)) << "the old list must stay";
    EXPECT_TRUE(rig.backend.rotated().empty());

    // The subscriber removed: Keys fails at once and the stream it could read is re-keyed.
    std::string list = kAccessList;
    list.replace(list.find("[[identity]]\nname = \"subscriber\""), std::string("[[identity]]\nname = \"subscriber\"").size(),
                 "[[identity]]\nname = \"someone-else\"");
    write_file(rig.config.access_list, list);
    const Result ok = rig.server->reload_access_list();
    ASSERT_TRUE(ok) << ok.text();
    EXPECT_EQ(sub->keys(orders, keys).code(), Code::permission_denied);
    EXPECT_THAT(rig.backend.rotated(), ::testing::ElementsAre("orders")) << "prices is not streamed: no key to change";
}

TEST(ControlRpc, AnIdentityThatLostADatabaseFailsKeysForItAtOnce) {
    Rig rig;
    v1::PublishReply pr;
    ASSERT_TRUE(rig.client("publisher")->publish(puts("orders", {{"a", 0}}), pr));
    ASSERT_TRUE(rig.client("publisher")->publish(puts("prices", {{"a", 0}}), pr));
    const std::uint32_t orders = subscribe(rig, "orders");
    const std::uint32_t prices = subscribe(rig, "prices");
    std::string list = kAccessList;
    const std::string from = "databases = [\"orders\", \"prices\"]";
    list.replace(list.find(from), from.size(), "databases = [\"prices\"]");
    write_file(rig.config.access_list, list);
    ASSERT_TRUE(rig.server->reload_access_list());
    auto sub = rig.client("subscriber");
    v1::KeysReply keys;
    EXPECT_EQ(sub->keys(orders, keys).code(), Code::permission_denied);
    EXPECT_TRUE(sub->keys(prices, keys)) << "the database it kept";
    EXPECT_THAT(rig.backend.rotated(), ::testing::ElementsAre("orders"));
}

// Per-identity limits, through the handlers directly: a recovery held open by
// its writer blocks a second one (RESOURCE_EXHAUSTED), not another identity.
TEST(ControlService, ConcurrentRecoveriesPerIdentityAreBounded) {
    TempDir dir("limits");
    store::MasterStore m(dir.sub("m"), replicast::testing::fast());
    TestBackend backend(m);
    Ops ops;
    ops.put("a", "1").put("b", "2");
    ASSERT_TRUE(m.write("orders", ops.span()));
    Result why;
    const auto view = backend.stream("orders", true, why);
    ASSERT_TRUE(view);
    ControlConfig cfg;
    cfg.max_recoveries_per_identity = 1;
    auto list = AccessList::parse(kAccessList, "access.toml");
    Service service(cfg, backend, list);
    std::mutex mu;
    std::condition_variable cv;
    bool inside = false, release = false;
    v1::RecoverRequest req;
    req.set_stream_id(view->stream_id);
    req.set_from_lsn(1);
    req.set_to_lsn(2);
    std::thread held([&] {
        EXPECT_TRUE(service.recover("admin", req, [&](const v1::RecoverBatch&) {
            std::unique_lock lock(mu);
            inside = true;
            cv.notify_all();
            return cv.wait_for(lock, std::chrono::seconds(10), [&] { return release; });
        }));
    });
    {
        std::unique_lock lock(mu);
        ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return inside; }));
    }
    EXPECT_EQ(service.recover("admin", req, [](const v1::RecoverBatch&) { return true; }).code(),
              Code::resource_exhausted);
    EXPECT_TRUE(service.recover("subscriber", req, [](const v1::RecoverBatch&) { return true; }))
        << "another identity is not held up";
    {
        std::lock_guard lock(mu);
        release = true;
    }
    cv.notify_all();
    held.join();
    EXPECT_TRUE(service.recover("admin", req, [](const v1::RecoverBatch&) { return true; })) << "the slot came back";
    EXPECT_EQ(service.counters().exhausted(), 1u);
    // A writer that reports the caller gone ends the call.
    EXPECT_EQ(service.recover("admin", req, [](const v1::RecoverBatch&) { return false; }).code(), Code::cancelled);
}

}  // namespace
}  // namespace replicast::control::testing

namespace replicast::control::testing {
namespace {

// A reader that stalls past the stream deadline ends its own call
// (DEADLINE_EXCEEDED) and releases its slot; the store stays writable meanwhile.
TEST(ControlService, StalledReadersHitTheStreamDeadline) {
    TempDir dir("deadline");
    store::MasterStore m(dir.sub("m"), replicast::testing::fast());
    TestBackend backend(m);
    Ops ops;
    for (int i = 0; i < 200; ++i) ops.put("k" + std::to_string(i), std::string(100, 'v'));
    ASSERT_TRUE(m.write("orders", ops.span()));
    Result why;
    const auto view = backend.stream("orders", true, why);
    ASSERT_TRUE(view);
    ControlConfig cfg;
    cfg.stream_deadline_ms = 20;
    cfg.recover_batch_bytes = 1024;
    cfg.snapshot_page_bytes = 1024;
    cfg.max_recoveries_per_identity = 1;
    cfg.max_snapshots_per_identity = 1;
    Service service(cfg, backend, AccessList::parse(kAccessList, "access.toml"));
    v1::RecoverRequest req;
    req.set_stream_id(view->stream_id);
    req.set_from_lsn(1);
    req.set_to_lsn(200);
    int calls = 0;
    // The first batch's writer stalls (a reader that stopped reading) until past the deadline;
    // meanwhile another writer commits: the open read transaction never holds it up.
    const Result r = service.recover("admin", req, [&](const v1::RecoverBatch&) {
        if (calls++ == 0) {
            Ops more;
            more.put("during", "x");
            EXPECT_TRUE(m.write("orders", more.span()));
            const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(40);
            while (std::chrono::steady_clock::now() < until) std::this_thread::yield();
        }
        return true;
    });
    EXPECT_EQ(r.code(), Code::deadline_exceeded) << r.text();
    EXPECT_EQ(calls, 1) << "the call ended at the next batch";
    calls = 0;
    const Result s = service.snapshot("admin", [] { v1::SnapshotRequest q; q.set_database("orders"); return q; }(),
                                      [&](const v1::SnapshotPage&) {
                                          const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(40);
                                          while (std::chrono::steady_clock::now() < until) std::this_thread::yield();
                                          ++calls;
                                          return true;
                                      });
    EXPECT_EQ(s.code(), Code::deadline_exceeded) << s.text();
    EXPECT_EQ(calls, 1);
    // The slot came back (one allowed): a new call is not refused.
    EXPECT_TRUE(service.recover("admin", [&] { auto q = req; q.set_to_lsn(1); return q; }(),
                                [](const v1::RecoverBatch&) { return true; }).code() != Code::resource_exhausted);
}

}  // namespace
}  // namespace replicast::control::testing
