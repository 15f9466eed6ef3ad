#include "engine/client/error_rate.hpp"

namespace replicast::client {

void ErrorRatePolicy::expire(std::uint64_t now_ns) noexcept {
    for (Bucket& b : buckets_) {
        if (b.start + config_.window_ns <= now_ns) b = {};
    }
}

void ErrorRatePolicy::add(std::uint64_t applied, std::uint64_t lost, std::uint64_t now_ns) noexcept {
    const std::uint64_t width = config_.window_ns / kBuckets == 0 ? 1 : config_.window_ns / kBuckets;
    const std::uint64_t start = now_ns - now_ns % width;
    Bucket& b = buckets_[(now_ns / width) % kBuckets];
    if (b.start != start) b = {.start = start};
    b.applied += applied;
    b.lost += lost;
}

double ErrorRatePolicy::rate(std::uint64_t now_ns) noexcept {
    expire(now_ns);
    std::uint64_t applied = 0, lost = 0;
    for (const Bucket& b : buckets_) {
        applied += b.applied;
        lost += b.lost;
    }
    if (applied + lost < config_.min_chains || applied + lost == 0) return 0.0;
    return static_cast<double>(lost) / static_cast<double>(applied + lost);
}

ErrorRatePolicy::Action ErrorRatePolicy::evaluate(std::uint64_t now_ns) noexcept {
    switch (mode_) {
    case Mode::multicast:
        if (rate(now_ns) > config_.threshold) {
            mode_ = Mode::probation;
            since_ = now_ns;
            clear();  // judge the new subscription on its own window
            return Action::resubscribe;
        }
        return Action::none;
    case Mode::probation:
        if (now_ns - since_ < config_.window_ns) return Action::none;
        if (rate(now_ns) > config_.threshold) {
            mode_ = Mode::unicast;
            since_ = now_ns;
            clear();
            return Action::leave_multicast;
        }
        mode_ = Mode::multicast;
        return Action::none;
    case Mode::unicast:
        if (now_ns - since_ < config_.unicast_ns) return Action::none;
        mode_ = Mode::multicast;
        since_ = now_ns;
        clear();
        return Action::rejoin_multicast;
    }
    return Action::none;
}

}  // namespace replicast::client
