#include "engine/tx/tsc.hpp"

#include <rte_cycles.h>

#include <ctime>

#include "engine/pace/ticks.hpp"

namespace replicast::tx {

namespace {

std::uint64_t raw_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * pace::kNsPerSecond + static_cast<std::uint64_t>(ts.tv_nsec);
}

struct Sample {
    std::uint64_t ns = 0;   // the middle of the two clock reads
    std::uint64_t tsc = 0;  // read between them
};

// The TSC against the clock, from the tightest of a few bracketing reads: a
// read pair ~50 ns apart puts the TSC's instant within ~25 ns.
Sample sample() noexcept {
    Sample best;
    std::uint64_t best_width = ~0ULL;
    for (int i = 0; i < 16; ++i) {
        const std::uint64_t before = raw_ns();
        const std::uint64_t tsc = rte_rdtsc_precise();
        const std::uint64_t after = raw_ns();
        if (after - before < best_width) {
            best_width = after - before;
            best = {.ns = before + (after - before) / 2, .tsc = tsc};
        }
    }
    return best;
}

}  // namespace

std::uint64_t measure_tsc_hz(std::uint64_t span_ns) noexcept {
    const Sample a = sample();
    timespec pause{.tv_sec = static_cast<time_t>(span_ns / pace::kNsPerSecond),
                   .tv_nsec = static_cast<long>(span_ns % pace::kNsPerSecond)};
    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &pause, &pause) != 0) {
    }
    const Sample b = sample();
    if (b.ns <= a.ns || b.tsc <= a.tsc) return rte_get_tsc_hz();  // a clock that did not move: DPDK's figure
    return pace::saturate_u64((pace::u128{b.tsc - a.tsc} * pace::kNsPerSecond + (b.ns - a.ns) / 2) / (b.ns - a.ns));
}

std::uint64_t tsc_hz() noexcept {
    static const std::uint64_t hz = measure_tsc_hz(50'000'000);
    return hz;
}

}  // namespace replicast::tx
