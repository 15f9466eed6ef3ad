#include "engine/pace/pacer.hpp"

#include <algorithm>

namespace replicast::pace {

std::string validate(const PaceConfig& c) {
    if (c.rate_bps != 0 && (c.rate_bps < kMinRateBps || c.rate_bps > kMaxRateBps)) {
        return "rate_bps: " + std::to_string(c.rate_bps) + " is outside 1 kbit/s .. 400 Gbit/s (0 = uncapped)";
    }
    if (c.min_packet_gap_ns > kMaxGapNs) return "min_packet_gap_ns: over 10 s";
    if (c.chain_gap_base_ns > kMaxGapNs) return "chain_gap_base_ns: over 10 s";
    if (c.chain_gap_ns_per_kib > kMaxGapNs) return "chain_gap_ns_per_kib: over 10 s per KiB";
    if (c.max_burst_bytes > kMaxBurstBytes) return "max_burst_bytes: over 1 GiB";
    return {};
}

Pacer::Pacer(const PaceConfig& c, std::uint64_t tsc_hz) noexcept
    : tsc_hz_(tsc_hz),
      capped_(c.rate_bps != 0),
      burst_bytes_(c.max_burst_bytes),
      min_gap_ticks_(ns_to_ticks(c.min_packet_gap_ns, tsc_hz)),
      chain_gap_base_ns_(c.chain_gap_base_ns),
      chain_gap_ns_per_kib_(c.chain_gap_ns_per_kib) {
    if (capped_) {
        // ticks per byte = tsc_hz * 8 / rate, with 32 fractional bits.
        ticks_per_byte_ = (Fixed{tsc_hz} * 8u << kFrac) / c.rate_bps;
    }
}

std::uint64_t Pacer::chain_gap_ticks(std::uint64_t chain_bytes) const noexcept {
    const u128 ns = chain_gap_base_ns_ + u128{chain_bytes} * chain_gap_ns_per_kib_ / 1024u;
    return static_cast<std::uint64_t>(ns * tsc_hz_ / 1'000'000'000u);
}

std::uint64_t Pacer::next_deadline(std::uint64_t now, std::uint32_t bytes) const noexcept {
    std::uint64_t deadline = chain_gap_until_;
    if (sent_any_) {
        deadline = std::max(deadline, last_sent_ + min_gap_ticks_);
    }
    if (capped_) {
        // The bucket holds B - (tat - t) * rate at time t; the packet fits when
        // that is >= bytes, i.e. at t = tat - (B - bytes) / rate.
        const std::uint64_t capacity = std::max<std::uint64_t>(burst_bytes_, bytes);
        const Fixed allowance = cost(capacity - bytes);
        const Fixed earliest = tat_ > allowance ? tat_ - allowance : 0;
        // Round up: never a tick early.
        const auto earliest_ticks = static_cast<std::uint64_t>((earliest + ((Fixed{1} << kFrac) - 1)) >> kFrac);
        deadline = std::max(deadline, earliest_ticks);
    }
    (void)now;  // the deadline does not depend on when it is asked
    return deadline;
}

void Pacer::on_sent(std::uint64_t sent, std::uint32_t bytes, bool last_in_chain, std::uint64_t chain_bytes) noexcept {
    if (capped_) {
        // Idle time refills the bucket only up to its capacity: tat never lags
        // `sent`. Deadlines are whole ticks, rounded up from tat; a packet sent
        // within that rounding is on time, so the fraction is kept, not lost
        // (losing it every packet would slow small frames at high rates).
        const Fixed at = Fixed{sent} << kFrac;
        const Fixed slack = (Fixed{1} << kFrac) - 1;
        const Fixed on_time = at > slack ? at - slack : 0;
        tat_ = std::max(tat_, on_time) + cost(bytes);
    }
    last_sent_ = sent;
    sent_any_ = true;
    chain_gap_until_ = last_in_chain ? sent + chain_gap_ticks(chain_bytes) : 0;
}

}  // namespace replicast::pace
