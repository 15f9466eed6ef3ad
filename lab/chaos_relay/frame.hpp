// Just enough of Ethernet/IPv4/UDP to find a frame's UDP payload, flip one of
// its bytes and keep the UDP checksum right, so that the receiver's kernel
// delivers the corrupted datagram and replicast itself must notice.
// Every length is checked against the frame before it is used.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace replicast::chaos {

struct Udp {
    std::uint32_t ip_off = 0;       // IPv4 header
    std::uint32_t udp_off = 0;      // UDP header
    std::uint32_t payload_off = 0;  // UDP payload
    std::uint32_t payload_len = 0;  // as the UDP length field says (the frame may have padding)
    std::uint16_t dst_port = 0;
};

/// The UDP datagram of an Ethernet II frame carrying an unfragmented IPv4
/// UDP packet (no VLAN tag), or nothing for any other or malformed frame.
std::optional<Udp> find_udp(std::span<const std::byte> frame) noexcept;

/// XORs `mask` into payload byte `at` (< payload_len) and fixes the UDP
/// checksum: recomputed when the frame carries one, left alone when it is
/// zero (none) or `checksum_pending` (the kernel completes it on the way out).
void corrupt(std::span<std::byte> frame, const Udp& udp, std::uint32_t at, std::uint8_t mask,
             bool checksum_pending) noexcept;

/// The UDP checksum the frame should carry (pseudo-header included), as the
/// sender computes it: never 0 (0 is sent as 0xffff).
std::uint16_t udp_checksum(std::span<const std::byte> frame, const Udp& udp) noexcept;

}  // namespace replicast::chaos
