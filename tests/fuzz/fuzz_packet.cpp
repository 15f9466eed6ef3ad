// Packet header parser: no crash on any bytes, and what parses re-encodes to
// the same 24 bytes (the reserved byte excepted: it is ignored on receive) with
// views that exactly tile the datagram.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "engine/wire/packet.hpp"

using namespace replicast::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> d(data, size);
    PacketView v;
    if (parse_packet(d, v) != WireError::ok) {
        return 0;
    }
    std::uint8_t again[kHeaderSize];
    encode_header(v.header, again);
    if (std::memcmp(again, data, 21) != 0 || std::memcmp(again + 22, data + 22, 2) != 0) {
        std::abort();
    }
    if (v.header_bytes.data() != data || v.payload.data() != data + kHeaderSize ||
        v.payload.size() + v.tag.size() + kHeaderSize != size || v.payload.size() != v.header.payload_len) {
        std::abort();
    }
    PacketKind kind;
    ChainPosition position;
    if (classify_flags(v.header.flags, kind, position) != WireError::ok || kind != v.kind || position != v.position) {
        std::abort();
    }
    return 0;
}
