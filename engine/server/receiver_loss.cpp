#include "engine/server/receiver_loss.hpp"

namespace replicast::server {

namespace {
// A report a gRPC thread stamped after the loop read its clock is 0 old.
template <class S>
std::uint64_t age(const S& s, std::uint64_t now_ns) noexcept {
    return now_ns > s.at_ns ? now_ns - s.at_ns : 0;
}
}  // namespace

ReceiverLoss::ReceiverLoss(std::chrono::milliseconds window) noexcept
    : window_ns_(static_cast<std::uint64_t>(std::chrono::nanoseconds(window).count())) {}

void ReceiverLoss::add(std::string_view identity, std::uint32_t stream_id, const control::ReceiverReport& r,
                       std::uint64_t now_ns) {
    const Sample s{.at_ns = now_ns, .packets = r.packets, .missed = r.packets_missed};
    std::lock_guard lock(mutex_);
    Receiver& rx = receivers_[{stream_id, std::string(identity)}];
    if (rx.count > 0) {
        const Sample& newest = rx.nth_newest(0);
        // Totals that went back: the follower restarted (or a second process
        // shares the identity); the older samples no longer compare.
        if (s.packets < newest.packets || s.missed < newest.missed) {
            rx.count = 0;
        } else if (age(newest, now_ns) < window_ns_ / 8 && rx.count > 1) {
            rx.ring[(rx.next + kSamples - 1) % kSamples] = s;  // the freshest counters, the same spacing
            return;
        }
    }
    rx.ring[rx.next] = s;
    rx.next = (rx.next + 1) % kSamples;
    if (rx.count < kSamples) ++rx.count;
}

void ReceiverLoss::rates(std::uint32_t stream_id, std::uint64_t now_ns, std::vector<double>& out) {
    out.clear();
    std::lock_guard lock(mutex_);
    for (auto it = receivers_.lower_bound(std::make_pair(stream_id, std::string()));
         it != receivers_.end() && it->first.first == stream_id; ++it) {
        const Receiver& rx = it->second;
        if (rx.count < 2) continue;
        const Sample& newest = rx.nth_newest(0);
        if (age(newest, now_ns) > window_ns_) continue;  // silent: no loss to repair lately
        // The baseline: the newest sample at or before the window's start (or
        // the oldest held), so the rate covers at least the window when the
        // history does (reports come with loss, not on a clock).
        std::size_t base = 1;
        while (base + 1 < rx.count && age(rx.nth_newest(base), now_ns) <= window_ns_) ++base;
        // A slow stream may hold too few packets in one window: reach further
        // back (up to 4 windows) rather than drop a receiver that is still
        // losing, which would flap the size between the ceiling and the best.
        while (base + 1 < rx.count && newest.packets - rx.nth_newest(base).packets < kMinPackets &&
               age(rx.nth_newest(base + 1), now_ns) <= 4 * window_ns_) {
            ++base;
        }
        const Sample& old = rx.nth_newest(base);
        const std::uint64_t packets = newest.packets - old.packets;
        const std::uint64_t missed = newest.missed - old.missed;
        if (packets + missed < kMinPackets) continue;
        out.push_back(static_cast<double>(missed) / static_cast<double>(packets + missed));
    }
}

void ReceiverLoss::prune(std::uint64_t now_ns) {
    std::lock_guard lock(mutex_);
    for (auto it = receivers_.begin(); it != receivers_.end();) {
        const bool silent = it->second.count == 0 || age(it->second.nth_newest(0), now_ns) > 4 * window_ns_;
        it = silent ? receivers_.erase(it) : std::next(it);
    }
}

}  // namespace replicast::server
