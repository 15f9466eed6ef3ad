#include "engine/chain/builder.hpp"

namespace replicast::chain {

ChainBuilder::ChainBuilder(const BuilderConfig& config)
    : compress_(config.compress), compressor_(config.compress ? config.level : 0) {}

void ChainBuilder::begin(std::uint64_t first_lsn) noexcept {
    first_lsn_ = first_lsn;
    count_ = 0;
    record_.resize(wire::kChainRecordHeadSize);  // keeps capacity: no allocation once warm
}

wire::WireError ChainBuilder::add(const wire::UpdateView& u) {
    if (const wire::WireError e = wire::check_update(u); e != wire::WireError::ok) {
        return e;
    }
    const std::size_t size = wire::encoded_update_size(u);
    if (body_size() + size > wire::kMaxBodyLen) {
        return wire::WireError::body_too_large;
    }
    const std::size_t at = record_.size();
    record_.resize(at + size);
    wire::encode_checked_update(u, record_.data() + at);
    ++count_;
    return wire::WireError::ok;
}

wire::WireError ChainBuilder::add_encoded(std::span<const std::uint8_t> updates, std::uint32_t count) {
    if (const wire::WireError e = wire::validate_body(updates, count); e != wire::WireError::ok) {
        return e;
    }
    if (body_size() + updates.size() > wire::kMaxBodyLen) {
        return wire::WireError::body_too_large;
    }
    record_.insert(record_.end(), updates.begin(), updates.end());
    count_ += count;
    return wire::WireError::ok;
}

BuiltChain ChainBuilder::finish() {
    BuiltChain out;
    const std::size_t plain = body_size();
    out.head = {.first_lsn = first_lsn_, .update_count = count_, .body_len = static_cast<std::uint32_t>(plain)};
    const std::span<const std::uint8_t> body = std::span(record_).subspan(wire::kChainRecordHeadSize);
    std::size_t packed = 0;
    if (compress_ && plain > 1) {
        // Offer one byte less room than the plain body: a compressed body that
        // does not fit is one that did not shrink, and the chain goes plain.
        packed_.resize(wire::kChainRecordHeadSize + plain - 1);
        packed = compressor_.compress(body, std::span(packed_).subspan(wire::kChainRecordHeadSize));
    }
    if (packed != 0) {
        out.comp_alg = wire::CompAlg::deflate;
        wire::encode_chain_record_head(out.head, packed_.data());
        out.record = std::span(packed_).first(wire::kChainRecordHeadSize + packed);
    } else {
        wire::encode_chain_record_head(out.head, record_.data());
        out.record = record_;
    }
    return out;
}

}  // namespace replicast::chain
