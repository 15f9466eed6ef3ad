// What `replicast decode` finds in one datagram: header validation, and the
// meaning of the payload when it can be read (unsealed, or opened with a key log).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/wire/chain_record.hpp"
#include "engine/wire/control.hpp"
#include "engine/wire/packet.hpp"

namespace replicast::tools {

enum class OpenState : std::uint8_t {
    plaintext,     // key_epoch 0: nothing to open
    opened,        // the tag verified with the logged key
    no_key,        // sealed, and the key log has no key for (stream_id, key_epoch)
    tag_mismatch,  // sealed, the key is known, and the tag does not verify: forged or corrupted
};

struct PacketReport {
    wire::WireError error = wire::WireError::ok;  // header validation
    wire::PacketView view;                        // valid when error == ok
    OpenState open = OpenState::no_key;
    std::vector<std::uint8_t> plaintext;  // the payload, when plaintext or opened
    // Payload meaning, when it could be read:
    wire::WireError payload_error = wire::WireError::ok;
    std::optional<wire::Heartbeat> heartbeat;
    std::optional<wire::KeyChange> key_change;
    std::optional<wire::ChainRecordHead> chain_head;  // on FIC/OIC data packets

    /// True when nothing about the packet is wrong (unknown keys are not faults).
    [[nodiscard]] bool good() const noexcept {
        return error == wire::WireError::ok && open != OpenState::tag_mismatch && payload_error == wire::WireError::ok;
    }
};

/// Opens sealed payloads; the key log's job. Returns std::nullopt when no key is known,
/// else whether the tag verified (plaintext written to `out`).
class PayloadOpener {
public:
    virtual ~PayloadOpener() = default;
    virtual std::optional<bool> open(const wire::PacketView& view, std::vector<std::uint8_t>& out) const = 0;
};

/// Validates and interprets one datagram. `opener` may be null (no key log).
PacketReport analyse_datagram(std::span<const std::uint8_t> datagram, const PayloadOpener* opener);

[[nodiscard]] std::string_view describe(OpenState s) noexcept;

}  // namespace replicast::tools
