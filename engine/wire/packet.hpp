// Packet header of the data plane (PROTOCOL.md 1.1).
//
//   0      2   3   4          8                  16         20  21  22    24
//   +------+---+---+----------+------------------+----------+---+---+-----+
//   |magic |ver|flg|stream_id |   packet_seq     |key_epoch |alg|rsv|p_len|
//   +------+---+---+----------+------------------+----------+---+---+-----+
//   then payload_len bytes of payload, then a 16-byte GCM tag when key_epoch != 0.
//
// parse_packet() validates every rule of 1.1 before anything else may look at
// the bytes; it neither copies nor allocates: the view points into the datagram,
// which must outlive it. Thread-safe (pure functions).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/wire/endian.hpp"
#include "engine/wire/error.hpp"

namespace replicast::wire {

inline constexpr std::uint16_t kMagic = 0x5243;  // "RC"
inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kHeaderSize = 24;
inline constexpr std::size_t kTagSize = 16;
inline constexpr std::size_t kMaxPayload = 0xffff;  // payload_len is 16 bits

namespace flags {
inline constexpr std::uint8_t kFic = 0x01;
inline constexpr std::uint8_t kMic = 0x02;
inline constexpr std::uint8_t kLic = 0x04;
inline constexpr std::uint8_t kOic = kFic | kLic;
inline constexpr std::uint8_t kKeyChange = 0x10;
inline constexpr std::uint8_t kHeartbeat = 0x20;
}  // namespace flags

enum class CompAlg : std::uint8_t { none = 0, deflate = 1 };

enum class PacketKind : std::uint8_t { data, heartbeat, key_change };

/// Where a data packet sits in its chain. Control packets are always `only`.
enum class ChainPosition : std::uint8_t { first, middle, last, only };

/// The on-wire layout, byte for byte; used only for its offsets, which pin the
/// format at compile time. Every field is a byte array, so there is no padding
/// and no alignment to assume about the datagram.
struct WireHeaderLayout {
    std::uint8_t magic[2];
    std::uint8_t version;
    std::uint8_t flags;
    std::uint8_t stream_id[4];
    std::uint8_t packet_seq[8];
    std::uint8_t key_epoch[4];
    std::uint8_t comp_alg;
    std::uint8_t reserved;
    std::uint8_t payload_len[2];
};
static_assert(sizeof(WireHeaderLayout) == kHeaderSize);
static_assert(offsetof(WireHeaderLayout, flags) == 3);
static_assert(offsetof(WireHeaderLayout, stream_id) == 4);
static_assert(offsetof(WireHeaderLayout, packet_seq) == 8);
static_assert(offsetof(WireHeaderLayout, key_epoch) == 16);
static_assert(offsetof(WireHeaderLayout, comp_alg) == 20);
static_assert(offsetof(WireHeaderLayout, payload_len) == 22);

/// Header fields in host order. `reserved` is not kept: 0 on send, ignored on receive.
struct PacketHeader {
    std::uint8_t flags = 0;
    std::uint32_t stream_id = 0;
    std::uint64_t packet_seq = 0;
    std::uint32_t key_epoch = 0;  // 0 = not sealed
    CompAlg comp_alg = CompAlg::none;
    std::uint16_t payload_len = 0;

    [[nodiscard]] constexpr bool sealed() const noexcept { return key_epoch != 0; }
};

/// A validated packet: fields plus views into the datagram.
struct PacketView {
    PacketHeader header;
    PacketKind kind = PacketKind::data;
    ChainPosition position = ChainPosition::only;
    std::span<const std::uint8_t> header_bytes;  // the 24 bytes as received: the GCM AAD
    std::span<const std::uint8_t> payload;       // payload_len bytes (ciphertext when sealed)
    std::span<const std::uint8_t> tag;           // 16 bytes when sealed, else empty
};

/// Checks the flag rules of 1.1 and classifies the packet.
/// @return ok, or bad_flags when the combination is not one the spec allows.
[[nodiscard]] WireError classify_flags(std::uint8_t flags, PacketKind& kind, ChainPosition& position) noexcept;

/// Validates a whole datagram (the UDP payload) against 1.1.
/// @return ok and fills `out`; or shorter_than_header, bad_magic, bad_version,
///         bad_flags, bad_comp_alg, length_mismatch. `out` is unspecified on error.
[[nodiscard]] WireError parse_packet(std::span<const std::uint8_t> datagram, PacketView& out) noexcept;

/// Writes the 24-byte header for `h` (reserved = 0). The caller guarantees 24 bytes at `out`.
/// Inline: every sent packet runs it, and as a call it cost about 1 % of the
/// chain path (bench_chain BM_BuildSegmentSeal).
inline void encode_header(const PacketHeader& h, std::uint8_t* out) noexcept {
    store_be<std::uint16_t>(out + offsetof(WireHeaderLayout, magic), kMagic);
    out[offsetof(WireHeaderLayout, version)] = kVersion;
    out[offsetof(WireHeaderLayout, flags)] = h.flags;
    store_be<std::uint32_t>(out + offsetof(WireHeaderLayout, stream_id), h.stream_id);
    store_be<std::uint64_t>(out + offsetof(WireHeaderLayout, packet_seq), h.packet_seq);
    store_be<std::uint32_t>(out + offsetof(WireHeaderLayout, key_epoch), h.key_epoch);
    out[offsetof(WireHeaderLayout, comp_alg)] = static_cast<std::uint8_t>(h.comp_alg);
    out[offsetof(WireHeaderLayout, reserved)] = 0;
    store_be<std::uint16_t>(out + offsetof(WireHeaderLayout, payload_len), h.payload_len);
}

/// Size of the datagram that carries `payload_len` bytes: header + payload (+ tag when sealed).
[[nodiscard]] constexpr std::size_t datagram_size(std::size_t payload_len, bool sealed) noexcept {
    return kHeaderSize + payload_len + (sealed ? kTagSize : 0);
}

/// The flag byte for a data packet at `position`.
[[nodiscard]] constexpr std::uint8_t position_flags(ChainPosition position) noexcept {
    switch (position) {
    case ChainPosition::first: return flags::kFic;
    case ChainPosition::middle: return flags::kMic;
    case ChainPosition::last: return flags::kLic;
    case ChainPosition::only: return flags::kOic;
    }
    return flags::kOic;
}

}  // namespace replicast::wire
