#include "engine/tx/frame_template.hpp"

#include <cstring>

#include "engine/wire/endian.hpp"
#include "engine/wire/frame.hpp"

namespace replicast::tx {

namespace {
constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
constexpr std::uint16_t kEtherTypeVlan = 0x8100;
constexpr std::uint8_t kIpProtoUdp = 17;
constexpr std::uint16_t kDontFragment = 0x4000;
}  // namespace

FrameTemplate::FrameTemplate(const FrameAddressing& a) noexcept {
    using wire::store_be;
    std::uint8_t* p = bytes_.data();
    const auto dst_mac = wire::multicast_mac(a.group);
    std::memcpy(p, dst_mac.data(), 6);
    std::memcpy(p + 6, a.source_mac.data(), 6);
    std::size_t off = 12;
    if (a.vlan_id != 0) {
        store_be<std::uint16_t>(p + off, kEtherTypeVlan);
        store_be<std::uint16_t>(p + off + 2, static_cast<std::uint16_t>(a.vlan_pcp << 13 | a.vlan_id));
        off += 4;
    }
    store_be<std::uint16_t>(p + off, kEtherTypeIpv4);
    off += 2;
    std::uint8_t* ip = p + off;
    ip[0] = 0x45;  // version 4, IHL 5: no options
    ip[1] = static_cast<std::uint8_t>(a.dscp << 2);
    // total length at ip+2 per frame; identification 0: with DF set it is unused (RFC 6864)
    store_be<std::uint16_t>(ip + 6, kDontFragment);
    ip[8] = a.ttl;
    ip[9] = kIpProtoUdp;
    store_be<std::uint32_t>(ip + 12, a.source_ip);
    store_be<std::uint32_t>(ip + 16, a.group);
    ip_sum_ = wire::checksum_partial({ip, 20});
    std::uint8_t* udp = ip + 20;
    store_be<std::uint16_t>(udp, a.source_port);
    store_be<std::uint16_t>(udp + 2, a.group_port);
    size_ = off + 20 + 8;
    pseudo_sum_ = (a.source_ip >> 16) + (a.source_ip & 0xffff) + (a.group >> 16) + (a.group & 0xffff) + kIpProtoUdp;
}

}  // namespace replicast::tx
