// Conversions and pacing at the ends of the ranges: 1 kbit/s and 400 Gbit/s,
// TSCs from 1 MHz to 10 GHz, a month of uptime, the largest burst and gaps.
#include <gtest/gtest.h>

#include <limits>

#include "engine/pace/pacer.hpp"
#include "sim.hpp"

namespace replicast::pace {
namespace {

constexpr std::uint64_t kMonthS = 30ULL * 86'400;
constexpr std::uint64_t kMax64 = std::numeric_limits<std::uint64_t>::max();

TEST(Ticks, ExactOverAMonthAtAnyClock) {
    for (const std::uint64_t hz : {1'000'000ULL, 2'100'000'000ULL, 3'000'000'000ULL, 10'000'000'000ULL}) {
        EXPECT_EQ(ns_to_ticks(kMonthS * kNsPerSecond, hz), kMonthS * hz);
        EXPECT_EQ(ns_to_ticks_ceil(kMonthS * kNsPerSecond, hz), kMonthS * hz);
        EXPECT_EQ(ticks_to_ns(kMonthS * hz, hz), kMonthS * kNsPerSecond);
    }
    // 1e18 ns (31 years) at 10 GHz: the product is 1e28, the result 1e19 ticks.
    EXPECT_EQ(ns_to_ticks(1'000'000'000'000'000'000ULL, 10'000'000'000), 10'000'000'000'000'000'000ULL);
}

TEST(Ticks, RoundingDirections) {
    EXPECT_EQ(ns_to_ticks(333, 2'100'000'000), 699u);  // 699.3
    EXPECT_EQ(ns_to_ticks_ceil(333, 2'100'000'000), 700u);
    EXPECT_EQ(ns_to_ticks_ceil(1000, 2'100'000'000), 2100u) << "exact values are not bumped";
    EXPECT_EQ(ns_to_ticks_ceil(1, 1'000'000), 1u);
    EXPECT_EQ(ticks_to_ns(7, 3'000'000'000), 2u);  // 2.33
}

TEST(Ticks, SaturateInsteadOfWrapping) {
    EXPECT_EQ(ns_to_ticks(kMax64, 10'000'000'000), kMax64);
    EXPECT_EQ(ns_to_ticks_ceil(kMax64, 10'000'000'000), kMax64);
    EXPECT_EQ(ticks_to_ns(kMax64, 1'000'000), kMax64);
    EXPECT_EQ(ns_to_ticks(kMax64, 1'000'000'000), kMax64) << "1 GHz: the identity, still exact";
    EXPECT_EQ(saturating_add(kMax64 - 1, 5), kMax64);
}

TEST(Extremes, RateIsExactAfterAMonthOfUptime) {
    struct Case {
        std::uint64_t hz, rate;
        std::uint32_t size;
        std::uint64_t packets;
    };
    const Case cases[] = {
        // 400 Gbit/s of minimum frames: 1.68 ns each, i.e. 0.0017 ticks on a
        // 1 MHz clock (many frames per tick) and 16.8 ticks at 10 GHz.
        {.hz = 1'000'000, .rate = kMaxRateBps, .size = 84, .packets = 2'000'000},
        {.hz = 2'100'000'000, .rate = kMaxRateBps, .size = 84, .packets = 2'000'000},
        {.hz = 10'000'000'000, .rate = kMaxRateBps, .size = 84, .packets = 2'000'000},
        // 1 kbit/s of jumbo frames: 72 s each, 8e7 ticks per byte at 10 GHz.
        {.hz = 1'000'000, .rate = kMinRateBps, .size = 9038, .packets = 30},
        {.hz = 10'000'000'000, .rate = kMinRateBps, .size = 9038, .packets = 30},
    };
    for (const Case& k : cases) {
        SCOPED_TRACE(testing::Message() << "hz " << k.hz << " rate " << k.rate << " size " << k.size);
        Pacer p({.rate_bps = k.rate}, k.hz);
        const std::uint64_t start = kMonthS * k.hz;
        const sim::Stats st = sim::run(p, start, ~0ULL - start, {.max_packets = k.packets}, sim::fixed(k.size),
                                       sim::no_chains());
        ASSERT_EQ(st.packets, k.packets);
        EXPECT_GE(st.first, start);
        EXPECT_NEAR(st.bps(k.hz) / static_cast<double>(k.rate), 1.0, 0.001);
        EXPECT_TRUE(st.at_most(k.rate, k.hz));
    }
    // 1 kbit/s at 10 GHz is a whole 8e7 ticks per byte: the spacing is exact.
    Pacer slow({.rate_bps = kMinRateBps}, 10'000'000'000);
    const std::uint64_t t = kMonthS * 10'000'000'000;
    slow.on_sent(t, 9038, false, 0);
    EXPECT_EQ(slow.next_deadline(t, 9038) - t, 9038ULL * 80'000'000);
}

TEST(Extremes, LargestBurstAfterAMonth) {
    const std::uint64_t hz = 10'000'000'000;
    Pacer p({.rate_bps = kMaxRateBps, .max_burst_bytes = kMaxBurstBytes}, hz);
    std::uint64_t now = kMonthS * hz;
    p.on_sent(now, 9038, false, 0);
    now += 10 * hz;
    EXPECT_EQ(sim::send_while_due(p, now, 9038, kMaxBurstBytes / 9038 + 2), kMaxBurstBytes / 9038 * 9038);
}

TEST(Extremes, LargestGapsSaturateInsteadOfWrapping) {
    const std::uint64_t hz = 10'000'000'000;
    const PaceConfig c{.rate_bps = kMaxRateBps, .min_packet_gap_ns = kMaxGapNs, .chain_gap_base_ns = kMaxGapNs,
                       .chain_gap_ns_per_kib = kMaxChainGapNsPerKib, .max_burst_bytes = kMaxBurstBytes};
    ASSERT_EQ(validate(c, hz), "");
    Pacer p(c, hz);
    const std::uint64_t now = kMonthS * hz;
    // A 1 GiB chain: 10 s + 1 Mi KiB * 1 ms = 1058.57 s.
    EXPECT_EQ(p.chain_gap_ticks(1ULL << 30), (kMaxGapNs + (1ULL << 20) * kMaxChainGapNsPerKib) * 10);
    p.on_sent(now, 9038, true, 1ULL << 30);
    EXPECT_EQ(p.next_deadline(now, 9038) - now, (kMaxGapNs + (1ULL << 20) * kMaxChainGapNsPerKib) * 10);
    // A nonsense chain size: the gap saturates, and the deadline with it, far
    // in the future rather than wrapped round to the past.
    EXPECT_EQ(p.chain_gap_ticks(kMax64), kMax64);
    p.on_sent(now, 9038, true, kMax64);
    EXPECT_EQ(p.next_deadline(now, 9038), kMax64);
    // The packet gap alone: 10 s.
    p.on_sent(now, 9038, false, 0);
    EXPECT_EQ(p.next_deadline(now, 9038) - now, 10 * hz);
}

}  // namespace
}  // namespace replicast::pace
