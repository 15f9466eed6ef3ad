#include "engine/rx/wakeup.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ctime>

namespace replicast::rx {

namespace {

long futex(std::atomic<std::uint32_t>* word, int op, std::uint32_t value, const timespec* timeout) noexcept {
    // The word is a plain 32-bit integer in memory (lock-free, size 4: see the header).
    return ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), op, value, timeout, nullptr, 0);
}

}  // namespace

void Wakeup::notify() noexcept {
    seq_.fetch_add(1, std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_seq_cst)) (void)futex(&seq_, FUTEX_WAKE_PRIVATE, 1, nullptr);
}

void Wakeup::wait(std::uint32_t seen, std::uint32_t timeout_ms) noexcept {
    sleeping_.store(true, std::memory_order_seq_cst);
    const timespec timeout{.tv_sec = static_cast<time_t>(timeout_ms / 1000),
                           .tv_nsec = static_cast<long>(timeout_ms % 1000) * 1'000'000};
    // EAGAIN (the sequence moved on), EINTR (a signal: the caller looks at its
    // stop flag) and ETIMEDOUT all mean the same here: go and look.
    (void)futex(&seq_, FUTEX_WAIT_PRIVATE, seen, &timeout);
    sleeping_.store(false, std::memory_order_relaxed);
}

}  // namespace replicast::rx
