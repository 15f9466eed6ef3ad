// Pacing with a stepped, simulated clock: rates, gaps, bursts and extremes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "engine/pace/pacer.hpp"

namespace replicast::pace {
namespace {

struct SendRun {
    std::uint64_t bytes = 0;
    std::uint64_t packets = 0;
    std::uint64_t min_gap_seen = ~0ULL;
    std::uint64_t elapsed = 0;
};

// Sends `bytes`-sized packets for `seconds` of simulated time. A poll loop wakes
// every `poll_ticks` (0 = exactly at each deadline) plus up to `jitter` ticks late.
SendRun saturate(const PaceConfig& c, std::uint64_t hz, std::uint32_t bytes, double seconds, std::uint64_t poll_ticks = 0,
             std::uint64_t jitter = 0, std::uint64_t seed = 1) {
    Pacer p(c, hz);
    std::mt19937_64 rng(seed);
    const auto end = static_cast<std::uint64_t>(seconds * static_cast<double>(hz));
    std::uint64_t now = 1000, last = 0;
    SendRun r;
    const std::uint64_t start = now;
    while (now < start + end) {
        const std::uint64_t d = p.next_deadline(now, bytes);
        if (d > now) {
            now = poll_ticks == 0 ? d : now + poll_ticks;
            if (jitter) now += rng() % jitter;
            continue;
        }
        if (r.packets > 0) r.min_gap_seen = std::min(r.min_gap_seen, now - last);
        p.on_sent(now, bytes, false, 0);
        last = now;
        r.bytes += bytes;
        ++r.packets;
    }
    r.elapsed = now - start;
    return r;
}

double achieved_bps(const SendRun& r, std::uint64_t hz) {
    return static_cast<double>(r.bytes) * 8.0 * static_cast<double>(hz) / static_cast<double>(r.elapsed);
}

TEST(Pacer, AchievedRateIsWithinATenthOfAPercentOfTheCap) {
    for (std::uint64_t hz : {2'100'000'000ULL, 3'000'000'000ULL}) {
        for (std::uint64_t rate : {1'000'000ULL, 1'000'000'000ULL, 10'000'000'000ULL, 100'000'000'000ULL}) {
            for (std::uint32_t size : {64u + 24, 1500u + 24, 9000u + 24}) {
                // At 1 Mbit/s a 9 KB frame takes 74 ms: simulate long enough for many packets.
                const double seconds = rate < 100'000'000 ? 20.0 : 1.0;
                const SendRun r = saturate({.rate_bps = rate}, hz, size, seconds);
                const double got = achieved_bps(r, hz);
                EXPECT_NEAR(got / static_cast<double>(rate), 1.0, 0.001)
                    << "hz " << hz << " rate " << rate << " size " << size << " packets " << r.packets;
            }
        }
    }
}

TEST(Pacer, JitteryPollLoopStillReachesTheCapWithABurstAllowance) {
    const std::uint64_t hz = 2'100'000'000;
    // 10 Gbit/s of 1524-byte frames is one every 2.56 ticks... per 1219 ns; the loop
    // polls every 200 ticks and wakes up to 300 ticks late.
    const PaceConfig c{.rate_bps = 10'000'000'000ULL, .max_burst_bytes = 4 * 1524};
    const SendRun r = saturate(c, hz, 1524, 1.0, 200, 300, 7);
    EXPECT_NEAR(achieved_bps(r, hz) / 10e9, 1.0, 0.001);
}

TEST(Pacer, GapsNeverUndercutTheMinimum) {
    const std::uint64_t hz = 3'000'000'000;
    const PaceConfig c{.rate_bps = 0, .min_packet_gap_ns = 500, .max_burst_bytes = 1 << 20};
    const SendRun r = saturate(c, hz, 1524, 0.1, 7, 50, 3);
    EXPECT_GE(r.min_gap_seen, ns_to_ticks(500, hz));
    EXPECT_GT(r.packets, 100000u);
    // And with a rate cap whose spacing is finer than the gap, the gap wins.
    const SendRun r2 = saturate({.rate_bps = 100'000'000'000ULL, .min_packet_gap_ns = 2000}, hz, 1524, 0.1);
    EXPECT_GE(r2.min_gap_seen, ns_to_ticks(2000, hz));
    EXPECT_NEAR(static_cast<double>(r2.packets), 0.1 / 2e-6, 2.0);
}

TEST(Pacer, IdleTimeBuildsNoMoreThanTheConfiguredBurst) {
    const std::uint64_t hz = 2'000'000'000;
    const std::uint32_t size = 1524;
    const PaceConfig c{.rate_bps = 1'000'000'000ULL, .max_burst_bytes = 10 * size};
    Pacer p(c, hz);
    std::uint64_t now = 5;
    p.on_sent(now, size, false, 0);
    now += 10 * hz;  // ten seconds idle
    std::uint64_t back_to_back = 0;
    while (p.next_deadline(now, size) <= now) {
        p.on_sent(now, size, false, 0);
        back_to_back += size;
    }
    EXPECT_EQ(back_to_back, 10u * size) << "a burst of exactly max_burst_bytes, never more";
    // Then the rate applies: the next packet is one packet-time away.
    const std::uint64_t next = p.next_deadline(now, size);
    EXPECT_NEAR(static_cast<double>(next - now), static_cast<double>(size) * 8.0 * 2.0, 2.0);  // 2 ticks per bit at 1 Gbit/s, 2 GHz
}

TEST(Pacer, StrictPacingWhenNoBurstIsConfigured) {
    const std::uint64_t hz = 2'000'000'000;
    Pacer p({.rate_bps = 1'000'000'000ULL}, hz);
    std::uint64_t now = 100;
    p.on_sent(now, 1000, false, 0);
    now += hz;  // a long idle period
    ASSERT_LE(p.next_deadline(now, 1000), now);
    p.on_sent(now, 1000, false, 0);
    EXPECT_EQ(p.next_deadline(now, 1000), now + 16000) << "1000 bytes at 1 Gbit/s is 8 us = 16000 ticks";
}

TEST(Pacer, LateWakeUpsDoNotBankCredit) {
    const std::uint64_t hz = 2'000'000'000;
    const std::uint32_t size = 1000;
    Pacer p({.rate_bps = 1'000'000'000ULL, .max_burst_bytes = 3 * size}, hz);
    std::uint64_t now = 0;
    for (int round = 0; round < 100; ++round) {
        now += 7 * 16000 + 123;  // wake 7 packet-times late, every time
        int burst = 0;
        while (p.next_deadline(now, size) <= now) {
            p.on_sent(now, size, false, 0);
            ++burst;
        }
        EXPECT_LE(burst, 3) << "round " << round;
    }
}

TEST(Pacer, InterChainGapFollowsItsFormula) {
    const std::uint64_t hz = 2'500'000'000;
    const PaceConfig c{.chain_gap_base_ns = 20'000, .chain_gap_ns_per_kib = 300};
    Pacer p(c, hz);
    for (std::uint64_t chain : {0ULL, 1024ULL, 1'000'000ULL, 64ULL << 20}) {
        const std::uint64_t gap_ns = 20'000 + chain * 300 / 1024;
        EXPECT_EQ(p.chain_gap_ticks(chain), ns_to_ticks(gap_ns, hz));
        const std::uint64_t sent = 1'000'000'000;
        p.on_sent(sent, 100, true, chain);
        EXPECT_EQ(p.next_deadline(sent, 100), sent + ns_to_ticks(gap_ns, hz)) << chain;
        p.on_sent(sent + ns_to_ticks(gap_ns, hz), 100, false, 0);
        EXPECT_LE(p.next_deadline(sent, 100), sent + ns_to_ticks(gap_ns, hz)) << "mid-chain packets have no chain gap";
    }
}

TEST(Pacer, ExtremesDoNotOverflow) {
    const std::uint64_t days = 30ULL * 86400;
    for (std::uint64_t hz : {1'000'000ULL, 10'000'000'000ULL}) {
        for (std::uint64_t rate : {kMinRateBps, kMaxRateBps}) {
            Pacer p({.rate_bps = rate, .min_packet_gap_ns = kMaxGapNs, .chain_gap_base_ns = kMaxGapNs,
                     .chain_gap_ns_per_kib = kMaxGapNs, .max_burst_bytes = kMaxBurstBytes},
                    hz);
            const std::uint64_t now = days * hz;  // a month of uptime
            p.on_sent(now, 9024, true, 64ULL << 20);
            const std::uint64_t d = p.next_deadline(now, 9024);
            EXPECT_GT(d, now);
            // chain gap: 10 s + 64 MiB * 10 s/KiB = 655360 s + 10 s, at hz
            EXPECT_EQ(d - now, ns_to_ticks(kMaxGapNs + (64ULL << 20) * kMaxGapNs / 1024, hz));
        }
    }
    EXPECT_EQ(ns_to_ticks(days * 1'000'000'000ULL, 10'000'000'000ULL), days * 10'000'000'000ULL);
    EXPECT_EQ(ticks_to_ns(days * 10'000'000'000ULL, 10'000'000'000ULL), days * 1'000'000'000ULL);
}

TEST(Pacer, StartsAtTickZero) {
    Pacer p({.rate_bps = 1'000'000'000ULL}, 1'000'000'000);
    EXPECT_EQ(p.next_deadline(0, 125), 0u);
    p.on_sent(0, 125, false, 0);
    EXPECT_EQ(p.next_deadline(0, 125), 1000u) << "125 bytes at 1 Gbit/s = 1 us";
}

TEST(Pacer, UncappedSendsAtOnce) {
    Pacer p({}, 3'000'000'000);
    for (std::uint64_t now = 10; now < 1000; now += 10) {
        EXPECT_LE(p.next_deadline(now, 1500), now);
        p.on_sent(now, 1500, false, 0);
    }
}

TEST(PaceConfig, ValidationNamesTheField) {
    using ::testing::HasSubstr;
    EXPECT_EQ(validate({}), "");
    EXPECT_EQ(validate({.rate_bps = 10'000'000'000ULL}), "");
    EXPECT_THAT(validate({.rate_bps = 10}), HasSubstr("rate_bps"));
    EXPECT_THAT(validate({.rate_bps = 500'000'000'000ULL}), HasSubstr("rate_bps"));
    EXPECT_THAT(validate({.min_packet_gap_ns = kMaxGapNs + 1}), HasSubstr("min_packet_gap_ns"));
    EXPECT_THAT(validate({.chain_gap_base_ns = kMaxGapNs + 1}), HasSubstr("chain_gap_base_ns"));
    EXPECT_THAT(validate({.max_burst_bytes = kMaxBurstBytes + 1}), HasSubstr("max_burst_bytes"));
}

TEST(Pacer, OnWireBytesCountsPreambleFcsAndGap) {
    EXPECT_EQ(on_wire_bytes(1514), 1538u);  // a full 1500-MTU frame: 1538 byte-times on the wire
    EXPECT_EQ(on_wire_bytes(60), 84u);      // the minimum: 84 byte-times, 14.88 Mpps at 10G
}

}  // namespace
}  // namespace replicast::pace
