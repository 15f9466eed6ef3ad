// ISA-L raw DEFLATE against zlib as the oracle, and the exactness rules of inflate.
#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <vector>

#include "engine/chain/codec.hpp"
#include "update_data.hpp"

namespace replicast::chain {
namespace {

std::vector<std::uint8_t> zlib_raw_deflate(const std::vector<std::uint8_t>& in, int level) {
    z_stream z{};
    EXPECT_EQ(deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::vector<std::uint8_t> out(deflateBound(&z, in.size()));
    z.next_in = const_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

bool zlib_raw_inflate(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out) {
    z_stream z{};
    if (inflateInit2(&z, -15) != Z_OK) return false;
    z.next_in = const_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&z, Z_FINISH);
    const bool ok = rc == Z_STREAM_END && z.total_out == out.size() && z.avail_in == 0;
    inflateEnd(&z);
    return ok;
}

std::vector<std::uint8_t> sample(std::mt19937_64& rng, std::size_t n, bool compressible) {
    if (!compressible) return testing::random_bytes(rng, n);
    std::string s;
    while (s.size() < n) s += testing::json_like_record(rng, 200);
    return {s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n)};
}

TEST(Codec, EveryLevelRoundTripsAndZlibAgrees) {
    std::mt19937_64 rng(1);
    Decompressor inflater;
    for (int level = kMinLevel; level <= kMaxLevel; ++level) {
        Compressor deflater(level);
        for (std::size_t n : {1u, 2u, 100u, 1432u, 65536u, 300000u}) {
            for (bool compressible : {true, false}) {
                const auto in = sample(rng, n, compressible);
                std::vector<std::uint8_t> packed(n + 1024);
                const std::size_t size = deflater.compress(in, packed);
                ASSERT_GT(size, 0u) << "level " << level << " n " << n;
                packed.resize(size);
                std::vector<std::uint8_t> back(n);
                ASSERT_TRUE(inflater.decompress_exact(packed, back)) << "level " << level << " n " << n;
                EXPECT_EQ(back, in);
                std::vector<std::uint8_t> oracle(n);
                ASSERT_TRUE(zlib_raw_inflate(packed, oracle)) << "zlib cannot read ISA-L's output, level " << level;
                EXPECT_EQ(oracle, in);
                if (compressible && n >= 65536) {
                    EXPECT_LT(size, n / 2) << "JSON-like data should compress at least 2x, level " << level;
                }
            }
        }
    }
}

TEST(Codec, InflatesWhatZlibDeflates) {
    std::mt19937_64 rng(2);
    Decompressor inflater;
    for (int zlevel : {1, 6, 9}) {
        const auto in = sample(rng, 50000, true);
        const auto packed = zlib_raw_deflate(in, zlevel);
        std::vector<std::uint8_t> back(in.size());
        ASSERT_TRUE(inflater.decompress_exact(packed, back));
        EXPECT_EQ(back, in);
    }
}

TEST(Codec, InflateIsExact) {
    std::mt19937_64 rng(3);
    const auto in = sample(rng, 10000, true);
    Compressor deflater(1);
    std::vector<std::uint8_t> packed(in.size());
    packed.resize(deflater.compress(in, packed));
    ASSERT_FALSE(packed.empty());
    Decompressor inflater;

    std::vector<std::uint8_t> shorter(in.size() - 1), longer(in.size() + 1), exact(in.size());
    EXPECT_FALSE(inflater.decompress_exact(packed, shorter)) << "output larger than body_len must fail";
    EXPECT_FALSE(inflater.decompress_exact(packed, longer)) << "output smaller than body_len must fail";
    EXPECT_TRUE(inflater.decompress_exact(packed, exact));

    auto truncated = packed;
    truncated.pop_back();
    EXPECT_FALSE(inflater.decompress_exact(truncated, exact)) << "a truncated stream must fail";

    auto extra = packed;
    extra.push_back(0);
    EXPECT_FALSE(inflater.decompress_exact(extra, exact)) << "bytes after the stream must fail";

    EXPECT_FALSE(inflater.decompress_exact({}, exact));

    // Corruption anywhere: either inflate fails, or (rarely, in literal bytes) the
    // output differs, which the caller's body parse and the GCM tag catch. Never a crash.
    for (std::size_t i = 0; i < packed.size(); i += 7) {
        auto bad = packed;
        bad[i] ^= 0x5a;
        std::vector<std::uint8_t> out(in.size());
        if (inflater.decompress_exact(bad, out)) {
            EXPECT_NE(out, in) << "flip at " << i;
        }
    }
}

TEST(Codec, CompressReportsWhenItDoesNotFit) {
    std::mt19937_64 rng(4);
    const auto noise = testing::random_bytes(rng, 4096);
    Compressor deflater(1);
    std::vector<std::uint8_t> room(noise.size() - 1);  // "only if it shrinks"
    EXPECT_EQ(deflater.compress(noise, room), 0u);
}

TEST(Codec, RejectsLevelsOutsideIsalRange) {
    EXPECT_THROW(Compressor(-1), std::invalid_argument);
    EXPECT_THROW(Compressor(4), std::invalid_argument);
}

}  // namespace
}  // namespace replicast::chain
