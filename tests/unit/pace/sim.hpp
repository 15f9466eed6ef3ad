// A tx loop on a simulated clock, shaped like engine/tx's: on each wake-up it
// sends every packet that is due at `now`, all at that same tick, then sleeps
// until the next deadline (poll_ticks = 0) or for a fixed poll step, and wakes
// up to `jitter` ticks late. Nothing reads a real clock, and the seeds are
// fixed, so every run is the same.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "engine/pace/pacer.hpp"

namespace replicast::pace::sim {

struct Loop {
    std::uint64_t poll_ticks = 0;  // 0: wake exactly at the next deadline
    std::uint64_t jitter = 0;      // wake up to this many ticks late
    std::uint64_t seed = 1;
    // Stop after this many sends. The default is above any run here (1 s of
    // 100 Gbit/s of minimum frames is 149 M) and turns a broken pacer that
    // never makes time pass into a failed test instead of a hung one.
    std::uint64_t max_packets = 400'000'000;
};

// Running totals, cheap enough for the 150 M packets of 100 Gbit/s of 64-byte
// frames for a second.
struct Stats {
    std::uint64_t packets = 0;
    u128 bytes = 0;
    std::uint64_t first = 0, last = 0;  // send ticks of the first and the last packet
    std::uint32_t last_bytes = 0;
    std::uint64_t min_gap = ~0ULL;      // between consecutive sends
    std::uint64_t max_tick_bytes = 0;   // most bytes sent at one tick

    // Bytes per tick * 8 * hz over [first, last): every packet but the last,
    // since the last one's time on the wire lies beyond `last`.
    [[nodiscard]] double bps(std::uint64_t hz) const {
        return static_cast<double>(bytes - last_bytes) * 8.0 * static_cast<double>(hz) / static_cast<double>(last - first);
    }
    // The same as an exact check: never above `rate`.
    [[nodiscard]] bool at_most(std::uint64_t rate, std::uint64_t hz) const {
        return (bytes - last_bytes) * 8u * hz <= u128{rate} * (last - first);
    }
};

struct Send {
    std::uint64_t tick;
    std::uint32_t bytes;
    std::uint64_t chain_bytes;  // != 0: the last packet of a chain this long
};

// Sends packets whose sizes come from `next_size()` from tick `start` until
// `start + duration`. `chain_of(i)` returns the chain size in bytes if packet
// i ends a chain, else 0. With `log`, every send is recorded.
template <class SizeFn, class ChainFn>
Stats run(Pacer& p, std::uint64_t start, std::uint64_t duration, Loop loop, SizeFn next_size, ChainFn chain_of,
          std::vector<Send>* log = nullptr) {
    std::mt19937_64 rng(loop.seed);
    Stats st;
    std::uint64_t now = start, tick_bytes = 0, prev = 0;
    std::uint32_t size = next_size();
    while (now < start + duration && st.packets < loop.max_packets) {
        const std::uint64_t deadline = p.next_deadline(now, size);
        if (deadline > now) {
            now = loop.poll_ticks == 0 ? deadline : now + loop.poll_ticks;
            if (loop.jitter != 0) now += rng() % (loop.jitter + 1);
            continue;
        }
        const std::uint64_t chain = chain_of(st.packets);
        p.on_sent(now, size, chain != 0, chain);
        if (log != nullptr) log->push_back({now, size, chain});
        if (st.packets == 0) {
            st.first = now;
        } else {
            st.min_gap = std::min(st.min_gap, now - prev);
        }
        tick_bytes = st.packets != 0 && now == prev ? tick_bytes + size : size;
        st.max_tick_bytes = std::max(st.max_tick_bytes, tick_bytes);
        prev = st.last = now;
        st.last_bytes = size;
        st.bytes += size;
        ++st.packets;
        size = next_size();
    }
    return st;
}

// Sends packets of `size` at `now` for as long as they are due, at most `limit`
// of them (a bound, so that a broken pacer fails the test rather than hanging
// it). Returns the bytes sent.
inline std::uint64_t send_while_due(Pacer& p, std::uint64_t now, std::uint32_t size, std::uint64_t limit) {
    std::uint64_t n = 0;
    while (n < limit && p.next_deadline(now, size) <= now) {
        p.on_sent(now, size, false, 0);
        ++n;
    }
    return n * size;
}

inline auto fixed(std::uint32_t size) {
    return [size] { return size; };
}
inline auto no_chains() {
    return [](std::uint64_t) { return std::uint64_t{0}; };
}

}  // namespace replicast::pace::sim
