// Per-packet cost of pacing: next_deadline + on_sent, called the way the tx
// loop calls them, with the simulated clock jumping to each deadline so that
// every call sends. Only the pacer is measured: no clock is read in the loop.
// Reported as ns per packet (Time), packets/s (items_per_second) and, on x86,
// TSC ticks per packet.
//
//   pace/strict        rate cap only, no burst: the bare GCRA
//   pace/full          rate cap, burst, packet gap, and a chain gap every 32 packets
//   pace/chain_end     every packet ends a chain: the chain gap's division each time
//   pace/uncapped      gaps only
//   pace/not_due       next_deadline alone, as a poll that finds nothing due
#include <benchmark/benchmark.h>

#include <cstdint>

#include "engine/pace/pacer.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define BENCH_PACE_HAS_TSC 1
#endif

namespace {

using replicast::pace::Pacer;
using replicast::pace::PaceConfig;

constexpr std::uint64_t kTscHz = 2'100'000'000;
constexpr std::uint32_t kFrame = 1538;  // on_wire_bytes(1514)

void set_counters(benchmark::State& state, std::uint64_t ticks) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
#ifdef BENCH_PACE_HAS_TSC
    state.counters["tsc_ticks/pkt"] = static_cast<double>(ticks) / static_cast<double>(state.iterations());
#else
    (void)ticks;
#endif
}

std::uint64_t tsc() {
#ifdef BENCH_PACE_HAS_TSC
    return __rdtsc();
#else
    return 0;
#endif
}

void run_sends(benchmark::State& state, const PaceConfig& config, std::uint64_t chain_every) {
    Pacer p(config, kTscHz);
    std::uint64_t now = 1, n = 0;
    const std::uint64_t t0 = tsc();
    for (auto _ : state) {
        const std::uint64_t deadline = p.next_deadline(now, kFrame);
        now = deadline > now ? deadline : now;
        ++n;
        p.on_sent(now, kFrame, n % chain_every == 0, chain_every * kFrame);
        benchmark::DoNotOptimize(now);
    }
    set_counters(state, tsc() - t0);
}

void BM_Strict(benchmark::State& state) {
    run_sends(state, {.rate_bps = 100'000'000'000}, ~0ULL);
}
void BM_Full(benchmark::State& state) {
    run_sends(state,
              {.rate_bps = 100'000'000'000, .min_packet_gap_ns = 10, .chain_gap_base_ns = 1000,
               .chain_gap_ns_per_kib = 10, .max_burst_bytes = 64 * 1024},
              32);
}
void BM_ChainEnd(benchmark::State& state) {
    run_sends(state, {.rate_bps = 100'000'000'000, .chain_gap_base_ns = 1000, .chain_gap_ns_per_kib = 10}, 1);
}
void BM_Uncapped(benchmark::State& state) {
    run_sends(state, {.min_packet_gap_ns = 100}, ~0ULL);
}

void BM_NotDue(benchmark::State& state) {
    Pacer p({.rate_bps = 1'000'000}, kTscHz);
    p.on_sent(1'000'000, kFrame, false, 0);
    std::uint64_t now = 1'000'000;
    const std::uint64_t t0 = tsc();
    for (auto _ : state) {
        benchmark::DoNotOptimize(now);
        std::uint64_t deadline = p.next_deadline(now, kFrame);
        benchmark::DoNotOptimize(deadline);
    }
    set_counters(state, tsc() - t0);
}

BENCHMARK(BM_Strict)->Name("pace/strict");
BENCHMARK(BM_Full)->Name("pace/full");
BENCHMARK(BM_ChainEnd)->Name("pace/chain_end");
BENCHMARK(BM_Uncapped)->Name("pace/uncapped");
BENCHMARK(BM_NotDue)->Name("pace/not_due");

}  // namespace

BENCHMARK_MAIN();
