// Pacing on a stepped, simulated clock: the rate cap, the packet gap, the burst
// allowance and what idle time and late wake-ups may (not) buy.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "engine/pace/pacer.hpp"
#include "sim.hpp"

namespace replicast::pace {
namespace {

constexpr std::uint64_t kStart = 1000;

// Ticks a packet of `bytes` takes at `rate` (rounded up), computed without the pacer.
std::uint64_t wire_ticks(std::uint64_t bytes, std::uint64_t rate, std::uint64_t hz) {
    return static_cast<std::uint64_t>((u128{bytes} * 8u * hz + rate - 1) / rate);
}

TEST(Rate, AchievedRateIsTheCapWithinATenthOfAPercent) {
    for (const std::uint64_t hz : {2'100'000'000ULL, 3'000'000'000ULL}) {
        for (const std::uint64_t rate : {1'000'000ULL, 1'000'000'000ULL, 10'000'000'000ULL, 100'000'000'000ULL}) {
            for (const std::uint32_t size : {on_wire_bytes(60), on_wire_bytes(1514), on_wire_bytes(9014)}) {
                Pacer p({.rate_bps = rate}, hz);
                const sim::Stats st = sim::run(p, kStart, hz, {}, sim::fixed(size), sim::no_chains());
                ASSERT_GT(st.packets, 10u);
                EXPECT_NEAR(st.bps(hz) / static_cast<double>(rate), 1.0, 0.001)
                    << "hz " << hz << " rate " << rate << " size " << size << " packets " << st.packets;
                EXPECT_TRUE(st.at_most(rate, hz)) << "over the cap: hz " << hz << " rate " << rate << " size " << size;
            }
        }
    }
}

// Adaptive rate: the control core lowers (or raises) a running pacer's cap.
// The new cap holds from the next packet, with no burst at the switch: the
// bytes the bucket lacked are still lacking at the new rate.
TEST(Rate, ACapChangedWhileRunningHoldsFromTheNextPacket) {
    const std::uint64_t hz = 2'100'000'000, fast = 1'000'000'000, slow = 100'000'000;
    const std::uint32_t size = on_wire_bytes(1514);
    Pacer p({.rate_bps = fast, .max_burst_bytes = 64 * 1024}, hz);
    const sim::Stats before = sim::run(p, kStart, hz / 10, {}, sim::fixed(size), sim::no_chains());
    EXPECT_NEAR(before.bps(hz) / static_cast<double>(fast), 1.0, 0.01);

    p.set_ticks_per_byte(before.last + 1, Pacer::ticks_per_byte_for(slow, hz));
    EXPECT_EQ(p.ticks_per_byte(), Pacer::ticks_per_byte_for(slow, hz));
    std::vector<sim::Send> log;
    const sim::Stats after = sim::run(p, before.last + 1, hz / 2, {}, sim::fixed(size), sim::no_chains(), &log);
    EXPECT_NEAR(after.bps(hz) / static_cast<double>(slow), 1.0, 0.01);
    EXPECT_TRUE(after.at_most(slow, hz));
    // No burst at the switch: the first packets after it are spaced at the new cap already.
    ASSERT_GT(log.size(), 3u);
    EXPECT_GE(log[2].tick - log[1].tick, wire_ticks(size, slow, hz) - 1);

    // And back up.
    p.set_ticks_per_byte(after.last + 1, Pacer::ticks_per_byte_for(fast, hz));
    const sim::Stats again = sim::run(p, after.last + 1, hz / 10, {}, sim::fixed(size), sim::no_chains());
    EXPECT_NEAR(again.bps(hz) / static_cast<double>(fast), 1.0, 0.01);
}

TEST(Rate, ACapChangeBetweenSlowRatesKeepsTheBucketsBytes) {
    // Slow rates make big ticks-per-byte factors (2^58 at 1 kbit/s on a 10 GHz
    // clock) and a bucket that lacks a MiB lacks 2^77 fixed-point ticks: their
    // product leaves 128 bits, so the conversion divides first. The bucket
    // lacked its depth less a packet; at the new rate the next packet is due
    // one packet's time after the switch, and the one after it as much later.
    const std::uint64_t hz = 10'000'000'000;
    const std::uint32_t size = on_wire_bytes(1514);
    Pacer p({.rate_bps = 2 * kMinRateBps, .max_burst_bytes = 1u << 20}, hz);
    std::uint64_t now = kStart;
    for (std::uint64_t sent = 0; sent < (1u << 20) + 10u * size; sent += size) {  // the whole depth, and then some
        now = std::max(now, p.next_deadline(now, size));
        p.on_sent(now, size, false, 0);
    }
    const std::uint64_t packet_at_new = wire_ticks(size, kMinRateBps, hz);
    p.set_ticks_per_byte(now, Pacer::ticks_per_byte_for(kMinRateBps, hz));
    const std::uint64_t due = p.next_deadline(now, size);
    EXPECT_GE(due + 1, now + packet_at_new);
    EXPECT_LE(due, now + packet_at_new + 1);
    p.on_sent(due, size, false, 0);
    EXPECT_NEAR(static_cast<double>(p.next_deadline(due, size) - due), static_cast<double>(packet_at_new), 1.0);
}

TEST(Rate, AnUncappedPacerIgnoresACapChange) {
    Pacer p({.min_packet_gap_ns = 100}, 2'100'000'000);
    p.set_ticks_per_byte(1000, Pacer::ticks_per_byte_for(1'000'000, 2'100'000'000));
    EXPECT_EQ(p.ticks_per_byte(), 0u) << "no cap configured: adaptive rate has nothing to adapt";
    EXPECT_EQ(Pacer::ticks_per_byte_for(0, 2'100'000'000), 0u);
}

TEST(Rate, MixedFrameSizes) {
    const std::uint64_t hz = 2'100'000'000, rate = 10'000'000'000;
    std::mt19937_64 rng(11);
    Pacer p({.rate_bps = rate}, hz);
    const sim::Stats st = sim::run(p, kStart, hz, {},
                                   [&rng] { return on_wire_bytes(static_cast<std::uint32_t>(60 + rng() % (9014 - 60 + 1))); },
                                   sim::no_chains());
    EXPECT_NEAR(st.bps(hz) / static_cast<double>(rate), 1.0, 0.001);
    EXPECT_TRUE(st.at_most(rate, hz));
}

TEST(Rate, TenGigCapOfOnWireBytesIsTenGigLineRate) {
    // 60-byte frames (64 with FCS) on a 10G port: 10e9 / (84 * 8) = 14 880 952.4 frames/s.
    const std::uint64_t hz = 3'000'000'000;
    Pacer p({.rate_bps = 10'000'000'000}, hz);
    const sim::Stats st = sim::run(p, 0, hz, {}, sim::fixed(on_wire_bytes(60)), sim::no_chains());
    EXPECT_NEAR(static_cast<double>(st.packets), 14'880'952.0, 1.0);
}

TEST(Rate, JitteryPollLoopReachesTheCapWithABurstAllowance) {
    // The loop polls every ~1 us and wakes up to 2 us late. A burst allowance
    // of what the rate carries in 4 us absorbs that, so no time is lost.
    for (const std::uint64_t hz : {2'100'000'000ULL, 3'000'000'000ULL}) {
        for (const std::uint64_t rate : {1'000'000'000ULL, 10'000'000'000ULL, 100'000'000'000ULL}) {
            const std::uint32_t size = on_wire_bytes(1514);
            const std::uint64_t burst = std::max<std::uint64_t>(2 * size, rate / 8 / 250'000);
            Pacer p({.rate_bps = rate, .max_burst_bytes = burst}, hz);
            const sim::Loop loop{.poll_ticks = hz / 1'000'000, .jitter = 2 * hz / 1'000'000, .seed = rate + hz};
            const sim::Stats st = sim::run(p, kStart, hz, loop, sim::fixed(size), sim::no_chains());
            EXPECT_NEAR(st.bps(hz) / static_cast<double>(rate), 1.0, 0.001) << "hz " << hz << " rate " << rate;
            EXPECT_LE(st.max_tick_bytes, burst);
        }
    }
}

TEST(Rate, UncappedWithoutGapsIsAlwaysDue) {
    Pacer p({}, 3'000'000'000);
    for (std::uint64_t now = 10; now < 1000; now += 10) {
        for (int i = 0; i < 4; ++i) {
            ASSERT_LE(p.next_deadline(now, 9038), now);
            p.on_sent(now, 9038, i == 3, 4 * 9038);
        }
    }
}

TEST(Gap, NeverUndercutsTheMinimumPacketGap) {
    // 333 ns at 2.1 GHz is 699.3 ticks: truncating to 699 would be 332.86 ns.
    const std::uint64_t hz = 2'100'000'000, gap_ns = 333;
    const std::uint32_t size = on_wire_bytes(1514);
    const auto at_least_gap = [&](std::uint64_t ticks) { return u128{ticks} * kNsPerSecond >= u128{gap_ns} * hz; };
    // The rate (100 Gbit/s: 258 ticks per frame) and a 1 MiB burst would allow
    // much tighter spacing; the gap must still hold, whether the loop wakes at
    // the deadlines or polls with jitter, and with or without a rate cap.
    for (const std::uint64_t rate : {0ULL, 100'000'000'000ULL}) {
        const PaceConfig c{.rate_bps = rate, .min_packet_gap_ns = gap_ns, .max_burst_bytes = 1 << 20};
        Pacer exact(c, hz);
        const sim::Stats a = sim::run(exact, kStart, hz / 10, {}, sim::fixed(size), sim::no_chains());
        EXPECT_TRUE(at_least_gap(a.min_gap)) << a.min_gap << " ticks, rate " << rate;
        EXPECT_EQ(a.min_gap, 700u) << "and not longer than the rounding needs";
        EXPECT_NEAR(static_cast<double>(a.packets), static_cast<double>(hz / 10) / 700.0, 1.0);

        Pacer polled(c, hz);
        const sim::Stats b = sim::run(polled, kStart, hz / 10, {.poll_ticks = 7, .jitter = 50, .seed = 3}, sim::fixed(size),
                                      sim::no_chains());
        EXPECT_TRUE(at_least_gap(b.min_gap)) << b.min_gap << " ticks, rate " << rate;
        EXPECT_EQ(b.max_tick_bytes, size) << "a gap > 0 allows one packet per tick";
    }
}

TEST(Gap, HoldsAcrossTheBurstAfterIdleTime) {
    const std::uint64_t hz = 3'000'000'000;
    Pacer p({.rate_bps = 10'000'000'000, .min_packet_gap_ns = 1000, .max_burst_bytes = 64 * 1024}, hz);
    p.on_sent(kStart, 1538, false, 0);
    std::uint64_t now = kStart + 10 * hz;
    std::uint64_t prev = kStart;
    for (int i = 0; i < 10; ++i) {
        now = std::max(now, p.next_deadline(now, 1538));
        EXPECT_GE(now - prev, 3000u);
        p.on_sent(now, 1538, false, 0);
        prev = now;
    }
}

struct BurstCase {
    std::uint64_t rate, hz, burst;
    std::uint32_t size;
};

// Burst allowances that are and are not a multiple of the frame, strict pacing,
// a burst below one frame, and 400 Gbit/s on a 1 GHz TSC: 50 bytes per tick,
// where rounding deadlines to whole ticks could leak a sub-tick of credit.
const BurstCase kBurstCases[] = {
    {.rate = 1'000'000'000, .hz = 2'000'000'000, .burst = 10 * 1524, .size = 1524},
    {.rate = 1'000'000'000, .hz = 2'000'000'000, .burst = 10 * 1524 + 700, .size = 1524},
    {.rate = 400'000'000'000, .hz = 1'000'000'000, .burst = 9990, .size = 1000},
    {.rate = 100'000'000'000, .hz = 3'000'000'000, .burst = 65536, .size = 84},
    {.rate = 10'000'000'000, .hz = 2'100'000'000, .burst = 0, .size = 1538},
    {.rate = 1'000'000, .hz = 3'000'000'000, .burst = 1000, .size = 1538},
};

TEST(Burst, IdleTimeBuysAtMostTheBurstThenTheRateApplies) {
    for (const BurstCase& k : kBurstCases) {
        SCOPED_TRACE(testing::Message() << "rate " << k.rate << " hz " << k.hz << " burst " << k.burst << " size " << k.size);
        Pacer p({.rate_bps = k.rate, .max_burst_bytes = k.burst}, k.hz);
        std::uint64_t now = kStart;
        p.on_sent(now, k.size, false, 0);
        now += 10 * k.hz;  // ten seconds idle: worth far more than the burst at any rate
        // The bucket is max(burst, one frame) deep: as many whole frames as fit, exactly.
        const std::uint64_t depth = std::max<std::uint64_t>(k.burst, k.size);
        const std::uint64_t sent = sim::send_while_due(p, now, k.size, depth / k.size + 2);
        EXPECT_EQ(sent, depth / k.size * k.size);

        // Then the rate: the next frame waits until the bucket has refilled by
        // what it lacks, and the frames after it go at the cap.
        const std::uint64_t lack = k.size - (depth - sent);
        const std::uint64_t next = p.next_deadline(now, k.size);
        EXPECT_NEAR(static_cast<double>(next - now), static_cast<double>(wire_ticks(lack, k.rate, k.hz)), 1.0);
        const std::uint64_t span = 2000 * wire_ticks(k.size, k.rate, k.hz);
        const sim::Stats st = sim::run(p, now, span, {.max_packets = 2000}, sim::fixed(k.size), sim::no_chains());
        EXPECT_GE(st.first, next);
        EXPECT_NEAR(st.bps(k.hz) / static_cast<double>(k.rate), 1.0, 0.001);
        EXPECT_TRUE(st.at_most(k.rate, k.hz));
    }
}

TEST(Burst, LateWakeUpsDoNotBankCredit) {
    // A poll loop that wakes 1 to 50 frame-times late, every time: each wake-up
    // may send one bucket's worth, never what the lateness would have paid for.
    for (const BurstCase& k : kBurstCases) {
        SCOPED_TRACE(testing::Message() << "rate " << k.rate << " hz " << k.hz << " burst " << k.burst << " size " << k.size);
        Pacer p({.rate_bps = k.rate, .max_burst_bytes = k.burst}, k.hz);
        const std::uint64_t depth = std::max<std::uint64_t>(k.burst, k.size);
        const std::uint64_t frame_ticks = wire_ticks(k.size, k.rate, k.hz);
        std::mt19937_64 rng(5);
        std::uint64_t now = kStart, most = 0;
        for (int round = 0; round < 300; ++round) {
            now += frame_ticks * (1 + rng() % 50) + rng() % frame_ticks;
            const std::uint64_t sent = sim::send_while_due(p, now, k.size, depth / k.size + 2);
            ASSERT_LE(sent, depth) << "round " << round;
            most = std::max(most, sent);
        }
        EXPECT_EQ(most, depth / k.size * k.size) << "some wake-ups find the bucket full";
    }
}

TEST(Burst, ControlPacketSentWithoutAskingIsAccounted) {
    // 1 Gbit/s on a 1 GHz TSC: 8 ticks per byte.
    Pacer p({.rate_bps = 1'000'000'000}, 1'000'000'000);
    p.on_sent(100, 1000, false, 0);
    p.on_sent(100, 100, false, 0);  // a heartbeat goes out at once
    EXPECT_EQ(p.next_deadline(100, 1000), 100u + (1000 + 100) * 8);
}

TEST(Burst, DeadlinesKeepTheFractionOfATick) {
    // 84 bytes at 400 Gbit/s on 3 GHz: 5.04 ticks. Rounding each deadline up
    // and starting the next one from there would give 6, 12, 18, ... and pace
    // 16 % slow; keeping the fraction gives ceil(k * 5.04).
    Pacer p({.rate_bps = 400'000'000'000}, 3'000'000'000);
    p.on_sent(0, 84, false, 0);
    for (const std::uint64_t expected : {6u, 11u, 16u, 21u, 26u, 31u}) {
        const std::uint64_t d = p.next_deadline(0, 84);
        EXPECT_EQ(d, expected);
        p.on_sent(d, 84, false, 0);
    }
}

}  // namespace
}  // namespace replicast::pace
