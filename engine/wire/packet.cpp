#include "engine/wire/packet.hpp"

#include "engine/wire/endian.hpp"

#include <array>

namespace replicast::wire {

namespace {

constexpr std::uint8_t kPositionMask = flags::kFic | flags::kMic | flags::kLic;
constexpr std::uint8_t kControlMask = flags::kKeyChange | flags::kHeartbeat;
constexpr std::uint8_t kKnownMask = kPositionMask | kControlMask;

constexpr WireError flag_rules(std::uint8_t f, PacketKind& kind, ChainPosition& position) noexcept {
    if ((f & ~kKnownMask) != 0) {
        return WireError::bad_flags;
    }
    switch (f & kControlMask) {
    case 0:
        break;
    case flags::kHeartbeat:
        kind = PacketKind::heartbeat;
        position = ChainPosition::only;
        return (f & kPositionMask) == flags::kOic ? WireError::ok : WireError::bad_flags;
    case flags::kKeyChange:
        kind = PacketKind::key_change;
        position = ChainPosition::only;
        return (f & kPositionMask) == flags::kOic ? WireError::ok : WireError::bad_flags;
    default:  // both control flags
        return WireError::bad_flags;
    }
    kind = PacketKind::data;
    switch (f) {
    case flags::kFic: position = ChainPosition::first; return WireError::ok;
    case flags::kMic: position = ChainPosition::middle; return WireError::ok;
    case flags::kLic: position = ChainPosition::last; return WireError::ok;
    case flags::kOic: position = ChainPosition::only; return WireError::ok;
    default: return WireError::bad_flags;  // MIC with FIC or LIC, or no position at all
    }
}

// The rules above, evaluated once per flag byte at compile time: the receive
// path classifies every packet with one load instead of a chain of branches.
struct FlagClass {
    bool ok = false;
    PacketKind kind = PacketKind::data;
    ChainPosition position = ChainPosition::only;
};

constexpr std::array<FlagClass, 256> kFlagTable = [] {
    std::array<FlagClass, 256> t{};
    for (unsigned f = 0; f < 256; ++f) {
        FlagClass c;
        c.ok = flag_rules(static_cast<std::uint8_t>(f), c.kind, c.position) == WireError::ok;
        t[f] = c;
    }
    return t;
}();

}  // namespace

WireError classify_flags(std::uint8_t f, PacketKind& kind, ChainPosition& position) noexcept {
    const FlagClass& c = kFlagTable[f];
    kind = c.kind;
    position = c.position;
    return c.ok ? WireError::ok : WireError::bad_flags;
}

WireError parse_packet(std::span<const std::uint8_t> d, PacketView& out) noexcept {
    // Order follows the spec: size, magic, version, then the fields that depend on it.
    if (d.size() < kHeaderSize) {
        return WireError::shorter_than_header;
    }
    const std::uint8_t* p = d.data();
    if (load_be<std::uint16_t>(p + offsetof(WireHeaderLayout, magic)) != kMagic) {
        return WireError::bad_magic;
    }
    if (p[offsetof(WireHeaderLayout, version)] != kVersion) {
        return WireError::bad_version;
    }
    PacketHeader& h = out.header;
    h.flags = p[offsetof(WireHeaderLayout, flags)];
    if (const WireError e = classify_flags(h.flags, out.kind, out.position); e != WireError::ok) {
        return e;
    }
    const std::uint8_t alg = p[offsetof(WireHeaderLayout, comp_alg)];
    if (alg > static_cast<std::uint8_t>(CompAlg::deflate)) {
        return WireError::bad_comp_alg;
    }
    h.comp_alg = static_cast<CompAlg>(alg);
    h.stream_id = load_be<std::uint32_t>(p + offsetof(WireHeaderLayout, stream_id));
    h.packet_seq = load_be<std::uint64_t>(p + offsetof(WireHeaderLayout, packet_seq));
    h.key_epoch = load_be<std::uint32_t>(p + offsetof(WireHeaderLayout, key_epoch));
    h.payload_len = load_be<std::uint16_t>(p + offsetof(WireHeaderLayout, payload_len));
    if (d.size() != datagram_size(h.payload_len, h.sealed())) {
        return WireError::length_mismatch;
    }
    out.header_bytes = d.first(kHeaderSize);
    out.payload = d.subspan(kHeaderSize, h.payload_len);
    out.tag = h.sealed() ? d.subspan(kHeaderSize + h.payload_len, kTagSize) : std::span<const std::uint8_t>{};
    return WireError::ok;
}

}  // namespace replicast::wire
