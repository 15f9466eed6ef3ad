// Replicas: exactly once, in order, whole chains, reader groups, bootstrap,
// and the checksum that proves a replica equals its master.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/checksum.hpp"
#include "store/master.hpp"
#include "store/replica.hpp"
#include "store_test_util.hpp"

namespace replicast::store {
namespace {

using replicast::testing::Ops;
using replicast::testing::TempDir;
using replicast::testing::fast;


std::vector<std::uint8_t> body_of(Ops& ops) {
    std::vector<std::uint8_t> body;
    for (const auto& u : ops.span()) {
        std::vector<std::uint8_t> one(wire::encoded_update_size(u));
        std::size_t n = 0;
        EXPECT_EQ(wire::encode_update(u, one, n), wire::WireError::ok);
        body.insert(body.end(), one.begin(), one.end());
    }
    return body;
}

// Copies the master's log from `from` into the replica, one chain per `chain` LSNs.
void ship(MasterStore& m, ReplicaStore& r, const std::string& db, std::uint64_t from, std::uint64_t to,
          std::uint32_t chain, const GroupFilter& groups = {}) {
    std::vector<std::uint8_t> body;
    std::uint64_t first = from;
    std::uint32_t n = 0;
    ASSERT_TRUE(m.read_log(db, from, to, [&](std::uint64_t lsn, std::span<const std::uint8_t> u) {
        if (n == 0) first = lsn;
        body.insert(body.end(), u.begin(), u.end());
        if (++n == chain) {
            EXPECT_TRUE(r.apply(db, first, n, body, groups));
            body.clear();
            n = 0;
        }
        return true;
    }));
    if (n > 0) {
        ASSERT_TRUE(r.apply(db, first, n, body, groups));
    }
}

TEST(Replica, AppliesInOrderAndMatchesTheMaster) {
    TempDir dir("replica");
    MasterStore m(dir.sub("master"), fast());
    ReplicaStore r(dir.sub("replica"), fast());
    for (int i = 0; i < 200; ++i) {
        Ops o;
        o.put("k" + std::to_string(i % 37), "v" + std::to_string(i), static_cast<std::uint16_t>(i % 3));
        if (i % 5 == 0) o.del("k" + std::to_string((i + 1) % 37));
        ASSERT_TRUE(m.write("db", o.span()));
    }
    std::uint64_t oldest = 0, last = 0;
    ASSERT_TRUE(m.lsn_range("db", oldest, last));
    ASSERT_TRUE(r.bind("db", m.uuid()));
    ship(m, r, "db", 1, last, 7);
    Checksum cm, cr;
    ASSERT_TRUE(checksum(m, "db", {}, cm));
    ASSERT_TRUE(checksum(r, "db", cr));
    EXPECT_EQ(cm.line("db"), cr.line("db"));
    EXPECT_EQ(cr.lsn, last);
    EXPECT_GT(cr.records, 10u);
}

TEST(Replica, ExactlyOnce) {
    TempDir dir("once");
    ReplicaStore r(dir.str(), fast());
    Ops a;
    a.put("x", "1").put("y", "2");
    const auto body = body_of(a);
    ApplyResult res;
    ASSERT_TRUE(r.apply("db", 1, 2, body, {}, &res));
    EXPECT_EQ(res.applied, 2u);
    ASSERT_TRUE(r.apply("db", 1, 2, body, {}, &res));
    EXPECT_EQ(res.duplicates, 2u);
    EXPECT_EQ(res.applied, 0u);
    // Overlapping: LSN 2 again, LSN 3 new.
    Ops b;
    b.put("y", "stale").put("z", "3");
    ASSERT_TRUE(r.apply("db", 2, 2, body_of(b), {}, &res));
    EXPECT_EQ(res.duplicates, 1u);
    EXPECT_EQ(res.applied, 1u);
    std::uint64_t lsn = 0;
    std::map<std::string, std::string> seen;
    ASSERT_TRUE(r.scan("db", lsn, [&](const Record& rec) {
        seen[std::string(rec.key.begin(), rec.key.end())] = std::string(rec.value.begin(), rec.value.end());
        return true;
    }));
    EXPECT_EQ(lsn, 3u);
    EXPECT_EQ(seen.at("y"), "2") << "an update at or below the applied LSN never applies twice";
    EXPECT_EQ(seen.at("z"), "3");
}

TEST(Replica, GapsAndBrokenChainsAreRefusedWhole) {
    TempDir dir("gap");
    ReplicaStore r(dir.str(), fast());
    Ops a;
    a.put("x", "1");
    ASSERT_TRUE(r.apply("db", 1, 1, body_of(a), {}));
    const Status gap = r.apply("db", 3, 1, body_of(a), {});
    EXPECT_EQ(gap.code(), kLsnGap);
    auto broken = body_of(a);
    broken.pop_back();
    EXPECT_EQ(r.apply("db", 2, 1, broken, {}).code(), kBadUpdate);
    Ops two;
    two.put("p", "1").put("q", "2");
    EXPECT_EQ(r.apply("db", 2, 3, body_of(two), {}).code(), kBadUpdate) << "count says 3, body has 2";
    ReplicaState st;
    ASSERT_TRUE(r.state("db", st));
    EXPECT_EQ(st.applied_lsn, 1u) << "nothing of a refused chain was applied";
}

TEST(Replica, OtherReaderGroupsAdvanceTheLsnButAreNotStored) {
    TempDir dir("groups");
    ReplicaStore r(dir.str(), fast());
    Ops a;
    a.put("public", "p", 0).put("mine", "m", 2).put("theirs", "t", 5);
    const std::vector<std::uint16_t> groups = {2};
    ApplyResult res;
    ASSERT_TRUE(r.apply("db", 1, 3, body_of(a), {.all = false, .groups = groups}, &res));
    EXPECT_EQ(res.applied, 2u);
    EXPECT_EQ(res.filtered, 1u);
    ReplicaState st;
    ASSERT_TRUE(r.state("db", st));
    EXPECT_EQ(st.applied_lsn, 3u);
    // Placeholders from recovery: LSNs 4..6 exist, none readable.
    ASSERT_TRUE(r.skip("db", 4, 6));
    ASSERT_TRUE(r.state("db", st));
    EXPECT_EQ(st.applied_lsn, 6u);
    EXPECT_EQ(r.skip("db", 9, 10).code(), kLsnGap);
}

TEST(Replica, MatchesAMasterChecksumFilteredBySameGroups) {
    TempDir dir("gsum");
    MasterStore m(dir.sub("m"), fast());
    ReplicaStore r(dir.sub("r"), fast());
    for (int i = 0; i < 60; ++i) {
        Ops o;
        o.put("k" + std::to_string(i), "v", static_cast<std::uint16_t>(i % 4));
        ASSERT_TRUE(m.write("db", o.span()));
    }
    const std::vector<std::uint16_t> groups = {1, 3};
    ship(m, r, "db", 1, 60, 10, {.all = false, .groups = groups});
    Checksum all, filtered, rep;
    ASSERT_TRUE(checksum(m, "db", {}, all));
    ASSERT_TRUE(checksum(m, "db", {.all = false, .groups = groups}, filtered));
    ASSERT_TRUE(checksum(r, "db", rep));
    EXPECT_EQ(filtered.line("db"), rep.line("db"));
    EXPECT_NE(all.sha256, rep.sha256);
    EXPECT_EQ(rep.records, 45u);  // groups 0, 1, 3 of 0..3
}

// A key that moves from a kept group to one the replica does not keep must
// leave the replica, as it leaves the master's filtered view.
TEST(Replica, AKeyMovingToAnotherGroupLeavesAFilteredReplica) {
    TempDir dir("gmove");
    MasterStore m(dir.sub("m"), fast());
    ReplicaStore r(dir.sub("r"), fast());
    Ops a;
    a.put("moves", "v1", 2).put("stays", "s", 2).put("gone", "g", 2);
    ASSERT_TRUE(m.write("db", a.span()));
    Ops b;
    b.put("moves", "v2", 3).del("gone", 3);
    ASSERT_TRUE(m.write("db", b.span()));
    const std::vector<std::uint16_t> groups = {2};
    ship(m, r, "db", 1, 5, 2, {.all = false, .groups = groups});
    Checksum filtered, rep;
    ASSERT_TRUE(checksum(m, "db", {.all = false, .groups = groups}, filtered));
    ASSERT_TRUE(checksum(r, "db", rep));
    EXPECT_EQ(filtered.line("db"), rep.line("db"));
    EXPECT_EQ(rep.records, 1u);  // only "stays"
}

TEST(Replica, AnEmptyChainIsRefused) {
    TempDir dir("empty");
    ReplicaStore r(dir.str(), fast());
    EXPECT_EQ(r.apply("db", 1, 0, {}, {}).code(), kBadUpdate);
    Ops a;
    a.put("k", "v");
    EXPECT_EQ(r.apply("db", 0, 1, body_of(a), {}).code(), kBadUpdate);
    ReplicaState st;
    ASSERT_TRUE(r.state("db", st));
    EXPECT_EQ(st.applied_lsn, 0u);
}

TEST(Replica, BootstrapFromASnapshotThenContinues) {
    TempDir dir("boot");
    MasterStore m(dir.sub("m"), fast());
    ReplicaStore r(dir.sub("r"), fast());
    for (int i = 0; i < 100; ++i) {
        Ops o;
        o.put("k" + std::to_string(i % 30), std::to_string(i));
        ASSERT_TRUE(m.write("db", o.span()));
    }
    // An interrupted bootstrap: begun, one page, then the client "crashes".
    ASSERT_TRUE(r.begin_bootstrap("db", m.uuid()));
    std::vector<Record> page;
    std::uint64_t snap_lsn = 0;
    std::vector<std::pair<std::string, std::string>> keep;
    ASSERT_TRUE(m.snapshot("db", [&](std::uint64_t l) { snap_lsn = l; }, [&](const Record& rec) {
        keep.emplace_back(std::string(rec.key.begin(), rec.key.end()), std::string(rec.value.begin(), rec.value.end()));
        return true;
    }));
    auto rec_of = [](const std::pair<std::string, std::string>& kv) {
        return Record{.key = {reinterpret_cast<const std::uint8_t*>(kv.first.data()), kv.first.size()}, .group = 0,
                      .value = {reinterpret_cast<const std::uint8_t*>(kv.second.data()), kv.second.size()}};
    };
    page.push_back(rec_of(keep[0]));
    ASSERT_TRUE(r.bootstrap_page("db", page));
    ReplicaState st;
    ASSERT_TRUE(r.state("db", st));
    EXPECT_TRUE(st.incomplete) << "a reader (or a restart) can tell the replica is not usable";
    Ops o;
    o.put("x", "y");
    EXPECT_EQ(r.apply("db", 1, 1, body_of(o), {}).code(), kIncomplete);

    // Start over cleanly, in pages of 7.
    {
        ReplicaStore reopened(dir.sub("r"), fast());
        ASSERT_TRUE(reopened.state("db", st));
        EXPECT_TRUE(st.incomplete);
        ASSERT_TRUE(reopened.begin_bootstrap("db", m.uuid()));
        for (std::size_t i = 0; i < keep.size(); i += 7) {
            std::vector<Record> p;
            for (std::size_t j = i; j < std::min(keep.size(), i + 7); ++j) p.push_back(rec_of(keep[j]));
            ASSERT_TRUE(reopened.bootstrap_page("db", p));
        }
        ASSERT_TRUE(reopened.finish_bootstrap("db", snap_lsn));
        ASSERT_TRUE(reopened.state("db", st));
        EXPECT_FALSE(st.incomplete);
        ReplicaStore third(dir.sub("r"), fast());  // and the mark stays gone after a restart
        ASSERT_TRUE(third.state("db", st));
        EXPECT_FALSE(st.incomplete);
        EXPECT_EQ(st.applied_lsn, 100u);
        // Continue from LSN + 1.
        for (int i = 0; i < 10; ++i) {
            Ops more;
            more.put("new" + std::to_string(i), "z");
            ASSERT_TRUE(m.write("db", more.span()));
        }
        ship(m, reopened, "db", 101, 110, 3);
        Checksum cm, cr;
        ASSERT_TRUE(checksum(m, "db", {}, cm));
        ASSERT_TRUE(checksum(reopened, "db", cr));
        EXPECT_EQ(cm.line("db"), cr.line("db"));
    }
}

// Mid-bootstrap the database is unavailable to readers (LAYOUT.md), and only
// a bootstrap in progress can be finished: one that another copy already
// finished must not mark this one's partial data complete.
TEST(Replica, ABootstrapInProgressIsUnreadableAndFinishesOnce) {
    TempDir dir("bootonce");
    MasterStore m(dir.sub("m"), fast());
    ReplicaStore r(dir.sub("r"), fast());
    Ops o;
    o.put("a", "1");
    ASSERT_TRUE(m.write("db", o.span()));
    EXPECT_EQ(r.finish_bootstrap("db", 1).code(), kIncomplete) << "finished a bootstrap never begun";
    ASSERT_TRUE(r.begin_bootstrap("db", m.uuid()));
    std::uint64_t applied = 0;
    std::size_t seen = 0;
    EXPECT_EQ(r.scan("db", applied, [&](const Record&) { return ++seen, true; }).code(), kIncomplete);
    EXPECT_EQ(seen, 0u);
    ASSERT_TRUE(r.finish_bootstrap("db", 1));
    EXPECT_EQ(r.finish_bootstrap("db", 1).code(), kIncomplete) << "finished twice";
    EXPECT_TRUE(r.scan("db", applied, [&](const Record&) { return true; }));
}

TEST(Replica, AnotherMastersUuidMeansRebuild) {
    TempDir dir("uuidmm");
    MasterStore a(dir.sub("a"), fast()), b(dir.sub("b"), fast());
    ReplicaStore r(dir.sub("r"), fast());
    ASSERT_TRUE(r.bind("db", a.uuid()));
    ASSERT_TRUE(r.bind("db", a.uuid()));
    const Status s = r.bind("db", b.uuid());
    EXPECT_EQ(s.code(), kWrongStore);
    EXPECT_THAT(s.message(), ::testing::HasSubstr("rebuild"));
    ASSERT_TRUE(r.begin_bootstrap("db", b.uuid()));  // a rebuild rebinds
    ASSERT_TRUE(r.finish_bootstrap("db", 0));
    EXPECT_TRUE(r.bind("db", b.uuid()));
}

}  // namespace
}  // namespace replicast::store
