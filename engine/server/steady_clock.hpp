// The control core's clock: steady nanoseconds, the one every loop deadline
// (stats, leases, adaptive bundling and rate, idle stops) is kept in.
#pragma once

#include <chrono>
#include <cstdint>

namespace replicast::server {

inline std::uint64_t steady_ns() noexcept {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

}  // namespace replicast::server
