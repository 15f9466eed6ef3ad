// Chain record and update body (PROTOCOL.md 1.3): golden chains worked out by
// hand, and every rejection rule of the record head and the update codec.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "engine/wire/chain_record.hpp"
#include "engine/wire/packet.hpp"
#include "engine/wire/update.hpp"
#include "hex.hpp"

namespace replicast::wire {
namespace {

using testing::bytes_of;
using testing::from_hex;
using testing::to_hex;

std::vector<std::uint8_t> encode_all(const std::vector<UpdateView>& updates) {
    std::vector<std::uint8_t> body;
    for (const UpdateView& u : updates) {
        std::vector<std::uint8_t> one(encoded_update_size(u));
        std::size_t written = 0;
        EXPECT_EQ(encode_update(u, one, written), WireError::ok);
        EXPECT_EQ(written, one.size());
        body.insert(body.end(), one.begin(), one.end());
    }
    return body;
}

std::string text(std::span<const std::uint8_t> s) { return {s.begin(), s.end()}; }

// OIC chain: LSN 9, one put of key "k" with an empty value, group 0:
//   record head: 0000000000000009 first_lsn | 00000001 update_count | 0000000a body_len 10
//   body:        01 put | 0000 group | 0001 key_len | 00000000 value_len | 6b "k"
// carried unsealed by stream 5, seq 1: header 5243 01 05 00000005 ..01 00000000 00 00 001a (26).
TEST(ChainGolden, OnlyPacketChain) {
    const auto key = bytes_of("k");
    const std::vector<std::uint8_t> body = encode_all({{.op = Op::put, .reader_group = 0, .key = key, .value = {}}});
    EXPECT_EQ(to_hex(body), "01" "0000" "0001" "00000000" "6b");

    std::vector<std::uint8_t> record(kChainRecordHeadSize);
    encode_chain_record_head({.first_lsn = 9, .update_count = 1, .body_len = static_cast<std::uint32_t>(body.size())},
                             record.data());
    record.insert(record.end(), body.begin(), body.end());
    EXPECT_EQ(to_hex(record), "0000000000000009" "00000001" "0000000a" "010000000100000000" "6b");

    std::array<std::uint8_t, kHeaderSize> header{};
    encode_header({.flags = flags::kOic, .stream_id = 5, .packet_seq = 1, .key_epoch = 0,
                   .comp_alg = CompAlg::none, .payload_len = static_cast<std::uint16_t>(record.size())},
                  header.data());
    std::vector<std::uint8_t> datagram(header.begin(), header.end());
    datagram.insert(datagram.end(), record.begin(), record.end());
    ASSERT_EQ(datagram.size(), datagram_size(record.size(), false));
    EXPECT_EQ(to_hex(datagram), "5243" "01" "05" "00000005" "0000000000000001" "00000000" "00" "00" "001a"
                                "0000000000000009" "00000001" "0000000a" "010000000100000000" "6b");

    PacketView v;
    ASSERT_EQ(parse_packet(datagram, v), WireError::ok);
    ChainRecordView rec;
    ASSERT_EQ(parse_chain_record(v.payload, rec), WireError::ok);
    EXPECT_EQ(rec.head.first_lsn, 9u);
    EXPECT_EQ(rec.head.update_count, 1u);
    EXPECT_EQ(rec.head.body_len, 10u);
    UpdateReader reader(rec.body, rec.head.update_count);
    UpdateView u;
    ASSERT_TRUE(reader.next(u));
    EXPECT_EQ(u.op, Op::put);
    EXPECT_EQ(text(u.key), "k");
    EXPECT_TRUE(u.value.empty());
    EXPECT_FALSE(reader.next(u));
    EXPECT_EQ(reader.error(), WireError::ok);
}

// Three-packet chain from LSN 16 (0x10), two updates, cut 16 + 16 + 8 bytes:
//   put  group 1 "ab" = "xyz": 01 0001 0002 00000003 6162 78797a   (14 bytes)
//   del  group 0 "c":          02 0000 0001 00000000 63            (10 bytes)
//   head: 0000000000000010 00000002 00000018 (body_len 24)          (16 bytes)
// Packets seq 100 FIC, 101 MIC, 102 LIC, stream 7, unsealed, payload_len 16, 16, 8:
// the cut falls inside the delete, whose first two bytes (02 00) end the MIC.
TEST(ChainGolden, ThreePacketChain) {
    const auto ab = bytes_of("ab"), xyz = bytes_of("xyz"), c = bytes_of("c");
    const std::vector<std::uint8_t> body = encode_all({{.op = Op::put, .reader_group = 1, .key = ab, .value = xyz},
                                                       {.op = Op::del, .reader_group = 0, .key = c, .value = {}}});
    std::vector<std::uint8_t> record(kChainRecordHeadSize);
    encode_chain_record_head({.first_lsn = 16, .update_count = 2, .body_len = 24}, record.data());
    record.insert(record.end(), body.begin(), body.end());
    ASSERT_EQ(record.size(), 40u);

    const std::array<std::string, 3> expected = {
        "5243" "01" "01" "00000007" "0000000000000064" "00000000" "00" "00" "0010"
        "0000000000000010" "00000002" "00000018",
        "5243" "01" "02" "00000007" "0000000000000065" "00000000" "00" "00" "0010"
        "01" "0001" "0002" "00000003" "6162" "78797a" "0200",
        "5243" "01" "04" "00000007" "0000000000000066" "00000000" "00" "00" "0008"
        "00" "0001" "00000000" "63"};
    const std::array<ChainPosition, 3> positions = {ChainPosition::first, ChainPosition::middle, ChainPosition::last};
    const std::array<std::size_t, 3> cut = {0, 16, 32};
    std::vector<std::uint8_t> reassembled;
    for (std::size_t i = 0; i < 3; ++i) {
        const std::size_t len = (i == 2 ? record.size() : cut[i + 1]) - cut[i];
        std::vector<std::uint8_t> d(datagram_size(len, false));
        encode_header({.flags = position_flags(positions[i]), .stream_id = 7, .packet_seq = 100 + i,
                       .comp_alg = CompAlg::none, .payload_len = static_cast<std::uint16_t>(len)},
                      d.data());
        std::copy_n(record.begin() + static_cast<std::ptrdiff_t>(cut[i]), len, d.begin() + kHeaderSize);
        EXPECT_EQ(to_hex(d), expected[i]) << "packet " << i;

        PacketView v;
        ASSERT_EQ(parse_packet(from_hex(expected[i]), v), WireError::ok);
        EXPECT_EQ(v.position, positions[i]);
        const auto again = from_hex(expected[i]);
        reassembled.insert(reassembled.end(), again.begin() + kHeaderSize, again.end());
    }
    ChainRecordView rec;
    ASSERT_EQ(parse_chain_record(reassembled, rec), WireError::ok);
    EXPECT_EQ(rec.head.first_lsn, 16u);
    ASSERT_EQ(validate_body(rec.body, rec.head.update_count), WireError::ok);
    UpdateReader reader(rec.body, 2);
    UpdateView u;
    ASSERT_TRUE(reader.next(u));
    EXPECT_EQ(u.reader_group, 1);
    EXPECT_EQ(text(u.key), "ab");
    EXPECT_EQ(text(u.value), "xyz");
    ASSERT_TRUE(reader.next(u));
    EXPECT_EQ(u.op, Op::del);
    EXPECT_EQ(text(u.key), "c");
    EXPECT_FALSE(reader.next(u));
    EXPECT_EQ(reader.error(), WireError::ok);
}

TEST(ChainRecord, RejectsBadHeads) {
    ChainRecordView rec;
    EXPECT_EQ(parse_chain_record(from_hex("000000000000000100000001000000"), rec), WireError::record_too_short);
    EXPECT_EQ(parse_chain_record({}, rec), WireError::record_too_short);
    EXPECT_EQ(parse_chain_record(from_hex("00000000000000010000000000000000"), rec), WireError::zero_update_count);
    // body_len 64 MiB is the limit; one more is rejected.
    EXPECT_EQ(parse_chain_record(from_hex("00000000000000010000000104000000"), rec), WireError::ok);
    EXPECT_EQ(parse_chain_record(from_hex("00000000000000010000000104000001"), rec), WireError::body_too_large);
    EXPECT_EQ(parse_chain_record(from_hex("000000000000000100000001ffffffff"), rec), WireError::body_too_large);
}

TEST(ChainRecord, BodyIsWhatFollowsTheHead) {
    ChainRecordView rec;
    const auto bytes = from_hex("ffffffffffffffff" "ffffffff" "00000003" "aabbcc");
    ASSERT_EQ(parse_chain_record(bytes, rec), WireError::ok);
    EXPECT_EQ(rec.head.first_lsn, 0xffffffffffffffffULL);
    EXPECT_EQ(rec.head.update_count, 0xffffffffu);
    EXPECT_EQ(to_hex(rec.body), "aabbcc");
}

struct BodyCase {
    const char* name;
    std::string body_hex;
    std::uint32_t count;
    WireError expected;
};

TEST(UpdateBody, RejectsEveryMalformedShape) {
    const std::string put_k_v = "01" "0000" "0001" "00000001" "6b" "76";  // put "k" = "v"
    const std::vector<BodyCase> cases = {
        {"well formed", put_k_v, 1, WireError::ok},
        {"two well formed", put_k_v + put_k_v, 2, WireError::ok},
        {"empty body, one update", "", 1, WireError::update_count_mismatch},
        {"fewer updates than count", put_k_v, 2, WireError::update_count_mismatch},
        {"trailing bytes", put_k_v + "00", 1, WireError::trailing_bytes},
        {"extra update", put_k_v + put_k_v, 1, WireError::trailing_bytes},
        {"head cut short", "01000000010000", 1, WireError::update_truncated},
        {"op 0", "00" "0000" "0001" "00000001" "6b" "76", 1, WireError::bad_op},
        {"op 3", "03" "0000" "0001" "00000001" "6b" "76", 1, WireError::bad_op},
        {"key_len 0", "01" "0000" "0000" "00000001" "76", 1, WireError::bad_key_len},
        {"key_len 512", "01" "0000" "0200" "00000000" + std::string(1024, 'a'), 1, WireError::bad_key_len},
        {"value over 16 MiB", "01" "0000" "0001" "01000001" "6b", 1, WireError::value_too_large},
        {"value_len 0xffffffff", "01" "0000" "0001" "ffffffff" "6b", 1, WireError::value_too_large},
        {"delete with value", "02" "0000" "0001" "00000001" "6b" "76", 1, WireError::delete_with_value},
        {"key past the end", "01" "0000" "0005" "00000000" "6b", 1, WireError::update_truncated},
        {"value past the end", "01" "0000" "0001" "00000009" "6b" "76", 1, WireError::update_truncated},
        {"second update truncated", put_k_v + "01" "0000" "0001", 2, WireError::update_truncated},
    };
    for (const BodyCase& c : cases) {
        EXPECT_EQ(validate_body(from_hex(c.body_hex), c.count), c.expected) << c.name;
    }
}

TEST(UpdateBody, KeyAndValueLimitsAreInclusive) {
    const std::vector<std::uint8_t> key(kMaxKeyLen, 'k');
    const std::vector<std::uint8_t> value(kMaxValueLen, 'v');
    const UpdateView u{.op = Op::put, .reader_group = 65535, .key = key, .value = value};
    std::vector<std::uint8_t> out(encoded_update_size(u));
    std::size_t written = 0;
    ASSERT_EQ(encode_update(u, out, written), WireError::ok);
    UpdateView back;
    std::size_t used = 0;
    ASSERT_EQ(parse_update(out, back, used), WireError::ok);
    EXPECT_EQ(used, out.size());
    EXPECT_EQ(back.key.size(), kMaxKeyLen);
    EXPECT_EQ(back.value.size(), kMaxValueLen);
    EXPECT_EQ(back.reader_group, 65535);
}

TEST(UpdateEncoder, RefusesWhatTheSpecForbids) {
    const std::vector<std::uint8_t> long_key(kMaxKeyLen + 1, 'k');
    const std::vector<std::uint8_t> big_value(kMaxValueLen + 1, 'v');
    const auto k = bytes_of("k"), v = bytes_of("v");
    std::vector<std::uint8_t> out(64);
    std::size_t written = 0;
    EXPECT_EQ(encode_update({.op = Op::put, .key = {}, .value = v}, out, written), WireError::bad_key_len);
    EXPECT_EQ(encode_update({.op = Op::put, .key = long_key, .value = v}, out, written), WireError::bad_key_len);
    EXPECT_EQ(encode_update({.op = Op::put, .key = k, .value = big_value}, out, written), WireError::value_too_large);
    EXPECT_EQ(encode_update({.op = Op::del, .key = k, .value = v}, out, written), WireError::delete_with_value);
    EXPECT_EQ(encode_update({.op = static_cast<Op>(9), .key = k, .value = v}, out, written), WireError::bad_op);
    std::vector<std::uint8_t> tiny(10);  // needs 11
    EXPECT_EQ(encode_update({.op = Op::put, .key = k, .value = v}, tiny, written), WireError::buffer_too_small);
}

}  // namespace
}  // namespace replicast::wire
