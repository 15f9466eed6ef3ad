// LeaseTable (engine/control/leases.hpp) with a stepped clock: a lease runs
// for its length from each take or renewal, a lapsed one is not renewed, and
// the stream's horizon is when its last lease runs out or ends.
#include <gtest/gtest.h>

#include "engine/control/leases.hpp"

namespace replicast::control {
namespace {

constexpr std::uint64_t kS = 1'000'000'000;

TEST(LeaseTable, ALeaseRunsItsLengthFromEachRenewal) {
    LeaseTable t(10 * kS);
    EXPECT_EQ(t.take("a", 7, 100 * kS), 110 * kS);
    std::uint64_t h = 0;
    EXPECT_TRUE(t.renew("a", 7, 105 * kS, h));
    EXPECT_EQ(h, 115 * kS);
    EXPECT_EQ(t.remaining_ns("a", 7, 106 * kS), 9 * kS);
    EXPECT_FALSE(t.renew("b", 7, 106 * kS, h)) << "a renewal never creates a lease";
    EXPECT_FALSE(t.renew("a", 8, 106 * kS, h)) << "nor moves one to another stream";
    EXPECT_FALSE(t.renew("a", 7, 115 * kS, h)) << "lapsed at its expiry: only take() holds it again";
    EXPECT_EQ(t.remaining_ns("a", 7, 115 * kS), 0u);
    EXPECT_TRUE(t.holders(7, 115 * kS).empty());
    EXPECT_EQ(t.take("a", 7, 120 * kS), 130 * kS);
}

TEST(LeaseTable, TheHorizonIsTheLastLeaseToRunOutOrEnd) {
    LeaseTable t(10 * kS);
    t.take("a", 1, 0);
    EXPECT_EQ(t.take("b", 1, 4 * kS), 14 * kS);
    t.take("c", 2, 4 * kS);  // another stream: not part of 1's horizon
    std::uint64_t h = 0;
    EXPECT_TRUE(t.end("b", 1, 5 * kS, h));
    EXPECT_EQ(h, 10 * kS) << "a still runs until 10 s";
    const auto holders = t.holders(1, 5 * kS);
    ASSERT_EQ(holders.size(), 1u);
    EXPECT_EQ(holders[0].identity, "a");
    EXPECT_EQ(holders[0].expires_ns, 10 * kS);
    EXPECT_TRUE(t.end("a", 1, 6 * kS, h));
    EXPECT_EQ(h, 6 * kS) << "the last one ended: idle from now";
    EXPECT_FALSE(t.end("a", 1, 7 * kS, h)) << "ended once";
    EXPECT_EQ(t.holders(2, 6 * kS).size(), 1u);
}

TEST(LeaseTable, EndingALapsedLeaseChangesNothing) {
    LeaseTable t(10 * kS);
    t.take("a", 1, 0);
    std::uint64_t h = 99;
    EXPECT_FALSE(t.end("a", 1, 20 * kS, h)) << "it ran out at 10 s: the horizon published then stays";
    EXPECT_EQ(h, 99u);
}

TEST(LeaseTable, EndAllEndsOneIdentitysRunningLeases) {
    LeaseTable t(10 * kS);
    t.take("gone", 1, 0);
    t.take("gone", 2, 0);
    t.take("stays", 2, 0);
    t.take("gone", 3, 0);
    const auto changed = t.end_all("gone", 12 * kS);  // lapsed on 1, 2 and 3 already
    EXPECT_TRUE(changed.empty());
    t.take("gone", 1, 20 * kS);
    t.take("gone", 2, 20 * kS);
    t.take("stays", 2, 21 * kS);
    const auto now = t.end_all("gone", 22 * kS);
    ASSERT_EQ(now.size(), 2u);
    EXPECT_EQ(now[0], std::make_pair(1u, 22 * kS));
    EXPECT_EQ(now[1], std::make_pair(2u, 31 * kS)) << "stays keeps stream 2";
    EXPECT_EQ(t.remaining_ns("gone", 1, 22 * kS), 0u);
}

}  // namespace
}  // namespace replicast::control
