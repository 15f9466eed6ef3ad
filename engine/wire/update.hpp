// Update codec (PROTOCOL.md 1.3): the body of a chain is `update_count` of these,
// back to back, with consecutive LSNs from the record's first_lsn.
//
//   1    2             2         4           key_len   value_len
//   +----+-------------+---------+-----------+---------+-----------+
//   | op | reader_group| key_len | value_len |   key   |   value   |
//   +----+-------------+---------+-----------+---------+-----------+
//
// The same encoding is the value of every entry of the store's log, so the log
// serves recovery as chain bodies without re-encoding. Nothing here allocates
// or throws; views point into the caller's buffer. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "engine/wire/endian.hpp"
#include "engine/wire/error.hpp"

namespace replicast::wire {

inline constexpr std::size_t kUpdateHeadSize = 9;
inline constexpr std::size_t kMaxKeyLen = 511;
inline constexpr std::uint32_t kMaxValueLen = 16u << 20;  // 16 MiB

enum class Op : std::uint8_t { put = 1, del = 2 };

struct UpdateView {
    Op op = Op::put;
    std::uint16_t reader_group = 0;  // 0 = everyone
    std::span<const std::uint8_t> key;
    std::span<const std::uint8_t> value;  // empty for a delete
};

/// Parses the one update at the start of `bytes`.
/// @return ok with `consumed` set; or update_truncated, bad_op, bad_key_len,
///         value_too_large, delete_with_value.
[[nodiscard]] WireError parse_update(std::span<const std::uint8_t> bytes, UpdateView& out, std::size_t& consumed) noexcept;

/// Checks that `u` may be encoded (op, key length, value length, delete without value).
/// Inline: the chain builder runs it for every update it bundles.
[[nodiscard]] constexpr WireError check_update(const UpdateView& u) noexcept {
    if (u.op != Op::put && u.op != Op::del) {
        return WireError::bad_op;
    }
    if (u.key.empty() || u.key.size() > kMaxKeyLen) {
        return WireError::bad_key_len;
    }
    if (u.value.size() > kMaxValueLen) {
        return WireError::value_too_large;
    }
    if (u.op == Op::del && !u.value.empty()) {
        return WireError::delete_with_value;
    }
    return WireError::ok;
}

/// Bytes `u` takes on the wire.
[[nodiscard]] constexpr std::size_t encoded_update_size(const UpdateView& u) noexcept {
    return kUpdateHeadSize + u.key.size() + u.value.size();
}

/// Encodes `u`, which check_update() accepted, at `out` (encoded_update_size(u)
/// bytes). Inline, for the chain builder's per-update path.
inline void encode_checked_update(const UpdateView& u, std::uint8_t* out) noexcept {
    out[0] = static_cast<std::uint8_t>(u.op);
    store_be<std::uint16_t>(out + 1, u.reader_group);
    store_be<std::uint16_t>(out + 3, static_cast<std::uint16_t>(u.key.size()));
    store_be<std::uint32_t>(out + 5, static_cast<std::uint32_t>(u.value.size()));
    std::memcpy(out + kUpdateHeadSize, u.key.data(), u.key.size());
    if (!u.value.empty()) {
        std::memcpy(out + kUpdateHeadSize + u.key.size(), u.value.data(), u.value.size());
    }
}

/// Encodes `u` at the start of `out`.
/// @return ok with `written` set; buffer_too_small; or the errors of check_update.
[[nodiscard]] WireError encode_update(const UpdateView& u, std::span<std::uint8_t> out, std::size_t& written) noexcept;

/// Walks a decompressed body that must hold exactly `count` updates.
///
///   UpdateReader r(body, count);
///   for (UpdateView u; r.next(u);) { ... }
///   if (r.error() != WireError::ok) { drop the whole chain }
class UpdateReader {
public:
    UpdateReader(std::span<const std::uint8_t> body, std::uint32_t count) noexcept : rest_(body), left_(count) {}

    /// @return true with the next update in `out`; false once `count` updates were
    ///         read or the body is malformed. error() then tells which: ok for a clean
    ///         end, update_count_mismatch, trailing_bytes, or a parse_update error.
    [[nodiscard]] bool next(UpdateView& out) noexcept;

    [[nodiscard]] WireError error() const noexcept { return error_; }

private:
    std::span<const std::uint8_t> rest_;
    std::uint32_t left_;
    WireError error_ = WireError::ok;
};

/// Validates a whole body: exactly `count` well-formed updates and no trailing bytes.
[[nodiscard]] WireError validate_body(std::span<const std::uint8_t> body, std::uint32_t count) noexcept;

}  // namespace replicast::wire
