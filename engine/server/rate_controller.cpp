#include "engine/server/rate_controller.hpp"

#include <algorithm>

namespace replicast::server {

bool RateController::tick(std::uint64_t now_ns, Signal signal) noexcept {
    const std::uint64_t before = current_;
    if (signal != Signal::clear) {
        last_signal_ns_ = now_ns;
        signalled_once_ = true;
    }
    const auto since_change = [&] { return changed_once_ ? now_ns - last_change_ns_ : UINT64_MAX; };
    if (signal == Signal::overrun) {
        if (since_change() >= b_.decrease_gap_ns) {
            const auto lowered = static_cast<std::uint64_t>(static_cast<double>(current_) * b_.decrease);
            current_ = std::max(b_.floor_bps, lowered);
        }
    } else if (signal == Signal::clear && current_ < b_.ceiling_bps && since_change() >= b_.increase_gap_ns &&
               (!signalled_once_ || now_ns - last_signal_ns_ >= b_.hold_ns)) {
        const auto step = std::max<std::uint64_t>({1, b_.ceiling_bps / 1000,
                                                   static_cast<std::uint64_t>(static_cast<double>(current_) * b_.increase)});
        current_ = std::min(b_.ceiling_bps, current_ + step);
    }
    if (current_ == before) return false;
    last_change_ns_ = now_ns;
    changed_once_ = true;
    return true;
}

}  // namespace replicast::server
