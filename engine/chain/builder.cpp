#include "engine/chain/builder.hpp"

#include <cstring>

namespace replicast::chain {

ChainBuilder::ChainBuilder(const BuilderConfig& config)
    : compress_(config.compress), compressor_(config.compress ? config.level : 0) {}

void ChainBuilder::begin(std::uint64_t first_lsn) noexcept {
    first_lsn_ = first_lsn;
    count_ = 0;
    body_.clear();  // keeps capacity: no allocation once warm
}

wire::WireError ChainBuilder::add(const wire::UpdateView& u) {
    if (const wire::WireError e = wire::check_update(u); e != wire::WireError::ok) {
        return e;
    }
    const std::size_t size = wire::encoded_update_size(u);
    if (body_.size() + size > wire::kMaxBodyLen) {
        return wire::WireError::body_too_large;
    }
    const std::size_t at = body_.size();
    body_.resize(at + size);
    std::size_t written = 0;
    const wire::WireError e = wire::encode_update(u, std::span(body_).subspan(at), written);
    if (e != wire::WireError::ok) {
        body_.resize(at);
        return e;
    }
    ++count_;
    return wire::WireError::ok;
}

wire::WireError ChainBuilder::add_encoded(std::span<const std::uint8_t> updates, std::uint32_t count) {
    if (const wire::WireError e = wire::validate_body(updates, count); e != wire::WireError::ok) {
        return e;
    }
    if (body_.size() + updates.size() > wire::kMaxBodyLen) {
        return wire::WireError::body_too_large;
    }
    body_.insert(body_.end(), updates.begin(), updates.end());
    count_ += count;
    return wire::WireError::ok;
}

BuiltChain ChainBuilder::finish() {
    BuiltChain out;
    out.head = {.first_lsn = first_lsn_, .update_count = count_, .body_len = static_cast<std::uint32_t>(body_.size())};
    record_.resize(wire::kChainRecordHeadSize + body_.size());
    std::size_t carried = 0;
    if (compress_ && !body_.empty()) {
        // Offer only as much room as the plain body: a compressed body that does
        // not fit is one that did not shrink, and goes plain.
        carried = compressor_.compress(body_, std::span(record_).subspan(wire::kChainRecordHeadSize, body_.size() - 1));
    }
    if (carried != 0) {
        out.comp_alg = wire::CompAlg::deflate;
    } else {
        std::memcpy(record_.data() + wire::kChainRecordHeadSize, body_.data(), body_.size());
        carried = body_.size();
    }
    wire::encode_chain_record_head(out.head, record_.data());
    out.record = std::span(record_).first(wire::kChainRecordHeadSize + carried);
    return out;
}

}  // namespace replicast::chain
