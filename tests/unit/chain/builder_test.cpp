// Chain builder and segmentation.
#include <gtest/gtest.h>

#include <random>

#include "engine/chain/builder.hpp"
#include "engine/chain/codec.hpp"
#include "engine/chain/segment.hpp"
#include "engine/wire/chain_record.hpp"
#include "hex.hpp"
#include "update_data.hpp"

namespace replicast::chain {
namespace {

using testing::bytes_of;

TEST(Builder, PlainWhenCompressionIsOff) {
    ChainBuilder b({.compress = false});
    b.begin(16);
    const auto ab = bytes_of("ab"), xyz = bytes_of("xyz"), c = bytes_of("c");
    ASSERT_EQ(b.add({.op = wire::Op::put, .reader_group = 1, .key = ab, .value = xyz}), wire::WireError::ok);
    ASSERT_EQ(b.add({.op = wire::Op::del, .reader_group = 0, .key = c, .value = {}}), wire::WireError::ok);
    const BuiltChain chain = b.finish();
    EXPECT_EQ(chain.comp_alg, wire::CompAlg::none);
    // The same record the wire test works out by hand.
    EXPECT_EQ(testing::to_hex(chain.record), "0000000000000010" "00000002" "00000018"
                                             "01" "0001" "0002" "00000003" "6162" "78797a"
                                             "02" "0000" "0001" "00000000" "63");
}

TEST(Builder, CompressesWhenItShrinksAndInflatesBack) {
    std::mt19937_64 rng(7);
    ChainBuilder b({.compress = true, .level = 1});
    b.begin(1000);
    std::vector<std::string> values;
    values.reserve(200);
    std::vector<std::vector<std::uint8_t>> keys;
    keys.reserve(200);
    for (int i = 0; i < 200; ++i) {
        values.push_back(testing::json_like_record(rng, 300));
        const std::string k = "order/" + std::to_string(i);
        keys.emplace_back(k.begin(), k.end());
        const std::span<const std::uint8_t> v(reinterpret_cast<const std::uint8_t*>(values.back().data()), values.back().size());
        ASSERT_EQ(b.add({.op = wire::Op::put, .key = keys.back(), .value = v}), wire::WireError::ok);
    }
    const std::size_t plain = b.body_size();
    const BuiltChain chain = b.finish();
    ASSERT_EQ(chain.comp_alg, wire::CompAlg::deflate);
    EXPECT_LT(chain.record.size(), wire::kChainRecordHeadSize + plain / 2);
    wire::ChainRecordView rec;
    ASSERT_EQ(wire::parse_chain_record(chain.record, rec), wire::WireError::ok);
    EXPECT_EQ(rec.head.first_lsn, 1000u);
    EXPECT_EQ(rec.head.update_count, 200u);
    EXPECT_EQ(rec.head.body_len, plain);
    std::vector<std::uint8_t> body(rec.head.body_len);
    Decompressor inflater;
    ASSERT_TRUE(inflater.decompress_exact(rec.body, body));
    EXPECT_EQ(wire::validate_body(body, 200), wire::WireError::ok);
}

TEST(Builder, StoresPlainWhenCompressionDoesNotShrink) {
    std::mt19937_64 rng(8);
    ChainBuilder b({.compress = true, .level = 3});
    b.begin(1);
    const auto key = bytes_of("noise");
    const auto noise = testing::random_bytes(rng, 8000);
    ASSERT_EQ(b.add({.op = wire::Op::put, .key = key, .value = noise}), wire::WireError::ok);
    const BuiltChain chain = b.finish();
    EXPECT_EQ(chain.comp_alg, wire::CompAlg::none);
    EXPECT_EQ(chain.record.size(), wire::kChainRecordHeadSize + b.body_size());
}

TEST(Builder, RefusesBadUpdatesAndKeepsTheChainIntact) {
    ChainBuilder b({.compress = false});
    b.begin(5);
    const auto k = bytes_of("k"), v = bytes_of("v");
    ASSERT_EQ(b.add({.op = wire::Op::put, .key = k, .value = v}), wire::WireError::ok);
    EXPECT_EQ(b.add({.op = wire::Op::del, .key = k, .value = v}), wire::WireError::delete_with_value);
    EXPECT_EQ(b.add({.op = wire::Op::put, .key = {}, .value = v}), wire::WireError::bad_key_len);
    EXPECT_EQ(b.add_encoded(testing::from_hex("0100000001"), 1), wire::WireError::update_truncated);
    EXPECT_EQ(b.update_count(), 1u);
    const BuiltChain chain = b.finish();
    EXPECT_EQ(chain.head.update_count, 1u);
    EXPECT_EQ(wire::validate_body(chain.record.subspan(16), 1), wire::WireError::ok);
}

TEST(Builder, AddEncodedTakesLogValuesAsTheyAre) {
    ChainBuilder b({.compress = false});
    b.begin(9);
    const auto encoded = testing::from_hex("0100000001000000006b" "02000000010000000063");  // put "k"="", del "c"
    ASSERT_EQ(b.add_encoded(encoded, 2), wire::WireError::ok);
    const BuiltChain chain = b.finish();
    EXPECT_EQ(testing::to_hex(chain.record.subspan(16)), testing::to_hex(encoded));
    EXPECT_EQ(chain.head.update_count, 2u);
}

TEST(Builder, NoAllocationOnceWarm) {
    std::mt19937_64 rng(9);
    ChainBuilder b({.compress = true, .level = 1});
    const auto bundle = testing::make_bundle(rng, 100, 1000);
    b.begin(1);
    for (const auto& u : bundle.updates) ASSERT_EQ(b.add(u), wire::WireError::ok);
    const auto* first = b.finish().record.data();
    for (int round = 0; round < 10; ++round) {
        b.begin(1 + static_cast<std::uint64_t>(round) * 100);
        for (const auto& u : bundle.updates) ASSERT_EQ(b.add(u), wire::WireError::ok);
        EXPECT_EQ(b.finish().record.data(), first) << "the record buffer moved: it was reallocated";
    }
}

TEST(Segment, MtuArithmetic) {
    EXPECT_EQ(max_payload_for_mtu(1500), 1432u);
    EXPECT_EQ(max_payload_for_mtu(9000), 8932u);
    EXPECT_EQ(segment_count(16, 1432), 1u);
    EXPECT_EQ(segment_count(1432, 1432), 1u);
    EXPECT_EQ(segment_count(1433, 1432), 2u);
    EXPECT_EQ(segment_count(1432 * 3, 1432), 3u);
}

TEST(Segment, SlicesTileTheRecordWithTheRightFlags) {
    std::vector<std::uint8_t> record(1432 * 3 + 5);
    for (std::size_t i = 0; i < record.size(); ++i) record[i] = static_cast<std::uint8_t>(i);
    const std::size_t n = segment_count(record.size(), 1432);
    ASSERT_EQ(n, 4u);
    std::vector<std::uint8_t> joined;
    for (std::size_t i = 0; i < n; ++i) {
        const Segment s = segment(record, 1432, i);
        EXPECT_EQ(s.position, i == 0 ? wire::ChainPosition::first
                              : i == n - 1 ? wire::ChainPosition::last : wire::ChainPosition::middle);
        EXPECT_EQ(s.payload.size(), i == n - 1 ? 5u : 1432u);
        joined.insert(joined.end(), s.payload.begin(), s.payload.end());
    }
    EXPECT_EQ(joined, record);
    const std::vector<std::uint8_t> small(100);
    EXPECT_EQ(segment(small, 1432, 0).position, wire::ChainPosition::only);
}

}  // namespace
}  // namespace replicast::chain
