// Heartbeat (1.4) and key change (1.5) payloads: golden bytes and rejections.
#include <gtest/gtest.h>

#include <array>

#include "engine/wire/control.hpp"
#include "hex.hpp"

namespace replicast::wire {
namespace {

using testing::from_hex;
using testing::to_hex;

// last_lsn 44 = 0x2c; server_time_ns 1764000000123456789 = 0x187afca76f25cd15.
TEST(Heartbeat, GoldenBytes) {
    std::array<std::uint8_t, kHeartbeatSize> out{};
    encode_heartbeat({.last_lsn = 44, .server_time_ns = 1764000000123456789ULL}, out.data());
    EXPECT_EQ(to_hex(out), "000000000000002c" "187afca76f25cd15");
    Heartbeat hb;
    ASSERT_EQ(parse_heartbeat(out, hb), WireError::ok);
    EXPECT_EQ(hb.last_lsn, 44u);
    EXPECT_EQ(hb.server_time_ns, 1764000000123456789ULL);
}

TEST(Heartbeat, WrongLengthIsRejected) {
    Heartbeat hb;
    EXPECT_EQ(parse_heartbeat(from_hex("000000000000002c187afca76f25cd"), hb), WireError::bad_control_length);
    EXPECT_EQ(parse_heartbeat(from_hex("000000000000002c187afca76f25cd1500"), hb), WireError::bad_control_length);
    EXPECT_EQ(parse_heartbeat({}, hb), WireError::bad_control_length);
}

// next_epoch 8; first_seq 5000 = 0x1388.
TEST(KeyChange, GoldenBytes) {
    std::array<std::uint8_t, kKeyChangeSize> out{};
    encode_key_change({.next_epoch = 8, .first_seq = 5000}, out.data());
    EXPECT_EQ(to_hex(out), "00000008" "0000000000001388");
    KeyChange kc;
    ASSERT_EQ(parse_key_change(out, kc), WireError::ok);
    EXPECT_EQ(kc.next_epoch, 8u);
    EXPECT_EQ(kc.first_seq, 5000u);
}

TEST(KeyChange, RejectsWrongLengthEpochZeroAndSeqZero) {
    KeyChange kc;
    EXPECT_EQ(parse_key_change(from_hex("000000080000000000001388ff"), kc), WireError::bad_control_length);
    EXPECT_EQ(parse_key_change(from_hex("0000000800000000000013"), kc), WireError::bad_control_length);
    EXPECT_EQ(parse_key_change(from_hex("000000000000000000001388"), kc), WireError::bad_key_epoch);
    EXPECT_EQ(parse_key_change(from_hex("000000080000000000000000"), kc), WireError::bad_first_seq);
}

}  // namespace
}  // namespace replicast::wire
