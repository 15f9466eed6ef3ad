// The receivers' loss reports, per (stream, identity), for adaptive bundling.
// gRPC threads add the counters each Subscribe/Keys/Recover carried (totals
// since the follower started); the loop asks, once per tick, for each
// receiver's packet loss rate over the last window: packets_missed over
// packets + packets_missed between the newest report in the window and the
// newest one at or before the window's start (further back, up to 4 windows,
// while fewer than kMinPackets lie between them).
//
// A receiver whose newest report is older than the window counts as lossless:
// a replica that loses nothing makes no Recover call, so silence after loss
// means the loss stopped (and the chains grow back to the ceiling).
//
// Threading: add() from any thread, the rest from the loop; one mutex, held
// for a map lookup and a few copies (control plane only, never a data path).
// Memory: one entry per (stream, identity) that reported, bounded by the
// access list times the streams; entries silent for 4 windows are dropped.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/control/backend.hpp"

namespace replicast::server {

class ReceiverLoss {
public:
    /// Below this many packets between two reports the rate says too little to
    /// act on: at 1 % loss, 100 packets hold one miss give or take one, and the
    /// fanout benchmark's first decisions, made on a few hundred packets, read
    /// 1 % as 2-3 % (1000 packets: about +-30 %, within what the hysteresis absorbs).
    static constexpr std::uint64_t kMinPackets = 1000;

    explicit ReceiverLoss(std::chrono::milliseconds window) noexcept;

    void add(std::string_view identity, std::uint32_t stream_id, const control::ReceiverReport& r, std::uint64_t now_ns);

    /// The loss rate of every receiver of `stream_id` with enough evidence in
    /// the window ending at `now_ns` (appended to `out`, which is cleared first).
    void rates(std::uint32_t stream_id, std::uint64_t now_ns, std::vector<double>& out);

    /// Drops receivers silent for 4 windows.
    void prune(std::uint64_t now_ns);

    [[nodiscard]] std::uint64_t window_ns() const noexcept { return window_ns_; }

private:
    struct Sample {
        std::uint64_t at_ns = 0;
        std::uint64_t packets = 0;
        std::uint64_t missed = 0;
    };
    // Samples at least window/8 apart (a newer report within that replaces the
    // newest), so 10 of them span more than the window.
    static constexpr std::size_t kSamples = 10;
    struct Receiver {
        std::array<Sample, kSamples> ring{};
        std::size_t count = 0;  // samples held
        std::size_t next = 0;   // where the next one goes
        [[nodiscard]] const Sample& nth_newest(std::size_t i) const noexcept {
            return ring[(next + kSamples - 1 - i) % kSamples];
        }
    };

    const std::uint64_t window_ns_;
    std::mutex mutex_;
    std::map<std::pair<std::uint32_t, std::string>, Receiver> receivers_;
};

}  // namespace replicast::server
