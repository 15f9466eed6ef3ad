// The Internet checksum (RFC 1071) the tx worker computes over every sealed
// datagram when the port has no UDP checksum offload: each path the CPU has,
// at the sizes that matter, against the seal of the same bytes in the same run
// (the checksum's share of a packet's cost is what bench tx pays for it).
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "crypto/gcm.hpp"
#include "engine/wire/frame.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {

using namespace replicast;

// 8 datagrams, as the tx worker sums a seal group of 8 frames right after sealing them.
constexpr std::size_t kGroup = 8;

std::vector<std::vector<std::uint8_t>> datagrams(std::size_t size) {
    std::mt19937_64 rng(11);
    std::vector<std::vector<std::uint8_t>> out(kGroup, std::vector<std::uint8_t>(size + 64));
    for (auto& d : out) {
        for (auto& b : d) b = static_cast<std::uint8_t>(rng());
    }
    return out;
}

void BM_Checksum(benchmark::State& state, wire::ChecksumPath path) {
    const auto size = static_cast<std::size_t>(state.range(0));
    const auto data = datagrams(size);
    for (auto _ : state) {
        for (const auto& d : data) {
            // Offset 34: where a UDP header sits in a frame (Ethernet 14 + IPv4 20).
            benchmark::DoNotOptimize(wire::internet_checksum_via(path, std::span(d.data() + 34, size), 0x1234));
        }
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kGroup));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kGroup * size));
}

// The floor under any checksum: only reading the same bytes, every 64-byte
// line once (XORed into registers, nothing else), from the same offset. What
// a checksum path costs above this is its arithmetic.
#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw"), noinline)) std::uint64_t read_lines(const std::uint8_t* p, std::size_t n) {
    __m512i a = _mm512_setzero_si512(), b = _mm512_setzero_si512();
    for (; n >= 128; p += 128, n -= 128) {
        a = _mm512_xor_si512(a, _mm512_loadu_si512(p));
        b = _mm512_xor_si512(b, _mm512_loadu_si512(p + 64));
    }
    if (n > 0) a = _mm512_xor_si512(a, _mm512_maskz_loadu_epi8((n >= 64 ? ~0ULL : (1ULL << n) - 1), p));
    if (n > 64) b = _mm512_xor_si512(b, _mm512_maskz_loadu_epi8((n >= 128 ? ~0ULL : (1ULL << (n - 64)) - 1), p + 64));
    alignas(64) std::uint64_t lanes[8];
    _mm512_store_si512(lanes, _mm512_xor_si512(a, b));
    return lanes[0] ^ lanes[7];
}

void BM_ReadFloor(benchmark::State& state) {
    const auto size = static_cast<std::size_t>(state.range(0));
    const auto data = datagrams(size);
    for (auto _ : state) {
        for (const auto& d : data) benchmark::DoNotOptimize(read_lines(d.data() + 34, size));
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kGroup));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kGroup * size));
}
#endif

void BM_SealForScale(benchmark::State& state) {
    crypto::GcmEngine engine;
    crypto::Key raw{};
    raw[0] = 1;
    const crypto::GcmKey key(engine, raw);
    const auto size = static_cast<std::size_t>(state.range(0));
    const auto data = datagrams(size);
    std::vector<std::vector<std::uint8_t>> out(kGroup, std::vector<std::uint8_t>(size + 64));
    std::vector<crypto::SealOp> ops(kGroup);
    for (std::size_t i = 0; i < kGroup; ++i) {
        ops[i] = {.key = &key, .stream_id = 1, .packet_seq = i + 1, .aad = data[i].data(), .src = data[i].data() + 24,
                  .dst = out[i].data() + 24, .len = static_cast<std::uint32_t>(size - 24 - 16 - 8),
                  .tag_out = out[i].data() + size - 16 - 8};
    }
    for (auto _ : state) {
        benchmark::DoNotOptimize(engine.seal_burst(ops));
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kGroup));
}
// The payload of the same datagrams, sealed in groups of 8 as the tx worker does.
BENCHMARK(BM_SealForScale)->Arg(1480)->Arg(8240);

}  // namespace

// The checksum benchmarks are registered for the paths this CPU has, so a run
// never reports a path it could not take.
int main(int argc, char** argv) {
    constexpr std::array<const char*, wire::kChecksumPaths.size()> kIds = {"scalar", "avx2", "avx512", "avx512_vnni"};
    for (std::size_t i = 0; i < wire::kChecksumPaths.size(); ++i) {
        if (!wire::checksum_path_available(wire::kChecksumPaths[i])) continue;
        // 1480: the UDP datagram of a 1432-byte payload (8 + 24 + 1432 + 16).
        benchmark::RegisterBenchmark((std::string("BM_Checksum/") + kIds[i]).c_str(), BM_Checksum, wire::kChecksumPaths[i])
            ->Arg(64)->Arg(1480)->Arg(8240);
    }
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512bw")) {
        benchmark::RegisterBenchmark("BM_ReadFloor", BM_ReadFloor)->Arg(64)->Arg(1480)->Arg(8240);
    }
#endif
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
