// Per-packet cost of pacing: next_deadline + on_sent, with a rate cap, gaps and
// a burst allowance, as the tx loop calls them. The time source is a counter,
// so only the pacer is measured.
#include <benchmark/benchmark.h>

#include "engine/pace/pacer.hpp"

namespace {

using namespace replicast::pace;

void BM_PacerPerPacket(benchmark::State& state) {
    Pacer p({.rate_bps = 100'000'000'000ULL, .min_packet_gap_ns = 10, .chain_gap_base_ns = 1000,
             .chain_gap_ns_per_kib = 10, .max_burst_bytes = 64 * 1024},
            2'100'000'000);
    std::uint64_t now = 1, n = 0;
    for (auto _ : state) {
        const std::uint64_t d = p.next_deadline(now, 1538);
        now = d > now ? d : now;
        p.on_sent(now, 1538, (++n & 31) == 0, 32 * 1538);
        benchmark::DoNotOptimize(now);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_PacerPerPacket);

}  // namespace

BENCHMARK_MAIN();
