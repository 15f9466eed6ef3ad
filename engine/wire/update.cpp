#include "engine/wire/update.hpp"

#include <cstring>

#include "engine/wire/endian.hpp"

namespace replicast::wire {

namespace {

// The rules of one update's head, shared by parse_update and validate_body (so
// there is one place that says what a well-formed update is). `total` is the
// update's size on the wire.
inline WireError check_head(const std::uint8_t* p, std::size_t avail, std::size_t& total) noexcept {
    if (avail < kUpdateHeadSize) {
        return WireError::update_truncated;
    }
    const std::uint8_t op = p[0];
    if (op != static_cast<std::uint8_t>(Op::put) && op != static_cast<std::uint8_t>(Op::del)) {
        return WireError::bad_op;
    }
    const std::uint16_t key_len = load_be<std::uint16_t>(p + 3);
    const std::uint32_t value_len = load_be<std::uint32_t>(p + 5);
    if (key_len == 0 || key_len > kMaxKeyLen) {
        return WireError::bad_key_len;
    }
    if (value_len > kMaxValueLen) {
        return WireError::value_too_large;
    }
    if (op == static_cast<std::uint8_t>(Op::del) && value_len != 0) {
        return WireError::delete_with_value;
    }
    // Both lengths are bounded above, so the sum cannot overflow size_t.
    total = kUpdateHeadSize + key_len + std::size_t{value_len};
    if (avail < total) {
        return WireError::update_truncated;
    }
    return WireError::ok;
}

}  // namespace

WireError parse_update(std::span<const std::uint8_t> bytes, UpdateView& out, std::size_t& consumed) noexcept {
    std::size_t total = 0;
    if (const WireError e = check_head(bytes.data(), bytes.size(), total); e != WireError::ok) {
        return e;
    }
    const std::uint8_t* p = bytes.data();
    const std::uint8_t op = p[0];
    const std::uint16_t key_len = load_be<std::uint16_t>(p + 3);
    const std::uint32_t value_len = load_be<std::uint32_t>(p + 5);
    out.op = static_cast<Op>(op);
    out.reader_group = load_be<std::uint16_t>(p + 1);
    out.key = bytes.subspan(kUpdateHeadSize, key_len);
    out.value = bytes.subspan(kUpdateHeadSize + key_len, value_len);
    consumed = total;
    return WireError::ok;
}

WireError encode_update(const UpdateView& u, std::span<std::uint8_t> out, std::size_t& written) noexcept {
    if (const WireError e = check_update(u); e != WireError::ok) {
        return e;
    }
    const std::size_t total = encoded_update_size(u);
    if (out.size() < total) {
        return WireError::buffer_too_small;
    }
    encode_checked_update(u, out.data());
    written = total;
    return WireError::ok;
}

bool UpdateReader::next(UpdateView& out) noexcept {
    if (error_ != WireError::ok) {
        return false;
    }
    if (left_ == 0) {
        if (!rest_.empty()) {
            error_ = WireError::trailing_bytes;
        }
        rest_ = {};
        return false;
    }
    if (rest_.empty()) {
        error_ = WireError::update_count_mismatch;
        return false;
    }
    std::size_t used = 0;
    if (const WireError e = parse_update(rest_, out, used); e != WireError::ok) {
        error_ = e;
        return false;
    }
    rest_ = rest_.subspan(used);
    --left_;
    return true;
}

// The same verdicts as walking an UpdateReader to the end, without building
// views: every chain a receiver hands out goes through here.
WireError validate_body(std::span<const std::uint8_t> body, std::uint32_t count) noexcept {
    const std::uint8_t* p = body.data();
    std::size_t left = body.size();
    for (std::uint32_t i = 0; i < count; ++i) {
        if (left == 0) {
            return WireError::update_count_mismatch;
        }
        std::size_t total = 0;
        if (const WireError e = check_head(p, left, total); e != WireError::ok) {
            return e;
        }
        p += total;
        left -= total;
    }
    return left == 0 ? WireError::ok : WireError::trailing_bytes;
}

}  // namespace replicast::wire
