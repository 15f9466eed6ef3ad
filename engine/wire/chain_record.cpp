#include "engine/wire/chain_record.hpp"

#include "engine/wire/endian.hpp"

namespace replicast::wire {

WireError parse_chain_record(std::span<const std::uint8_t> record, ChainRecordView& out) noexcept {
    if (record.size() < kChainRecordHeadSize) {
        return WireError::record_too_short;
    }
    const std::uint8_t* p = record.data();
    out.head.first_lsn = load_be<std::uint64_t>(p);
    out.head.update_count = load_be<std::uint32_t>(p + 8);
    out.head.body_len = load_be<std::uint32_t>(p + 12);
    if (out.head.update_count == 0) {
        return WireError::zero_update_count;
    }
    if (out.head.body_len > kMaxBodyLen) {
        return WireError::body_too_large;
    }
    out.body = record.subspan(kChainRecordHeadSize);
    return WireError::ok;
}

void encode_chain_record_head(const ChainRecordHead& head, std::uint8_t* out) noexcept {
    store_be<std::uint64_t>(out, head.first_lsn);
    store_be<std::uint32_t>(out + 8, head.update_count);
    store_be<std::uint32_t>(out + 12, head.body_len);
}

}  // namespace replicast::wire
