// The sender's pacing calculator: for each packet of a stream, the earliest TSC
// tick at which it may leave. Pure and time-injected: the caller passes the
// time in, nothing here reads a clock, so tests step a simulated one (STYLE
// practice 5).
//
// Model. Three limits apply to every packet, and the latest deadline wins.
//
//   rate cap     A token bucket of depth D = max(max_burst_bytes, packet bytes)
//                that fills at rate_bps / 8 bytes per second. A packet of s
//                bytes may leave when the bucket holds s bytes, and sending
//                takes them out. A bucket never holds more than D, so an idle
//                period of any length buys at most max_burst_bytes back to
//                back, after which packets are spaced at the rate again.
//                max_burst_bytes = 0 gives strict pacing: each packet waits
//                for its own bytes' worth of time after the previous one.
//   packet gap   Consecutive packets leave at least min_packet_gap_ns apart,
//                counted send to send and rounded up to whole ticks. This
//                holds even inside a burst the bucket would allow.
//   chain gap    After the last packet of a chain of C bytes, the next packet
//                leaves at least
//                    chain_gap_base_ns + C * chain_gap_ns_per_kib / 1024   ns
//                (integer ns, rounded down, then rounded up to ticks) after
//                it. Receivers use the gap to move a large chain from memory
//                to disk. The gap counts from the send time of the last
//                packet, so it overlaps the rate spacing: it is the wire's
//                quiet time, not something added on top of the rate.
//
// Units. Bytes are whatever the caller says a packet occupies, and the rate
// is in bits per second of those same bytes. To pace at Ethernet line rate,
// pass on_wire_bytes(frame): the frame plus preamble, start delimiter, FCS and
// inter-frame gap. A 10 Gbit/s cap then matches a 10G port exactly. If you
// pass bare frame sizes instead, the same cap lets more frames through than
// the port can carry. Times are TSC ticks at the tsc_hz given to the
// constructor (rte_get_tsc_hz() in production). rate_bps = 0 means no cap;
// only the gaps apply then.
//
// How it is computed. The bucket is kept as GCRA: one number, tat_ (the
// "theoretical arrival time"), the instant at which the bucket will be full
// again. It is kept in ticks with 32 fractional bits. At instant x the bucket
// lacks (tat_ - x) * rate bytes, so a packet of s bytes fits from
//     x = tat_ - (D - s) * ticks_per_byte
// and sending it moves tat_ on by s * ticks_per_byte. Deadlines are whole
// ticks, rounded up from x, so a packet never leaves early. The fraction is
// kept in tat_, so the rounding never adds up: the long-run rate is the cap
// to within the rounding of ticks_per_byte (rounded up, so never above the
// cap; 1e-8 relative at 400 Gbit/s on a 1 GHz TSC, 1.2e-5 on a 1 MHz one).
// A packet sent after its deadline tick restarts tat_ from the send time if
// the bucket had filled meanwhile. That is what caps the credit an idle
// period, or a poll loop that wakes late, can bank.
//
// Guarantee. Over any span of sends from tick a to tick b (packets p_a..p_b),
//     bytes(p_a..p_b) <= max(max_burst_bytes, bytes(p_b)) + rate * (b - a + 1 tick).
// The "+1 tick" is what keeping the fraction costs. It matters only when
// max_burst_bytes is less than one tick's worth of bytes above a packet
// (R = rate / 8 / tsc_hz: 50 B at 400 Gbit/s on a 1 GHz TSC, 6 B at
// 100 Gbit/s on 2 GHz). The burst sent at one tick after an idle period or a
// late wake-up never exceeds max(max_burst_bytes, its largest packet), exactly.
//
// Cost. next_deadline is one 64x64->128-bit multiply, a subtraction, a shift
// and two compares. on_sent adds one more multiply. The chain gap (one 128-bit
// division) runs only on a chain's last packet. No allocation, floating point,
// locks or syscalls, and everything is noexcept.
//
// Threads: one Pacer per stream, used by one thread (its tx lcore). Ranges:
// tsc_hz in [kMinTscHz, kMaxTscHz]; tick values below 2^64 (58 years at
// 10 GHz); a config that passes validate().
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

#include "engine/pace/ticks.hpp"

namespace replicast::pace {

/// Pacing knobs of one stream. Each one is disabled by 0.
struct PaceConfig {
    std::uint64_t rate_bps = 0;              ///< cap, bit/s of the bytes passed in; 0 = no cap
    std::uint64_t min_packet_gap_ns = 0;     ///< send to send, never undercut
    std::uint64_t chain_gap_base_ns = 0;     ///< quiet time after a chain's last packet ...
    std::uint64_t chain_gap_ns_per_kib = 0;  ///< ... plus this much per KiB of that chain
    std::uint64_t max_burst_bytes = 0;       ///< bucket depth; 0 = strictly paced (one packet)
};

/// No cap and no gaps (the burst depth means nothing without a cap): every
/// packet is due at once, so a sender may skip the Pacer altogether.
[[nodiscard]] constexpr bool unpaced(const PaceConfig& c) noexcept {
    return c.rate_bps == 0 && c.min_packet_gap_ns == 0 && c.chain_gap_base_ns == 0 && c.chain_gap_ns_per_kib == 0;
}

// Limits enforced by validate(), each with its reason.
inline constexpr std::uint64_t kMinRateBps = 1'000;              // 1 kbit/s: below that, nothing useful fits
inline constexpr std::uint64_t kMaxRateBps = 400'000'000'000;    // 400 Gbit/s: the fastest port we target
inline constexpr std::uint64_t kMaxGapNs = 10'000'000'000;       // 10 s: longer is a stall, not pacing
inline constexpr std::uint64_t kMaxChainGapNsPerKib = 1'000'000; // 1 ms/KiB: a receiver storing 1 MiB/s
inline constexpr std::uint64_t kMaxBurstBytes = 1ULL << 30;      // 1 GiB: beyond that the cap means little
// A nonzero burst below the smallest Ethernet frame on the wire (60 + 24 bytes)
// would behave exactly like 0. Such a value is almost always a unit mistake
// (KiB meant), so validate() rejects it rather than quietly pacing strictly.
inline constexpr std::uint64_t kMinBurstBytes = 84;
inline constexpr std::uint64_t kMinTscHz = 1'000'000;            // 1 MHz: ARM generic timers run at 25+ MHz
inline constexpr std::uint64_t kMaxTscHz = 10'000'000'000;       // 10 GHz

/// @return "" when `c` is usable, else "FIELD: reason" naming the first bad field.
[[nodiscard]] std::string validate(const PaceConfig& c);
/// As above, and also checks tsc_hz against [kMinTscHz, kMaxTscHz] ("tsc_hz: ...").
[[nodiscard]] std::string validate(const PaceConfig& c, std::uint64_t tsc_hz);

// Ethernet overhead around a frame as DPDK hands it to the NIC (destination
// MAC through payload, mbuf data_len): 7 preamble + 1 start delimiter, the
// 4-byte FCS the NIC appends, and the 12-byte minimum inter-frame gap.
inline constexpr std::uint32_t kEthPreambleBytes = 8;
inline constexpr std::uint32_t kEthFcsBytes = 4;
inline constexpr std::uint32_t kEthIfgBytes = 12;
inline constexpr std::uint32_t kEthOverheadBytes = kEthPreambleBytes + kEthFcsBytes + kEthIfgBytes;  // 24

/// Byte-times an Ethernet frame of `frame_bytes` (without FCS) takes on the
/// wire, i.e. frame + 24: a 60-byte minimum frame takes 84 (14.88 Mpps at
/// 10 Gbit/s) and a 1514-byte frame 1538. Pass this to the Pacer so that a cap
/// equal to a port's speed is that port's line rate. For a frame size that
/// already includes the FCS, add only 20 (preamble + gap).
[[nodiscard]] constexpr std::uint32_t on_wire_bytes(std::uint32_t frame_bytes) noexcept {
    return frame_bytes + kEthOverheadBytes;
}

class Pacer {
public:
    /// `config` must pass validate(config, tsc_hz). The bucket starts full, as
    /// after a long idle period.
    Pacer(const PaceConfig& config, std::uint64_t tsc_hz) noexcept;

    /// Earliest tick at which a packet of `bytes` may leave, given what was
    /// sent so far. It may be earlier than `now`, which means the packet is due.
    /// It does not change any state, so asking again is free. The deadline does
    /// not depend on `now`; the parameter keeps the call site in the shape of
    /// the tx loop.
    [[nodiscard]] std::uint64_t next_deadline(std::uint64_t now, std::uint32_t bytes) const noexcept;

    /// Commits a packet of `bytes` sent at tick `sent`. `sent` should be at or
    /// after its deadline and not before the previous send. A packet sent
    /// without asking (an urgent control packet) is accounted just the same,
    /// and the packets after it wait for it. With `last_in_chain`, the chain
    /// gap for a chain of `chain_bytes` bytes follows this packet.
    void on_sent(std::uint64_t sent, std::uint32_t bytes, bool last_in_chain, std::uint64_t chain_bytes) noexcept;

    /// The inter-chain gap after a chain of `chain_bytes`, in ticks, rounded up
    /// and saturating. Out of line: it divides, and runs once per chain.
    [[nodiscard]] std::uint64_t chain_gap_ticks(std::uint64_t chain_bytes) const noexcept;

    [[nodiscard]] std::uint64_t tsc_hz() const noexcept { return tsc_hz_; }

    /// The factor set_ticks_per_byte takes for a cap of `rate_bps` (nonzero,
    /// within validate()'s range): it divides, so the control core computes it
    /// and the tx lcore only stores it.
    [[nodiscard]] static std::uint64_t ticks_per_byte_for(std::uint64_t rate_bps, std::uint64_t tsc_hz) noexcept;

    /// A new rate cap from the next packet on, at tick `now` (adaptive rate:
    /// the server slows a stream its receivers cannot keep up with). For a
    /// pacer built with a cap only: the burst depth and the gaps stay. The
    /// bucket keeps the bytes it holds: what it lacks at `now` is converted to
    /// the new rate's time, so a lower cap holds from the next packet and no
    /// burst beyond what the bucket held comes with the change. Out of line:
    /// it multiplies and divides 128 bits, once per change.
    void set_ticks_per_byte(std::uint64_t now, std::uint64_t ticks_per_byte) noexcept;
    [[nodiscard]] std::uint64_t ticks_per_byte() const noexcept { return ticks_per_byte_; }

private:
    static constexpr int kFracBits = 32;
    static constexpr u128 kFracMask = (u128{1} << kFracBits) - 1;

    [[nodiscard]] static std::uint64_t ceil_ticks(u128 fixed) noexcept {
        return static_cast<std::uint64_t>((fixed + kFracMask) >> kFracBits);
    }
    /// The instant (fixed point) from which the bucket holds `bytes`.
    [[nodiscard]] u128 rate_earliest(std::uint32_t bytes) const noexcept {
        const std::uint64_t room = burst_bytes_ > bytes ? burst_bytes_ - bytes : 0;
        const u128 allowance = u128{room} * ticks_per_byte_;
        return tat_ > allowance ? tat_ - allowance : 0;
    }

    // Per-packet state and factors first: they share a cache line.
    u128 tat_ = 0;                      // ticks << 32: the bucket is full again from here
    std::uint64_t not_before_ = 0;      // ticks: packet gap and chain gap of the last send
    std::uint64_t ticks_per_byte_ = 0;  // ticks << 32, rounded up; 0 = no rate cap
    std::uint64_t burst_bytes_ = 0;
    std::uint64_t min_gap_ticks_ = 0;
    std::uint64_t tsc_hz_ = 0;
    std::uint64_t chain_gap_base_ns_ = 0;
    std::uint64_t chain_gap_ns_per_kib_ = 0;
};

inline std::uint64_t Pacer::next_deadline(std::uint64_t /*now*/, std::uint32_t bytes) const noexcept {
    return std::max(not_before_, ceil_ticks(rate_earliest(bytes)));
}

inline void Pacer::on_sent(std::uint64_t sent, std::uint32_t bytes, bool last_in_chain,
                           std::uint64_t chain_bytes) noexcept {
    // Sent at (or before) its deadline tick: on time, so carry on from tat_ and
    // keep the fraction the deadline was rounded up by. Sent later: the bucket
    // may have filled up meanwhile, and then the send time is the new start;
    // restarting from it is what caps idle credit at the bucket's depth.
    const bool late = sent > ceil_ticks(rate_earliest(bytes));
    const u128 at = u128{sent} << kFracBits;
    const u128 from = late && at > tat_ ? at : tat_;
    tat_ = from + u128{bytes} * ticks_per_byte_;

    const std::uint64_t gap_until = saturating_add(sent, min_gap_ticks_);
    not_before_ = last_in_chain ? std::max(gap_until, saturating_add(sent, chain_gap_ticks(chain_bytes))) : gap_until;
}

}  // namespace replicast::pace
