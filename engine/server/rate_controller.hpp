// Adaptive rate ([pacing] adaptive, config/README.md): the pacing cap of one
// stream, lowered when a receiver reports that it cannot keep up and raised
// back towards the configured cap when none does. No DPDK, no clock: the loop
// passes the time in (STYLE practice 5), so tests step a simulated one.
//
// The signal is the receiver's own overrun, never network loss: a receiver
// reports the datagrams its socket dropped for a full receive buffer
// (SO_MEMINFO), the packets its receive queue had no room for, and how full
// either was at its fullest (ReceiveStats fields 17, 18, 13). Random loss on
// the path does not slow the stream (it is repaired; slowing down would not
// make it go away), which is where uftp's TFMCC, taking every loss for
// congestion, loses its goodput (bench/RESULTS.md, "bulk"). A buffer over
// half full counts as pressure before anything is dropped.
//
// The law, on the worst of the receivers' reports since the last call
// (receiver_pressure.hpp); the loop calls as soon as a report of overrun
// arrives, and every 100 ms anyway:
//   overrun (drops, or a buffer filling)  -> cap = max(floor, cap * decrease),
//                                            at most once per decrease_gap_ns
//   draining (a full buffer emptying)     -> cap kept: it is below the
//                                            receiver's pace already
//   nothing for hold_ns                   -> cap = min(ceiling, cap * (1 + increase)),
//                                            at most once per increase_gap_ns
// A multiplicative increase, not TCP's additive one: a cap may have to move
// between 20 Mbit/s and 20 Gbit/s, and the receivers' pace changes with what
// else their hosts run. From a fall to a twentieth of the ceiling it is back
// in about 3 s; a receiver overrun at 2 Gbit/s by a stream it drains at
// 500 Mbit/s brings the cap under its pace within 5 reports.
#pragma once

#include <cstdint>

namespace replicast::server {

struct RateBounds {
    std::uint64_t ceiling_bps = 0;      // [pacing] rate_mbps: never above it
    std::uint64_t floor_bps = 0;        // [pacing] min_rate_mbps: never below it
    double decrease = 0.75;                       // factor per overrun
    double increase = 0.10;                       // growth per increase step
    std::uint64_t decrease_gap_ns = 50'000'000;   // a receiver reports overrun at most every 50 ms
    std::uint64_t increase_gap_ns = 100'000'000;
    std::uint64_t hold_ns = 300'000'000;          // no increase this soon after an overrun or draining report
};

class RateController {
public:
    explicit RateController(const RateBounds& b) noexcept : b_(b), current_(b.ceiling_bps) {}

    enum class Signal : std::uint8_t { clear, draining, overrun };

    /// At `now_ns`, with the worst of the receivers' reports since the last
    /// call. @return true when the cap changed.
    bool tick(std::uint64_t now_ns, Signal signal) noexcept;

    [[nodiscard]] std::uint64_t current_bps() const noexcept { return current_; }
    [[nodiscard]] const RateBounds& bounds() const noexcept { return b_; }

private:
    RateBounds b_;
    std::uint64_t current_;
    std::uint64_t last_signal_ns_ = 0;  // the last overrun or draining report
    std::uint64_t last_change_ns_ = 0;
    bool signalled_once_ = false;
    bool changed_once_ = false;
};

}  // namespace replicast::server
