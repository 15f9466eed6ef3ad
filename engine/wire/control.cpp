#include "engine/wire/control.hpp"

#include "engine/wire/endian.hpp"

namespace replicast::wire {

WireError parse_heartbeat(std::span<const std::uint8_t> payload, Heartbeat& out) noexcept {
    if (payload.size() != kHeartbeatSize) {
        return WireError::bad_control_length;
    }
    out.last_lsn = load_be<std::uint64_t>(payload.data());
    out.server_time_ns = load_be<std::uint64_t>(payload.data() + 8);
    return WireError::ok;
}

WireError parse_key_change(std::span<const std::uint8_t> payload, KeyChange& out) noexcept {
    if (payload.size() != kKeyChangeSize) {
        return WireError::bad_control_length;
    }
    out.next_epoch = load_be<std::uint32_t>(payload.data());
    out.first_seq = load_be<std::uint64_t>(payload.data() + 4);
    if (out.next_epoch == 0) {
        return WireError::bad_key_epoch;
    }
    if (out.first_seq == 0) {
        return WireError::bad_first_seq;
    }
    return WireError::ok;
}

void encode_heartbeat(const Heartbeat& hb, std::uint8_t* out) noexcept {
    store_be<std::uint64_t>(out, hb.last_lsn);
    store_be<std::uint64_t>(out + 8, hb.server_time_ns);
}

void encode_key_change(const KeyChange& kc, std::uint8_t* out) noexcept {
    store_be<std::uint32_t>(out, kc.next_epoch);
    store_be<std::uint64_t>(out + 4, kc.first_seq);
}

}  // namespace replicast::wire
