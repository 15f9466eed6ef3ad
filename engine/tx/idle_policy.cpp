#include "engine/tx/idle_policy.hpp"

namespace replicast::tx {

std::string_view idle_mode_name(IdleMode mode) noexcept {
    switch (mode) {
        case IdleMode::poll: return "poll";
        case IdleMode::pause: return "pause";
        case IdleMode::sleep: return "sleep";
    }
    return "?";
}

std::string describe(const IdlePolicy& policy) {
    std::string s(idle_mode_name(policy.mode));
    if (policy.mode == IdleMode::sleep) s += " (wake-up within " + std::to_string(policy.sleep_max_us) + " us)";
    return s;
}

}  // namespace replicast::tx
