#include "lab/chaos_relay/frame.hpp"

namespace replicast::chaos {

namespace {

constexpr std::uint32_t kEthHeader = 14;

std::uint16_t be16(std::span<const std::byte> f, std::size_t off) noexcept {
    return static_cast<std::uint16_t>((std::to_integer<unsigned>(f[off]) << 8) | std::to_integer<unsigned>(f[off + 1]));
}

void put_be16(std::span<std::byte> f, std::size_t off, std::uint16_t v) noexcept {
    f[off] = static_cast<std::byte>(v >> 8);
    f[off + 1] = static_cast<std::byte>(v & 0xff);
}

/// Ones' complement sum of big-endian 16-bit words (an odd last byte padded with zero).
std::uint32_t sum16(std::span<const std::byte> f, std::size_t off, std::size_t len, std::uint32_t sum) noexcept {
    std::size_t i = 0;
    for (; i + 1 < len; i += 2) sum += be16(f, off + i);
    if (i < len) sum += std::to_integer<std::uint32_t>(f[off + i]) << 8;
    return sum;
}

}  // namespace

std::optional<Udp> find_udp(std::span<const std::byte> f) noexcept {
    if (f.size() < kEthHeader + 20 || be16(f, 12) != 0x0800) return std::nullopt;
    const std::uint32_t ip = kEthHeader;
    const unsigned version_ihl = std::to_integer<unsigned>(f[ip]);
    const std::uint32_t ihl = (version_ihl & 0xf) * 4;
    if ((version_ihl >> 4) != 4 || ihl < 20) return std::nullopt;
    const std::uint32_t total = be16(f, ip + 2);
    if (total < ihl + 8 || ip + total > f.size()) return std::nullopt;
    if ((be16(f, ip + 6) & 0x3fff) != 0) return std::nullopt;  // a fragment (MF set or an offset)
    if (std::to_integer<unsigned>(f[ip + 9]) != 17) return std::nullopt;
    const std::uint32_t udp = ip + ihl;
    const std::uint32_t udp_len = be16(f, udp + 4);
    if (udp_len < 8 || udp_len > total - ihl) return std::nullopt;
    return Udp{.ip_off = ip, .udp_off = udp, .payload_off = udp + 8, .payload_len = udp_len - 8,
               .dst_port = be16(f, udp + 2)};
}

std::uint16_t udp_checksum(std::span<const std::byte> f, const Udp& u) noexcept {
    const std::uint32_t udp_len = u.payload_len + 8;
    std::uint32_t sum = sum16(f, u.ip_off + 12, 8, 0);  // source and destination addresses
    sum += 17 + udp_len;
    sum = sum16(f, u.udp_off, 6, sum);  // ports and length; the checksum field counts as zero
    sum = sum16(f, u.payload_off, u.payload_len, sum);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    const auto c = static_cast<std::uint16_t>(~sum & 0xffff);
    return c == 0 ? 0xffff : c;
}

void corrupt(std::span<std::byte> f, const Udp& u, std::uint32_t at, std::uint8_t mask, bool checksum_pending) noexcept {
    if (at >= u.payload_len) return;
    f[u.payload_off + at] ^= static_cast<std::byte>(mask);
    if (checksum_pending || be16(f, u.udp_off + 6) == 0) return;
    put_be16(f, u.udp_off + 6, udp_checksum(f, u));
}

}  // namespace replicast::chaos
