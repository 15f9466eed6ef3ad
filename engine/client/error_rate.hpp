// The error-rate policy (issue 11 item 8, the seed's): when too many chains
// are lost on multicast, first re-subscribe (and report it: the server sees
// the statistics that ride on the call), and when the rate stays high, leave
// the group for a while and follow by periodic Recover (unicast), then try
// multicast again.
//
// The rate is lost / (applied + lost) chains over a sliding window of
// `window_ns` (kBuckets buckets), judged only once the window holds at least
// `min_chains`, so that a quiet stream with one loss does not trip it.
//
// Why the default threshold is high (75 %): staying on multicast costs the
// server nothing (the group is sent once for everybody) and repairs only the
// lost chains, while following by Recover repairs every chain and adds up to a
// poll period of latency. A chain of k packets is lost with probability
// 1 - (1 - p)^k, so modest packet loss already loses many long chains (1 % on
// 30-packet chains loses 26 % of them): judging chains at 20 % sent such clients
// to unicast and multiplied the repair traffic. Leaving pays only once
// multicast delivers almost nothing.
//
//   multicast --rate > threshold--> resubscribe (once) --> multicast(probation)
//   probation --rate still > threshold after one window--> unicast for unicast_ns
//   unicast --period over--> rejoin (multicast, a fresh window)
//
// Pure: time passed in, no I/O.
#pragma once

#include <array>
#include <cstdint>

namespace replicast::client {

struct ErrorRateConfig {
    std::uint64_t window_ns = 10'000'000'000;  // 10 s
    double threshold = 0.75;                   // lost share of chains
    std::uint64_t min_chains = 50;             // judged only past this many chains in the window
    std::uint64_t unicast_ns = 30'000'000'000; // time off multicast when the rate stays high
    std::uint64_t unicast_poll_ns = 200'000'000;  // Recover period while on unicast
};

class ErrorRatePolicy {
public:
    enum class Mode : std::uint8_t { multicast, probation, unicast };
    enum class Action : std::uint8_t { none, resubscribe, leave_multicast, rejoin_multicast };

    explicit ErrorRatePolicy(const ErrorRateConfig& config) noexcept : config_(config) {}

    void on_applied(std::uint64_t chains, std::uint64_t now_ns) noexcept { add(chains, 0, now_ns); }
    void on_lost(std::uint64_t chains, std::uint64_t now_ns) noexcept { add(0, chains, now_ns); }

    /// What to do now; call once per loop turn.
    Action evaluate(std::uint64_t now_ns) noexcept;

    [[nodiscard]] Mode mode() const noexcept { return mode_; }
    /// The lost share over the window (0 when it holds fewer than min_chains).
    [[nodiscard]] double rate(std::uint64_t now_ns) noexcept;
    [[nodiscard]] const ErrorRateConfig& config() const noexcept { return config_; }

private:
    static constexpr std::size_t kBuckets = 10;
    struct Bucket {
        std::uint64_t start = 0;
        std::uint64_t applied = 0;
        std::uint64_t lost = 0;
    };
    void add(std::uint64_t applied, std::uint64_t lost, std::uint64_t now_ns) noexcept;
    void expire(std::uint64_t now_ns) noexcept;
    void clear() noexcept { buckets_ = {}; }

    ErrorRateConfig config_;
    std::array<Bucket, kBuckets> buckets_{};
    Mode mode_ = Mode::multicast;
    std::uint64_t since_ = 0;  // when the current mode began
};

}  // namespace replicast::client
