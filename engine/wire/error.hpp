// Every reason the wire layer rejects bytes, one enumerator per rule of
// PROTOCOL.md section 1. Decoders return these instead of throwing: they run on
// the receive path, where a bad datagram is counted and dropped, never fatal.
#pragma once

#include <cstdint>
#include <string_view>

namespace replicast::wire {

enum class WireError : std::uint8_t {
    ok = 0,
    // 1.1 packet header
    shorter_than_header,   // datagram < 24 bytes
    bad_magic,             // magic != 0x5243
    bad_version,           // version != 1
    bad_flags,             // not exactly one chain position, or a control flag misused
    length_mismatch,       // datagram != 24 + payload_len (+16 when sealed)
    bad_comp_alg,          // comp_alg not 0 or 1
    // 1.3 chain record
    record_too_short,      // fewer than 16 bytes of record
    zero_update_count,     // update_count == 0
    body_too_large,        // body_len > 64 MiB
    body_len_mismatch,     // a plain body that is not exactly body_len bytes
    inflate_failed,        // a DEFLATE body that is corrupt or does not inflate to exactly body_len bytes
    // 1.3 update body
    update_truncated,      // an update's 9-byte head or its key/value runs past the body
    bad_op,                // op not 1 (put) or 2 (delete)
    bad_key_len,           // key_len 0 or > 511
    value_too_large,       // value_len > 16 MiB
    delete_with_value,     // op delete with value_len != 0
    update_count_mismatch, // body ended before update_count updates
    trailing_bytes,        // bytes left after update_count updates
    // 1.4 / 1.5 control payloads
    bad_control_length,    // heartbeat payload != 16 bytes, key change != 12
    bad_key_epoch,         // a key change to epoch 0 (would turn sealing off)
    bad_first_seq,         // a key change starting at packet_seq 0
    // buffers supplied by the caller of an encoder
    buffer_too_small,
};

/// A short, stable, human-readable reason ("bad magic"), for logs, counters
/// and `replicast decode`. Never returns an empty string.
std::string_view describe(WireError e) noexcept;

/// A stable identifier ("bad_magic"), for JSON output and counter names.
std::string_view error_name(WireError e) noexcept;

}  // namespace replicast::wire
