// Adaptive rate on the control core ([pacing] adaptive, config/README.md):
// each running stream's pacing cap from its receivers' reports of overrun
// (engine/server/rate_controller.hpp), looked at as soon as such a report
// arrives and ten times a second anyway. A new cap goes to the stream's tx
// worker through TxWorker::set_pace_rate, which it reads when it starts its
// next chain: nothing more per packet, and the division that turns a rate
// into ticks is done here.
#include <rte_ring.h>

#include <chrono>

#include "engine/logging/log.hpp"
#include "engine/pace/pacer.hpp"
#include "engine/server/server.hpp"
#include "engine/server/steady_clock.hpp"
#include "engine/tx/tsc.hpp"

namespace replicast::server {

namespace {

constexpr std::uint64_t kRateTickNs = 100'000'000;

}  // namespace

void Server::adapt_rates() {
    if (!config_.adaptive_rate) return;
    const std::uint64_t now = steady_ns();
    if (!pressure_.fresh() && now < next_rate_tick_ns_) return;
    if (now >= next_rate_tick_ns_) {
        next_rate_tick_ns_ = now + kRateTickNs;
        pressure_.prune(now);
    }
    static logging::RateLimit limit{std::chrono::seconds(10), 20};
    for (auto& sp : streams_) {
        Stream& s = *sp;
        const ReceiverPressure::Since got = pressure_.take(s.stream_id);  // taken even when not running: stale otherwise
        if (s.run != Stream::Run::running) continue;
        const std::uint32_t overruns = got.overruns;
        if (overruns != 0) s.stats.overrun_reports.fetch_add(overruns, std::memory_order_relaxed);
        const std::uint64_t before = s.rate.current_bps();
        const auto signal = got.worst == ReceiverPressure::Verdict::overrun    ? RateController::Signal::overrun
                            : got.worst == ReceiverPressure::Verdict::draining ? RateController::Signal::draining
                                                                               : RateController::Signal::clear;
        if (!s.rate.tick(now, signal)) continue;
        workers_[s.worker]->tx->set_pace_rate(s.slot, pace::Pacer::ticks_per_byte_for(s.rate.current_bps(), tx::tsc_hz()));
        s.stats.rate_changes.fetch_add(1, std::memory_order_relaxed);
        s.stats.rate_bps.store(s.rate.current_bps(), std::memory_order_relaxed);
        if (auto a = limit.admit(now)) {
            logging::get("server")->info("stream {} ({}): pacing at {:.1f} Mbit/s (was {:.1f}): {} ({} changes like it suppressed)",
                                         s.stream_id, s.db, static_cast<double>(s.rate.current_bps()) / 1e6,
                                         static_cast<double>(before) / 1e6,
                                         overruns != 0 ? std::to_string(overruns) + " report(s) of a receiver overrun"
                                                       : std::string("no receiver overrun lately"),
                                         a->suppressed);
        }
    }
}

}  // namespace replicast::server
