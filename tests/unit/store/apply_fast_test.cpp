// ReplicaStore::apply on the client's path: a body the caller validated is not
// parsed again, and after a database's first chain an apply allocates nothing
// on the C++ heap (no std::string per chain). The counting operator new below
// is this executable's; it counts only while `counting` is set.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "engine/wire/update.hpp"
#include "store/replica.hpp"
#include "store_test_util.hpp"

namespace {
std::atomic<bool> counting{false};
std::atomic<std::uint64_t> allocations{0};
}  // namespace

// GCC pairs the malloc below with the frees and warns (a false positive: this
// new and these deletes are one replacement set).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
    if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace replicast::store {
namespace {

using replicast::testing::Ops;
using replicast::testing::TempDir;
using replicast::testing::fast;

std::vector<std::uint8_t> encode(Ops& ops) {
    std::vector<std::uint8_t> body;
    for (const auto& u : ops.span()) {
        std::vector<std::uint8_t> one(wire::encoded_update_size(u));
        std::size_t n = 0;
        EXPECT_EQ(wire::encode_update(u, one, n), wire::WireError::ok);
        body.insert(body.end(), one.begin(), one.end());
    }
    return body;
}

TEST(ReplicaApply, ValidatedChainsAllocateNothingAfterTheFirst) {
    TempDir dir("apply-fast");
    ReplicaStore r(dir.sub("replica"), fast());
    Ops o;
    o.put("key", "value").del("gone");
    const std::vector<std::uint8_t> body = encode(o);
    ASSERT_TRUE(r.apply("db", 1, 2, body, {}, nullptr, BodyCheck::validated));
    allocations = 0;
    counting = true;
    Status s;
    for (std::uint64_t lsn = 3; lsn < 3 + 2 * 100 && s.is_ok(); lsn += 2) {
        s = r.apply("db", lsn, 2, body, {}, nullptr, BodyCheck::validated);
    }
    counting = false;
    ASSERT_TRUE(s) << s.message();
    EXPECT_EQ(allocations.load(), 0u);
    ReplicaState st;
    ASSERT_TRUE(r.state("db", st));
    EXPECT_EQ(st.applied_lsn, 202u);
}

TEST(ReplicaApply, ValidateStillRefusesABadBody) {
    TempDir dir("apply-bad");
    ReplicaStore r(dir.sub("replica"), fast());
    Ops o;
    o.put("key", "value");
    std::vector<std::uint8_t> body = encode(o);
    body.push_back(0);  // a trailing byte: not exactly one update
    const Status s = r.apply("db", 1, 1, body, {});
    EXPECT_EQ(s.code(), kBadUpdate);
    ReplicaState st;
    ASSERT_TRUE(r.state("db", st));
    EXPECT_EQ(st.applied_lsn, 0u);
}

TEST(ReplicaApply, FailuresNameTheChain) {
    TempDir dir("apply-gap");
    ReplicaStore r(dir.sub("replica"), fast());
    Ops o;
    o.put("key", "value");
    const std::vector<std::uint8_t> body = encode(o);
    const Status s = r.apply("db", 7, 1, body, {}, nullptr, BodyCheck::validated);
    EXPECT_EQ(s.code(), kLsnGap);
    EXPECT_NE(s.message().find("chain at LSN 7"), std::string::npos) << s.message();
    // The handles opened by the failed (aborted) transaction were not kept:
    // the next chain opens its own and applies.
    ASSERT_TRUE(r.apply("db", 1, 1, body, {}, nullptr, BodyCheck::validated));
    ASSERT_TRUE(r.apply("db", 2, 1, body, {}, nullptr, BodyCheck::validated));
}

}  // namespace
}  // namespace replicast::store
