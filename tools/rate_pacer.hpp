// A writer's pace: `load --rate` and `publish --file --rate` write at most
// so many records per second, on a schedule from their first record (record
// i is due at i / rate seconds), not one sleep per record: a writer that fell
// behind (a slow commit, the CPU taken away) takes everything that is due in
// its next transaction, up to its batch, and so holds the rate on average.
// The lab benchmarks (bench/lab/e2e.py) offer updates at a rate this way.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <thread>

namespace replicast::tools {

class RatePacer {
public:
    /// per_second 0: no pacing (every call allows max_batch).
    explicit RatePacer(double per_second) : rate_(per_second) {}

    /// How many records may go now, `done` having gone already: 1..max_batch,
    /// after waiting until the next one is due.
    std::size_t take(std::uint64_t done, std::size_t max_batch) {
        if (rate_ <= 0) return max_batch;
        const auto now = std::chrono::steady_clock::now();
        if (!started_) {
            start_ = now;
            started_ = true;
        }
        auto due = [&](std::chrono::steady_clock::time_point t) {
            return static_cast<std::uint64_t>(std::chrono::duration<double>(t - start_).count() * rate_) + 1;
        };
        std::uint64_t allowed = due(now);
        if (allowed <= done) {
            std::this_thread::sleep_until(start_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                       std::chrono::duration<double>(static_cast<double>(done) / rate_)));
            allowed = std::max(due(std::chrono::steady_clock::now()), done + 1);
        }
        return static_cast<std::size_t>(std::min<std::uint64_t>(allowed - done, max_batch));
    }

    /// Waits until record `index` (from 0) is due: a caller whose batches are
    /// fixed (a Publish call) sends each when its last record is.
    void wait_due(std::uint64_t index) {
        if (rate_ <= 0) return;
        if (!started_) {
            start_ = std::chrono::steady_clock::now();
            started_ = true;
        }
        std::this_thread::sleep_until(start_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                   std::chrono::duration<double>(static_cast<double>(index) / rate_)));
    }

private:
    double rate_;
    bool started_ = false;
    std::chrono::steady_clock::time_point start_{};
};

}  // namespace replicast::tools
