// ISA-L raw DEFLATE at levels 0-3, and inflate, against zlib level 1 on the same
// data in the same run: 64 KiB blocks of JSON-like update records of 100-1000
// bytes, the kind of body a chain carries. Reports bytes/s of input and the
// compression ratio.
#include <benchmark/benchmark.h>
#include <zlib.h>

#include <random>
#include <string>
#include <vector>

#include "engine/chain/codec.hpp"
#include "update_data.hpp"

namespace {

using replicast::chain::Compressor;
using replicast::chain::Decompressor;

constexpr std::size_t kBlock = 64 * 1024;

const std::vector<std::uint8_t>& block() {
    static const std::vector<std::uint8_t> data = [] {
        std::mt19937_64 rng(42);
        std::string s;
        while (s.size() < kBlock) {
            s += replicast::testing::json_like_record(rng, 100 + rng() % 900);
            s += '\n';
        }
        return std::vector<std::uint8_t>(s.begin(), s.begin() + kBlock);
    }();
    return data;
}

void BM_IsalDeflate(benchmark::State& state) {
    Compressor c(static_cast<int>(state.range(0)));
    std::vector<std::uint8_t> out(kBlock * 2);
    std::size_t size = 0;
    for (auto _ : state) {
        size = c.compress(block(), out);
        benchmark::DoNotOptimize(size);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kBlock));
    state.counters["ratio"] = static_cast<double>(kBlock) / static_cast<double>(size);
}
BENCHMARK(BM_IsalDeflate)->DenseRange(0, 3)->ArgName("level");

void BM_IsalInflate(benchmark::State& state) {
    Compressor c(static_cast<int>(state.range(0)));
    std::vector<std::uint8_t> packed(kBlock * 2);
    packed.resize(c.compress(block(), packed));
    Decompressor d;
    std::vector<std::uint8_t> out(kBlock);
    for (auto _ : state) {
        const bool ok = d.decompress_exact(packed, out);
        benchmark::DoNotOptimize(ok);
        if (!ok) state.SkipWithError("inflate failed");
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kBlock));
}
BENCHMARK(BM_IsalInflate)->DenseRange(0, 3)->ArgName("level");

void BM_ZlibDeflate(benchmark::State& state) {
    std::vector<std::uint8_t> out(kBlock * 2);
    uLong size = 0;
    z_stream z{};
    deflateInit2(&z, static_cast<int>(state.range(0)), Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    for (auto _ : state) {
        deflateReset(&z);
        z.next_in = const_cast<Bytef*>(block().data());
        z.avail_in = static_cast<uInt>(kBlock);
        z.next_out = out.data();
        z.avail_out = static_cast<uInt>(out.size());
        deflate(&z, Z_FINISH);
        size = z.total_out;
        benchmark::DoNotOptimize(size);
    }
    deflateEnd(&z);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kBlock));
    state.counters["ratio"] = static_cast<double>(kBlock) / static_cast<double>(size);
}
BENCHMARK(BM_ZlibDeflate)->Arg(1)->ArgName("level");

void BM_ZlibInflate(benchmark::State& state) {
    std::vector<std::uint8_t> packed(kBlock * 2);
    z_stream z{};
    deflateInit2(&z, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    z.next_in = const_cast<Bytef*>(block().data());
    z.avail_in = static_cast<uInt>(kBlock);
    z.next_out = packed.data();
    z.avail_out = static_cast<uInt>(packed.size());
    deflate(&z, Z_FINISH);
    packed.resize(z.total_out);
    deflateEnd(&z);
    std::vector<std::uint8_t> out(kBlock);
    z_stream in{};
    inflateInit2(&in, -15);
    for (auto _ : state) {
        inflateReset(&in);
        in.next_in = packed.data();
        in.avail_in = static_cast<uInt>(packed.size());
        in.next_out = out.data();
        in.avail_out = static_cast<uInt>(out.size());
        const int rc = inflate(&in, Z_FINISH);
        benchmark::DoNotOptimize(rc);
    }
    inflateEnd(&in);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kBlock));
}
BENCHMARK(BM_ZlibInflate)->Arg(1)->ArgName("level");

}  // namespace

BENCHMARK_MAIN();
