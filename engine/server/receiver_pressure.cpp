#include "engine/server/receiver_pressure.hpp"

#include <algorithm>

namespace replicast::server {

ReceiverPressure::Verdict ReceiverPressure::add(std::string_view identity, std::uint32_t stream_id,
                                                const control::ReceiverReport& r, std::uint64_t now_ns) {
    std::lock_guard lock(mutex_);
    auto [it, fresh] = receivers_.try_emplace({stream_id, std::string(identity)});
    Receiver& rx = it->second;
    const bool went_back = r.socket_drops < rx.socket_drops || r.queue_overflows < rx.queue_overflows;
    const bool compare = !fresh && !went_back;
    const bool lost = compare && (r.socket_drops > rx.socket_drops || r.queue_overflows > rx.queue_overflows);
    const bool full = r.buffer_fill_pct >= kFullPct;
    const bool emptying = full && compare && r.buffer_fill_pct + kRisePct <= rx.fill_pct;
    const Verdict v = lost || (full && !emptying) ? Verdict::overrun : full ? Verdict::draining : Verdict::clear;
    rx = {.at_ns = now_ns, .socket_drops = r.socket_drops, .queue_overflows = r.queue_overflows, .fill_pct = r.buffer_fill_pct};
    if (v != Verdict::clear) {
        Since& s = since_[stream_id];
        s.worst = std::max(s.worst, v);
        if (v == Verdict::overrun) ++s.overruns;
        fresh_.store(true, std::memory_order_release);
    }
    return v;
}

ReceiverPressure::Since ReceiverPressure::take(std::uint32_t stream_id) {
    std::lock_guard lock(mutex_);
    const auto it = since_.find(stream_id);
    if (it == since_.end()) return {};
    const Since s = it->second;
    since_.erase(it);
    return s;
}

void ReceiverPressure::prune(std::uint64_t now_ns) {
    constexpr std::uint64_t kSilentNs = 60'000'000'000;
    std::lock_guard lock(mutex_);
    std::erase_if(receivers_, [&](const auto& e) { return now_ns > e.second.at_ns && now_ns - e.second.at_ns > kSilentNs; });
}

}  // namespace replicast::server
