#include "engine/wire/error.hpp"

namespace replicast::wire {

namespace {

struct ErrorText {
    std::string_view name;
    std::string_view text;
};

constexpr ErrorText text_of(WireError e) noexcept {
    switch (e) {
    case WireError::ok: return {"ok", "ok"};
    case WireError::shorter_than_header: return {"shorter_than_header", "datagram shorter than the 24-byte header"};
    case WireError::bad_magic: return {"bad_magic", "bad magic (expected 0x5243)"};
    case WireError::bad_version: return {"bad_version", "unsupported protocol version (expected 1)"};
    case WireError::bad_flags: return {"bad_flags", "invalid flag combination"};
    case WireError::length_mismatch: return {"length_mismatch", "datagram length does not match payload_len and key_epoch"};
    case WireError::bad_comp_alg: return {"bad_comp_alg", "unknown compression algorithm"};
    case WireError::record_too_short: return {"record_too_short", "chain record shorter than its 16-byte head"};
    case WireError::zero_update_count: return {"zero_update_count", "chain record with update_count 0"};
    case WireError::body_too_large: return {"body_too_large", "chain body_len over 64 MiB"};
    case WireError::body_len_mismatch: return {"body_len_mismatch", "plain chain body is not body_len bytes"};
    case WireError::inflate_failed: return {"inflate_failed", "DEFLATE body corrupt or not body_len bytes inflated"};
    case WireError::update_truncated: return {"update_truncated", "update runs past the end of the body"};
    case WireError::bad_op: return {"bad_op", "unknown update op (expected 1 put or 2 delete)"};
    case WireError::bad_key_len: return {"bad_key_len", "key_len outside 1..511"};
    case WireError::value_too_large: return {"value_too_large", "value_len over 16 MiB"};
    case WireError::delete_with_value: return {"delete_with_value", "delete carries a value"};
    case WireError::update_count_mismatch: return {"update_count_mismatch", "body holds fewer updates than update_count"};
    case WireError::trailing_bytes: return {"trailing_bytes", "bytes left in the body after update_count updates"};
    case WireError::bad_control_length: return {"bad_control_length", "control payload has the wrong length"};
    case WireError::bad_key_epoch: return {"bad_key_epoch", "key change to epoch 0"};
    case WireError::bad_first_seq: return {"bad_first_seq", "key change starting at packet_seq 0"};
    case WireError::buffer_too_small: return {"buffer_too_small", "output buffer too small"};
    }
    return {"unknown", "unknown wire error"};
}

}  // namespace

std::string_view describe(WireError e) noexcept { return text_of(e).text; }
std::string_view error_name(WireError e) noexcept { return text_of(e).name; }

}  // namespace replicast::wire
