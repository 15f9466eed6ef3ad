// Named loggers, one per module ("server", "tx", "control", "client", "rx",
// "store", "tools"), all writing to stderr through one spdlog sink, and a rate
// limit for every message that traffic can trigger (a forged packet, a bad
// certificate, a malformed request): a flood must cost counters, not log lines
// (STYLE practice 7).
//
//   static logging::RateLimit limit{std::chrono::seconds(1), 5};
//   if (auto n = limit.admit(now_ns)) log->warn("... ({} like it suppressed)", n->suppressed);
//
// Thread-safe: loggers are spdlog's (thread-safe sinks); a RateLimit may be
// shared by threads (atomics, no lock).
#pragma once

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace replicast::logging {

/// The logger named `module`, made on first use with the process's sink and level.
std::shared_ptr<spdlog::logger> get(const std::string& module);

/// Sets every logger's level ("trace".."off"); @return false for an unknown name.
bool set_level(const std::string& level);

/// At most `burst` admissions per `interval`; the rest are counted and the
/// count is handed to the next admitted line.
class RateLimit {
public:
    RateLimit(std::chrono::nanoseconds interval, std::uint32_t burst) noexcept
        : interval_ns_(static_cast<std::uint64_t>(interval.count())), burst_(burst) {}

    struct Admitted {
        std::uint64_t suppressed = 0;  // lines held back since the last admitted one
    };

    /// @return a value when this line may be logged at `now_ns` (any monotonic clock).
    std::optional<Admitted> admit(std::uint64_t now_ns) noexcept;
    /// The same, on the steady clock.
    std::optional<Admitted> admit() noexcept;

private:
    std::uint64_t interval_ns_;
    std::uint32_t burst_;
    std::atomic<std::uint64_t> window_start_{0};
    std::atomic<std::uint32_t> in_window_{0};
    std::atomic<std::uint64_t> suppressed_{0};
};

}  // namespace replicast::logging
