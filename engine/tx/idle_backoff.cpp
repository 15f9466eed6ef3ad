#include "engine/tx/idle_backoff.hpp"

#include <rte_pause.h>
#include <sys/prctl.h>

#include <algorithm>
#include <ctime>

namespace replicast::tx {

IdleBackoff::IdleBackoff(const IdlePolicy& policy) noexcept
    : mode_(policy.mode), max_sleep_ns_(std::max<std::uint64_t>(kFirstSleepNs, std::uint64_t{policy.sleep_max_us} * 1000)) {}

void IdleBackoff::prepare_thread() const noexcept {
    if (mode_ == IdleMode::sleep) ::prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
}

void IdleBackoff::pause() noexcept { rte_pause(); }

void IdleBackoff::sleep() noexcept {
    const timespec ts{.tv_sec = static_cast<time_t>(sleep_ns_ / 1'000'000'000),
                      .tv_nsec = static_cast<long>(sleep_ns_ % 1'000'000'000)};
    ::clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, nullptr);  // EINTR: an early wake-up is harmless
    sleep_ns_ = std::min(sleep_ns_ * 2, max_sleep_ns_);
}

}  // namespace replicast::tx
