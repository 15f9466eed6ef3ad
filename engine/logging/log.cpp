#include "engine/logging/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>

namespace replicast::logging {

namespace {

std::mutex g_mutex;

spdlog::sink_ptr shared_sink() {
    static spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    return sink;
}

}  // namespace

std::shared_ptr<spdlog::logger> get(const std::string& module) {
    std::lock_guard lock(g_mutex);
    if (auto l = spdlog::get(module)) return l;
    auto l = std::make_shared<spdlog::logger>(module, shared_sink());
    l->set_level(spdlog::default_logger()->level());
    spdlog::register_logger(l);
    return l;
}

bool set_level(const std::string& level) {
    const spdlog::level::level_enum l = spdlog::level::from_str(level);
    if (l == spdlog::level::off && level != "off") return false;
    spdlog::set_level(l);  // every registered logger and the default one
    return true;
}

std::optional<RateLimit::Admitted> RateLimit::admit(std::uint64_t now_ns) noexcept {
    std::uint64_t start = window_start_.load(std::memory_order_relaxed);
    if (now_ns - start >= interval_ns_ || start == 0) {
        // A new window; one thread wins the reset, the others count in it.
        if (window_start_.compare_exchange_strong(start, now_ns == 0 ? 1 : now_ns, std::memory_order_relaxed)) {
            in_window_.store(0, std::memory_order_relaxed);
        }
    }
    if (in_window_.fetch_add(1, std::memory_order_relaxed) < burst_) {
        return Admitted{.suppressed = suppressed_.exchange(0, std::memory_order_relaxed)};
    }
    suppressed_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
}

std::optional<RateLimit::Admitted> RateLimit::admit() noexcept {
    return admit(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count()));
}

}  // namespace replicast::logging
