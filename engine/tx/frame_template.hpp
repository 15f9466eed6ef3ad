// The Ethernet / 802.1Q / IPv4 / UDP headers of one stream's frames, worked out
// once when the stream starts (PROTOCOL.md section 1: multicast MAC, DF, TTL,
// DSCP), then stamped into every frame with only the lengths and checksums
// left to fill. No DPDK here: the tx worker copies `bytes()` into mbuf data,
// and tests check the result with engine/wire's frame parser.
//
// Checksums: the IPv4 header sum of the constant fields is kept, so a frame's
// header checksum costs a few additions; the UDP checksum is either left to
// the NIC (the pseudo-header sum is written, as offload requires) or computed
// in software over the sealed datagram.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "engine/wire/endian.hpp"
#include "engine/wire/frame.hpp"

namespace replicast::tx {

struct FrameAddressing {
    std::array<std::uint8_t, 6> source_mac{};
    std::uint32_t source_ip = 0;  // host order
    std::uint32_t group = 0;      // multicast destination, host order
    std::uint16_t source_port = 0;
    std::uint16_t group_port = 0;
    std::uint16_t vlan_id = 0;  // 0 = untagged
    std::uint8_t vlan_pcp = 0;
    std::uint8_t ttl = 16;
    std::uint8_t dscp = 0;
};

class FrameTemplate {
public:
    static constexpr std::size_t kMaxHeaderSize = 14 + 4 + 20 + 8;

    explicit FrameTemplate(const FrameAddressing& a) noexcept;

    /// Bytes before the UDP payload: 42, or 46 with a VLAN tag.
    [[nodiscard]] std::size_t header_size() const noexcept { return size_; }
    [[nodiscard]] std::size_t l2_size() const noexcept { return size_ - 28; }

    /// Bytes write() stores: the headers, then scratch up to a fixed size, so
    /// that the copy is two vector moves instead of a library call per frame.
    /// The scratch lands where the 24-byte replicast header goes next.
    static constexpr std::size_t kWriteBytes = 48;

    /// Writes the headers for a UDP payload of `udp_payload_len` bytes at `frame`
    /// (header_size() bytes, with the IPv4 checksum and a zero UDP checksum),
    /// and scratch after them up to kWriteBytes: the caller writes the
    /// replicast header over that next. Inline: every frame runs it.
    void write(std::uint8_t* frame, std::uint16_t udp_payload_len) const noexcept {
        std::memcpy(frame, bytes_.data(), kWriteBytes);
        std::uint8_t* ip = frame + l2_size();
        const auto total = static_cast<std::uint16_t>(20 + 8 + udp_payload_len);
        wire::store_be<std::uint16_t>(ip + 2, total);
        std::uint32_t sum = ip_sum_ + total;
        while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
        wire::store_be<std::uint16_t>(ip + 10, static_cast<std::uint16_t>(~sum & 0xffff));
        wire::store_be<std::uint16_t>(ip + 24, static_cast<std::uint16_t>(8 + udp_payload_len));
    }

    /// Software UDP checksum over the payload already in place after the
    /// headers. Inline, with the sum function picked once: every frame runs it.
    void finish_udp_checksum(std::uint8_t* frame, std::uint16_t udp_payload_len) const noexcept {
        std::uint8_t* udp = frame + l2_size() + 20;
        const std::uint32_t udp_len = 8u + udp_payload_len;
        // The UDP length counts twice: once in the pseudo-header, once in the UDP header (summed with it).
        std::uint32_t sum = pseudo_sum_ + udp_len + sum_(udp, udp_len);
        while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
        const auto c = static_cast<std::uint16_t>(~sum & 0xffff);
        wire::store_be<std::uint16_t>(udp + 6, c == 0 ? 0xffff : c);  // RFC 768: a computed 0 is sent as all ones
    }

    /// For UDP checksum offload: the pseudo-header sum the NIC expects in the field.
    void write_udp_pseudo_checksum(std::uint8_t* frame, std::uint16_t udp_payload_len) const noexcept {
        std::uint32_t sum = pseudo_sum_ + 8u + udp_payload_len;
        while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
        wire::store_be<std::uint16_t>(frame + l2_size() + 20 + 6, static_cast<std::uint16_t>(sum));
    }

private:
    static_assert(kWriteBytes >= kMaxHeaderSize && kWriteBytes < kMaxHeaderSize + 24);
    std::array<std::uint8_t, kWriteBytes> bytes_{};
    std::size_t size_ = 0;
    std::uint32_t ip_sum_ = 0;      // partial sum of the IPv4 header with length and checksum 0
    std::uint32_t pseudo_sum_ = 0;  // source + group + protocol: the pseudo-header without length
    wire::FoldedSumFn sum_ = wire::folded_sum_fn();
};

}  // namespace replicast::tx
