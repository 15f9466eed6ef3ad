// The guarantee written in pacer.hpp, checked on random loads (random sizes,
// chains, rates, clocks, bursts, gaps and poll loops; fixed seeds): over any
// span of sends from tick a to tick b,
//     bytes(p_a..p_b) <= max(max_burst_bytes, bytes(p_b)) + rate * (b - a + 1 tick),
// consecutive sends at least min_packet_gap_ns apart, and after a chain's last
// packet at least the chain gap.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "engine/pace/pacer.hpp"
#include "sim.hpp"

namespace replicast::pace {
namespace {

__extension__ typedef __int128 i128;

template <class T>
T pick(std::mt19937_64& rng, std::initializer_list<T> values) {
    return values.begin()[rng() % values.size()];
}

TEST(Property, SpanGapAndChainGapBoundsHoldOnRandomLoads) {
    for (std::uint64_t seed = 1; seed <= 40; ++seed) {
        std::mt19937_64 rng(seed);
        const std::uint64_t hz = pick(rng, {1'000'000'000ULL, 2'100'000'000ULL, 3'000'000'000ULL, 10'000'000'000ULL});
        const PaceConfig c{
            .rate_bps = pick(rng, {1'000'000ULL, 1'000'000'000ULL, 10'000'000'000ULL, 100'000'000'000ULL, 400'000'000'000ULL}),
            .min_packet_gap_ns = rng() % 3 == 0 ? 0 : rng() % 2000,
            .chain_gap_base_ns = rng() % 3 == 0 ? 0 : rng() % 50'000,
            .chain_gap_ns_per_kib = rng() % 3 == 0 ? 0 : rng() % 2000,
            .max_burst_bytes = rng() % 4 == 0 ? 0 : kMinBurstBytes + rng() % 200'000,
        };
        ASSERT_EQ(validate(c, hz), "");
        SCOPED_TRACE(testing::Message() << "seed " << seed << " hz " << hz << " rate " << c.rate_bps << " gap "
                                        << c.min_packet_gap_ns << " chain gap " << c.chain_gap_base_ns << "+"
                                        << c.chain_gap_ns_per_kib << "/KiB burst " << c.max_burst_bytes);
        Pacer p(c, hz);
        std::mt19937_64 sizes(seed * 7), chains(seed * 13);
        std::vector<sim::Send> log;
        // Poll steps and lateness up to a few frame-times (4.5 KB on average):
        // finer is slow to simulate at 1 Mbit/s and tests nothing new.
        const std::uint64_t frame_ticks = 4500 * 8 * hz / c.rate_bps + 1;
        const sim::Loop loop{.poll_ticks = rng() % 2 == 0 ? 0 : 1 + rng() % (2 * frame_ticks),
                             .jitter = rng() % (4 * frame_ticks), .seed = seed, .max_packets = 4000};
        sim::run(
            p, 1 + rng() % 1'000'000, ~0ULL / 2, loop,
            [&] { return on_wire_bytes(static_cast<std::uint32_t>(60 + sizes() % (9014 - 60 + 1))); },
            [&](std::uint64_t) { return chains() % 16 == 0 ? 1 + chains() % 2'000'000 : 0; }, &log);
        ASSERT_EQ(log.size(), 4000u);

        // Span bound in O(n): with P_i the bytes before packet i, the worst start a
        // for an end b maximises -(P_a * 8 * hz - rate * t_a): keep its running min.
        const i128 byte_scale = i128{8} * hz;
        i128 prefix = 0, min_start = 0;
        for (std::size_t b = 0; b < log.size(); ++b) {
            const i128 start_term = prefix * byte_scale - i128{c.rate_bps} * log[b].tick;
            min_start = b == 0 ? start_term : std::min(min_start, start_term);
            prefix += log[b].bytes;
            const i128 worst = prefix * byte_scale - i128{c.rate_bps} * log[b].tick - min_start;
            const i128 depth = std::max<std::uint64_t>(c.max_burst_bytes, log[b].bytes);
            ASSERT_LE(worst, depth * byte_scale + c.rate_bps) << "ending at packet " << b;
        }
        for (std::size_t i = 1; i < log.size(); ++i) {
            const u128 gap_ns_scaled = u128{log[i].tick - log[i - 1].tick} * kNsPerSecond;  // ns * hz
            ASSERT_GE(gap_ns_scaled, u128{c.min_packet_gap_ns} * hz) << "packet " << i;
            if (log[i - 1].chain_bytes != 0) {
                const std::uint64_t chain_ns = c.chain_gap_base_ns + log[i - 1].chain_bytes * c.chain_gap_ns_per_kib / 1024;
                ASSERT_GE(gap_ns_scaled, u128{chain_ns} * hz) << "packet " << i;
            }
        }
    }
}

}  // namespace
}  // namespace replicast::pace
