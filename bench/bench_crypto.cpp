// AES-256-GCM seal and open of 32-packet bursts: our ipsec-mb burst engine
// against OpenSSL EVP on the same data in the same run, at 64, 1400 and 8192
// bytes of payload. Reports bytes/s and packets/s (items).
//
// Two more ipsec-mb variants seal the same burst through the other APIs that
// 1.3 offers, so the choice in crypto/gcm.cpp is measured, not assumed: the
// direct call (IMB_AES256_GCM_ENC per packet) and the job API one job at a time
// (IMB_GET_NEXT_JOB / IMB_SUBMIT_JOB_NOCHECK, then IMB_FLUSH_JOB).
#include <benchmark/benchmark.h>
#include <intel-ipsec-mb.h>
#include <openssl/evp.h>

#include <array>
#include <random>
#include <vector>

#include "crypto/gcm.hpp"

namespace {

using namespace replicast;
constexpr std::size_t kBurst = 32;

struct Fixture {
    explicit Fixture(std::size_t len) : key(engine, raw_key()), payload(kBurst, std::vector<std::uint8_t>(len)),
                                        out(kBurst, std::vector<std::uint8_t>(len)), tags(kBurst) {
        std::mt19937_64 rng(1);
        for (auto& p : payload) for (auto& b : p) b = static_cast<std::uint8_t>(rng());
        for (auto& a : aad) for (auto& b : a) b = static_cast<std::uint8_t>(rng());
        for (std::size_t i = 0; i < kBurst; ++i) {
            seal[i] = {.key = &key, .stream_id = 7, .packet_seq = i + 1, .aad = aad[i].data(), .src = payload[i].data(),
                       .dst = out[i].data(), .len = static_cast<std::uint32_t>(len), .tag_out = tags[i].data()};
        }
    }
    static crypto::Key raw_key() {
        crypto::Key k{};
        k[0] = 42;
        return k;
    }
    crypto::GcmEngine engine;
    crypto::GcmKey key;
    std::vector<std::vector<std::uint8_t>> payload, out;
    std::vector<std::array<std::uint8_t, crypto::kTagSize>> tags;
    std::array<std::array<std::uint8_t, crypto::kAadSize>, kBurst> aad{};
    std::array<crypto::SealOp, kBurst> seal{};
};

void report(benchmark::State& state, std::size_t len) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBurst));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kBurst * len));
}

void BM_IpsecMbSeal(benchmark::State& state) {
    const auto len = static_cast<std::size_t>(state.range(0));
    Fixture f(len);
    for (auto _ : state) {
        benchmark::DoNotOptimize(f.engine.seal_burst(f.seal));
        benchmark::ClobberMemory();
    }
    report(state, len);
}

void BM_IpsecMbOpen(benchmark::State& state) {
    const auto len = static_cast<std::size_t>(state.range(0));
    Fixture f(len);
    f.engine.seal_burst(f.seal);
    std::vector<std::vector<std::uint8_t>> plain(kBurst, std::vector<std::uint8_t>(len));
    std::array<crypto::OpenOp, kBurst> ops{};
    for (std::size_t i = 0; i < kBurst; ++i) {
        ops[i] = {.key = &f.key, .stream_id = 7, .packet_seq = i + 1, .aad = f.aad[i].data(), .src = f.out[i].data(),
                  .dst = plain[i].data(), .len = static_cast<std::uint32_t>(len), .tag_in = f.tags[i].data()};
    }
    for (auto _ : state) {
        if (f.engine.open_burst(ops) != kBurst) state.SkipWithError("open failed");
        benchmark::ClobberMemory();
    }
    report(state, len);
}

void make_iv(std::uint8_t* iv, std::uint64_t seq) {
    iv[0] = iv[1] = iv[2] = 0;
    iv[3] = 7;
    for (int b = 0; b < 8; ++b) iv[4 + b] = static_cast<std::uint8_t>(seq >> (56 - 8 * b));
}

void BM_IpsecMbDirectSeal(benchmark::State& state) {
    const auto len = static_cast<std::size_t>(state.range(0));
    Fixture f(len);
    IMB_MGR* mgr = f.engine.manager();
    gcm_context_data ctx;
    std::uint8_t iv[12];
    for (auto _ : state) {
        for (std::size_t i = 0; i < kBurst; ++i) {
            make_iv(iv, i + 1);
            IMB_AES256_GCM_ENC(mgr, f.key.data(), &ctx, f.out[i].data(), f.payload[i].data(), len, iv, f.aad[i].data(),
                               crypto::kAadSize, f.tags[i].data(), crypto::kTagSize);
        }
        benchmark::ClobberMemory();
    }
    report(state, len);
}

void BM_IpsecMbJobSeal(benchmark::State& state) {
    const auto len = static_cast<std::size_t>(state.range(0));
    Fixture f(len);
    IMB_MGR* mgr = f.engine.manager();
    std::array<std::array<std::uint8_t, 12>, kBurst> ivs{};
    for (std::size_t i = 0; i < kBurst; ++i) make_iv(ivs[i].data(), i + 1);
    std::size_t failed = 0;
    for (auto _ : state) {
        for (std::size_t i = 0; i < kBurst; ++i) {
            IMB_JOB* job = IMB_GET_NEXT_JOB(mgr);
            job->cipher_mode = IMB_CIPHER_GCM;
            job->hash_alg = IMB_AUTH_AES_GMAC;
            job->cipher_direction = IMB_DIR_ENCRYPT;
            job->chain_order = IMB_ORDER_CIPHER_HASH;
            job->key_len_in_bytes = IMB_KEY_256_BYTES;
            job->enc_keys = f.key.data();
            job->dec_keys = f.key.data();
            job->src = f.payload[i].data();
            job->dst = f.out[i].data();
            job->cipher_start_src_offset_in_bytes = 0;
            job->msg_len_to_cipher_in_bytes = len;
            job->hash_start_src_offset_in_bytes = 0;
            job->msg_len_to_hash_in_bytes = len;
            job->iv = ivs[i].data();
            job->iv_len_in_bytes = 12;
            job->u.GCM.aad = f.aad[i].data();
            job->u.GCM.aad_len_in_bytes = crypto::kAadSize;
            job->auth_tag_output = f.tags[i].data();
            job->auth_tag_output_len_in_bytes = crypto::kTagSize;
            for (job = IMB_SUBMIT_JOB_NOCHECK(mgr); job != nullptr; job = IMB_GET_COMPLETED_JOB(mgr)) {
                failed += job->status != IMB_STATUS_COMPLETED;
            }
        }
        for (IMB_JOB* job = IMB_FLUSH_JOB(mgr); job != nullptr; job = IMB_FLUSH_JOB(mgr)) {
            failed += job->status != IMB_STATUS_COMPLETED;
        }
        benchmark::ClobberMemory();
    }
    if (failed != 0) state.SkipWithError("job failed");
    report(state, len);
}

void BM_OpenSslSeal(benchmark::State& state) {
    const auto len = static_cast<std::size_t>(state.range(0));
    Fixture f(len);
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    const crypto::Key key = Fixture::raw_key();
    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key.data(), nullptr);  // key schedule once, as ours
    std::uint8_t iv[12];
    for (auto _ : state) {
        for (std::size_t i = 0; i < kBurst; ++i) {
            int n = 0;
            make_iv(iv, i + 1);
            EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv);
            EVP_EncryptUpdate(ctx, nullptr, &n, f.aad[i].data(), crypto::kAadSize);
            EVP_EncryptUpdate(ctx, f.out[i].data(), &n, f.payload[i].data(), static_cast<int>(len));
            EVP_EncryptFinal_ex(ctx, nullptr, &n);
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, crypto::kTagSize, f.tags[i].data());
        }
        benchmark::ClobberMemory();
    }
    EVP_CIPHER_CTX_free(ctx);
    report(state, len);
}

void BM_OpenSslOpen(benchmark::State& state) {
    const auto len = static_cast<std::size_t>(state.range(0));
    Fixture f(len);
    f.engine.seal_burst(f.seal);
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    const crypto::Key key = Fixture::raw_key();
    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key.data(), nullptr);
    std::vector<std::uint8_t> plain(len);
    std::uint8_t iv[12];
    for (auto _ : state) {
        for (std::size_t i = 0; i < kBurst; ++i) {
            int n = 0;
            make_iv(iv, i + 1);
            EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, iv);
            EVP_DecryptUpdate(ctx, nullptr, &n, f.aad[i].data(), crypto::kAadSize);
            EVP_DecryptUpdate(ctx, plain.data(), &n, f.out[i].data(), static_cast<int>(len));
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, crypto::kTagSize, f.tags[i].data());
            if (EVP_DecryptFinal_ex(ctx, nullptr, &n) != 1) state.SkipWithError("OpenSSL open failed");
        }
        benchmark::ClobberMemory();
    }
    EVP_CIPHER_CTX_free(ctx);
    report(state, len);
}

BENCHMARK(BM_IpsecMbSeal)->Arg(64)->Arg(1400)->Arg(8192);
BENCHMARK(BM_IpsecMbDirectSeal)->Arg(64)->Arg(1400)->Arg(8192);
BENCHMARK(BM_IpsecMbJobSeal)->Arg(64)->Arg(1400)->Arg(8192);
BENCHMARK(BM_OpenSslSeal)->Arg(64)->Arg(1400)->Arg(8192);
BENCHMARK(BM_IpsecMbOpen)->Arg(64)->Arg(1400)->Arg(8192);
BENCHMARK(BM_OpenSslOpen)->Arg(64)->Arg(1400)->Arg(8192);

}  // namespace

BENCHMARK_MAIN();
