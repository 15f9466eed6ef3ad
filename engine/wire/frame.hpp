// Ethernet / 802.1Q / IPv4 / UDP framing of data-plane packets (PROTOCOL.md 1),
// parsed and checked for captures and tests: the sender builds frames with
// DPDK, and everything that reads them back (`replicast decode`, the capture
// tests) must confirm what the spec demands of them: the multicast MAC, DF,
// TTL, DSCP, and correct IPv4 and UDP checksums. Views point into the frame.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace replicast::wire {

enum class FrameError : std::uint8_t {
    ok = 0,
    truncated,         // ends inside the Ethernet, VLAN, IPv4 or UDP header
    not_ipv4,          // EtherType (after an optional 802.1Q tag) is not IPv4, or IP version != 4
    bad_ipv4_header,   // IHL < 5, or total length shorter than the header / longer than the frame
    fragment,          // more-fragments set or fragment offset != 0: we never send fragments
    not_udp,           // IP protocol != 17
    bad_udp_length,    // UDP length disagrees with the IP total length
};

[[nodiscard]] std::string_view describe(FrameError e) noexcept;

struct FrameInfo {
    std::array<std::uint8_t, 6> dst_mac{};
    std::array<std::uint8_t, 6> src_mac{};
    bool has_vlan = false;
    std::uint16_t vlan_id = 0;
    std::uint8_t vlan_pcp = 0;
    std::uint32_t src_ip = 0;  // host order
    std::uint32_t dst_ip = 0;
    std::uint8_t ttl = 0;
    std::uint8_t dscp = 0;
    bool dont_fragment = false;
    bool ipv4_checksum_ok = false;
    bool udp_checksum_present = false;  // a zero UDP checksum means "none" in IPv4
    bool udp_checksum_ok = false;
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
    std::span<const std::uint8_t> udp_payload;
};

/// Parses an Ethernet II frame (optionally 802.1Q tagged) carrying IPv4/UDP.
[[nodiscard]] FrameError parse_ethernet_frame(std::span<const std::uint8_t> frame, FrameInfo& out) noexcept;

/// Parses a bare IPv4 packet carrying UDP (captures with a raw-IP link type).
/// Leaves the MAC and VLAN fields of `out` alone.
[[nodiscard]] FrameError parse_ipv4_udp(std::span<const std::uint8_t> packet, FrameInfo& out) noexcept;

/// The multicast MAC for an IPv4 group (RFC 1112 6.4): 01:00:5e + low 23 bits of the group.
[[nodiscard]] std::array<std::uint8_t, 6> multicast_mac(std::uint32_t group_host_order) noexcept;

/// RFC 1071 ones'-complement checksum of `bytes`, with an initial partial `sum`
/// (of big-endian 16-bit words, e.g. a pseudo-header).
[[nodiscard]] std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes, std::uint32_t sum = 0) noexcept;

/// Dotted-quad text of an IPv4 address held in host order ("239.192.0.1"), for logs and reports.
[[nodiscard]] std::string ipv4_text(std::uint32_t host_order);

/// The partial sum (not folded, not complemented) of `bytes` added to `sum`:
/// for checksums built in pieces.
[[nodiscard]] std::uint32_t checksum_partial(std::span<const std::uint8_t> bytes, std::uint32_t sum = 0) noexcept;

/// The code paths the checksum can take. The fastest one the CPU has is picked
/// once at start; the tests run each one the CPU has against the RFC's loop.
enum class ChecksumPath : std::uint8_t { scalar, avx2, avx512, avx512_vnni };
inline constexpr std::array<ChecksumPath, 4> kChecksumPaths = {ChecksumPath::scalar, ChecksumPath::avx2,
                                                               ChecksumPath::avx512, ChecksumPath::avx512_vnni};
/// "scalar", "AVX2", "AVX-512F", "AVX-512 VNNI": for reports.
[[nodiscard]] const char* checksum_path_name(ChecksumPath path) noexcept;
[[nodiscard]] ChecksumPath checksum_path() noexcept;
[[nodiscard]] bool checksum_path_available(ChecksumPath path) noexcept;
/// The sum of `n` bytes at `p` folded to 16 bits, not complemented (big-endian
/// word order), through the widest path: what a per-frame caller keeps, so
/// that a checksum costs one call instead of the three behind internet_checksum.
using FoldedSumFn = std::uint16_t (*)(const std::uint8_t* p, std::size_t n) noexcept;
[[nodiscard]] FoldedSumFn folded_sum_fn() noexcept;
/// internet_checksum through a given path (which must be available).
[[nodiscard]] std::uint16_t internet_checksum_via(ChecksumPath path, std::span<const std::uint8_t> bytes,
                                                  std::uint32_t sum = 0) noexcept;

}  // namespace replicast::wire
