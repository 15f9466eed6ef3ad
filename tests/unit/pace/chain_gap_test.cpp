// The inter-chain gap: gap_ns = chain_gap_base_ns + chain_bytes * chain_gap_ns_per_kib / 1024,
// counted from the send of a chain's last packet to the next packet.
#include <gtest/gtest.h>

#include <vector>

#include "engine/pace/pacer.hpp"
#include "sim.hpp"

namespace replicast::pace {
namespace {

// 2.5 GHz keeps the expected values checkable by hand: ticks = ceil(ns * 5 / 2).
constexpr std::uint64_t kHz = 2'500'000'000;
constexpr std::uint64_t kBase = 20'000, kPerKib = 300;
constexpr std::uint64_t kSent = 1'000'000'000;

std::uint64_t expected_gap_ticks(std::uint64_t chain_bytes) {
    const std::uint64_t ns = kBase + chain_bytes * kPerKib / 1024;
    return (ns * 5 + 1) / 2;
}

TEST(ChainGap, FollowsTheFormula) {
    // 10 Gbit/s: a 100-byte packet takes 200 ticks, far less than any gap here.
    const PaceConfig c{.rate_bps = 10'000'000'000, .chain_gap_base_ns = kBase, .chain_gap_ns_per_kib = kPerKib};
    for (const std::uint64_t chain : {0ULL, 1ULL, 1023ULL, 1024ULL, 1'000'000ULL, 64ULL << 20}) {
        Pacer p(c, kHz);
        EXPECT_EQ(p.chain_gap_ticks(chain), expected_gap_ticks(chain)) << chain;
        p.on_sent(kSent, 100, true, chain);
        EXPECT_EQ(p.next_deadline(kSent, 100) - kSent, expected_gap_ticks(chain)) << chain;
    }
    // By hand: 1 MB at 300 ns/KiB is 292968 ns (rounded down), + 20 us = 312968 ns = 782420 ticks.
    EXPECT_EQ(expected_gap_ticks(1'000'000), 782'420u);
}

TEST(ChainGap, OnlyAfterTheLastPacketOfAChain) {
    const PaceConfig c{.rate_bps = 10'000'000'000, .chain_gap_base_ns = kBase, .chain_gap_ns_per_kib = kPerKib};
    Pacer p(c, kHz);
    p.on_sent(kSent, 100, false, 1'000'000);
    EXPECT_EQ(p.next_deadline(kSent, 100) - kSent, 200u) << "mid-chain: the rate alone";
    p.on_sent(kSent + 200, 100, true, 1'000'000);
    p.on_sent(kSent + 200 + expected_gap_ticks(1'000'000), 100, false, 1'000'000);
    EXPECT_EQ(p.next_deadline(0, 100) - (kSent + 200 + expected_gap_ticks(1'000'000)), 200u)
        << "the gap is spent once, by the next chain's first packet";
}

TEST(ChainGap, ZeroDisablesIt) {
    Pacer with_gap_knobs_zero({.rate_bps = 10'000'000'000}, kHz);
    with_gap_knobs_zero.on_sent(kSent, 100, true, 64ULL << 20);
    EXPECT_EQ(with_gap_knobs_zero.next_deadline(kSent, 100) - kSent, 200u);
    Pacer per_kib_only({.chain_gap_ns_per_kib = kPerKib}, kHz);
    per_kib_only.on_sent(kSent, 100, true, 0);
    EXPECT_EQ(per_kib_only.next_deadline(kSent, 100), kSent) << "an empty chain with no base gap waits for nothing";
}

TEST(ChainGap, IsQuietTimeSoTheRateWinsWhenItIsLonger) {
    // 9038 bytes at 1 Gbit/s take 180760 ticks; a 10 us gap (25000 ticks) adds nothing.
    Pacer p({.rate_bps = 1'000'000'000, .chain_gap_base_ns = 10'000}, kHz);
    p.on_sent(kSent, 9038, true, 9000);
    EXPECT_EQ(p.next_deadline(kSent, 9038) - kSent, 180'760u);
}

TEST(ChainGap, OverlapsThePacketGapRatherThanAddingToIt) {
    // Both count from the same send: the longer one decides.
    Pacer p({.min_packet_gap_ns = 30'000, .chain_gap_base_ns = kBase}, kHz);
    p.on_sent(kSent, 100, true, 0);
    EXPECT_EQ(p.next_deadline(kSent, 100) - kSent, 75'000u) << "30 us, not 30 + 20 us";
    Pacer q({.min_packet_gap_ns = 1'000, .chain_gap_base_ns = kBase}, kHz);
    q.on_sent(kSent, 100, true, 0);
    EXPECT_EQ(q.next_deadline(kSent, 100) - kSent, expected_gap_ticks(0));
}

TEST(ChainGap, CountsFromWhenTheLastPacketReallyLeft) {
    Pacer p({.chain_gap_base_ns = kBase}, kHz);
    const std::uint64_t late = kSent + 123'456;
    p.on_sent(late, 100, true, 0);
    EXPECT_EQ(p.next_deadline(late, 100), late + expected_gap_ticks(0));
}

TEST(ChainGap, BetweenChainsOfATxLoop) {
    // Chains of 1, 10 and 100 frames of 1538 bytes, strictly paced at 1 Gbit/s
    // (30760 ticks per frame): within a chain the rate spaces the frames; from
    // a chain's last frame to the next chain's first, the chain gap does.
    const std::uint32_t size = 1538;
    const std::vector<std::uint64_t> frames_per_chain = {1, 10, 100, 10, 1, 100};
    std::vector<std::uint64_t> chain_end;  // packet index -> chain bytes, 0 mid-chain
    for (const std::uint64_t n : frames_per_chain) {
        chain_end.insert(chain_end.end(), n - 1, 0);
        chain_end.push_back(n * size);
    }
    Pacer p({.rate_bps = 1'000'000'000, .chain_gap_base_ns = kBase, .chain_gap_ns_per_kib = kPerKib}, kHz);
    std::vector<sim::Send> log;
    sim::run(p, kSent, ~0ULL - kSent, {.max_packets = chain_end.size()}, sim::fixed(size),
             [&](std::uint64_t i) { return chain_end[i]; }, &log);
    ASSERT_EQ(log.size(), chain_end.size());
    for (std::size_t i = 1; i < log.size(); ++i) {
        const std::uint64_t gap = log[i].tick - log[i - 1].tick;
        const std::uint64_t chain = log[i - 1].chain_bytes;
        EXPECT_EQ(gap, chain != 0 ? std::max<std::uint64_t>(expected_gap_ticks(chain), 30'760) : 30'760u)
            << "packet " << i << " after a chain of " << chain;
    }
}

}  // namespace
}  // namespace replicast::pace
