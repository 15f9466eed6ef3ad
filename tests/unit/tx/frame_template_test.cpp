// Frame headers as the sender writes them, read back by engine/wire's frame
// parser (an independent check of checksums, DF, TTL, DSCP, MAC and VLAN).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "engine/tx/frame_template.hpp"
#include "engine/wire/frame.hpp"
#include "hex.hpp"

namespace replicast::tx {
namespace {

FrameAddressing lab_addressing(std::uint16_t vlan = 0) {
    return {.source_mac = {0x02, 0, 0, 0, 0, 0x01}, .source_ip = 0x0a4d0001, .group = 0xefc00005,
            .source_port = 40000, .group_port = 5005, .vlan_id = vlan, .vlan_pcp = 3, .ttl = 4, .dscp = 46};
}

std::vector<std::uint8_t> frame_with_payload(const FrameTemplate& t, std::size_t n, bool software_udp, std::uint64_t seed) {
    // write() stores kWriteBytes whatever the payload (the tail is scratch the
    // replicast header overwrites): the buffer must hold that much.
    std::vector<std::uint8_t> f(std::max(t.header_size() + n, FrameTemplate::kWriteBytes));
    t.write(f.data(), static_cast<std::uint16_t>(n));
    f.resize(t.header_size() + n);
    std::mt19937_64 rng(seed);
    for (std::size_t i = t.header_size(); i < f.size(); ++i) f[i] = static_cast<std::uint8_t>(rng());
    if (software_udp) t.finish_udp_checksum(f.data(), static_cast<std::uint16_t>(n));
    return f;
}

TEST(FrameTemplate, HeadersPassTheIndependentParser) {
    for (std::uint16_t vlan : {std::uint16_t{0}, std::uint16_t{42}}) {
        const FrameTemplate t(lab_addressing(vlan));
        EXPECT_EQ(t.header_size(), vlan ? 46u : 42u);
        for (std::size_t n : {0u, 1u, 2u, 41u, 1472u}) {
            const auto f = frame_with_payload(t, n, true, n);
            wire::FrameInfo info;
            ASSERT_EQ(wire::parse_ethernet_frame(f, info), wire::FrameError::ok);
            EXPECT_TRUE(info.ipv4_checksum_ok) << n;
            EXPECT_TRUE(info.udp_checksum_present);
            EXPECT_TRUE(info.udp_checksum_ok) << n;
            EXPECT_TRUE(info.dont_fragment);
            EXPECT_EQ(info.ttl, 4);
            EXPECT_EQ(info.dscp, 46);
            EXPECT_EQ(info.src_ip, 0x0a4d0001u);
            EXPECT_EQ(info.dst_ip, 0xefc00005u);
            EXPECT_EQ(info.src_port, 40000);
            EXPECT_EQ(info.dst_port, 5005);
            EXPECT_EQ(info.dst_mac, wire::multicast_mac(0xefc00005));
            EXPECT_EQ(testing::to_hex(info.src_mac), "020000000001");
            EXPECT_EQ(info.has_vlan, vlan != 0);
            if (vlan) {
                EXPECT_EQ(info.vlan_id, 42);
                EXPECT_EQ(info.vlan_pcp, 3);
            }
            EXPECT_EQ(info.udp_payload.size(), n);
        }
    }
}

TEST(FrameTemplate, PseudoChecksumIsWhatOffloadExpects) {
    // With offload, the NIC adds the datagram's sum to the pseudo-header sum we
    // leave in the field; doing that addition here must give a valid checksum.
    const FrameTemplate t(lab_addressing());
    auto f = frame_with_payload(t, 300, false, 7);
    t.write_udp_pseudo_checksum(f.data(), 300);
    std::uint8_t* udp = f.data() + 34;
    const std::uint16_t pseudo = static_cast<std::uint16_t>(udp[6] << 8 | udp[7]);
    udp[6] = udp[7] = 0;
    std::uint16_t c = wire::internet_checksum({udp, 308}, pseudo);
    udp[6] = static_cast<std::uint8_t>(c >> 8);
    udp[7] = static_cast<std::uint8_t>(c);
    wire::FrameInfo info;
    ASSERT_EQ(wire::parse_ethernet_frame(f, info), wire::FrameError::ok);
    EXPECT_TRUE(info.udp_checksum_ok);
}

}  // namespace
}  // namespace replicast::tx
