// What a busy-polling lcore (a tx worker, the codec stage) does with a pass
// that found nothing to do. On a dedicated core the DPDK answer is to keep
// polling; on a shared machine (the netns lab: 2 cores for the server and every
// client) a polling worker takes a whole core from the clients. The policies
// follow DPDK's l3fwd-power:
//   poll   spin (lowest latency, 100 % of the core);
//   pause  spin with the PAUSE instruction (the sibling hyper-thread and the
//          power budget get the pipeline; still 100 % of the core to the OS);
//   sleep  spin for a few hundred empty passes (a burst's next chain comes
//          quickly), then nanosleep, doubling from 1 us up to `sleep_max_us`:
//          the bounded wake-up. A chain posted to a sleeping worker waits at
//          most sleep_max_us (plus the timer slack, set to 1 us).
// Only idle passes reach these calls: while a chain is being paced out, or
// frames wait for the port, the loop polls whatever the policy.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace replicast::tx {

enum class IdleMode : std::uint8_t { poll, pause, sleep };

struct IdlePolicy {
    IdleMode mode = IdleMode::poll;
    std::uint32_t sleep_max_us = 100;  // sleep: the longest single sleep (the wake-up bound)
};

[[nodiscard]] std::string_view idle_mode_name(IdleMode mode) noexcept;
/// "poll", "pause", or "sleep (wake-up within 100 us)": for logs and benchmark reports.
[[nodiscard]] std::string describe(const IdlePolicy& policy);

}  // namespace replicast::tx
