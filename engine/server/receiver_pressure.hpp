// The receivers' overrun reports, per stream, for adaptive rate
// (rate_controller.hpp). gRPC threads add each report (totals since the
// follower started, and the fullest its buffers were since its last report);
// the loop asks once per tick whether any receiver of a stream was overrun
// since it last asked.
//
// Each report is judged against the same receiver's previous one:
//   overrun   the socket's drops or the receive queue's overflows grew, or a
//             buffer was at least kFullPct full and not emptying (not
//             kRisePct emptier than last time): the stream is faster than
//             this receiver drains it, or just as fast with a standing
//             backlog that a little less would work off;
//   draining  a buffer was at least kFullPct full but kRisePct or more
//             emptier than last time: the stream is already slower than
//             the receiver, which is working off a backlog (lowering the
//             rate again would only overshoot; raising it would fill the
//             buffer again);
//   clear     otherwise.
// Totals that go back (a restarted follower) restart the comparison; the first
// report of a receiver compares with nothing but its fill.
//
// Threading: add() from any thread, take() from the loop; one mutex, held for
// a map lookup (control plane only). Memory: one entry per (stream, identity)
// that reported; prune() drops those silent for a minute.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "engine/control/backend.hpp"

namespace replicast::server {

class ReceiverPressure {
public:
    static constexpr std::uint32_t kFullPct = 50;
    static constexpr std::uint32_t kRisePct = 5;  // "emptier": by this much (a buffer's fill wobbles)

    enum class Verdict : std::uint8_t { clear, draining, overrun };

    /// Judges one report (and keeps it for the next one's comparison).
    Verdict add(std::string_view identity, std::uint32_t stream_id, const control::ReceiverReport& r, std::uint64_t now_ns);

    /// What the receivers of `stream_id` reported since the last take() for it
    /// (and forgets it): the worst verdict, and how many reports were overruns.
    struct Since {
        Verdict worst = Verdict::clear;
        std::uint32_t overruns = 0;
    };
    Since take(std::uint32_t stream_id);

    void prune(std::uint64_t now_ns);

    /// A report that was not `clear` arrived since the last call: the loop
    /// looks at once instead of at its next tick (one atomic per loop pass).
    [[nodiscard]] bool fresh() noexcept {
        return fresh_.load(std::memory_order_relaxed) && fresh_.exchange(false, std::memory_order_acq_rel);
    }

private:
    struct Receiver {
        std::uint64_t at_ns = 0;
        std::uint64_t socket_drops = 0;
        std::uint64_t queue_overflows = 0;
        std::uint32_t fill_pct = 0;
    };
    std::atomic<bool> fresh_{false};
    std::mutex mutex_;
    std::map<std::pair<std::uint32_t, std::string>, Receiver> receivers_;
    std::map<std::uint32_t, Since> since_;  // per stream, since the last take()
};

}  // namespace replicast::server
