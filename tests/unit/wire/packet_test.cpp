// Packet header (PROTOCOL.md 1.1): golden bytes worked out by hand from the
// table, every flag combination, and every rejection rule.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "engine/wire/packet.hpp"
#include "hex.hpp"

namespace replicast::wire {
namespace {

using testing::from_hex;

// Header for stream 0x01020304, seq 1, epoch 1, OIC, no compression, 33 payload bytes:
//   5243             magic "RC"
//   01               version
//   05               flags OIC = FIC|LIC
//   01020304         stream_id
//   0000000000000001 packet_seq
//   00000001         key_epoch
//   00               comp_alg none
//   00               reserved
//   0021             payload_len 33
constexpr const char* kGoldenHeader = "5243" "01" "05" "01020304" "0000000000000001" "00000001" "00" "00" "0021";

std::vector<std::uint8_t> datagram_with(const std::string& header_hex, std::size_t payload, bool sealed) {
    std::vector<std::uint8_t> d = from_hex(header_hex);
    d.resize(d.size() + payload + (sealed ? kTagSize : 0), 0xab);
    return d;
}

TEST(PacketHeader, EncodesGoldenBytes) {
    const PacketHeader h{.flags = flags::kOic, .stream_id = 0x01020304, .packet_seq = 1, .key_epoch = 1,
                         .comp_alg = CompAlg::none, .payload_len = 33};
    std::array<std::uint8_t, kHeaderSize> out{};
    encode_header(h, out.data());
    EXPECT_EQ(testing::to_hex(out), kGoldenHeader);
}

TEST(PacketHeader, ParsesGoldenBytes) {
    const auto d = datagram_with(kGoldenHeader, 33, true);
    PacketView v;
    ASSERT_EQ(parse_packet(d, v), WireError::ok);
    EXPECT_EQ(v.header.flags, flags::kOic);
    EXPECT_EQ(v.header.stream_id, 0x01020304u);
    EXPECT_EQ(v.header.packet_seq, 1u);
    EXPECT_EQ(v.header.key_epoch, 1u);
    EXPECT_EQ(v.header.comp_alg, CompAlg::none);
    EXPECT_EQ(v.header.payload_len, 33u);
    EXPECT_EQ(v.kind, PacketKind::data);
    EXPECT_EQ(v.position, ChainPosition::only);
    EXPECT_EQ(v.header_bytes.data(), d.data());
    EXPECT_EQ(v.header_bytes.size(), kHeaderSize);
    EXPECT_EQ(v.payload.data(), d.data() + 24);
    EXPECT_EQ(v.payload.size(), 33u);
    EXPECT_EQ(v.tag.data(), d.data() + 24 + 33);
    EXPECT_EQ(v.tag.size(), kTagSize);
}

TEST(PacketHeader, WideFieldsAreBigEndian) {
    const PacketHeader h{.flags = flags::kMic, .stream_id = 0xfedcba98, .packet_seq = 0x0123456789abcdefULL,
                         .key_epoch = 0x89abcdef, .comp_alg = CompAlg::deflate, .payload_len = 0xfffe};
    std::array<std::uint8_t, kHeaderSize> out{};
    encode_header(h, out.data());
    EXPECT_EQ(testing::to_hex(out), "5243" "01" "02" "fedcba98" "0123456789abcdef" "89abcdef" "01" "00" "fffe");
}

TEST(PacketHeader, UnsealedHasNoTag) {
    const auto d = datagram_with("5243" "01" "05" "00000005" "0000000000000001" "00000000" "00" "00" "0003", 3, false);
    PacketView v;
    ASSERT_EQ(parse_packet(d, v), WireError::ok);
    EXPECT_FALSE(v.header.sealed());
    EXPECT_TRUE(v.tag.empty());
    EXPECT_EQ(v.payload.size(), 3u);
}

TEST(PacketHeader, ReservedByteIsIgnoredOnReceive) {
    auto d = datagram_with(kGoldenHeader, 33, true);
    d[21] = 0x7f;
    PacketView v;
    EXPECT_EQ(parse_packet(d, v), WireError::ok);
}

TEST(PacketHeader, MaximumPayloadLength) {
    auto d = datagram_with("5243" "01" "01" "00000001" "0000000000000001" "00000002" "00" "00" "ffff", 0xffff, true);
    PacketView v;
    ASSERT_EQ(parse_packet(d, v), WireError::ok);
    EXPECT_EQ(v.payload.size(), 0xffffu);
}

TEST(PacketHeader, EmptyPayloadIsWellFormed) {
    auto d = datagram_with("5243" "01" "05" "00000001" "0000000000000001" "00000000" "00" "00" "0000", 0, false);
    PacketView v;
    EXPECT_EQ(parse_packet(d, v), WireError::ok);
}

struct Rejection {
    const char* name;
    std::vector<std::uint8_t> datagram;
    WireError expected;
};

TEST(PacketHeader, RejectsEveryMalformedShape) {
    const std::vector<Rejection> cases = {
        {"empty", {}, WireError::shorter_than_header},
        {"23 bytes", [] { auto d = from_hex(kGoldenHeader); d.pop_back(); return d; }(), WireError::shorter_than_header},
        {"magic 0x0043", datagram_with("0043" "01" "05" "01020304" "0000000000000001" "00000001" "00" "00" "0021", 33, true),
         WireError::bad_magic},
        {"magic byte-swapped", datagram_with("4352" "01" "05" "01020304" "0000000000000001" "00000001" "00" "00" "0021", 33, true),
         WireError::bad_magic},
        {"version 0", datagram_with("5243" "00" "05" "01020304" "0000000000000001" "00000001" "00" "00" "0021", 33, true),
         WireError::bad_version},
        {"version 2", datagram_with("5243" "02" "05" "01020304" "0000000000000001" "00000001" "00" "00" "0021", 33, true),
         WireError::bad_version},
        {"comp_alg 2", datagram_with("5243" "01" "05" "01020304" "0000000000000001" "00000001" "02" "00" "0021", 33, true),
         WireError::bad_comp_alg},
        {"truncated by 1", [] { auto d = datagram_with(kGoldenHeader, 33, true); d.pop_back(); return d; }(),
         WireError::length_mismatch},
        {"1 extra byte", [] { auto d = datagram_with(kGoldenHeader, 33, true); d.push_back(0); return d; }(),
         WireError::length_mismatch},
        {"sealed length but epoch 0", datagram_with("5243" "01" "05" "01020304" "0000000000000001" "00000000" "00" "00" "0021", 33, true),
         WireError::length_mismatch},
        {"unsealed length but epoch 1", datagram_with(kGoldenHeader, 33, false), WireError::length_mismatch},
        {"payload_len past the end", datagram_with("5243" "01" "05" "01020304" "0000000000000001" "00000001" "00" "00" "ffff", 33, true),
         WireError::length_mismatch},
    };
    for (const Rejection& c : cases) {
        PacketView v;
        EXPECT_EQ(parse_packet(c.datagram, v), c.expected) << c.name << ": got " << describe(parse_packet(c.datagram, v));
    }
}

// Every one of the 256 flag bytes: exactly the six the spec allows are accepted.
TEST(PacketFlags, OnlyTheSpecifiedCombinationsAreAccepted) {
    struct Allowed {
        std::uint8_t flags;
        PacketKind kind;
        ChainPosition position;
    };
    const std::array<Allowed, 6> allowed = {{
        {0x01, PacketKind::data, ChainPosition::first},
        {0x02, PacketKind::data, ChainPosition::middle},
        {0x04, PacketKind::data, ChainPosition::last},
        {0x05, PacketKind::data, ChainPosition::only},
        {0x15, PacketKind::key_change, ChainPosition::only},
        {0x25, PacketKind::heartbeat, ChainPosition::only},
    }};
    int accepted = 0;
    for (int f = 0; f < 256; ++f) {
        PacketKind kind{};
        ChainPosition position{};
        const WireError e = classify_flags(static_cast<std::uint8_t>(f), kind, position);
        const auto* match = std::find_if(allowed.begin(), allowed.end(), [&](const Allowed& a) { return a.flags == f; });
        if (match == allowed.end()) {
            EXPECT_EQ(e, WireError::bad_flags) << "flags 0x" << std::hex << f;
            continue;
        }
        ++accepted;
        ASSERT_EQ(e, WireError::ok) << "flags 0x" << std::hex << f;
        EXPECT_EQ(kind, match->kind);
        EXPECT_EQ(position, match->position);
    }
    EXPECT_EQ(accepted, 6);
}

TEST(PacketFlags, PositionFlagsRoundTrip) {
    for (ChainPosition p : {ChainPosition::first, ChainPosition::middle, ChainPosition::last, ChainPosition::only}) {
        PacketKind kind{};
        ChainPosition back{};
        ASSERT_EQ(classify_flags(position_flags(p), kind, back), WireError::ok);
        EXPECT_EQ(back, p);
        EXPECT_EQ(kind, PacketKind::data);
    }
}

TEST(PacketHeader, RoundTripsThroughEncodeAndParse) {
    for (std::uint8_t f : {flags::kFic, flags::kMic, flags::kLic, flags::kOic,
                           static_cast<std::uint8_t>(flags::kHeartbeat | flags::kOic),
                           static_cast<std::uint8_t>(flags::kKeyChange | flags::kOic)}) {
        const PacketHeader h{.flags = f, .stream_id = 77, .packet_seq = 1ULL << 40, .key_epoch = 3,
                             .comp_alg = CompAlg::deflate, .payload_len = 100};
        std::vector<std::uint8_t> d(datagram_size(100, true));
        encode_header(h, d.data());
        PacketView v;
        ASSERT_EQ(parse_packet(d, v), WireError::ok);
        EXPECT_EQ(v.header.flags, h.flags);
        EXPECT_EQ(v.header.stream_id, h.stream_id);
        EXPECT_EQ(v.header.packet_seq, h.packet_seq);
        EXPECT_EQ(v.header.key_epoch, h.key_epoch);
        EXPECT_EQ(v.header.comp_alg, h.comp_alg);
        EXPECT_EQ(v.header.payload_len, h.payload_len);
    }
}

TEST(WireErrors, EveryErrorHasADistinctNameAndText) {
    std::vector<std::string_view> names;
    for (int e = 0; e <= static_cast<int>(WireError::buffer_too_small); ++e) {
        const auto err = static_cast<WireError>(e);
        EXPECT_FALSE(describe(err).empty());
        EXPECT_NE(error_name(err), "unknown") << e;
        EXPECT_EQ(std::count(names.begin(), names.end(), error_name(err)), 0) << error_name(err);
        names.push_back(error_name(err));
    }
}

}  // namespace
}  // namespace replicast::wire
