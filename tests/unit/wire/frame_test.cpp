// Ethernet/802.1Q/IPv4/UDP framing checks used on captures.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>

#include "engine/wire/frame.hpp"
#include "hex.hpp"

namespace replicast::wire {
namespace {

using testing::from_hex;
using testing::to_hex;

// A data-plane frame built independently (Python's struct module, RFC 1071 sum):
//   eth  01005e400001 dst (multicast MAC of 239.192.0.1) | 020000000001 src | 0800
//   ipv4 45 b8(DSCP 46) 0037 0000 4000(DF) 10(TTL 16) 11(UDP) 703c(csum) 0a000001 efc00001
//   udp  9c40(40000) 1388(5000) 0023 3e69(csum)
//   replicast: unsealed OIC header, stream 5 seq 1, payload "abc"
const std::string kEth = "01005e400001" "020000000001" "0800";
const std::string kIp = "45b80037000040001011703c0a000001efc00001";
const std::string kUdp = "9c40138800233e69";
const std::string kPayload = "524301050000000500000000000000010000000000000003616263";

TEST(Frame, ParsesAGoldenMulticastFrame) {
    const auto frame = from_hex(kEth + kIp + kUdp + kPayload);
    FrameInfo f;
    ASSERT_EQ(parse_ethernet_frame(frame, f), FrameError::ok);
    EXPECT_FALSE(f.has_vlan);
    EXPECT_EQ(f.src_ip, 0x0a000001u);
    EXPECT_EQ(f.dst_ip, 0xefc00001u);
    EXPECT_EQ(f.ttl, 16);
    EXPECT_EQ(f.dscp, 46);
    EXPECT_TRUE(f.dont_fragment);
    EXPECT_TRUE(f.ipv4_checksum_ok);
    EXPECT_TRUE(f.udp_checksum_present);
    EXPECT_TRUE(f.udp_checksum_ok);
    EXPECT_EQ(f.src_port, 40000);
    EXPECT_EQ(f.dst_port, 5000);
    EXPECT_EQ(f.dst_mac, multicast_mac(f.dst_ip));
    EXPECT_EQ(to_hex(f.udp_payload), kPayload);
}

TEST(Frame, VlanTagIsUnderstood) {
    // 8100 | PCP 5, VID 42 = a02a
    const auto frame = from_hex("01005e400001" "020000000001" "8100" "a02a" "0800" + kIp + kUdp + kPayload);
    FrameInfo f;
    ASSERT_EQ(parse_ethernet_frame(frame, f), FrameError::ok);
    EXPECT_TRUE(f.has_vlan);
    EXPECT_EQ(f.vlan_id, 42);
    EXPECT_EQ(f.vlan_pcp, 5);
    EXPECT_TRUE(f.udp_checksum_ok);
}

TEST(Frame, ChecksumFaultsAreReportedNotHidden) {
    auto frame = from_hex(kEth + kIp + kUdp + kPayload);
    frame.back() ^= 1;  // payload bit: UDP checksum no longer matches
    FrameInfo f;
    ASSERT_EQ(parse_ethernet_frame(frame, f), FrameError::ok);
    EXPECT_TRUE(f.ipv4_checksum_ok);
    EXPECT_FALSE(f.udp_checksum_ok);

    frame = from_hex(kEth + kIp + kUdp + kPayload);
    frame[14 + 8] = 15;  // TTL changed without fixing the header checksum
    ASSERT_EQ(parse_ethernet_frame(frame, f), FrameError::ok);
    EXPECT_FALSE(f.ipv4_checksum_ok);
}

TEST(Frame, EthernetPaddingAfterTheIpPacketIsIgnored) {
    const auto frame = from_hex(kEth + kIp + kUdp + kPayload + "000000000000");
    FrameInfo f;
    ASSERT_EQ(parse_ethernet_frame(frame, f), FrameError::ok);
    EXPECT_EQ(to_hex(f.udp_payload), kPayload);
}

TEST(Frame, RejectsWhatIsNotOurs) {
    FrameInfo f;
    EXPECT_EQ(parse_ethernet_frame(from_hex("01005e400001020000000001"), f), FrameError::truncated);
    EXPECT_EQ(parse_ethernet_frame(from_hex("01005e400001020000000001" "0806" + kIp), f), FrameError::not_ipv4);
    // protocol 2 (IGMP)
    EXPECT_EQ(parse_ethernet_frame(from_hex(kEth + "45b80037000040001002703c0a000001efc00001" + kUdp + kPayload), f),
              FrameError::not_udp);
    // more-fragments flag
    EXPECT_EQ(parse_ethernet_frame(from_hex(kEth + "45b80037000020001011703c0a000001efc00001" + kUdp + kPayload), f),
              FrameError::fragment);
    // a fragment of something else (ICMP, protocol 1): other traffic, not a broken frame of ours
    EXPECT_EQ(parse_ethernet_frame(from_hex(kEth + "45b80037000020001001703c0a000001efc00001" + kUdp + kPayload), f),
              FrameError::not_udp);
    // IHL 4
    EXPECT_EQ(parse_ethernet_frame(from_hex(kEth + "44b80037000040001011703c0a000001efc00001" + kUdp + kPayload), f),
              FrameError::bad_ipv4_header);
    // total length past the frame
    EXPECT_EQ(parse_ethernet_frame(from_hex(kEth + "45b800ff000040001011703c0a000001efc00001" + kUdp + kPayload), f),
              FrameError::bad_ipv4_header);
    // UDP length one short of the IP payload
    EXPECT_EQ(parse_ethernet_frame(from_hex(kEth + kIp + "9c40138800223e69" + kPayload), f), FrameError::bad_udp_length);
}

TEST(Frame, MulticastMacKeepsTheLow23Bits) {
    EXPECT_EQ(to_hex(multicast_mac(0xefc00001)), "01005e400001");  // 239.192.0.1
    EXPECT_EQ(to_hex(multicast_mac(0xefffffff)), "01005e7fffff");  // 239.255.255.255
    EXPECT_EQ(to_hex(multicast_mac(0xe0800001)), "01005e000001");  // 224.128.0.1: bit 23 dropped
}

TEST(Checksum, Rfc1071Example) {
    // RFC 1071 section 3 sample words 0001 f203 f4f5 f6f7 sum to ddf2; the checksum is its complement.
    EXPECT_EQ(internet_checksum(from_hex("0001f203f4f5f6f7")), 0x220d);
    EXPECT_EQ(internet_checksum(from_hex("01")), 0xfeff);  // odd length pads with zero
}

std::vector<ChecksumPath> available_paths() {
    std::vector<ChecksumPath> paths;
    for (ChecksumPath p : kChecksumPaths) {
        if (checksum_path_available(p)) paths.push_back(p);
    }
    return paths;
}

// Every vector path the CPU has (scalar, AVX2, AVX-512F, AVX-512 VNNI) against
// the RFC's 16-bit loop, every length to 200 (the VNNI path takes two masked
// loads up to 128 bytes), every position in a cache line
// (the VNNI path loads whole aligned lines and masks the ends).
TEST(Checksum, EveryPathMatchesTheTextbookLoop) {
    alignas(64) std::array<std::uint8_t, 2112> buf{};
    std::uint32_t x = 12345;
    for (auto& b : buf) b = static_cast<std::uint8_t>((x = x * 1103515245u + 12345u) >> 16);
    for (std::size_t off = 0; off < 66; ++off) {
        for (std::size_t len = 0; len < 2000; len += (len < 200 ? 1 : 37)) {
            std::uint32_t naive = 0x1234;
            for (std::size_t i = 0; i < len; i += 2) {
                naive += static_cast<std::uint32_t>(buf[off + i]) << 8 | (i + 1 < len ? buf[off + i + 1] : 0);
            }
            while (naive >> 16) naive = (naive & 0xffff) + (naive >> 16);
            const auto expected = static_cast<std::uint16_t>(~naive & 0xffff);
            ASSERT_EQ(internet_checksum(std::span(buf).subspan(off, len), 0x1234), expected) << "len " << len << " off " << off;
            for (ChecksumPath path : available_paths()) {
                ASSERT_EQ(internet_checksum_via(path, std::span(buf).subspan(off, len), 0x1234), expected)
                    << "path " << static_cast<int>(path) << " len " << len << " off " << off;
            }
        }
    }
}

}  // namespace
}  // namespace replicast::wire

// The widest carries: every byte 0xff, lengths that run the vector path many
// times over (jumbo frames) and past the VNNI path's 64 KiB blocks (where its
// lane bounds would first break), against the textbook loop.
TEST(Checksum, AllOnesJumboMatchesTheTextbookLoop) {
    using replicast::wire::ChecksumPath;
    std::vector<std::uint8_t> ones(300'000, 0xff);
    std::vector<std::uint8_t> noise(300'000);
    std::uint32_t x = 777;
    for (auto& b : noise) b = static_cast<std::uint8_t>((x = x * 1103515245u + 12345u) >> 16);
    for (const std::vector<std::uint8_t>* data : {&ones, &noise}) {
        const std::vector<std::uint8_t>& buf = *data;
        for (std::size_t len : {64u, 65u, 1432u, 4097u, 9000u, 65'535u, 65'536u, 65'601u, 299'967u, 299'966u}) {
            // Two starts: the allocator's alignment, and 33 bytes on (odd,
            // so blocks straddle cache lines and bytes pair the other way).
            for (std::size_t off : {0u, 33u}) {
                const auto bytes = std::span(buf).subspan(off, len);
                std::uint64_t naive = 0;  // 64 bits: 150 000 words of 0xffff overflow 32
                for (std::size_t i = 0; i < len; i += 2) naive += std::uint64_t{bytes[i]} << 8 | (i + 1 < len ? bytes[i + 1] : 0);
                while (naive >> 16) naive = (naive & 0xffff) + (naive >> 16);
                EXPECT_EQ(replicast::wire::internet_checksum(bytes), static_cast<std::uint16_t>(~naive & 0xffff)) << len;
                for (ChecksumPath path : replicast::wire::kChecksumPaths) {
                    if (!replicast::wire::checksum_path_available(path)) continue;
                    EXPECT_EQ(replicast::wire::internet_checksum_via(path, bytes), static_cast<std::uint16_t>(~naive & 0xffff))
                        << "path " << static_cast<int>(path) << " len " << len << " off " << off;
                }
            }
        }
    }
}

// The dispatch picks the widest path the CPU has (a fallback to scalar would
// pass every equality test above and lose half the sender's checksum speed).
TEST(Checksum, PicksTheWidestPathTheCpuHas) {
    using replicast::wire::ChecksumPath;
    ChecksumPath widest = ChecksumPath::scalar;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2")) widest = ChecksumPath::avx2;
    if (__builtin_cpu_supports("avx512f")) widest = ChecksumPath::avx512;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("bmi2")) widest = ChecksumPath::avx512_vnni;
#endif
    EXPECT_EQ(replicast::wire::checksum_path(), widest);
    std::printf("checksum path in use: %s\n", replicast::wire::checksum_path_name(widest));
}

// The sender's direct sum (one call per frame, no dispatch) is the same sum:
// complemented, it is internet_checksum, for every length and start.
TEST(Checksum, FoldedSumFnIsTheUncomplementedChecksum) {
    alignas(64) std::array<std::uint8_t, 1700> buf{};
    std::uint32_t x = 4242;
    for (auto& b : buf) b = static_cast<std::uint8_t>((x = x * 1103515245u + 12345u) >> 16);
    const replicast::wire::FoldedSumFn sum = replicast::wire::folded_sum_fn();
    for (std::size_t off = 0; off < 66; ++off) {
        for (std::size_t len = 0; len <= 1600; len += (len < 130 ? 1 : 53)) {
            const auto bytes = std::span(buf).subspan(off, len);
            EXPECT_EQ(static_cast<std::uint16_t>(~sum(bytes.data(), len) & 0xffff), replicast::wire::internet_checksum(bytes))
                << "len " << len << " off " << off;
        }
    }
}
