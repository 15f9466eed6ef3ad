// Cutting a chain record into packet payloads (PROTOCOL.md 1.3): consecutive
// slices of at most `max_payload` bytes, flagged FIC, MIC..., LIC, or OIC.
//
// The largest payload that fits one Ethernet frame is the MTU less the IPv4
// (20), UDP (8) and replicast (24) headers and the GCM tag (16): 1432 at MTU
// 1500. Pure arithmetic; safe anywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/wire/packet.hpp"

namespace replicast::chain {

inline constexpr std::uint32_t kIpv4HeaderSize = 20;
inline constexpr std::uint32_t kUdpHeaderSize = 8;
inline constexpr std::uint32_t kMinMtu = 576;   // RFC 791's minimum reassembly size; below it chains crawl
inline constexpr std::uint32_t kMaxMtu = 9216;  // the largest jumbo frame NICs commonly take

/// Largest payload per packet for `mtu`, sealed packets assumed (the tag always fits).
[[nodiscard]] constexpr std::uint32_t max_payload_for_mtu(std::uint32_t mtu) noexcept {
    return mtu - kIpv4HeaderSize - kUdpHeaderSize - static_cast<std::uint32_t>(wire::kHeaderSize) -
           static_cast<std::uint32_t>(wire::kTagSize);
}
static_assert(max_payload_for_mtu(1500) == 1432);

struct Segment {
    std::span<const std::uint8_t> payload;
    wire::ChainPosition position;
};

/// Packets needed for a record of `record_size` bytes (>= 1, since a record has a 16-byte head).
[[nodiscard]] constexpr std::size_t segment_count(std::size_t record_size, std::size_t max_payload) noexcept {
    return record_size == 0 ? 1 : (record_size + max_payload - 1) / max_payload;
}

/// Slice `index` of `record`, given `count` = segment_count() of it (index < count).
/// Senders compute the count once per chain: it costs a division, which at
/// millions of packets a second is worth keeping out of the per-packet path.
[[nodiscard]] inline Segment segment(std::span<const std::uint8_t> record, std::size_t max_payload, std::size_t index,
                                     std::size_t count) noexcept {
    const std::size_t offset = index * max_payload;
    const std::size_t len = index + 1 == count ? record.size() - offset : max_payload;
    wire::ChainPosition position = wire::ChainPosition::middle;
    if (count == 1) {
        position = wire::ChainPosition::only;
    } else if (index == 0) {
        position = wire::ChainPosition::first;
    } else if (index + 1 == count) {
        position = wire::ChainPosition::last;
    }
    return {record.subspan(offset, len), position};
}

/// Slice `index` of `record` (index < segment_count()).
[[nodiscard]] inline Segment segment(std::span<const std::uint8_t> record, std::size_t max_payload,
                                     std::size_t index) noexcept {
    return segment(record, max_payload, index, segment_count(record.size(), max_payload));
}

}  // namespace replicast::chain
