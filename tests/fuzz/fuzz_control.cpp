// Heartbeat and key-change payloads (PROTOCOL.md 1.4, 1.5): no crash on any
// bytes, the documented refusals, and what parses re-encodes to the same bytes.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "engine/wire/control.hpp"

using namespace replicast::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes(data, size);
    Heartbeat hb;
    const WireError h = parse_heartbeat(bytes, hb);
    if ((h == WireError::ok) != (size == kHeartbeatSize)) std::abort();
    if (h == WireError::ok) {
        std::uint8_t again[kHeartbeatSize];
        encode_heartbeat(hb, again);
        if (std::memcmp(again, data, kHeartbeatSize) != 0) std::abort();
    }
    KeyChange kc;
    const WireError k = parse_key_change(bytes, kc);
    if (k == WireError::ok) {
        if (size != kKeyChangeSize || kc.next_epoch == 0 || kc.first_seq == 0) std::abort();
        std::uint8_t again[kKeyChangeSize];
        encode_key_change(kc, again);
        if (std::memcmp(again, data, kKeyChangeSize) != 0) std::abort();
    } else if (size != kKeyChangeSize && k != WireError::bad_control_length) {
        std::abort();
    }
    return 0;
}
