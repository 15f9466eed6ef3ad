#include "tools/decode_report.hpp"

#include "engine/chain/codec.hpp"
#include "engine/wire/update.hpp"

namespace replicast::tools {

std::string_view describe(OpenState s) noexcept {
    switch (s) {
    case OpenState::plaintext: return "not sealed";
    case OpenState::opened: return "opened";
    case OpenState::no_key: return "sealed, no key";
    case OpenState::tag_mismatch: return "tag does not verify";
    }
    return "?";
}

namespace {

// A one-packet chain carries its whole record: apply the receiver's rules
// (PROTOCOL.md 1.3) to the body too, as a reassembler would.
wire::WireError check_whole_body(const wire::ChainRecordView& rec, wire::CompAlg comp_alg) {
    std::span<const std::uint8_t> body = rec.body;
    std::vector<std::uint8_t> inflated;
    if (comp_alg == wire::CompAlg::deflate) {
        inflated.resize(rec.head.body_len);
        chain::Decompressor d;
        if (!d.decompress_exact(rec.body, inflated)) return wire::WireError::inflate_failed;
        body = inflated;
    } else if (body.size() != rec.head.body_len) {
        return wire::WireError::body_len_mismatch;
    }
    return wire::validate_body(body, rec.head.update_count);
}

void interpret_payload(PacketReport& r) {
    const std::span<const std::uint8_t> payload(r.plaintext);
    switch (r.view.kind) {
    case wire::PacketKind::heartbeat: {
        wire::Heartbeat hb;
        r.payload_error = wire::parse_heartbeat(payload, hb);
        if (r.payload_error == wire::WireError::ok) r.heartbeat = hb;
        break;
    }
    case wire::PacketKind::key_change: {
        wire::KeyChange kc;
        r.payload_error = wire::parse_key_change(payload, kc);
        if (r.payload_error == wire::WireError::ok) r.key_change = kc;
        break;
    }
    case wire::PacketKind::data:
        // Only a chain's first packet starts with the record head; a head split
        // across packets (a payload under 16 bytes) is left to reassembly.
        if ((r.view.position == wire::ChainPosition::first || r.view.position == wire::ChainPosition::only) &&
            payload.size() >= wire::kChainRecordHeadSize) {
            wire::ChainRecordView rec;
            r.payload_error = wire::parse_chain_record(payload, rec);
            if (r.payload_error == wire::WireError::ok) r.chain_head = rec.head;
            if (r.payload_error == wire::WireError::ok && r.view.position == wire::ChainPosition::only) {
                r.payload_error = check_whole_body(rec, r.view.header.comp_alg);  // the whole chain is here
            }
        } else if (r.view.position == wire::ChainPosition::only) {
            r.payload_error = wire::WireError::record_too_short;
        }
        break;
    }
}

}  // namespace

PacketReport analyse_datagram(std::span<const std::uint8_t> datagram, const PayloadOpener* opener) {
    PacketReport r;
    r.error = wire::parse_packet(datagram, r.view);
    if (r.error != wire::WireError::ok) {
        return r;
    }
    if (!r.view.header.sealed()) {
        r.open = OpenState::plaintext;
        r.plaintext.assign(r.view.payload.begin(), r.view.payload.end());
    } else if (opener == nullptr) {
        r.open = OpenState::no_key;
    } else if (const std::optional<bool> ok = opener->open(r.view, r.plaintext); !ok) {
        r.open = OpenState::no_key;
    } else {
        r.open = *ok ? OpenState::opened : OpenState::tag_mismatch;
    }
    if (r.open == OpenState::plaintext || r.open == OpenState::opened) {
        interpret_payload(r);
    }
    return r;
}

}  // namespace replicast::tools
