// The update detector's cutting step on a real store: bundle limits, LSN
// order, compression, trimmed logs, and a chain that decodes back to the log.
#include <gtest/gtest.h>

#include "engine/chain/codec.hpp"
#include "engine/server/chain_cutter.hpp"
#include "engine/wire/chain_record.hpp"
#include "store_test_util.hpp"

using namespace replicast;
using replicast::testing::Ops;
using replicast::testing::TempDir;
using replicast::testing::fast;

namespace {


// The updates a job's record carries, decompressed and parsed.
std::vector<std::string> keys_in(const server::CutChain& job) {
    wire::ChainRecordView view;
    EXPECT_EQ(wire::parse_chain_record(job.record, view), wire::WireError::ok);
    const wire::ChainRecordHead head = view.head;
    std::span<const std::uint8_t> body = view.body;
    std::vector<std::uint8_t> plain;
    if (job.comp_alg == wire::CompAlg::deflate) {
        chain::Decompressor d;
        plain.resize(head.body_len);
        EXPECT_TRUE(d.decompress_exact(body, plain));
        body = plain;
    }
    std::vector<std::string> out;
    wire::UpdateReader r(body, head.update_count);
    for (wire::UpdateView u; r.next(u);) out.emplace_back(u.key.begin(), u.key.end());
    EXPECT_EQ(r.error(), wire::WireError::ok);
    return out;
}

}  // namespace

TEST(ChainCutter, BundlesUpToTheUpdateLimitInLsnOrder) {
    TempDir dir("cutter");
    store::MasterStore m(dir.str(), fast());
    Ops ops;
    for (int i = 0; i < 25; ++i) ops.put("k" + std::to_string(100 + i), "value " + std::to_string(i));
    ASSERT_TRUE(m.write("db", ops.span()));
    server::ChainCutter cutter({.max_updates = 10, .max_bytes = 1 << 20}, {.compress = false});
    server::CutChain job;
    job.record.reserve(cutter.max_record_bytes());
    std::uint64_t next = 1;
    std::vector<std::string> seen;
    while (next <= 25) {
        server::CutResult r;
        ASSERT_TRUE(cutter.cut(m, "db", next, 25, job, r));
        ASSERT_TRUE(r.made);
        EXPECT_EQ(r.skipped, 0u);
        EXPECT_EQ(job.first_lsn, next);
        EXPECT_LE(job.update_count, 10u);
        for (auto& k : keys_in(job)) seen.push_back(k);
        next += job.update_count;
    }
    ASSERT_EQ(seen.size(), 25u);
    for (int i = 0; i < 25; ++i) EXPECT_EQ(seen[static_cast<std::size_t>(i)], "k" + std::to_string(100 + i));
    server::CutResult r;
    ASSERT_TRUE(cutter.cut(m, "db", 26, 25, job, r));
    EXPECT_FALSE(r.made);
}

TEST(ChainCutter, ByteLimitCutsEarlyButAnOversizedUpdateStillGoesAlone) {
    TempDir dir("cutter-bytes");
    store::MasterStore m(dir.str(), fast());
    Ops ops;
    ops.put("a", std::string(300, 'x')).put("b", std::string(300, 'y')).put("big", std::string(5000, 'z')).put("c", "1");
    ASSERT_TRUE(m.write("db", ops.span()));
    server::ChainCutter cutter({.max_updates = 100, .max_bytes = 700}, {.compress = false});
    server::CutChain job;
    server::CutResult r;
    ASSERT_TRUE(cutter.cut(m, "db", 1, 4, job, r));
    EXPECT_EQ(job.update_count, 2u);  // a + b fit in 700, big does not
    ASSERT_TRUE(cutter.cut(m, "db", 3, 4, job, r));
    EXPECT_EQ(job.update_count, 1u);  // over the limit on its own: alone
    EXPECT_EQ(keys_in(job), std::vector<std::string>{"big"});
    ASSERT_TRUE(cutter.cut(m, "db", 4, 4, job, r));
    EXPECT_EQ(keys_in(job), std::vector<std::string>{"c"});
}

TEST(ChainCutter, CompressesWhenItShrinksAndNeverReadsPastLast) {
    TempDir dir("cutter-deflate");
    store::MasterStore m(dir.str(), fast());
    Ops ops;
    for (int i = 0; i < 50; ++i) ops.put("order/" + std::to_string(i), R"({"px":1000,"qty":10,"side":"buy","venue":"XLON"})");
    ASSERT_TRUE(m.write("db", ops.span()));
    server::ChainCutter cutter({.max_updates = 256, .max_bytes = 1 << 20}, {.compress = true, .level = 1});
    server::CutChain job;
    server::CutResult r;
    ASSERT_TRUE(cutter.cut(m, "db", 1, 40, job, r));
    EXPECT_EQ(job.update_count, 40u);
    EXPECT_EQ(job.comp_alg, wire::CompAlg::deflate);
    EXPECT_LT(job.record.size(), job.uncompressed_bytes / 2);
    EXPECT_EQ(keys_in(job).back(), "order/39");
}

// LSNs 1..30 written, 1..20 trimmed: the log starts at 21.
void write_30_keep_10(store::MasterStore& m) {
    Ops ops;
    for (int i = 0; i < 30; ++i) ops.put("k" + std::to_string(i), "v");
    ASSERT_TRUE(m.write("db", ops.span()));
    std::uint64_t removed = 0;
    ASSERT_TRUE(m.trim("db", {.keep_updates = 10}, removed));
    ASSERT_EQ(removed, 20u);
}

TEST(ChainCutter, ATrimmedLogIsReportedAndTheChainStartsAtTheOldestEntry) {
    TempDir dir("cutter-trim");
    store::MasterStore m(dir.str(), fast());
    ASSERT_NO_FATAL_FAILURE(write_30_keep_10(m));
    server::ChainCutter cutter({.max_updates = 100, .max_bytes = 1 << 20}, {.compress = false});
    server::CutChain job;
    server::CutResult r;
    ASSERT_TRUE(cutter.cut(m, "db", 5, 30, job, r));
    ASSERT_TRUE(r.made);
    EXPECT_EQ(r.skipped, 16u);  // LSNs 5..20 are gone
    EXPECT_EQ(job.first_lsn, 21u);
    EXPECT_EQ(job.update_count, 10u);
}

// Trimmed further than one chain's worth of updates: the chain still starts at
// the oldest entry (a cut that only looked at from..from+max_updates-1 would
// find nothing there, every time, and the stream would stop for good).
TEST(ChainCutter, ATrimFartherThanOneChainStillStartsAtTheOldestEntry) {
    TempDir dir("cutter-trim-far");
    store::MasterStore m(dir.str(), fast());
    ASSERT_NO_FATAL_FAILURE(write_30_keep_10(m));
    server::ChainCutter cutter({.max_updates = 8, .max_bytes = 1 << 20}, {.compress = false});
    server::CutChain job;
    server::CutResult r;
    ASSERT_TRUE(cutter.cut(m, "db", 1, 30, job, r));
    ASSERT_TRUE(r.made) << "no chain: the stream would stall at LSN 1 forever";
    EXPECT_EQ(r.skipped, 20u);
    EXPECT_EQ(job.first_lsn, 21u);
    EXPECT_EQ(job.update_count, 8u);
}
