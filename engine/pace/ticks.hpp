// Conversions between nanoseconds and TSC ticks.
//
// A product of two 64-bit values always fits in 128 bits, so ns * tsc_hz and
// ticks * 1e9 are exact for every input: no range of rates, clock speeds or
// uptimes overflows the intermediate. Only the result can exceed 64 bits
// (2^64 ticks is 58 years at 10 GHz), and then it saturates at UINT64_MAX
// rather than wrapping to a small, wrong deadline.
//
// Each call divides a 128-bit value, which is a library call (tens of ns):
// fine at setup and once per chain, not per packet. The per-packet path uses
// the fixed-point factors the Pacer precomputes.
#pragma once

#include <cstdint>
#include <limits>

namespace replicast::pace {

// GCC/Clang's 128-bit integer; __extension__ tells -Wpedantic it is meant.
__extension__ typedef unsigned __int128 u128;

inline constexpr std::uint64_t kNsPerSecond = 1'000'000'000;

/// `v` as 64 bits, or UINT64_MAX when it does not fit.
[[nodiscard]] constexpr std::uint64_t saturate_u64(u128 v) noexcept {
    constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
    return v > kMax ? kMax : static_cast<std::uint64_t>(v);
}

/// a + b, or UINT64_MAX when it does not fit.
[[nodiscard]] constexpr std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept {
    return saturate_u64(u128{a} + b);
}

/// Ticks in `ns` nanoseconds, rounded down (saturating).
[[nodiscard]] constexpr std::uint64_t ns_to_ticks(std::uint64_t ns, std::uint64_t tsc_hz) noexcept {
    return saturate_u64(u128{ns} * tsc_hz / kNsPerSecond);
}

/// Ticks in `ns` nanoseconds, rounded up (saturating): the conversion for a
/// minimum gap, which must never come out shorter than configured.
[[nodiscard]] constexpr std::uint64_t ns_to_ticks_ceil(std::uint64_t ns, std::uint64_t tsc_hz) noexcept {
    return saturate_u64((u128{ns} * tsc_hz + (kNsPerSecond - 1)) / kNsPerSecond);
}

/// Nanoseconds in `ticks`, rounded down (saturating). `tsc_hz` must be > 0.
[[nodiscard]] constexpr std::uint64_t ticks_to_ns(std::uint64_t ticks, std::uint64_t tsc_hz) noexcept {
    return saturate_u64(u128{ticks} * kNsPerSecond / tsc_hz);
}

}  // namespace replicast::pace
