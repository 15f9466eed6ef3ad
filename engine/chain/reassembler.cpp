#include "engine/chain/reassembler.hpp"

#include <algorithm>
#include <cstring>

#include "engine/wire/update.hpp"

namespace replicast::chain {

std::string_view describe(DropReason r) noexcept {
    switch (r) {
    case DropReason::sequence_break: return "packet_seq gap inside a chain";
    case DropReason::restarted: return "new chain started before the last one ended";
    case DropReason::header_changed: return "key_epoch or comp_alg changed inside a chain";
    case DropReason::too_large: return "chain larger than the configured bound";
    case DropReason::bad_record: return "malformed chain record head";
    case DropReason::inflate_failed: return "DEFLATE data corrupt or not exactly body_len";
    case DropReason::body_len_mismatch: return "body is not exactly body_len bytes";
    case DropReason::bad_body: return "body does not parse to exactly update_count updates";
    case DropReason::count_: break;
    }
    return "unknown drop reason";
}

std::uint64_t ReassemblerCounters::dropped_total() const noexcept {
    std::uint64_t n = 0;
    for (std::uint64_t d : dropped) {
        n += d;
    }
    return n;
}

Reassembler::Reassembler(const ReassemblerConfig& config) : config_(config) {}

Reassembler::Event Reassembler::drop(DropReason reason) noexcept {
    gathering_ = false;
    last_drop_ = reason;
    ++counters_.dropped[static_cast<std::size_t>(reason)];
    return Event::dropped;
}

bool Reassembler::append(const Payload& p) {
    const std::size_t len = p.bytes.size();
    if (gathered_ + len > config_.max_record_bytes) {
        return false;
    }
    if (p.in_record) {
        // Opened in place: usually exactly where it belongs.
        if (p.offset != gathered_) std::memmove(record_.data() + gathered_, record_.data() + p.offset, len);
    } else {
        if (record_.size() < gathered_ + len) grow(gathered_ + len);
        if (len != 0) std::memcpy(record_.data() + gathered_, p.bytes.data(), len);
    }
    gathered_ += len;
    return true;
}

// The buffer's size is its usable room (bytes are not zeroed, so a larger size
// costs nothing): grown geometrically, with room for a whole burst of jumbo
// payloads, never past max_record_bytes.
void Reassembler::grow(std::size_t need) {
    const std::size_t burst_room = need + kMaxSlots * std::size_t{9216};
    record_.resize(std::max(need, std::min(config_.max_record_bytes, std::max(2 * record_.size(), burst_room))));
}

Reassembler::Event Reassembler::on_data(const wire::PacketHeader& h, wire::ChainPosition position,
                                        std::span<const std::uint8_t> payload) {
    return accept(h, position, {.bytes = payload});
}

void Reassembler::begin_burst() noexcept {
    slots_ = committed_ = 0;
    no_more_slots_ = false;
}

std::span<std::uint8_t> Reassembler::reserve(const wire::PacketHeader& h, wire::ChainPosition position) {
    if (no_more_slots_ || slots_ == kMaxSlots || h.payload_len == 0) {
        // (An empty payload would get an empty slot, which the recipe reads as
        // "copy path": its commit() would never come and the later ones would
        // take their predecessors' slots. Copy path for it and the rest.)
        no_more_slots_ = true;
        return {};
    }
    const bool starts = position == wire::ChainPosition::first || position == wire::ChainPosition::only;
    const bool extends = slots_ == 0 ? gathering_ && h.packet_seq == last_seq_ + 1
                                     : prov_open_ && h.packet_seq == prov_seq_ + 1;
    if (!starts && !extends) {
        // Not part of a chain this burst can gather in place: it and every
        // packet after it take the copy path, which keeps the order simple.
        no_more_slots_ = true;
        return {};
    }
    if (starts && slots_ != 0) {
        no_more_slots_ = true;  // a new chain inside the burst: copy path from here
        return {};
    }
    // Past everything gathered, so a forged packet's plaintext never lands on
    // bytes of the chain in progress (a FIC that restarts one moves to the
    // front at commit). With nothing in progress, a FIC opens at the front.
    const std::size_t at = slots_ != 0 ? reserved_end_ : gathering_ ? gathered_ : 0;
    const std::size_t len = h.payload_len;
    if (at + len > config_.max_record_bytes || at + len > UINT32_MAX) {
        no_more_slots_ = true;
        return {};
    }
    if (at + len > record_.size()) {
        if (slots_ != 0) {  // growing would move the slots already handed out
            no_more_slots_ = true;
            return {};
        }
        grow(at + len);
    }
    slot_offsets_[slots_++] = static_cast<std::uint32_t>(at);
    reserved_end_ = at + len;
    prov_seq_ = h.packet_seq;
    prov_open_ = position == wire::ChainPosition::first || position == wire::ChainPosition::middle;
    return {record_.data() + at, len};
}

Reassembler::Event Reassembler::commit(const wire::PacketHeader& h, wire::ChainPosition position, bool authentic) {
    const std::size_t offset = committed_ < slots_ ? slot_offsets_[committed_++] : 0;
    if (!authentic) {
        return Event::none;  // as if never received: the next packet finds the gap
    }
    const std::span<const std::uint8_t> bytes(record_.data() + offset, h.payload_len);
    return accept(h, position, {.bytes = bytes, .in_record = true, .offset = offset});
}

Reassembler::Event Reassembler::accept(const wire::PacketHeader& h, wire::ChainPosition position, const Payload& payload) {
    ++counters_.packets;
    const bool starts = position == wire::ChainPosition::first || position == wire::ChainPosition::only;
    if (starts) {
        Event event = Event::none;
        if (gathering_) {
            event = drop(h.packet_seq == last_seq_ + 1 ? DropReason::restarted : DropReason::sequence_break);
        }
        gathering_ = true;
        first_seq_ = last_seq_ = h.packet_seq;
        key_epoch_ = h.key_epoch;
        comp_alg_ = h.comp_alg;
        gathered_ = 0;
        if (!append(payload)) {
            return drop(DropReason::too_large);
        }
        if (position == wire::ChainPosition::only) {
            const Event done = complete();
            return done == Event::chain ? done : Event::dropped;
        }
        return event;
    }
    if (!gathering_) {
        ++counters_.discarded_packets;
        return Event::none;
    }
    if (h.packet_seq != last_seq_ + 1) {
        ++counters_.discarded_packets;
        return drop(DropReason::sequence_break);
    }
    if (h.key_epoch != key_epoch_ || h.comp_alg != comp_alg_) {
        return drop(DropReason::header_changed);
    }
    if (!append(payload)) {
        return drop(DropReason::too_large);
    }
    last_seq_ = h.packet_seq;
    return position == wire::ChainPosition::last ? complete() : Event::none;
}

Reassembler::Event Reassembler::on_control(std::uint64_t seq) noexcept {
    (void)seq;  // the control packet itself passed the replay window; here it only ends a chain
    return gathering_ ? drop(DropReason::sequence_break) : Event::none;
}

Reassembler::Event Reassembler::complete() {
    gathering_ = false;
    wire::ChainRecordView rec;
    if (wire::parse_chain_record(std::span(record_).first(gathered_), rec) != wire::WireError::ok) {
        return drop(DropReason::bad_record);
    }
    if (rec.head.body_len > config_.max_body_bytes) {
        return drop(DropReason::too_large);
    }
    std::span<const std::uint8_t> body;
    if (comp_alg_ == wire::CompAlg::none) {
        if (rec.body.size() != rec.head.body_len) {
            return drop(DropReason::body_len_mismatch);
        }
        body = rec.body;
    } else {
        body_.resize(rec.head.body_len);
        if (!inflater_.decompress_exact(rec.body, body_)) {
            return drop(DropReason::inflate_failed);
        }
        body = body_;
    }
    if (wire::validate_body(body, rec.head.update_count) != wire::WireError::ok) {
        return drop(DropReason::bad_body);
    }
    chain_ = {.head = rec.head, .body = body, .key_epoch = key_epoch_, .first_seq = first_seq_, .last_seq = last_seq_};
    ++counters_.chains;
    return Event::chain;
}

}  // namespace replicast::chain
