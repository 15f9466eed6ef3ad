// Control packet payloads: heartbeat (PROTOCOL.md 1.4) and key change (1.5).
// Both travel as OIC packets sealed like data; these codecs see the plaintext.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/wire/error.hpp"

namespace replicast::wire {

inline constexpr std::size_t kHeartbeatSize = 16;
inline constexpr std::size_t kKeyChangeSize = 12;

struct Heartbeat {
    std::uint64_t last_lsn = 0;        // highest LSN multicast on the stream so far
    std::uint64_t server_time_ns = 0;  // CLOCK_REALTIME at send
};

struct KeyChange {
    std::uint32_t next_epoch = 0;  // never 0: a key change cannot switch sealing off
    std::uint64_t first_seq = 0;   // first packet_seq sealed with next_epoch; never 0
};

/// @return ok; bad_control_length when the payload is not exactly 16 bytes.
[[nodiscard]] WireError parse_heartbeat(std::span<const std::uint8_t> payload, Heartbeat& out) noexcept;
/// @return ok; bad_control_length, bad_key_epoch (next_epoch 0), bad_first_seq (first_seq 0).
[[nodiscard]] WireError parse_key_change(std::span<const std::uint8_t> payload, KeyChange& out) noexcept;

/// Write the payload; the caller guarantees kHeartbeatSize / kKeyChangeSize bytes at `out`.
void encode_heartbeat(const Heartbeat& hb, std::uint8_t* out) noexcept;
void encode_key_change(const KeyChange& kc, std::uint8_t* out) noexcept;

}  // namespace replicast::wire
