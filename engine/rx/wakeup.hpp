// Wakes the replica daemon's processing thread when a receive thread has
// queued something, so that an idle daemon sleeps instead of polling.
//
// Before: the processing loop slept 1 ms after every pass with no work, 1000
// wake-ups a second per daemon whether or not a packet came (2.5-3 % of a
// core each on the lab VM: 100 daemons on one host would have used more
// than its two cores doing nothing; bench/RESULTS.md, "Scale").
//
// Protocol (one consumer, any number of producers):
//   consumer: seen = sequence(); a pass over every queue; if it found
//             nothing, wait(seen, timeout): returns at once when a producer
//             notified since `seen` was read, else sleeps until one does or
//             the timeout passes (timers are still seen that often).
//   producer: after publishing a batch, notify(): bumps the sequence, and
//             enters the kernel (futex wake) only when the consumer sleeps.
// No wake-up is lost: the producer bumps the sequence before it reads the
// sleeping flag and the consumer sets the flag before the kernel compares
// the sequence with `seen` (both sequentially consistent), so either the
// producer sees the flag and wakes, or the kernel sees the new sequence.
// Cost per batch: one atomic add and one load; no system call unless the
// consumer sleeps.
#pragma once

#include <atomic>
#include <cstdint>

namespace replicast::rx {

class Wakeup {
public:
    /// The consumer's mark, read before a pass over the queues.
    [[nodiscard]] std::uint32_t sequence() const noexcept { return seq_.load(std::memory_order_seq_cst); }

    /// Producer: something was published (call after the batch is visible).
    void notify() noexcept;

    /// Consumer: sleeps until notify() after `seen` was read, or `timeout_ms`.
    void wait(std::uint32_t seen, std::uint32_t timeout_ms) noexcept;

private:
    std::atomic<std::uint32_t> seq_{0};  // a futex word
    std::atomic<bool> sleeping_{false};
    static_assert(std::atomic<std::uint32_t>::is_always_lock_free && sizeof(std::atomic<std::uint32_t>) == 4);
};

}  // namespace replicast::rx
