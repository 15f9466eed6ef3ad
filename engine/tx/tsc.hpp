// The TSC's real rate, measured once against the kernel's CLOCK_MONOTONIC_RAW.
//
// Why not rte_get_tsc_hz(): where the CPU does not publish its TSC rate
// (CPUID leaf 0x15, or the platform MSR; AMD CPUs and most VMs), DPDK times a
// 100 ms sleep and rounds the result to the nearest 10 MHz. On this project's
// VMs that turns a 2096.015 MHz TSC into 2100 MHz: every pacing deadline and
// every rate a benchmark reports is then off by 0.19 % (and on a TSC a few MHz
// above a multiple of 10, the pacer would run that much above its cap). The
// kernel's raw monotonic clock is the TSC scaled by the kernel's own
// calibration, so a measurement against it over a few tens of milliseconds is
// exact to a few ppm, without rounding.
#pragma once

#include <cstdint>

namespace replicast::tx {

/// TSC ticks per second, measured on first use (~50 ms, on the calling thread)
/// and then cached; thread-safe. Use it wherever TSC ticks become time: the tx
/// worker's pacer and intervals, and the benchmarks' rates and gaps.
[[nodiscard]] std::uint64_t tsc_hz() noexcept;

/// One measurement over `span_ns` (the cached value above uses 50 ms). Each end
/// is the TSC read between two clock reads, the tightest of a few tries, so a
/// preemption between the reads costs nothing but a retry.
[[nodiscard]] std::uint64_t measure_tsc_hz(std::uint64_t span_ns) noexcept;

}  // namespace replicast::tx
