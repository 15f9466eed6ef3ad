// Config validation (every message names its field) and on-wire frame sizes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/pace/pacer.hpp"

namespace replicast::pace {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(Validate, AcceptsDefaultsAndEveryLimit) {
    EXPECT_EQ(validate({}), "");
    EXPECT_EQ(validate({.rate_bps = kMinRateBps}), "");
    EXPECT_EQ(validate({.rate_bps = kMaxRateBps}), "");
    EXPECT_EQ(validate({.min_packet_gap_ns = kMaxGapNs}), "");
    EXPECT_EQ(validate({.chain_gap_base_ns = kMaxGapNs}), "");
    EXPECT_EQ(validate({.chain_gap_ns_per_kib = kMaxChainGapNsPerKib}), "");
    EXPECT_EQ(validate({.max_burst_bytes = kMinBurstBytes}), "");
    EXPECT_EQ(validate({.max_burst_bytes = kMaxBurstBytes}), "");
    EXPECT_EQ(validate({}, kMinTscHz), "");
    EXPECT_EQ(validate({}, kMaxTscHz), "");
}

TEST(Validate, NamesTheFieldAndTheRange) {
    EXPECT_THAT(validate({.rate_bps = kMinRateBps - 1}),
                AllOf(StartsWith("rate_bps: 999 "), HasSubstr("1000 .. 400000000000 bit/s (0 = no cap)")));
    EXPECT_THAT(validate({.rate_bps = kMaxRateBps + 1}), StartsWith("rate_bps: 400000000001 "));
    EXPECT_THAT(validate({.min_packet_gap_ns = kMaxGapNs + 1}), StartsWith("min_packet_gap_ns: "));
    EXPECT_THAT(validate({.chain_gap_base_ns = kMaxGapNs + 1}), StartsWith("chain_gap_base_ns: "));
    EXPECT_THAT(validate({.chain_gap_ns_per_kib = kMaxChainGapNsPerKib + 1}), StartsWith("chain_gap_ns_per_kib: "));
    EXPECT_THAT(validate({.max_burst_bytes = kMaxBurstBytes + 1}), StartsWith("max_burst_bytes: "));
    EXPECT_THAT(validate({}, 0), StartsWith("tsc_hz: 0 "));
    EXPECT_THAT(validate({}, kMaxTscHz + 1), StartsWith("tsc_hz: "));
    EXPECT_THAT(validate({.rate_bps = 1}, 2'000'000'000), StartsWith("rate_bps: ")) << "the config is checked too";
}

TEST(Validate, BurstBelowOneFrameIsAUnitMistake) {
    // 64 was probably meant as 64 KiB; as bytes it would pace exactly as 0 does.
    for (const std::uint64_t burst : {std::uint64_t{1}, std::uint64_t{64}, kMinBurstBytes - 1}) {
        EXPECT_THAT(validate({.max_burst_bytes = burst}),
                    AllOf(StartsWith("max_burst_bytes: " + std::to_string(burst) + " "), HasSubstr("84 bytes"),
                          HasSubstr("0 means strictly paced")));
    }
}

TEST(Validate, NamesTheFirstBadField) {
    EXPECT_THAT(validate({.rate_bps = 1, .max_burst_bytes = 1}), StartsWith("rate_bps: "));
}

TEST(OnWire, AddsPreambleFcsAndInterFrameGap) {
    EXPECT_EQ(kEthOverheadBytes, 24u);
    EXPECT_EQ(on_wire_bytes(60), 84u);      // the minimum frame: 14.88 Mpps at 10G
    EXPECT_EQ(on_wire_bytes(1514), 1538u);  // a full 1500-MTU frame
    EXPECT_EQ(on_wire_bytes(9014), 9038u);  // a 9000-MTU jumbo frame
}

// The tx worker skips the Pacer for an unpaced stream: that must mean no knob
// that could ever delay a packet is set (a burst depth alone delays nothing).
TEST(Unpaced, OnlyWhenNoKnobCanDelayAPacket) {
    EXPECT_TRUE(unpaced({}));
    EXPECT_TRUE(unpaced({.max_burst_bytes = 1'000'000}));
    EXPECT_FALSE(unpaced({.rate_bps = 1'000'000}));
    EXPECT_FALSE(unpaced({.min_packet_gap_ns = 1}));
    EXPECT_FALSE(unpaced({.chain_gap_base_ns = 1}));
    EXPECT_FALSE(unpaced({.chain_gap_ns_per_kib = 1}));
    // And then the Pacer itself never delays: deadlines are always in the past.
    Pacer p({.max_burst_bytes = 1'000'000}, 1'000'000'000);
    for (std::uint64_t t = 1; t < 1000; ++t) {
        ASSERT_LE(p.next_deadline(t, 9000), t);
        p.on_sent(t, 9000, t % 7 == 0, 63'000);
    }
}

}  // namespace
}  // namespace replicast::pace
