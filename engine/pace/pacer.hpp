// The sender's pacing calculator: for each packet, the earliest TSC tick at
// which it may leave. Pure and time-injected: `now` is always passed in, so
// tests step a simulated clock (STYLE practice 5).
//
// Model (all three limits apply; the latest deadline wins):
//   rate cap     a token bucket of capacity B = max(max_burst_bytes, packet)
//                filling at rate_bps: a packet of s bytes may go when the bucket
//                holds s. After any idle time at most B bytes go back to back,
//                then the rate applies. Kept as GCRA: one "theoretical arrival
//                time" (tat) with 32 fractional tick bits, so rounding never
//                accumulates and the long-run rate is exact.
//   packet gap   consecutive packets at least min_packet_gap_ns apart.
//   chain gap    after the last packet of a chain of C bytes, the next packet
//                waits chain_gap_base_ns + C * chain_gap_ns_per_kib / 1024 ns, so
//                receivers have time to move a large chain from memory to disk.
//
// Units: bytes are what the caller says a packet occupies; use on_wire_bytes()
// for Ethernet (frame + preamble + FCS + inter-frame gap) so that a cap of a
// port's line rate paces to exactly that line rate. Ticks are TSC ticks at
// tsc_hz. rate_bps 0 means no rate cap (only the gaps apply).
//
// Per packet: a few integer operations, one 128-bit multiply; no allocation,
// no floating point. One pacer per stream, used by one thread.
#pragma once

#include <cstdint>
#include <string>

namespace replicast::pace {

// 128-bit intermediates keep tick arithmetic exact at any rate and uptime;
// __extension__ tells -Wpedantic this GCC/Clang type is meant.
__extension__ typedef unsigned __int128 u128;

struct PaceConfig {
    std::uint64_t rate_bps = 0;              // 0 = uncapped
    std::uint64_t min_packet_gap_ns = 0;
    std::uint64_t chain_gap_base_ns = 0;
    std::uint64_t chain_gap_ns_per_kib = 0;
    std::uint64_t max_burst_bytes = 0;       // 0 = strictly paced: one packet's worth
};

inline constexpr std::uint64_t kMaxRateBps = 400'000'000'000ULL;  // 400 Gbit/s
inline constexpr std::uint64_t kMinRateBps = 1'000;               // 1 kbit/s
inline constexpr std::uint64_t kMaxGapNs = 10'000'000'000ULL;     // 10 s
inline constexpr std::uint64_t kMaxBurstBytes = 1ULL << 30;

/// @return "" when usable, else "FIELD: reason".
std::string validate(const PaceConfig& c);

/// Bytes an Ethernet frame of `frame_bytes` (without FCS) occupies on the wire:
/// + 8 preamble and start delimiter, + 4 FCS, + 12 inter-frame gap.
[[nodiscard]] constexpr std::uint32_t on_wire_bytes(std::uint32_t frame_bytes) noexcept { return frame_bytes + 24; }

[[nodiscard]] constexpr std::uint64_t ns_to_ticks(std::uint64_t ns, std::uint64_t tsc_hz) noexcept {
    return static_cast<std::uint64_t>(static_cast<u128>(ns) * tsc_hz / 1'000'000'000u);
}
[[nodiscard]] constexpr std::uint64_t ticks_to_ns(std::uint64_t ticks, std::uint64_t tsc_hz) noexcept {
    return static_cast<std::uint64_t>(static_cast<u128>(ticks) * 1'000'000'000u / tsc_hz);
}

class Pacer {
public:
    /// `config` must pass validate(); tsc_hz > 0.
    Pacer(const PaceConfig& config, std::uint64_t tsc_hz) noexcept;

    /// Earliest tick at which a packet of `bytes` may be sent. Does not change state.
    [[nodiscard]] std::uint64_t next_deadline(std::uint64_t now, std::uint32_t bytes) const noexcept;

    /// The packet went at `sent` (>= its deadline). `last_in_chain` with the chain's
    /// size in bytes schedules the inter-chain gap.
    void on_sent(std::uint64_t sent, std::uint32_t bytes, bool last_in_chain, std::uint64_t chain_bytes) noexcept;

    /// Inter-chain gap after a chain of `chain_bytes`, in ticks.
    [[nodiscard]] std::uint64_t chain_gap_ticks(std::uint64_t chain_bytes) const noexcept;

private:
    using Fixed = u128;  // ticks << 32
    static constexpr int kFrac = 32;

    [[nodiscard]] Fixed cost(std::uint64_t bytes) const noexcept { return Fixed{bytes} * ticks_per_byte_; }

    std::uint64_t tsc_hz_;
    bool capped_;
    Fixed ticks_per_byte_ = 0;  // fixed point, 32 fractional bits
    std::uint64_t burst_bytes_;
    std::uint64_t min_gap_ticks_;
    std::uint64_t chain_gap_base_ns_;
    std::uint64_t chain_gap_ns_per_kib_;

    Fixed tat_ = 0;               // when the bucket would be full again
    std::uint64_t last_sent_ = 0;
    bool sent_any_ = false;
    std::uint64_t chain_gap_until_ = 0;
};

}  // namespace replicast::pace
