// The gap/buffer/recover policy and the error-rate policy, with a stepped clock.
#include <gtest/gtest.h>

#include "engine/client/error_rate.hpp"
#include "engine/client/gap_policy.hpp"

namespace replicast::client {
namespace {

using V = GapPolicy::Verdict;
constexpr std::uint64_t kMs = 1'000'000;

TEST(GapPolicy, InOrderChainsApplyAndRepeatsAreDuplicates) {
    GapPolicy g({}, 0);
    EXPECT_EQ(g.on_chain(1, 10, 100), V::apply);
    g.applied(10);
    EXPECT_EQ(g.on_chain(11, 5, 50), V::apply);
    g.applied(15);
    EXPECT_EQ(g.on_chain(1, 10, 100), V::duplicate);
    EXPECT_EQ(g.on_chain(15, 1, 10), V::duplicate);
    // Overlapping the applied LSN: applies (the store skips the overlap).
    EXPECT_EQ(g.on_chain(14, 4, 40), V::apply);
    EXPECT_EQ(g.recover_due(0), std::nullopt);
    EXPECT_EQ(g.gaps(), 0u);
}

TEST(GapPolicy, AChainPastNextIsBufferedAndTheGapRecovered) {
    GapPolicy g({}, 10);
    EXPECT_EQ(g.on_chain(21, 5, 500), V::buffer);
    EXPECT_EQ(g.buffered_chains(), 1u);
    EXPECT_EQ(g.buffered_bytes(), 500u);
    EXPECT_EQ(g.gaps(), 1u);
    const auto r = g.recover_due(0);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, (LsnRange{11, 20}));
    // One recovery at a time.
    EXPECT_EQ(g.recover_due(0), std::nullopt);
    // More loss while it runs widens what is needed, counted as the same gap.
    EXPECT_EQ(g.on_chain(31, 5, 500), V::buffer);
    EXPECT_EQ(g.gaps(), 1u);
    g.applied(20);
    g.recover_done(true, 1 * kMs);
    g.unbuffered(500);
    g.applied(25);  // the follower applied the buffered chain at 21
    const auto r2 = g.recover_due(1 * kMs);
    ASSERT_TRUE(r2);
    EXPECT_EQ(*r2, (LsnRange{26, 30}));
}

TEST(GapPolicy, RecoveryStopsBeforeWhatIsBuffered) {
    GapPolicy g({}, 0);
    EXPECT_EQ(g.on_chain(21, 10, 100), V::buffer);
    g.on_heartbeat(100, false);  // 31..100 lost too
    const auto r = g.recover_due(0, /*buffered_from=*/21);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, (LsnRange{1, 20}));
    g.applied(20);
    g.recover_done(true, 0);
    g.unbuffered(100);
    g.applied(30);
    const auto r2 = g.recover_due(0);
    ASSERT_TRUE(r2);
    EXPECT_EQ(*r2, (LsnRange{31, 100}));
}

TEST(GapPolicy, PastTheBoundChainsAreDroppedAndRecoveredToo) {
    GapPolicy g({.max_buffered_chains = 2, .max_buffered_bytes = 1000}, 0);
    EXPECT_EQ(g.on_chain(11, 10, 100), V::buffer);
    EXPECT_EQ(g.on_chain(21, 10, 100), V::buffer);
    EXPECT_EQ(g.on_chain(31, 10, 100), V::drop);  // chain bound
    const auto r = g.recover_due(0);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, (LsnRange{1, 40}));  // through the dropped chain's last LSN
    GapPolicy b({.max_buffered_chains = 100, .max_buffered_bytes = 1000}, 0);
    EXPECT_EQ(b.on_chain(11, 1, 900), V::buffer);
    EXPECT_EQ(b.on_chain(12, 1, 200), V::drop);  // byte bound
}

TEST(GapPolicy, HeartbeatRevealsALostLastChain) {
    GapPolicy g({}, 50);
    g.on_heartbeat(50, false);
    EXPECT_EQ(g.recover_due(0), std::nullopt);  // up to date
    g.on_heartbeat(55, /*chain_in_flight=*/true);
    EXPECT_EQ(g.recover_due(0), std::nullopt);  // the chain being gathered may carry 51..55
    EXPECT_EQ(g.lag(), 5u);
    g.on_heartbeat(55, false);
    const auto r = g.recover_due(0);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, (LsnRange{51, 55}));
}

TEST(GapPolicy, AFailedRecoverIsRetriedAfterTheBackoff) {
    GapPolicy g({.retry_ns = 200 * kMs}, 0);
    g.on_heartbeat(9, false);
    ASSERT_TRUE(g.recover_due(0));
    g.recover_done(false, 10 * kMs);
    EXPECT_EQ(g.recover_due(10 * kMs), std::nullopt);
    EXPECT_EQ(g.recover_due(209 * kMs), std::nullopt);
    const auto r = g.recover_due(210 * kMs);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, (LsnRange{1, 9}));
}

TEST(GapPolicy, ResetAfterASnapshotForgetsWhatItCovers) {
    GapPolicy g({}, 0);
    EXPECT_EQ(g.on_chain(101, 10, 100), V::buffer);
    ASSERT_TRUE(g.recover_due(0));
    g.reset(150);
    EXPECT_EQ(g.next(), 151u);
    EXPECT_EQ(g.recover_due(0), std::nullopt);
    EXPECT_EQ(g.on_chain(101, 10, 100), V::duplicate);
    EXPECT_EQ(g.on_chain(151, 1, 10), V::apply);
}

TEST(GapPolicy, NeverApplyOutOfOrder) {
    // Every verdict 'apply' starts at or before next; random arrivals.
    GapPolicy g({.max_buffered_chains = 4}, 0);
    std::uint64_t x = 12345;
    for (int i = 0; i < 10000; ++i) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        const std::uint64_t first = 1 + (x >> 33) % 200;
        const auto count = static_cast<std::uint32_t>(1 + (x >> 20) % 5);
        const std::uint64_t next = g.next();
        if (g.on_chain(first, count, 1) == V::apply) {
            ASSERT_LE(first, next);
            ASSERT_GE(first + count - 1, next);
            g.applied(first + count - 1);
        }
        if (g.buffered_chains() == 4) {
            for (int k = 0; k < 4; ++k) g.unbuffered(1);
        }
    }
}

TEST(ErrorRate, LowLossDoesNothing) {
    ErrorRatePolicy p({.window_ns = 1000 * kMs, .threshold = 0.2, .min_chains = 10});
    std::uint64_t now = 0;
    for (int i = 0; i < 100; ++i, now += 10 * kMs) {
        p.on_applied(9, now);
        p.on_lost(1, now);
        EXPECT_EQ(p.evaluate(now), ErrorRatePolicy::Action::none);
    }
    EXPECT_NEAR(p.rate(now), 0.1, 0.01);
}

TEST(ErrorRate, FewChainsAreNotJudged) {
    ErrorRatePolicy p({.window_ns = 1000 * kMs, .threshold = 0.2, .min_chains = 50});
    p.on_lost(10, 0);
    EXPECT_EQ(p.evaluate(0), ErrorRatePolicy::Action::none);
    EXPECT_EQ(p.rate(0), 0.0);
}

TEST(ErrorRate, HighLossResubscribesThenGoesUnicastThenRejoins) {
    const ErrorRateConfig c{.window_ns = 1000 * kMs, .threshold = 0.2, .min_chains = 10, .unicast_ns = 5000 * kMs};
    ErrorRatePolicy p(c);
    std::uint64_t now = 0;
    p.on_applied(5, now);
    p.on_lost(5, now);
    EXPECT_EQ(p.evaluate(now), ErrorRatePolicy::Action::resubscribe);
    EXPECT_EQ(p.mode(), ErrorRatePolicy::Mode::probation);
    // Still lossy over the probation window.
    for (; now < 1000 * kMs; now += 100 * kMs) {
        p.on_applied(5, now);
        p.on_lost(5, now);
        EXPECT_EQ(p.evaluate(now), ErrorRatePolicy::Action::none);
    }
    EXPECT_EQ(p.evaluate(now), ErrorRatePolicy::Action::leave_multicast);
    EXPECT_EQ(p.mode(), ErrorRatePolicy::Mode::unicast);
    EXPECT_EQ(p.evaluate(now + 4999 * kMs), ErrorRatePolicy::Action::none);
    EXPECT_EQ(p.evaluate(now + 5000 * kMs), ErrorRatePolicy::Action::rejoin_multicast);
    EXPECT_EQ(p.mode(), ErrorRatePolicy::Mode::multicast);
}

TEST(ErrorRate, ProbationEndsWhenTheResubscriptionHelped) {
    ErrorRatePolicy p({.window_ns = 1000 * kMs, .threshold = 0.2, .min_chains = 10});
    p.on_lost(20, 0);
    ASSERT_EQ(p.evaluate(0), ErrorRatePolicy::Action::resubscribe);
    std::uint64_t now = 0;
    for (; now < 1000 * kMs; now += 100 * kMs) {
        p.on_applied(10, now);
        EXPECT_EQ(p.evaluate(now), ErrorRatePolicy::Action::none);
    }
    EXPECT_EQ(p.evaluate(now), ErrorRatePolicy::Action::none);
    EXPECT_EQ(p.mode(), ErrorRatePolicy::Mode::multicast);
}

TEST(ErrorRate, OldLossSlidesOutOfTheWindow) {
    ErrorRatePolicy p({.window_ns = 1000 * kMs, .threshold = 0.2, .min_chains = 10});
    p.on_lost(100, 0);
    p.on_applied(100, 1500 * kMs);
    EXPECT_EQ(p.rate(1500 * kMs), 0.0);
    EXPECT_EQ(p.evaluate(1500 * kMs), ErrorRatePolicy::Action::none);
}

}  // namespace
}  // namespace replicast::client
