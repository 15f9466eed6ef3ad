// The master store: the hook (data and log in one transaction), LSNs, readers,
// retention, map growth, notifications and stream state.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <lmdb.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>

#include "store/checksum.hpp"
#include "store/master.hpp"
#include "store/notify.hpp"
#include "store/replica.hpp"
#include "store_test_util.hpp"

namespace replicast::store {
namespace {

using ::testing::HasSubstr;
using replicast::testing::Ops;
using replicast::testing::TempDir;
using replicast::testing::fast;


TEST(Master, WritesGetConsecutiveLsnsPerDatabase) {
    TempDir dir("master");
    MasterStore m(dir.str(), fast());
    Ops a;
    a.put("k1", "v1").put("k2", "v2", 7).del("k1");
    std::uint64_t first = 0;
    ASSERT_TRUE(m.write("orders", a.span(), &first));
    EXPECT_EQ(first, 1u);
    Ops b;
    b.put("k3", "v3");
    ASSERT_TRUE(m.write("orders", b.span(), &first));
    EXPECT_EQ(first, 4u);
    ASSERT_TRUE(m.write("prices", b.span(), &first));
    EXPECT_EQ(first, 1u) << "each database has its own LSNs";

    std::uint64_t oldest = 0, last = 0;
    ASSERT_TRUE(m.lsn_range("orders", oldest, last));
    EXPECT_EQ(oldest, 1u);
    EXPECT_EQ(last, 4u);
    testing::expect_consistent(m, "orders");
    const auto t = testing::table_of(m, "orders");
    ASSERT_EQ(t.size(), 2u);
    EXPECT_EQ(t.at("k2"), std::make_pair(std::uint16_t{7}, std::string("v2")));

    std::vector<std::string> dbs;
    ASSERT_TRUE(m.databases(dbs));
    EXPECT_THAT(dbs, ::testing::UnorderedElementsAre("orders", "prices"));
}

TEST(Master, LogEntriesAreTheWireEncoding) {
    TempDir dir("log");
    MasterStore m(dir.str(), fast());
    Ops a;
    a.put("k", "").del("c");
    ASSERT_TRUE(m.write("db", a.span()));
    std::vector<std::string> hex;
    ASSERT_TRUE(m.read_log("db", 1, 2, [&](std::uint64_t, std::span<const std::uint8_t> u) {
        static constexpr char d[] = "0123456789abcdef";
        std::string h;
        for (auto b : u) h += {d[b >> 4], d[b & 15]};
        hex.push_back(h);
        return true;
    }));
    EXPECT_THAT(hex, ::testing::ElementsAre("0100000001000000006b", "02000000010000000063"));
}

TEST(Master, BadInputChangesNothing) {
    TempDir dir("bad");
    MasterStore m(dir.str(), fast());
    Ops ok;
    ok.put("a", "1");
    ASSERT_TRUE(m.write("db", ok.span()));
    Ops bad;
    bad.put("b", "2").put(std::string(600, 'k'), "x");
    const Status s = m.write("db", bad.span());
    EXPECT_EQ(s.code(), kBadUpdate);
    EXPECT_THAT(s.message(), HasSubstr("op 1"));
    EXPECT_THAT(s.message(), HasSubstr("key_len"));
    EXPECT_EQ(m.write("_meta", ok.span()).code(), kBadName);
    EXPECT_EQ(m.write("", ok.span()).code(), kBadName);
    std::uint64_t oldest = 0, last = 0;
    ASSERT_TRUE(m.lsn_range("db", oldest, last));
    EXPECT_EQ(last, 1u) << "no op of a refused batch was committed";
    EXPECT_EQ(m.lsn_range("missing", oldest, last).code(), kNoSuchDatabase);
    EXPECT_THAT(m.lsn_range("missing", oldest, last).message(), HasSubstr("no such database"));
}

TEST(Master, SnapshotReportsItsLsnAndIsConsistent) {
    TempDir dir("snap");
    MasterStore m(dir.str(), fast());
    for (int i = 0; i < 50; ++i) {
        Ops o;
        o.put("k" + std::to_string(i % 7), "v" + std::to_string(i));
        ASSERT_TRUE(m.write("db", o.span()));
    }
    std::uint64_t lsn = 0;
    const auto snap = testing::table_of(m, "db", &lsn);
    EXPECT_EQ(lsn, 50u);
    EXPECT_EQ(snap, testing::replay_log(m, "db", 50));
}

TEST(Master, RetentionByCountAndBytes) {
    TempDir dir("trim");
    MasterStore m(dir.str(), fast());
    for (int i = 0; i < 100; ++i) {
        Ops o;
        o.put("k" + std::to_string(i), std::string(100, 'v'));  // 9 + 2..3 + 100 bytes per entry
        ASSERT_TRUE(m.write("db", o.span()));
    }
    std::uint64_t removed = 0, oldest = 0, last = 0;
    ASSERT_TRUE(m.trim("db", {.keep_updates = 60}, removed, 7));
    EXPECT_EQ(removed, 40u);
    ASSERT_TRUE(m.lsn_range("db", oldest, last));
    EXPECT_EQ(oldest, 41u);
    EXPECT_EQ(last, 100u);
    std::uint64_t first_seen = 0;
    ASSERT_TRUE(m.read_log("db", 1, 100, [&](std::uint64_t l, auto) { first_seen = l; return false; }));
    EXPECT_EQ(first_seen, 41u);

    // Both bounds: keep whichever keeps more (30 entries by count; ~20 entries by bytes).
    ASSERT_TRUE(m.trim("db", {.keep_updates = 30, .keep_bytes = 20 * 112}, removed));
    ASSERT_TRUE(m.lsn_range("db", oldest, last));
    EXPECT_EQ(oldest, 71u);
    ASSERT_TRUE(m.trim("db", {.keep_bytes = 10 * 112}, removed));
    ASSERT_TRUE(m.lsn_range("db", oldest, last));
    EXPECT_GE(oldest, 90u);
    EXPECT_LE(oldest, 91u);
    EXPECT_EQ(testing::table_of(m, "db").size(), 100u) << "trimming the log never touches the data";
}

// The server trims only what has been multicast (keep_from), a bounded amount per call.
TEST(Master, RetentionNeverCutsAtOrPastTheFloor) {
    TempDir dir("trimfloor");
    MasterStore m(dir.str(), fast());
    Ops o;
    for (int i = 0; i < 50; ++i) o.put("k" + std::to_string(i), "v");
    ASSERT_TRUE(m.write("db", o.span()));
    std::uint64_t removed = 0, oldest = 0, last = 0;
    ASSERT_TRUE(m.trim("db", {.keep_updates = 5, .keep_from = 21}, removed));
    EXPECT_EQ(removed, 20u);
    ASSERT_TRUE(m.lsn_range("db", oldest, last));
    EXPECT_EQ(oldest, 21u);
    ASSERT_TRUE(m.trim("db", {.keep_updates = 5, .keep_from = 10}, removed));  // a floor below oldest: nothing
    EXPECT_EQ(removed, 0u);
    ASSERT_TRUE(m.trim("db", {.keep_updates = 5}, removed));
    ASSERT_TRUE(m.lsn_range("db", oldest, last));
    EXPECT_EQ(oldest, 46u);
}

TEST(Master, AFullMapGrowsAndTheWriteIsNotLost) {
    TempDir dir("grow");
    EnvOptions o = fast();
    o.initial_map_bytes = 1 << 20;  // 1 MiB
    MasterStore m(dir.str(), o);
    const std::size_t before = m.env().map_bytes();
    for (int i = 0; i < 300; ++i) {
        Ops ops;
        for (int j = 0; j < 10; ++j) ops.put("k" + std::to_string(i * 10 + j), std::string(10000, 'x'));
        ASSERT_TRUE(m.write("db", ops.span())) << "batch " << i;
    }
    EXPECT_GE(m.env().map_bytes(), 32u * before) << "30 MB of values needed the map to grow";
    testing::expect_consistent(m, "db");
    EXPECT_EQ(testing::table_of(m, "db").size(), 3000u);
}

TEST(Master, AFullFilesystemIsEnospcWithAClearMessageAndLosesNothing) {
    // A tmpfs fails LMDB's page writes short, which LMDB reports as EIO: the
    // store says ENOSPC (the cause, which the control plane answers as
    // RESOURCE_EXHAUSTED) and names the full filesystem. Needs root (mount).
    TempDir dir("fsfull");
    if (::mount("tmpfs", dir.str().c_str(), "tmpfs", 0, "size=512k") != 0) {
        GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
    }
    struct Unmount {
        std::string path;
        ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
    } unmount{dir.str()};
    const std::string path = dir.str() + "/master";
    MasterStore m(path, fast());
    Status s;  // ok until the filesystem is full
    int committed = 0;
    for (int i = 0; i < 200 && s; ++i) {
        Ops ops;
        for (int j = 0; j < 4; ++j) ops.put("k" + std::to_string(i * 4 + j), std::string(3000, 'x'));
        s = m.write("db", ops.span());
        if (s) committed += 4;
    }
    ASSERT_FALSE(s) << "512 KiB cannot hold 2.4 MB";
    EXPECT_EQ(s.code(), ENOSPC) << s.message();
    EXPECT_THAT(s.message(), HasSubstr(path + ": "));
    EXPECT_THAT(s.message(), HasSubstr("the filesystem holding the store is full"));
    EXPECT_THAT(s.message(), HasSubstr("nothing committed was lost"));
    // Every committed write is there, nothing of the failed one.
    testing::expect_consistent(m, "db");
    EXPECT_EQ(testing::table_of(m, "db").size(), static_cast<std::size_t>(committed));
    // Room again: writes go on.
    ASSERT_EQ(::mount("tmpfs", dir.str().c_str(), "tmpfs", MS_REMOUNT, "size=16m"), 0) << std::strerror(errno);
    Ops more;
    more.put("after", "room");
    EXPECT_TRUE(m.write("db", more.span()));
    EXPECT_EQ(testing::table_of(m, "db").size(), static_cast<std::size_t>(committed) + 1);
}

TEST(Master, WritesPokeTheUpdateDetector) {
    TempDir dir("notify");
    MasterStore m(dir.str(), fast());
    NotifyListener listener(m.notify_path());
    EXPECT_EQ(listener.wait(std::chrono::milliseconds(0)), 0);
    Ops o;
    o.put("k", "v");
    ASSERT_TRUE(m.write("db", o.span()));
    ASSERT_TRUE(m.write("db", o.span()));
    EXPECT_EQ(listener.wait(std::chrono::seconds(5)), 2);
}

TEST(Master, WritesWithoutAListenerStillCommit) {
    TempDir dir("nolisten");
    MasterStore m(dir.str(), fast());
    Ops o;
    o.put("k", "v");
    EXPECT_TRUE(m.write("db", o.span()));
}

TEST(Master, StreamStateIsPersisted) {
    TempDir dir("stream");
    {
        MasterStore m(dir.str(), fast());
        StreamState s;
        ASSERT_TRUE(m.stream_state("db", s).code() == kNoSuchDatabase || s.packet_seq_watermark == 0);
        ASSERT_TRUE(m.put_stream_state("db", {.packet_seq_watermark = 123456789, .key_epoch = 7, .multicast_lsn = 4242}));
    }
    MasterStore again(dir.str(), fast());
    StreamState s;
    ASSERT_TRUE(again.stream_state("db", s));
    EXPECT_EQ(s.packet_seq_watermark, 123456789u);
    EXPECT_EQ(s.key_epoch, 7u);
    EXPECT_EQ(s.multicast_lsn, 4242u);
}

TEST(Master, IdentityIsMadeOnceAndKept) {
    TempDir dir("uuid");
    std::array<std::uint8_t, 16> first{};
    {
        MasterStore m(dir.str(), fast());
        first = m.uuid();
        EXPECT_EQ(m.uuid_text().size(), 36u);
        EXPECT_EQ(m.uuid_text()[14], '4') << "version 4 UUID";
    }
    MasterStore again(dir.str(), fast());
    EXPECT_EQ(again.uuid(), first);
    TempDir other("uuid2");
    EXPECT_NE(MasterStore(other.str(), fast()).uuid(), first);
}

// A uuid of the wrong size is damage: the store refuses to open (kCorrupt)
// rather than make itself a new identity, which would re-bootstrap every replica.
TEST(Master, AWrongSizeIdentityIsCorruptNotReplaced) {
    TempDir dir("uuidsize");
    { MasterStore m(dir.str(), fast()); }
    {
        MDB_env* env = nullptr;
        ASSERT_EQ(mdb_env_create(&env), 0);
        ASSERT_EQ(mdb_env_set_maxdbs(env, 16), 0);
        ASSERT_EQ(mdb_env_open(env, dir.str().c_str(), 0, 0644), 0);
        MDB_txn* txn = nullptr;
        ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
        MDB_dbi meta;
        ASSERT_EQ(mdb_dbi_open(txn, "_meta", 0, &meta), 0);
        MDB_val k{4, const_cast<char*>("uuid")}, v{5, const_cast<char*>("short")};
        ASSERT_EQ(mdb_put(txn, meta, &k, &v, 0), 0);
        ASSERT_EQ(mdb_txn_commit(txn), 0);
        mdb_env_close(env);
    }
    try {
        MasterStore m(dir.str(), fast());
        FAIL() << "opened with a 5-byte uuid (identity now " << m.uuid_text() << ")";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.code(), kCorrupt) << e.what();
    }
}

TEST(Master, KindsAreNotConfused) {
    TempDir dir("kind");
    { MasterStore m(dir.str(), fast()); }
    try {
        ReplicaStore r(dir.str(), fast());
        FAIL() << "a master opened as a replica";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.code(), kWrongKind);
        EXPECT_THAT(e.what(), HasSubstr("master store, not a replica"));
    }
    EnvOptions no_create = fast();
    no_create.create = false;
    EXPECT_THROW(MasterStore(dir.sub("absent"), no_create), StoreError);
}

}  // namespace
}  // namespace replicast::store
