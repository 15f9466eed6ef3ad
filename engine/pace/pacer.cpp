#include "engine/pace/pacer.hpp"

namespace replicast::pace {

namespace {

std::string out_of_range(const char* field, std::uint64_t value, const char* range) {
    return std::string(field) + ": " + std::to_string(value) + " is outside " + range;
}

}  // namespace

std::string validate(const PaceConfig& c) {
    if (c.rate_bps != 0 && (c.rate_bps < kMinRateBps || c.rate_bps > kMaxRateBps)) {
        return out_of_range("rate_bps", c.rate_bps, "1000 .. 400000000000 bit/s (0 = no cap)");
    }
    if (c.min_packet_gap_ns > kMaxGapNs) {
        return out_of_range("min_packet_gap_ns", c.min_packet_gap_ns, "0 .. 10000000000 ns (10 s)");
    }
    if (c.chain_gap_base_ns > kMaxGapNs) {
        return out_of_range("chain_gap_base_ns", c.chain_gap_base_ns, "0 .. 10000000000 ns (10 s)");
    }
    if (c.chain_gap_ns_per_kib > kMaxChainGapNsPerKib) {
        return out_of_range("chain_gap_ns_per_kib", c.chain_gap_ns_per_kib, "0 .. 1000000 ns per KiB (1 ms)");
    }
    if (c.max_burst_bytes > kMaxBurstBytes) {
        return out_of_range("max_burst_bytes", c.max_burst_bytes, "0 .. 1073741824 bytes (1 GiB)");
    }
    if (c.max_burst_bytes != 0 && c.max_burst_bytes < kMinBurstBytes) {
        return "max_burst_bytes: " + std::to_string(c.max_burst_bytes) +
               " is smaller than the smallest Ethernet frame on the wire (84 bytes); it is in bytes, "
               "and 0 means strictly paced";
    }
    return {};
}

std::string validate(const PaceConfig& c, std::uint64_t tsc_hz) {
    if (tsc_hz < kMinTscHz || tsc_hz > kMaxTscHz) {
        return out_of_range("tsc_hz", tsc_hz, "1000000 .. 10000000000 Hz");
    }
    return validate(c);
}

Pacer::Pacer(const PaceConfig& c, std::uint64_t tsc_hz) noexcept
    : burst_bytes_(c.max_burst_bytes),
      min_gap_ticks_(ns_to_ticks_ceil(c.min_packet_gap_ns, tsc_hz)),
      tsc_hz_(tsc_hz),
      chain_gap_base_ns_(c.chain_gap_base_ns),
      chain_gap_ns_per_kib_(c.chain_gap_ns_per_kib) {
    if (c.rate_bps != 0) ticks_per_byte_ = ticks_per_byte_for(c.rate_bps, tsc_hz);
}

void Pacer::set_ticks_per_byte(std::uint64_t now, std::uint64_t ticks_per_byte) noexcept {
    if (ticks_per_byte_ == 0 || ticks_per_byte == 0 || ticks_per_byte == ticks_per_byte_) return;
    const u128 at = u128{now} << kFracBits;
    if (tat_ > at) {
        // Lacking (tat_ - at) / old ticks-per-byte bytes: the same bytes at the new rate.
        // Divided first: the bytes lacking are at most the depth (2^30 for a
        // validated config) plus a packet, and a ticks-per-byte is below 2^59
        // (validate()'s slowest rate on the fastest TSC), so q * new < 2^90
        // and r * new < 2^118: no product can leave 128 bits.
        const u128 lacking = tat_ - at;
        const u128 q = lacking / ticks_per_byte_, r = lacking % ticks_per_byte_;
        tat_ = at + q * ticks_per_byte + r * ticks_per_byte / ticks_per_byte_;
    }
    ticks_per_byte_ = ticks_per_byte;
}

std::uint64_t Pacer::ticks_per_byte_for(std::uint64_t rate_bps, std::uint64_t tsc_hz) noexcept {
    // tsc_hz * 8 / rate ticks per byte with 32 fractional bits, rounded up so
    // the pacer errs below the cap, never above it. At most
    // 10 GHz * 8 / 1 kbit/s = 8e7 ticks per byte, times 2^32 < 2^59: fits.
    if (rate_bps == 0) return 0;
    const u128 scaled = u128{tsc_hz} * 8u << kFracBits;
    return static_cast<std::uint64_t>((scaled + rate_bps - 1) / rate_bps);
}

std::uint64_t Pacer::chain_gap_ticks(std::uint64_t chain_bytes) const noexcept {
    if (chain_gap_base_ns_ == 0 && chain_gap_ns_per_kib_ == 0) return 0;  // no chain gap: no 128-bit division per chain
    // Below 2^64 * 1e6 / 1024 + 1e10 < 2^84: exact in 128 bits; as ns it saturates.
    const u128 ns = u128{chain_gap_base_ns_} + u128{chain_bytes} * chain_gap_ns_per_kib_ / 1024u;
    return ns_to_ticks_ceil(saturate_u64(ns), tsc_hz_);
}

}  // namespace replicast::pace
