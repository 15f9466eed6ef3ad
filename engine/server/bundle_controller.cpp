#include "engine/server/bundle_controller.hpp"

#include <algorithm>
#include <cmath>

namespace replicast::server {

std::uint32_t BundleModel::packets(std::uint32_t n) const noexcept {
    const double record = static_cast<double>(n) * update_bytes + chain_head_bytes;
    const double k = std::ceil(record / packet_payload);
    return k < 1 ? 1u : static_cast<std::uint32_t>(k);
}

double egress_per_update(std::uint32_t n, const BundleModel& m, std::span<const double> loss) noexcept {
    if (n == 0) n = 1;
    const double nd = static_cast<double>(n);
    const std::uint32_t k = m.packets(n);
    const double multicast = (nd * m.update_bytes + m.chain_head_bytes + static_cast<double>(k) * m.packet_overhead) / nd;
    const double repair_per_lost = m.body_update_bytes + m.repair_framing_bytes + m.repair_call_bytes / nd;
    double repair = 0;
    for (double p : loss) {
        p = std::clamp(p, 0.0, 1.0);
        repair += (1.0 - std::pow(1.0 - p, static_cast<double>(k))) * repair_per_lost;
    }
    return multicast + repair;
}

BundleController::BundleController(const BundleBounds& bounds) noexcept
    : bounds_(bounds), current_(std::max<std::uint32_t>(bounds.max_updates, 1)) {}

std::uint32_t BundleController::ceiling(const BundleModel& m) const noexcept {
    // The cutter stops at max_bytes of body whatever the update count says, so
    // a count above what fits in max_bytes would only be a name for the same chain.
    const double fit = m.body_update_bytes > 0 ? static_cast<double>(bounds_.max_bytes) / m.body_update_bytes : 1e9;
    std::uint32_t c = bounds_.max_updates;
    if (fit < static_cast<double>(c)) c = static_cast<std::uint32_t>(std::max(1.0, std::floor(fit)));
    return std::max(c, std::min(bounds_.min_updates, bounds_.max_updates));
}

std::uint32_t BundleController::best(const BundleModel& m, std::span<const double> loss) const {
    const std::uint32_t top = ceiling(m);
    const std::uint32_t floor = std::min(std::max<std::uint32_t>(bounds_.min_updates, 1), top);
    // The cost changes in steps of whole packets: for each packet count the
    // largest n that fits is the cheapest, so those (and the bounds) are the candidates.
    std::vector<std::uint32_t> candidates{floor, top};
    for (std::uint32_t k = 1, kmax = m.packets(top); k <= kmax; ++k) {
        const double fit = (static_cast<double>(k) * m.packet_payload - m.chain_head_bytes) / std::max(m.update_bytes, 1.0);
        if (fit < 1) continue;
        const auto n = static_cast<std::uint32_t>(std::min(std::floor(fit), static_cast<double>(top)));
        if (n >= floor) candidates.push_back(n);
    }
    std::uint32_t pick = top;
    double pick_cost = egress_per_update(top, m, loss);
    for (std::uint32_t n : candidates) {
        const double c = egress_per_update(n, m, loss);
        if (c < pick_cost || (c == pick_cost && n > pick)) {
            pick = n;
            pick_cost = c;
        }
    }
    return pick;
}

bool BundleController::update(const BundleModel& m, std::span<const double> loss) {
    const std::uint32_t before = current_;
    const bool lossless = std::all_of(loss.begin(), loss.end(), [](double p) { return p <= 0; });
    if (lossless) {
        current_ = ceiling(m);
        return current_ != before;
    }
    const std::uint32_t b = best(m, loss);
    if (b == current_) return false;
    const double now_cost = egress_per_update(current_, m, loss);
    const double best_cost = egress_per_update(b, m, loss);
    const bool out_of_bounds = current_ > ceiling(m) || current_ < std::min(bounds_.min_updates, ceiling(m));
    if (out_of_bounds || now_cost > best_cost * (1.0 + bounds_.hysteresis)) current_ = b;
    return current_ != before;
}

}  // namespace replicast::server
