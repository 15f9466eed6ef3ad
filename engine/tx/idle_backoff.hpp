// The idle policy (idle_policy.hpp) applied by a polling loop: spin, PAUSE,
// or back off into bounded sleeps. The loop tells it which passes found work.
#pragma once

#include <cstdint>

#include "engine/tx/idle_policy.hpp"

namespace replicast::tx {

/// One per polling loop, owned by its lcore.
class IdleBackoff {
public:
    explicit IdleBackoff(const IdlePolicy& policy) noexcept;

    /// Once, on the lcore, before its loop: a sleeping policy sets the
    /// thread's timer slack to 1 us (the default 50 us would stretch every sleep).
    void prepare_thread() const noexcept;

    /// The pass found work: the next idle pass starts spinning again.
    void work() noexcept {
        empty_passes_ = 0;
        sleep_ns_ = kFirstSleepNs;
    }

    /// The pass found nothing to do. @return whether it slept.
    bool idle() noexcept {
        if (mode_ == IdleMode::poll) return false;
        if (mode_ == IdleMode::pause || ++empty_passes_ < kSpinPasses) {
            pause();
            return false;
        }
        sleep();
        return true;
    }

private:
    static constexpr std::uint32_t kSpinPasses = 300;  // l3fwd-power's SUSPEND_THRESHOLD
    static constexpr std::uint64_t kFirstSleepNs = 1'000;

    static void pause() noexcept;
    void sleep() noexcept;

    IdleMode mode_;
    std::uint64_t max_sleep_ns_;
    std::uint32_t empty_passes_ = 0;
    std::uint64_t sleep_ns_ = kFirstSleepNs;
};

}  // namespace replicast::tx
