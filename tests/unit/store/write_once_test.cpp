// MasterStore::write_once: a Publish retried with its request id commits once,
// within the window, and the id is stored in the same transaction as the writes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/master.hpp"
#include "store_test_util.hpp"

namespace replicast::store {
namespace {

using replicast::testing::Ops;
using replicast::testing::TempDir;
using replicast::testing::fast;

std::span<const std::uint8_t> bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::uint64_t last_lsn(MasterStore& m, const std::string& db) {
    std::uint64_t oldest = 0, last = 0;
    EXPECT_TRUE(m.lsn_range(db, oldest, last));
    return last;
}

TEST(WriteOnce, ARepeatWithinTheWindowWritesNothingAndReturnsTheFirstLsn) {
    TempDir dir("once");
    MasterStore m(dir.str(), fast());
    Ops pre;
    pre.put("a", "1");
    ASSERT_TRUE(m.write("db", pre.span()));
    const std::string id = "req-1";
    Ops ops;
    ops.put("k1", "v1").put("k2", "v2", 3);
    std::uint64_t first = 0;
    bool dup = true;
    const MasterStore::RequestId r{.id = bytes(id), .now_ms = 1'000, .window_ms = 60'000};
    ASSERT_TRUE(m.write_once("db", ops.span(), r, first, dup));
    EXPECT_EQ(first, 2u);
    EXPECT_FALSE(dup);
    EXPECT_EQ(last_lsn(m, "db"), 3u);

    // The retry, 59 s later, with different values (a buggy caller): still a repeat.
    Ops again;
    again.put("k1", "changed");
    first = 0;
    ASSERT_TRUE(m.write_once("db", again.span(), {.id = bytes(id), .now_ms = 60'999, .window_ms = 60'000}, first, dup));
    EXPECT_TRUE(dup);
    EXPECT_EQ(first, 2u);
    EXPECT_EQ(last_lsn(m, "db"), 3u) << "a repeat must not write";
    const auto t = testing::table_of(m, "db");
    EXPECT_EQ(t.at("k1").second, "v1");
    testing::expect_consistent(m, "db");
}

TEST(WriteOnce, IdsArePerDatabaseAndEmptyIdsAreAlwaysWritten) {
    TempDir dir("once-db");
    MasterStore m(dir.str(), fast());
    Ops ops;
    ops.put("k", "v");
    const std::string id = "same";
    std::uint64_t first = 0;
    bool dup = false;
    ASSERT_TRUE(m.write_once("a", ops.span(), {.id = bytes(id), .now_ms = 5, .window_ms = 100}, first, dup));
    ASSERT_TRUE(m.write_once("b", ops.span(), {.id = bytes(id), .now_ms = 5, .window_ms = 100}, first, dup));
    EXPECT_FALSE(dup) << "the same id on another database is another request";
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(m.write_once("a", ops.span(), {.id = {}, .now_ms = 5, .window_ms = 100}, first, dup));
        EXPECT_FALSE(dup);
    }
    EXPECT_EQ(last_lsn(m, "a"), 4u);
    EXPECT_EQ(last_lsn(m, "b"), 1u);
}

TEST(WriteOnce, AnExpiredIdIsANewRequest) {
    TempDir dir("once-exp");
    MasterStore m(dir.str(), fast());
    Ops ops;
    ops.put("k", "v");
    const std::string id = "r";
    std::uint64_t first = 0;
    bool dup = false;
    ASSERT_TRUE(m.write_once("db", ops.span(), {.id = bytes(id), .now_ms = 1'000, .window_ms = 500}, first, dup));
    ASSERT_TRUE(m.write_once("db", ops.span(), {.id = bytes(id), .now_ms = 1'499, .window_ms = 500}, first, dup));
    EXPECT_TRUE(dup);
    ASSERT_TRUE(m.write_once("db", ops.span(), {.id = bytes(id), .now_ms = 1'500, .window_ms = 500}, first, dup));
    EXPECT_FALSE(dup);
    EXPECT_EQ(first, 2u);
    // And the new one is remembered from its own time.
    ASSERT_TRUE(m.write_once("db", ops.span(), {.id = bytes(id), .now_ms = 1'900, .window_ms = 500}, first, dup));
    EXPECT_TRUE(dup);
    EXPECT_EQ(first, 2u);
}

// Counts the ids held in _requests (both kinds of key).
std::size_t request_entries(MasterStore& m) {
    std::size_t n = 0;
    const Status s = m.env().read("count", [&](MDB_txn* txn) {
        MDB_dbi dbi;
        if (const int rc = m.env().dbi(txn, "_requests", false, dbi); rc != 0) return rc == MDB_NOTFOUND ? 0 : rc;
        MDB_stat st{};
        const int rc = mdb_stat(txn, dbi, &st);
        n = st.ms_entries;
        return rc;
    });
    EXPECT_TRUE(s) << s.message();
    return n;
}

TEST(WriteOnce, ExpiredIdsArePrunedABoundedNumberPerWrite) {
    TempDir dir("once-prune");
    MasterStore m(dir.str(), fast());
    Ops ops;
    ops.put("k", "v");
    std::uint64_t first = 0;
    bool dup = false;
    for (int i = 0; i < 100; ++i) {
        const std::string id = "id-" + std::to_string(i);
        ASSERT_TRUE(m.write_once("db", ops.span(), {.id = bytes(id), .now_ms = 10, .window_ms = 1'000}, first, dup));
    }
    EXPECT_EQ(request_entries(m), 200u) << "an 'i' and a 't' entry per id";
    const std::string late = "late";
    ASSERT_TRUE(m.write_once("db", ops.span(), {.id = bytes(late), .now_ms = 5'000, .window_ms = 1'000}, first, dup));
    const std::size_t after_one = request_entries(m);
    EXPECT_LT(after_one, 200u) << "expired ids were pruned";
    EXPECT_GT(after_one, 2u) << "but not all in one write";
    for (int i = 0; i < 10; ++i) {
        const std::string id = "more-" + std::to_string(i);
        ASSERT_TRUE(m.write_once("db", ops.span(), {.id = bytes(id), .now_ms = 5'000, .window_ms = 1'000}, first, dup));
    }
    EXPECT_EQ(request_entries(m), 22u) << "every expired id gone; the 11 live ones kept";
}

TEST(WriteOnce, BadInputChangesNothing) {
    TempDir dir("once-bad");
    MasterStore m(dir.str(), fast());
    Ops ops;
    ops.put("k", "v");
    const std::string long_id(65, 'x');
    std::uint64_t first = 0;
    bool dup = false;
    Status s = m.write_once("db", ops.span(), {.id = bytes(long_id), .now_ms = 1, .window_ms = 10}, first, dup);
    EXPECT_EQ(s.code(), kBadRequestId) << s.message();
    Ops bad;
    bad.put("", "no key");
    const std::string id = "x";
    s = m.write_once("db", bad.span(), {.id = bytes(id), .now_ms = 1, .window_ms = 10}, first, dup);
    EXPECT_EQ(s.code(), kBadUpdate);
    // The failed write did not remember the id: the real request still commits.
    ASSERT_TRUE(m.write_once("db", ops.span(), {.id = bytes(id), .now_ms = 2, .window_ms = 10}, first, dup));
    EXPECT_FALSE(dup);
    EXPECT_EQ(first, 1u);
    std::vector<std::string> dbs;
    ASSERT_TRUE(m.databases(dbs));
    EXPECT_THAT(dbs, ::testing::ElementsAre("db")) << "_requests is not a user database";
}

}  // namespace
}  // namespace replicast::store
