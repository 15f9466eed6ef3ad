// A bounded single-producer single-consumer ring of preallocated slots.
//
// The producer claims slots past the published tail, fills them in place and
// publishes them in one store (release); the consumer reads the published
// ones and releases them (release again, so the producer may reuse them). No
// allocation after construction, no lock, no system call: the receive thread
// and the processing thread meet here and nowhere else. Capacity is a power of
// two so that an index is a mask, not a division.
//
// Threading: exactly one producer thread and one consumer thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <vector>

namespace replicast::rx {

// Producer and consumer indices on their own cache lines: each is written by
// one thread and read by the other, and sharing a line would bounce it per packet.
inline constexpr std::size_t kCacheLine = 64;

template <typename T>
class SpscRing {
public:
    /// Throws std::invalid_argument unless `capacity` is a power of two >= 2.
    explicit SpscRing(std::size_t capacity) : slots_(capacity), mask_(capacity - 1) {
        if (capacity < 2 || (capacity & (capacity - 1)) != 0) {
            throw std::invalid_argument("SpscRing: capacity must be a power of two >= 2");
        }
    }

    [[nodiscard]] std::size_t capacity() const noexcept { return slots_.size(); }

    // ---- producer ----
    /// Slots the producer may claim now (beyond those it already published).
    [[nodiscard]] std::size_t free_slots() const noexcept {
        return capacity() - (tail_.load(std::memory_order_relaxed) - head_.load(std::memory_order_acquire));
    }
    /// The slot `i` places past the published tail (i < free_slots()).
    [[nodiscard]] T& claim(std::size_t i) noexcept { return slots_[(tail_.load(std::memory_order_relaxed) + i) & mask_]; }
    /// Its index, for arenas kept beside the ring.
    [[nodiscard]] std::size_t claim_index(std::size_t i) const noexcept {
        return (tail_.load(std::memory_order_relaxed) + i) & mask_;
    }
    /// Makes the next `n` claimed slots visible to the consumer.
    void publish(std::size_t n) noexcept { tail_.store(tail_.load(std::memory_order_relaxed) + n, std::memory_order_release); }
    /// One value, copied in. @return false when full.
    bool try_push(const T& v) noexcept {
        if (free_slots() == 0) return false;
        claim(0) = v;
        publish(1);
        return true;
    }

    // ---- consumer ----
    /// Published slots not yet released.
    [[nodiscard]] std::size_t readable() const noexcept {
        return tail_.load(std::memory_order_acquire) - head_.load(std::memory_order_relaxed);
    }
    [[nodiscard]] T& peek(std::size_t i) noexcept { return slots_[(head_.load(std::memory_order_relaxed) + i) & mask_]; }
    [[nodiscard]] std::size_t peek_index(std::size_t i) const noexcept {
        return (head_.load(std::memory_order_relaxed) + i) & mask_;
    }
    /// Hands `n` read slots back to the producer.
    void release(std::size_t n) noexcept { head_.store(head_.load(std::memory_order_relaxed) + n, std::memory_order_release); }
    /// One value, copied out. @return false when empty.
    bool try_pop(T& out) noexcept {
        if (readable() == 0) return false;
        out = peek(0);
        release(1);
        return true;
    }

private:
    std::vector<T> slots_;
    std::size_t mask_;
    alignas(kCacheLine) std::atomic<std::uint64_t> head_{0};
    alignas(kCacheLine) std::atomic<std::uint64_t> tail_{0};
};

}  // namespace replicast::rx
