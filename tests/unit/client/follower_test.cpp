// A follower on real sockets in a private network namespace, against a real
// master store behind the in-process fixture of master_fixture.hpp: loss
// repaired by LSN, a lost last chain found by heartbeat, snapshot bootstrap
// (new replica, behind retention at start, Recover OUT_OF_RANGE mid-stream),
// restart from the applied LSN, PERMISSION_DENIED. Each test ends by
// comparing the replica's checksum with the master's.
#include <gtest/gtest.h>

#include <sys/mount.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "engine/client/follower.hpp"
#include "master_fixture.hpp"
#include "store/checksum.hpp"
#include "tests/unit/store/store_test_util.hpp"

namespace replicast::client {
namespace {

using testing::MasterControl;
using testing::Multicaster;
using testing::Ops;
using testing::TempDir;
using testing::fast;

std::uint64_t now_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

std::uint16_t next_port() {
    static std::uint16_t port = 41000;
    return port++;
}

const std::string kDb = "orders";

// Writes `n` updates of mixed sizes, puts and some deletes, one transaction each.
void write_updates(store::MasterStore& m, int n, int salt = 0) {
    for (int i = 0; i < n; ++i) {
        Ops o;
        const int k = (i * 7 + salt) % 97;
        if (i % 9 == 4) {
            o.del("key" + std::to_string(k));
        } else {
            o.put("key" + std::to_string(k), std::string(static_cast<std::size_t>(1 + (i * 131) % 3000), static_cast<char>('a' + i % 26)));
        }
        ASSERT_TRUE(m.write(kDb, o.span()));
    }
}

struct Rig {
    TempDir dir{"follower"};
    store::MasterStore master{dir.sub("master"), fast()};
    store::ReplicaStore replica{dir.sub("replica"), fast()};
    std::uint16_t port = next_port();
    MasterControl control{master, kDb, port};
    Multicaster caster{master, kDb, port};

    Rig() {
        std::uint32_t id = 0;
        EXPECT_TRUE(master.database_id(kDb, true, id));  // registered, as the server does for a stream
    }

    FollowerConfig config() const {
        FollowerConfig c;
        c.database = kDb;
        c.receive = {.interface = "lo", .rcvbuf_bytes = 8u << 20, .batch = 16, .queue_slots = 4096, .max_datagram = 2048};
        c.gap.retry_ns = 20'000'000;
        return c;
    }

    std::uint64_t last() {
        std::uint64_t oldest = 0, l = 0;
        EXPECT_TRUE(master.lsn_range(kDb, oldest, l));
        return l;
    }

    // Steps the follower until the replica holds `lsn` (bounded: 5 s).
    void run_until(Follower& f, std::uint64_t lsn) {
        const std::uint64_t deadline = now_ns() + 5'000'000'000;
        while (f.applied_lsn() < lsn && now_ns() < deadline && f.state() == Follower::State::following) {
            if (f.step(now_ns()) == 0) {
                ::usleep(1000);  // idle: nothing queued; the receive thread fills the queue meanwhile
            }
        }
        ASSERT_EQ(f.applied_lsn(), lsn);
    }

    void expect_equal() {
        store::Checksum a, b;
        ASSERT_TRUE(store::checksum(master, kDb, {}, a));
        ASSERT_TRUE(store::checksum(replica, kDb, b));
        EXPECT_EQ(a.sha256, b.sha256);
        EXPECT_EQ(a.records, b.records);
        EXPECT_EQ(a.lsn, b.lsn);
    }
};

TEST(Follower, NewReplicaBootstrapsThenFollowsTheStream) {
    Rig rig;
    write_updates(rig.master, 50);
    Follower f(rig.config(), rig.replica, rig.control);
    ASSERT_TRUE(f.start(now_ns()));
    EXPECT_EQ(rig.control.snapshots, 1);
    EXPECT_EQ(f.applied_lsn(), 50u);
    write_updates(rig.master, 100, 1);
    rig.caster.send(51, 150, 10);
    rig.run_until(f, 150);
    rig.expect_equal();
    const FollowerStats s = f.stats(now_ns());
    EXPECT_EQ(s.snapshots, 1u);
    EXPECT_EQ(s.chains_applied, 10u);
    EXPECT_EQ(s.lsns_recovered, 0u);
    EXPECT_EQ(s.open_failures, 0u);
    f.stop(now_ns());
    EXPECT_EQ(rig.control.unsubscribes, 1);
    EXPECT_EQ(f.state(), Follower::State::stopped);
}

TEST(Follower, LostChainsAreRecoveredInOrderAndALostLastChainByHeartbeat) {
    Rig rig;
    Follower f(rig.config(), rig.replica, rig.control);
    ASSERT_TRUE(f.start(now_ns()));  // empty master: a bootstrap of nothing
    write_updates(rig.master, 300);
    // 30 chains; lose 2, 3, 17 and the last one.
    rig.caster.send(1, 300, 10, {2, 3, 17, 29});
    rig.caster.heartbeat(300);
    rig.run_until(f, 300);
    rig.expect_equal();
    const FollowerStats s = f.stats(now_ns());
    EXPECT_GE(s.gaps, 1u);
    EXPECT_EQ(s.lsns_recovered, 40u);  // exactly the lost chains: recovery stops before what is buffered
    EXPECT_GE(s.chains_buffered, 1u);
    EXPECT_GE(rig.control.recovers, 3);  // 21..40, 171..180, 291..300 at least
    // Every chain that arrived was applied (at once or from the buffer) or, when a
    // recovery had covered it already, ignored as a duplicate: none applied twice.
    EXPECT_EQ(s.chains_applied + s.chains_duplicate, 26u);
    EXPECT_EQ(s.chains_dropped_buffer_full, 0u);
}

TEST(Follower, ChainsBufferedBehindAGapGoInOneTransaction) {
    Rig rig;
    Follower f(rig.config(), rig.replica, rig.control);
    ASSERT_TRUE(f.start(now_ns()));
    write_updates(rig.master, 100);
    rig.caster.send(1, 100, 10, {0});  // the first chain lost, the other nine wait behind the gap
    // Every datagram in the receive queue before the first step, so that all nine
    // are buffered before the recovery runs (bounded wait on the receive thread).
    const std::uint64_t deadline = now_ns() + 2'000'000'000;
    while (f.stats(now_ns()).packets < rig.caster.sent && now_ns() < deadline) ::usleep(1000);
    ASSERT_EQ(f.stats(now_ns()).packets, rig.caster.sent);
    rig.run_until(f, 100);
    rig.expect_equal();
    const FollowerStats s = f.stats(now_ns());
    EXPECT_EQ(s.lsns_recovered, 10u);
    EXPECT_EQ(s.chains_buffered, 9u);
    EXPECT_EQ(s.chains_applied, 9u);
    // Transactions: one for the recovered batch, one for the nine buffered chains.
    EXPECT_EQ(s.apply_latency.count, 2u);
}

TEST(Follower, RestartResumesFromTheAppliedLsn) {
    Rig rig;
    write_updates(rig.master, 40);
    {
        Follower f(rig.config(), rig.replica, rig.control);
        ASSERT_TRUE(f.start(now_ns()));
        f.stop(now_ns());
    }
    write_updates(rig.master, 60, 2);
    rig.control.snapshots = 0;
    Follower g(rig.config(), rig.replica, rig.control);
    ASSERT_TRUE(g.start(now_ns()));
    EXPECT_EQ(rig.control.snapshots, 0);  // no rebuild: LSNs 41..100 come by Recover
    rig.run_until(g, 100);
    EXPECT_EQ(g.stats(now_ns()).lsns_recovered, 60u);
    rig.expect_equal();
}

// The daemon answers its stats socket from between_batches: a long catch-up
// or bootstrap must call it between batches, with the progress so far
// readable there (applied LSN, snapshot records), not only at the end.
TEST(Follower, ProgressIsReadableBetweenRecoverBatchesAndSnapshotPages) {
    Rig rig;
    rig.control.batch = 10;
    write_updates(rig.master, 40);
    {
        Follower f(rig.config(), rig.replica, rig.control);
        ASSERT_TRUE(f.start(now_ns()));  // a new replica: by Snapshot (two pages)
        f.stop(now_ns());
    }
    write_updates(rig.master, 60, 4);
    FollowerConfig c = rig.config();
    std::vector<std::uint64_t> seen;
    Follower* self = nullptr;
    c.between_batches = [&] { seen.push_back(self->stats(now_ns()).applied_lsn); };
    Follower g(c, rig.replica, rig.control);
    self = &g;
    ASSERT_TRUE(g.start(now_ns()));
    rig.run_until(g, 100);
    ASSERT_GE(seen.size(), 6u) << "60 updates in batches of 10";
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
    EXPECT_EQ(seen.front(), 40u);
    EXPECT_GT(seen.back(), 40u) << "the applied LSN moves between batches, not only at the end";
    EXPECT_LT(seen.back(), 100u);

    TempDir other{"follower-snap"};
    store::ReplicaStore fresh{other.sub("replica"), fast()};
    FollowerConfig d = rig.config();
    std::vector<std::uint64_t> records;
    Follower* boot = nullptr;
    d.between_batches = [&] { records.push_back(boot->stats(now_ns()).snapshot_records); };
    Follower h(d, fresh, rig.control);
    boot = &h;
    ASSERT_TRUE(h.start(now_ns()));
    ASSERT_EQ(records.size(), 2u) << "one call per snapshot page";
    EXPECT_EQ(records[0], 0u);
    EXPECT_GT(records[1], 0u) << "the first page's records are counted before the second arrives";
    store::Checksum sum;
    ASSERT_TRUE(store::checksum(rig.master, kDb, {}, sum));
    EXPECT_EQ(h.stats(now_ns()).snapshot_records, sum.records) << "each record counted once";
}

TEST(Follower, BehindRetentionAtStartTakesASnapshot) {
    Rig rig;
    write_updates(rig.master, 30);
    {
        Follower f(rig.config(), rig.replica, rig.control);
        ASSERT_TRUE(f.start(now_ns()));
        f.stop(now_ns());
    }
    write_updates(rig.master, 70, 3);
    std::uint64_t removed = 0;
    ASSERT_TRUE(rig.master.trim(kDb, {.keep_updates = 10}, removed));
    rig.control.snapshots = 0;
    Follower g(rig.config(), rig.replica, rig.control);
    ASSERT_TRUE(g.start(now_ns()));
    EXPECT_EQ(rig.control.snapshots, 1);
    EXPECT_EQ(g.applied_lsn(), 100u);
    rig.expect_equal();
}

TEST(Follower, RecoverOutOfRangeMidStreamFallsBackToASnapshot) {
    Rig rig;
    write_updates(rig.master, 20);
    Follower f(rig.config(), rig.replica, rig.control);
    ASSERT_TRUE(f.start(now_ns()));
    write_updates(rig.master, 200, 4);
    std::uint64_t removed = 0;
    ASSERT_TRUE(rig.master.trim(kDb, {.keep_updates = 50}, removed));
    // Only the newest chains arrive: 21..170 are missing and partly trimmed.
    rig.caster.send(171, 220, 10);
    rig.run_until(f, 220);
    rig.expect_equal();
    EXPECT_EQ(f.stats(now_ns()).snapshots, 2u);
}

TEST(Follower, PermissionDeniedStopsFollowingAndKeepsTheReplica) {
    Rig rig;
    write_updates(rig.master, 25);
    Follower f(rig.config(), rig.replica, rig.control);
    ASSERT_TRUE(f.start(now_ns()));
    rig.control.deny = true;
    rig.caster.epoch = 4;  // a rotation the revoked identity cannot follow
    write_updates(rig.master, 10, 5);
    rig.caster.send(26, 35, 5);
    const std::uint64_t deadline = now_ns() + 3'000'000'000;
    while (f.state() == Follower::State::following && now_ns() < deadline) {
        if (f.step(now_ns()) == 0) ::usleep(1000);
    }
    EXPECT_EQ(f.state(), Follower::State::denied);
    EXPECT_GE(rig.control.keys_calls, 1);
    store::ReplicaState st;
    ASSERT_TRUE(rig.replica.state(kDb, st));
    EXPECT_EQ(st.applied_lsn, 25u);  // readable, as it was
    std::uint64_t records = 0;
    store::Checksum sum;
    EXPECT_TRUE(store::checksum(rig.replica, kDb, sum));
    records = sum.records;
    EXPECT_GT(records, 0u);
    f.stop(now_ns());
    EXPECT_EQ(rig.control.unsubscribes, 0);  // nothing to tell a server that refused us
}

TEST(Follower, DiskFullIsAClearErrorAndCatchesUpOnceSpaceReturns) {
    // The replica on a small tmpfs of its own (in this test's private mount
    // namespace, see main): chains fail to apply with ENOSPC, the replica stays
    // consistent at what it had, and once the filesystem grows the follower
    // fetches what it could not store and converges.
    TempDir dir("follower-full");
    const std::string fs = dir.sub("fs");
    std::filesystem::create_directories(fs);
    ASSERT_EQ(::mount("tmpfs", fs.c_str(), "tmpfs", 0, "size=256k"), 0) << std::strerror(errno);
    struct Unmount {
        std::string path;
        ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
    } unmount{fs};
    store::MasterStore master(dir.sub("master"), fast());
    std::uint32_t id = 0;
    ASSERT_TRUE(master.database_id(kDb, true, id));
    auto replica = std::make_unique<store::ReplicaStore>(fs + "/replica", fast());
    const std::uint16_t port = next_port();
    MasterControl control(master, kDb, port);
    Multicaster caster(master, kDb, port);
    Rig cfg_source;  // only for its config()
    Follower f(cfg_source.config(), *replica, control);
    ASSERT_TRUE(f.start(now_ns()));
    write_updates(master, 300);  // about 450 KiB of values: more than the filesystem holds
    std::uint64_t oldest = 0, last = 0;
    ASSERT_TRUE(master.lsn_range(kDb, oldest, last));
    caster.send(1, last, 10);
    caster.heartbeat(last);
    const std::uint64_t t1 = now_ns() + 3'000'000'000;
    while (f.stats(now_ns()).store_errors == 0 && now_ns() < t1) {
        if (f.step(now_ns()) == 0) ::usleep(1000);
    }
    const FollowerStats full = f.stats(now_ns());
    ASSERT_GT(full.store_errors, 0u);
    EXPECT_LT(f.applied_lsn(), last);
    EXPECT_EQ(f.state(), Follower::State::following);
    store::ReplicaState st;
    ASSERT_TRUE(replica->state(kDb, st));
    EXPECT_EQ(st.applied_lsn, f.applied_lsn());  // what it reports is what it holds
    ASSERT_EQ(::mount("tmpfs", fs.c_str(), "tmpfs", MS_REMOUNT, "size=64m"), 0) << std::strerror(errno);
    const std::uint64_t t2 = now_ns() + 5'000'000'000;
    while (f.applied_lsn() < last && now_ns() < t2) {
        if (f.step(now_ns()) == 0) ::usleep(1000);
    }
    ASSERT_EQ(f.applied_lsn(), last);
    store::Checksum a, b;
    ASSERT_TRUE(store::checksum(master, kDb, {}, a));
    ASSERT_TRUE(store::checksum(*replica, kDb, b));
    EXPECT_EQ(a.sha256, b.sha256);
    f.stop(now_ns());
}

TEST(Follower, SilenceMakesItSubscribeAgainAndFollowAMovedStream) {
    Rig rig;
    FollowerConfig c = rig.config();
    c.silence_ns = 300'000'000;
    Follower f(c, rig.replica, rig.control);
    ASSERT_TRUE(f.start(now_ns()));
    // The server restarted and put the stream on another port: nothing arrives on the old one.
    rig.control.port = next_port();
    Multicaster moved(rig.master, kDb, rig.control.port);
    write_updates(rig.master, 60);
    moved.send(1, 60, 10);  // before the follower rejoins: lost, fetched after the new Subscribe
    const std::uint64_t deadline = now_ns() + 5'000'000'000;
    while (f.applied_lsn() < 60 && now_ns() < deadline) {
        if (f.step(now_ns()) == 0) ::usleep(1000);
    }
    ASSERT_EQ(f.applied_lsn(), 60u);
    EXPECT_EQ(rig.control.subscribes, 2);
    EXPECT_GE(f.stats(now_ns()).resubscribes, 1u);
    // And it listens on the new port now: the next chains arrive by multicast.
    write_updates(rig.master, 20, 7);
    moved.send(61, 80, 10);
    rig.run_until(f, 80);
    EXPECT_EQ(f.stats(now_ns()).chains_applied, 2u);
    rig.expect_equal();
}

TEST(Follower, HeavyLossResubscribesThenFollowsByRecoverThenRejoins) {
    Rig rig;
    FollowerConfig c = rig.config();
    // unicast_ns outlasts one round of the loop below even in a sanitizer build on a
    // loaded machine, so the state it samples after each round is still unicast.
    c.error_rate = {.window_ns = 200'000'000, .threshold = 0.2, .min_chains = 4, .unicast_ns = 1'500'000'000,
                    .unicast_poll_ns = 20'000'000};
    c.gap.retry_ns = 5'000'000;
    Follower f(c, rig.replica, rig.control);
    ASSERT_TRUE(f.start(now_ns()));
    // Half the chains lost, in bursts, until the follower leaves the group.
    std::uint64_t lsn = 1;
    const std::uint64_t deadline = now_ns() + 10'000'000'000;
    while (f.stats(now_ns()).unicast_periods == 0 && now_ns() < deadline) {
        write_updates(rig.master, 40, static_cast<int>(lsn));
        rig.caster.send(lsn, lsn + 39, 5, {0, 2, 4, 6});
        lsn += 40;
        const std::uint64_t until = now_ns() + 50'000'000;
        while (now_ns() < until) {
            if (f.step(now_ns()) == 0) ::usleep(1000);
        }
    }
    ASSERT_EQ(f.state(), Follower::State::unicast);
    const std::uint64_t left_at = now_ns();
    const FollowerStats s = f.stats(now_ns());
    EXPECT_GE(s.resubscribes, 1u);
    EXPECT_EQ(s.unicast_periods, 1u);
    // Off multicast: new updates come by periodic Recover alone.
    write_updates(rig.master, 30, 99);
    const std::uint64_t last = lsn + 29;
    const std::uint64_t t2 = now_ns() + 2'000'000'000;
    while (f.applied_lsn() < last && now_ns() < t2) {
        if (f.step(now_ns()) == 0) ::usleep(1000);
    }
    EXPECT_EQ(f.applied_lsn(), last);
    // Still off multicast, unless the catch-up itself outlasted unicast_ns
    // (a sanitizer build on a loaded machine): then it has rightly tried again.
    if (now_ns() - left_at < c.error_rate.unicast_ns) {
        EXPECT_EQ(f.state(), Follower::State::unicast);
    }
    // After unicast_ns it tries multicast again.
    const std::uint64_t t3 = now_ns() + 4'000'000'000;
    while (f.state() == Follower::State::unicast && now_ns() < t3) {
        if (f.step(now_ns()) == 0) ::usleep(1000);
    }
    EXPECT_EQ(f.state(), Follower::State::following);
    rig.expect_equal();
}

// The follower reports (Keys with its ReceiveStats) at least every third of
// the lease the Subscription named, which renews the lease on the server; a
// report answered "no lease" (it ran out: the server was out of reach or
// restarted) subscribes again at once.
TEST(Follower, ReportsRenewTheLeaseAndALapsedLeaseSubscribesAgain) {
    Rig rig;
    rig.control.lease_ms = 600;  // reports every 200 ms, although report_interval_ns says 10 s
    write_updates(rig.master, 5);
    FollowerConfig c = rig.config();
    c.report_interval_ns = 10'000'000'000;
    Follower f(c, rig.replica, rig.control);
    const std::uint64_t t0 = now_ns();
    ASSERT_TRUE(f.start(t0));
    const int keys_at_start = rig.control.keys_calls;
    std::uint64_t deadline = t0 + 5'000'000'000;
    while (rig.control.keys_calls < keys_at_start + 3 && now_ns() < deadline) {
        if (f.step(now_ns()) == 0) ::usleep(1000);
    }
    ASSERT_GE(rig.control.keys_calls, keys_at_start + 3) << "three reports within 5 s";
    EXPECT_GE(now_ns() - t0, 600'000'000u) << "not more often than a third of the lease";
    EXPECT_GE(f.stats(now_ns()).reports, 3u);
    EXPECT_EQ(rig.control.last_stats.applied_lsn, 5u) << "the report carries the follower's statistics";
    EXPECT_EQ(rig.control.subscribes, 1);

    rig.control.lapsed = true;
    deadline = now_ns() + 5'000'000'000;
    while (rig.control.subscribes < 2 && now_ns() < deadline) {
        if (f.step(now_ns()) == 0) ::usleep(1000);
    }
    EXPECT_EQ(rig.control.subscribes, 2) << "a lapsed lease is taken again by Subscribe";
    EXPECT_EQ(f.stats(now_ns()).resubscribes, 1u);
    EXPECT_EQ(f.state(), Follower::State::following);
}

TEST(Follower, StatisticsRideOnControlCalls) {
    Rig rig;
    Follower f(rig.config(), rig.replica, rig.control);
    ASSERT_TRUE(f.start(now_ns()));
    write_updates(rig.master, 50);
    rig.caster.send(1, 50, 10, {1});
    rig.run_until(f, 50);
    // The Recover call carried what the follower had seen by then.
    EXPECT_GE(rig.control.last_stats.packets, 4u);
    EXPECT_GE(rig.control.last_stats.gaps, 1u);
    f.stop(now_ns());
    EXPECT_EQ(rig.control.last_stats.applied_lsn, 50u);
    const std::string json = to_json(f.stats(now_ns()));
    EXPECT_NE(json.find("\"lsns_recovered\":10"), std::string::npos) << json;
}

}  // namespace
}  // namespace replicast::client

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (const std::string why = replicast::testing::enter_private_netns(); !why.empty()) {
        std::fprintf(stderr, "follower_test needs its own network namespace (root): %s\n", why.c_str());
        return 77;
    }
    // A private mount namespace too, so the disk-full test's tmpfs is this process's alone.
    if (::unshare(CLONE_NEWNS) != 0 || ::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        std::fprintf(stderr, "follower_test needs its own mount namespace (root): %s\n", std::strerror(errno));
        return 77;
    }
    return RUN_ALL_TESTS();
}
