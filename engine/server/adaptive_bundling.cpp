// Adaptive bundling on the control core ([bundle] adaptive, config/README.md):
// twice a second, each running stream's chain size from the loss its
// receivers reported over the window (engine/server/bundle_controller.hpp).
// The loop is the only writer of Stream::bundle; feed_one reads it when it
// cuts the next chain, so the tx workers only ever see whole chains and do
// nothing more per packet.
#include <algorithm>
#include <chrono>

#include "engine/chain/segment.hpp"
#include "engine/logging/log.hpp"
#include "engine/server/server.hpp"
#include "engine/server/steady_clock.hpp"

namespace replicast::server {

namespace {

constexpr std::uint64_t kAdaptIntervalNs = 500'000'000;

}  // namespace

void Server::receiver_report(std::string_view identity, std::uint32_t stream_id, const control::ReceiverReport& r) {
    if (config_.adaptive) loss_.add(identity, stream_id, r, steady_ns());
    if (config_.adaptive_rate) (void)pressure_.add(identity, stream_id, r, steady_ns());
}

void Server::adapt_bundles() {
    if (!config_.adaptive) return;
    const std::uint64_t now = steady_ns();
    if (now < next_adapt_ns_) return;
    next_adapt_ns_ = now + kAdaptIntervalNs;
    loss_.prune(now);
    static logging::RateLimit limit{std::chrono::seconds(10), 20};
    for (auto& sp : streams_) {
        Stream& s = *sp;
        if (s.run != Stream::Run::running) continue;
        BundleModel m;
        m.packet_payload = chain::max_payload_for_mtu(port_->caps().mtu);
        // The stream's own update sizes so far (as carried, and before compression).
        const std::uint64_t updates = s.stats.updates.load(std::memory_order_relaxed);
        if (updates > 0) {
            m.update_bytes = std::max(1.0, static_cast<double>(s.stats.record_bytes.load(std::memory_order_relaxed)) /
                                               static_cast<double>(updates));
            m.body_update_bytes = std::max(1.0, static_cast<double>(s.stats.body_bytes.load(std::memory_order_relaxed)) /
                                                    static_cast<double>(updates));
        }
        loss_.rates(s.stream_id, now, loss_scratch_);
        const std::uint32_t before = s.bundle.current();
        const bool changed = s.bundle.update(m, loss_scratch_);
        const double worst = loss_scratch_.empty() ? 0.0 : *std::max_element(loss_scratch_.begin(), loss_scratch_.end());
        s.stats.chain_updates.store(s.bundle.current(), std::memory_order_relaxed);
        s.stats.lossy_receivers.store(static_cast<std::uint32_t>(loss_scratch_.size()), std::memory_order_relaxed);
        s.stats.loss_ppm.store(static_cast<std::uint32_t>(worst * 1e6), std::memory_order_relaxed);
        if (!changed) continue;
        s.stats.bundle_changes.fetch_add(1, std::memory_order_relaxed);
        if (auto a = limit.admit(now)) {
            logging::get("server")->info(
                "stream {} ({}): chains of at most {} updates (were {}): {} receiver(s) losing up to {:.2f} % of packets, "
                "expected egress {:.1f} bytes per update ({} changes like it suppressed)",
                s.stream_id, s.db, s.bundle.current(), before, loss_scratch_.size(), worst * 100.0,
                egress_per_update(s.bundle.current(), m, loss_scratch_), a->suppressed);
        }
    }
}

}  // namespace replicast::server
