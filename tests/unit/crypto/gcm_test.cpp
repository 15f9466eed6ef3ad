// AES-256-GCM through ipsec-mb: the GCM specification's 256-bit test cases,
// a differential test against OpenSSL EVP, tamper tests, and the protocol's
// known-answer vectors.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <memory>
#include <random>
#include <vector>

#include "crypto/gcm.hpp"
#include "engine/wire/packet.hpp"
#include "hex.hpp"
#include "vectors.hpp"

namespace replicast::crypto {
namespace {

using testing::from_hex;
using testing::to_hex;

Key key_from_hex(const std::string& hex) {
    const auto bytes = from_hex(hex);
    Key k{};
    std::copy(bytes.begin(), bytes.end(), k.begin());
    return k;
}

struct Sealed {
    std::vector<std::uint8_t> ciphertext;
    std::vector<std::uint8_t> tag;
};

Sealed openssl_seal(const Key& key, const std::uint8_t* iv, std::span<const std::uint8_t> aad,
                    std::span<const std::uint8_t> plain) {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    Sealed out{std::vector<std::uint8_t>(plain.size()), std::vector<std::uint8_t>(kTagSize)};
    int len = 0;
    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key.data(), iv);
    EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), static_cast<int>(aad.size()));
    if (!plain.empty()) EVP_EncryptUpdate(ctx, out.ciphertext.data(), &len, plain.data(), static_cast<int>(plain.size()));
    EVP_EncryptFinal_ex(ctx, nullptr, &len);
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagSize, out.tag.data());
    EVP_CIPHER_CTX_free(ctx);
    return out;
}

// The IV is stream_id || packet_seq: splitting the spec's 96-bit IV that way gives the same bytes.
struct SpecCase {
    const char* name;
    const char* key;
    std::uint32_t stream_id;
    std::uint64_t seq;
    const char* plain;
    const char* aad;
    const char* cipher;
    const char* tag;
};

// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", appendix B, test cases 13-16 (AES-256).
const SpecCase kSpec[] = {
    {"13", "0000000000000000000000000000000000000000000000000000000000000000", 0, 0, "", "", "",
     "530f8afbc74536b9a963b4f1c4cb738b"},
    {"14", "0000000000000000000000000000000000000000000000000000000000000000", 0, 0,
     "00000000000000000000000000000000", "", "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"15", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", 0xcafebabe, 0xfacedbaddecaf888,
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"16", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", 0xcafebabe, 0xfacedbaddecaf888,
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

TEST(Gcm, SpecificationTestCases) {
    GcmEngine engine;
    for (const SpecCase& c : kSpec) {
        SCOPED_TRACE(std::string("test case ") + c.name);
        const Key key = key_from_hex(c.key);
        const GcmKey k(engine, key);
        const auto plain = from_hex(c.plain), aad = from_hex(c.aad);
        std::vector<std::uint8_t> out(plain.size()), tag(kTagSize);
        SealOp op{.key = &k, .stream_id = c.stream_id, .packet_seq = c.seq, .aad = aad.data(), .src = plain.data(),
                  .dst = out.data(), .len = static_cast<std::uint32_t>(plain.size()), .tag_out = tag.data(),
                  .aad_len = static_cast<std::uint32_t>(aad.size())};
        ASSERT_EQ(engine.seal_burst(std::span(&op, 1)), 1u);
        EXPECT_EQ(to_hex(out), c.cipher);
        EXPECT_EQ(to_hex(tag), c.tag);

        std::vector<std::uint8_t> back(plain.size());
        OpenOp open{.key = &k, .stream_id = c.stream_id, .packet_seq = c.seq, .aad = aad.data(), .src = out.data(),
                    .dst = back.data(), .len = static_cast<std::uint32_t>(out.size()), .tag_in = tag.data(),
                    .aad_len = static_cast<std::uint32_t>(aad.size())};
        ASSERT_EQ(engine.open_burst(std::span(&open, 1)), 1u);
        EXPECT_TRUE(open.ok);
        EXPECT_EQ(back, plain);
    }
}

// The same cases in one burst: the job-queue path (one op alone takes the direct call).
TEST(Gcm, SpecificationTestCasesInOneBurst) {
    GcmEngine engine;
    std::vector<std::unique_ptr<GcmKey>> keys;
    std::vector<std::vector<std::uint8_t>> plain, aad, out;
    std::vector<std::array<std::uint8_t, kTagSize>> tags(std::size(kSpec));
    std::vector<SealOp> ops;
    for (const SpecCase& c : kSpec) {
        keys.push_back(std::make_unique<GcmKey>(engine, key_from_hex(c.key)));
        plain.push_back(from_hex(c.plain));
        aad.push_back(from_hex(c.aad));
        out.emplace_back(plain.back().size());
    }
    for (std::size_t i = 0; i < std::size(kSpec); ++i) {
        ops.push_back({.key = keys[i].get(), .stream_id = kSpec[i].stream_id, .packet_seq = kSpec[i].seq,
                       .aad = aad[i].data(), .src = plain[i].data(), .dst = out[i].data(),
                       .len = static_cast<std::uint32_t>(plain[i].size()), .tag_out = tags[i].data(),
                       .aad_len = static_cast<std::uint32_t>(aad[i].size())});
    }
    ASSERT_EQ(engine.seal_burst(ops), ops.size());
    for (std::size_t i = 0; i < std::size(kSpec); ++i) {
        EXPECT_EQ(to_hex(out[i]), kSpec[i].cipher) << kSpec[i].name;
        EXPECT_EQ(to_hex(tags[i]), kSpec[i].tag) << kSpec[i].name;
    }
}

// ipsec-mb's key layout is meant to be 64-byte aligned, whatever alignof says
// in a build without its LINUX define.
TEST(Gcm, ExpandedKeysAre64ByteAligned) {
    GcmEngine engine;
    std::vector<std::unique_ptr<GcmKey>> keys;
    for (int i = 0; i < 16; ++i) {
        keys.push_back(std::make_unique<GcmKey>(engine, Key{}));
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(keys.back()->data()) % 64, 0u);
    }
}

TEST(Gcm, ReportsItsCodePath) {
    GcmEngine engine;
    EXPECT_FALSE(engine.arch_name().empty());
    EXPECT_NE(engine.arch_name(), "unknown");
    EXPECT_EQ(selected_arch_name(), engine.arch_name());
}

// A narrower code path (bench tx --crypto-arch) seals the same bytes: every
// path this CPU can run, in bursts and alone, against OpenSSL; names parse
// back; a path the CPU lacks is refused by name, not run.
TEST(Gcm, EveryCodePathTheCpuRunsSealsTheSameBytes) {
    const Key raw = key_from_hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
    std::mt19937 rng(5);
    std::vector<std::uint8_t> plain(1432);
    for (auto& b : plain) b = static_cast<std::uint8_t>(rng());
    const std::array<std::uint8_t, wire::kHeaderSize> aad{0x52, 0x43, 1};
    unsigned ran = 0;
    for (GcmArch arch : {GcmArch::best, GcmArch::avx512, GcmArch::avx2, GcmArch::avx, GcmArch::sse}) {
        GcmArch parsed{};
        ASSERT_TRUE(parse_gcm_arch(gcm_arch_id(arch), parsed));
        EXPECT_EQ(parsed, arch);
        std::unique_ptr<GcmEngine> engine;
        try {
            engine = std::make_unique<GcmEngine>(arch);
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find(std::string(gcm_arch_id(arch)) + " code path"), std::string::npos) << e.what();
            continue;
        }
        ++ran;
        const GcmKey key(*engine, raw);
        EXPECT_EQ(key.path(), engine->arch_name()) << "a key knows the path it was expanded for";
        for (std::size_t burst : {std::size_t{1}, std::size_t{5}}) {
            std::vector<std::vector<std::uint8_t>> out(burst, std::vector<std::uint8_t>(plain.size() + kTagSize));
            std::vector<SealOp> ops(burst);
            for (std::size_t i = 0; i < burst; ++i) {
                const std::size_t len = plain.size() - i * 97;
                ops[i] = {.key = &key, .stream_id = 7, .packet_seq = 100 + i, .aad = aad.data(), .src = plain.data(),
                          .dst = out[i].data(), .len = static_cast<std::uint32_t>(len), .tag_out = out[i].data() + len};
            }
            ASSERT_EQ(engine->seal_burst(ops), burst) << gcm_arch_id(arch);
            for (std::size_t i = 0; i < burst; ++i) {
                std::uint8_t iv[kIvSize] = {0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, static_cast<std::uint8_t>(100 + i)};
                const Sealed want = openssl_seal(raw, iv, aad, std::span(plain).first(ops[i].len));
                EXPECT_EQ(std::vector<std::uint8_t>(out[i].begin(), out[i].begin() + ops[i].len), want.ciphertext)
                    << gcm_arch_id(arch) << " op " << i;
                EXPECT_EQ(std::vector<std::uint8_t>(out[i].begin() + ops[i].len, out[i].begin() + ops[i].len + kTagSize), want.tag)
                    << gcm_arch_id(arch) << " op " << i;
            }
        }
    }
    if (__builtin_cpu_supports("aes") && __builtin_cpu_supports("pclmul")) {
        EXPECT_GE(ran, 2u) << "best and at least SSE run on any x86-64 with AES-NI";
    }
    GcmArch unused{};
    EXPECT_FALSE(parse_gcm_arch("avx3", unused));
}

// Thousands of random lengths, in bursts of mixed keys and lengths, in place and
// source-to-destination; OpenSSL EVP is the oracle.
TEST(Gcm, DifferentialAgainstOpenSsl) {
    GcmEngine engine;
    std::mt19937_64 rng(2024);
    std::vector<Key> keys(4);
    for (auto& k : keys) for (auto& b : k) b = static_cast<std::uint8_t>(rng());
    std::vector<std::unique_ptr<GcmKey>> gkeys;
    for (const auto& k : keys) gkeys.push_back(std::make_unique<GcmKey>(engine, k));

    const std::vector<std::uint32_t> edge = {0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 1432, 8932};
    int checked = 0;
    for (int round = 0; round < 120; ++round) {
        const std::size_t burst = 1 + rng() % 40;
        std::vector<std::vector<std::uint8_t>> plain(burst), out(burst), tags(burst, std::vector<std::uint8_t>(kTagSize));
        std::vector<std::array<std::uint8_t, kAadSize>> aads(burst);
        std::vector<SealOp> ops(burst);
        const bool in_place = round % 2 == 1;
        for (std::size_t i = 0; i < burst; ++i) {
            const std::uint32_t len = round < 2 ? edge[i % edge.size()] : static_cast<std::uint32_t>(rng() % 9001);
            plain[i].resize(len);
            for (auto& b : plain[i]) b = static_cast<std::uint8_t>(rng());
            for (auto& b : aads[i]) b = static_cast<std::uint8_t>(rng());
            out[i] = in_place ? plain[i] : std::vector<std::uint8_t>(len);
            ops[i] = {.key = gkeys[i % 4].get(), .stream_id = static_cast<std::uint32_t>(rng()), .packet_seq = rng(),
                      .aad = aads[i].data(), .src = in_place ? out[i].data() : plain[i].data(), .dst = out[i].data(),
                      .len = len, .tag_out = tags[i].data()};
        }
        ASSERT_EQ(engine.seal_burst(ops), burst);
        std::vector<OpenOp> opens(burst);
        std::vector<std::vector<std::uint8_t>> back(burst);
        for (std::size_t i = 0; i < burst; ++i) {
            std::uint8_t iv[kIvSize];
            for (int b = 0; b < 4; ++b) iv[b] = static_cast<std::uint8_t>(ops[i].stream_id >> (24 - 8 * b));
            for (int b = 0; b < 8; ++b) iv[4 + b] = static_cast<std::uint8_t>(ops[i].packet_seq >> (56 - 8 * b));
            const Sealed expect = openssl_seal(keys[i % 4], iv, aads[i], plain[i]);
            ASSERT_EQ(out[i], expect.ciphertext) << "round " << round << " len " << plain[i].size();
            ASSERT_EQ(tags[i], expect.tag) << "round " << round << " len " << plain[i].size();
            back[i].resize(plain[i].size());
            opens[i] = {.key = gkeys[i % 4].get(), .stream_id = ops[i].stream_id, .packet_seq = ops[i].packet_seq,
                        .aad = aads[i].data(), .src = out[i].data(), .dst = back[i].data(),
                        .len = ops[i].len, .tag_in = tags[i].data()};
            ++checked;
        }
        ASSERT_EQ(engine.open_burst(opens), burst);
        for (std::size_t i = 0; i < burst; ++i) {
            EXPECT_TRUE(opens[i].ok);
            EXPECT_EQ(back[i], plain[i]);
        }
    }
    EXPECT_GT(checked, 2000);
}

// Any single flipped bit, in the header (AAD), payload or tag, makes open fail.
TEST(Gcm, EveryFlippedBitIsDetected) {
    GcmEngine engine;
    Key key{};
    key[0] = 7;
    const GcmKey k(engine, key);
    const std::vector<std::uint8_t> plain = testing::bytes_of("thirty-two bytes of plaintext!!!");
    std::vector<std::uint8_t> datagram(wire::datagram_size(plain.size(), true));
    const wire::PacketHeader h{.flags = wire::flags::kOic, .stream_id = 3, .packet_seq = 99, .key_epoch = 5};
    ASSERT_EQ(seal_packet(engine, k, h, plain, datagram), datagram.size());
    wire::PacketView v;
    ASSERT_EQ(wire::parse_packet(datagram, v), wire::WireError::ok);
    std::vector<std::uint8_t> out(plain.size());
    ASSERT_TRUE(open_packet(engine, k, v, out));
    EXPECT_EQ(out, plain);

    int detected = 0;
    for (std::size_t bit = 0; bit < datagram.size() * 8; ++bit) {
        auto bad = datagram;
        bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        wire::PacketView bv;
        if (wire::parse_packet(bad, bv) != wire::WireError::ok) {
            ++detected;  // the header itself became malformed: rejected even earlier
            continue;
        }
        if (bv.header.key_epoch == 0) {
            ++detected;  // the length check rejects it before this point in practice
            continue;
        }
        EXPECT_FALSE(open_packet(engine, k, bv, out)) << "flipped bit " << bit;
        ++detected;
    }
    EXPECT_EQ(detected, static_cast<int>(datagram.size() * 8));
}

// The same at the op level, without the parser in front: every bit of the AAD
// (including the header fields the parser would reject first), of the
// ciphertext and of the tag, and a neighbouring IV (stream or sequence off by one).
TEST(Gcm, EveryFlippedBitOfAnOpFails) {
    GcmEngine engine;
    Key key{};
    key[5] = 0x5a;
    const GcmKey k(engine, key);
    std::array<std::uint8_t, kAadSize> aad{};
    for (std::size_t i = 0; i < aad.size(); ++i) aad[i] = static_cast<std::uint8_t>(i * 7);
    const std::vector<std::uint8_t> plain = testing::bytes_of("seventeen bytes!!");
    std::vector<std::uint8_t> ct(plain.size()), back(plain.size());
    std::array<std::uint8_t, kTagSize> tag{};
    SealOp seal{.key = &k, .stream_id = 9, .packet_seq = 1000, .aad = aad.data(), .src = plain.data(),
                .dst = ct.data(), .len = static_cast<std::uint32_t>(plain.size()), .tag_out = tag.data()};
    ASSERT_EQ(engine.seal_burst(std::span(&seal, 1)), 1u);

    // Every variant goes into one burst, so the job-queue path is what is checked
    // (a burst of one takes the direct call; that is covered by EveryFlippedBitIsDetected).
    const std::size_t bits = (aad.size() + ct.size() + tag.size()) * 8;
    std::vector<std::array<std::uint8_t, kAadSize>> aads(bits + 3, aad);
    std::vector<std::vector<std::uint8_t>> cts(bits + 3, ct), outs(bits + 3, back);
    std::vector<std::array<std::uint8_t, kTagSize>> tags(bits + 3, tag);
    for (std::size_t bit = 0; bit < bits; ++bit) {
        const auto mask = static_cast<std::uint8_t>(1u << (bit % 8));
        std::size_t byte = bit / 8;
        if (byte < aad.size()) {
            aads[bit][byte] ^= mask;
        } else if ((byte -= aad.size()) < ct.size()) {
            cts[bit][byte] ^= mask;
        } else {
            tags[bit][byte - ct.size()] ^= mask;
        }
    }
    std::vector<OpenOp> ops;
    for (std::size_t i = 0; i < bits + 3; ++i) {
        ops.push_back({.key = &k, .stream_id = 9, .packet_seq = 1000, .aad = aads[i].data(), .src = cts[i].data(),
                       .dst = outs[i].data(), .len = static_cast<std::uint32_t>(ct.size()), .tag_in = tags[i].data()});
    }
    ops[bits].stream_id = 8;        // wrong stream: another IV
    ops[bits + 1].packet_seq = 1001;  // wrong sequence: another IV
    // ops[bits + 2] is untouched and must open.
    ASSERT_GT(ops.size(), std::size_t{128}) << "more than one ipsec-mb burst";
    EXPECT_EQ(engine.open_burst(ops), 1u);
    for (std::size_t i = 0; i + 1 < ops.size(); ++i) EXPECT_FALSE(ops[i].ok) << "variant " << i;
    EXPECT_TRUE(ops.back().ok);
    EXPECT_EQ(outs.back(), plain);
    EXPECT_EQ(engine.errors(), 0u);
}

// Bursts longer than ipsec-mb's own burst limit are split; every packet of a
// long burst (several keys, in place and not) matches OpenSSL.
TEST(Gcm, LongBurstsAreSplitAndStayInOrder) {
    GcmEngine engine;
    std::mt19937_64 rng(77);
    std::vector<Key> keys(3);
    for (auto& kk : keys) for (auto& b : kk) b = static_cast<std::uint8_t>(rng());
    std::vector<std::unique_ptr<GcmKey>> gkeys;
    for (const auto& kk : keys) gkeys.push_back(std::make_unique<GcmKey>(engine, kk));
    for (const std::size_t burst : {std::size_t{127}, std::size_t{128}, std::size_t{129}, std::size_t{300}}) {
        SCOPED_TRACE(burst);
        std::vector<std::vector<std::uint8_t>> plain(burst), out(burst);
        std::vector<std::array<std::uint8_t, kTagSize>> tags(burst);
        std::vector<std::array<std::uint8_t, kAadSize>> aads(burst);
        std::vector<SealOp> ops(burst);
        for (std::size_t i = 0; i < burst; ++i) {
            plain[i].resize(rng() % 1500);
            for (auto& b : plain[i]) b = static_cast<std::uint8_t>(rng());
            for (auto& b : aads[i]) b = static_cast<std::uint8_t>(rng());
            const bool in_place = i % 3 == 0;
            out[i] = in_place ? plain[i] : std::vector<std::uint8_t>(plain[i].size());
            ops[i] = {.key = gkeys[i % 3].get(), .stream_id = 5, .packet_seq = 1 + i, .aad = aads[i].data(),
                      .src = in_place ? out[i].data() : plain[i].data(), .dst = out[i].data(),
                      .len = static_cast<std::uint32_t>(plain[i].size()), .tag_out = tags[i].data()};
        }
        ASSERT_EQ(engine.seal_burst(ops), burst);
        for (std::size_t i = 0; i < burst; ++i) {
            std::uint8_t iv[kIvSize] = {0, 0, 0, 5};
            for (int b = 0; b < 8; ++b) iv[4 + b] = static_cast<std::uint8_t>((1 + i) >> (56 - 8 * b));
            const Sealed expect = openssl_seal(keys[i % 3], iv, aads[i], plain[i]);
            ASSERT_EQ(out[i], expect.ciphertext) << i;
            ASSERT_TRUE(std::equal(tags[i].begin(), tags[i].end(), expect.tag.begin())) << i;
        }
    }
    EXPECT_EQ(engine.errors(), 0u);
}

// An argument ipsec-mb refuses is counted and reported, not sealed or opened.
// (Only a single op is safe to break this way: release builds submit bursts
// unchecked, as STYLE 9 asks.)
TEST(Gcm, RefusedOpIsCountedNotSealed) {
    GcmEngine engine;
    const GcmKey k(engine, Key{});
    std::array<std::uint8_t, kAadSize> aad{};
    std::array<std::uint8_t, 16> src{};
    std::array<std::uint8_t, kTagSize> tag{};
    SealOp seal{.key = &k, .stream_id = 1, .packet_seq = 1, .aad = aad.data(), .src = src.data(), .dst = nullptr,
                .len = 16, .tag_out = tag.data()};
    EXPECT_EQ(engine.seal_burst(std::span(&seal, 1)), 0u);
    EXPECT_EQ(engine.errors(), 1u);
    OpenOp open{.key = &k, .stream_id = 1, .packet_seq = 1, .aad = aad.data(), .src = src.data(), .dst = nullptr,
                .len = 16, .tag_in = tag.data(), .ok = true};
    EXPECT_EQ(engine.open_burst(std::span(&open, 1)), 0u);
    EXPECT_FALSE(open.ok);
    EXPECT_EQ(engine.errors(), 2u);
    // The engine keeps working afterwards.
    seal.dst = src.data();
    EXPECT_EQ(engine.seal_burst(std::span(&seal, 1)), 1u);
    EXPECT_EQ(engine.errors(), 2u);
}

TEST(Gcm, WrongKeyOrWrongStreamFails) {
    GcmEngine engine;
    Key a{}, b{};
    b[31] = 1;
    const GcmKey ka(engine, a), kb(engine, b);
    const auto plain = testing::bytes_of("payload");
    std::vector<std::uint8_t> d(wire::datagram_size(plain.size(), true));
    ASSERT_GT(seal_packet(engine, ka, {.flags = wire::flags::kOic, .stream_id = 1, .packet_seq = 1, .key_epoch = 1}, plain, d), 0u);
    wire::PacketView v;
    ASSERT_EQ(wire::parse_packet(d, v), wire::WireError::ok);
    std::vector<std::uint8_t> out(plain.size());
    EXPECT_FALSE(open_packet(engine, kb, v, out));
    EXPECT_TRUE(open_packet(engine, ka, v, out));
}

// Every sealed case of the independent vectors opens with its key, and our seal
// of the opened plaintext reproduces the datagram byte for byte; every malformed
// datagram whose header parses fails to open.
TEST(Gcm, KnownAnswerVectors) {
    const auto file = testing::load_vectors();
    GcmEngine engine;
    int opened = 0;
    for (const auto& c : file.cases()) {
        if (c.key().empty()) continue;
        const Key key = key_from_hex(c.key());
        const GcmKey k(engine, key);
        std::vector<std::uint8_t> record;
        for (const auto& p : c.packets()) {
            const auto d = from_hex(p.datagram());
            wire::PacketView v;
            ASSERT_EQ(wire::parse_packet(d, v), wire::WireError::ok) << c.name();
            std::vector<std::uint8_t> plain(v.payload.size());
            ASSERT_TRUE(open_packet(engine, k, v, plain)) << c.name() << " seq " << p.packet_seq();
            record.insert(record.end(), plain.begin(), plain.end());
            std::vector<std::uint8_t> again(d.size());
            ASSERT_EQ(seal_packet(engine, k, v.header, plain, again), d.size());
            EXPECT_EQ(to_hex(again), p.datagram()) << c.name();
            ++opened;
        }
        if (!c.chain_record().empty()) {
            EXPECT_EQ(to_hex(record), c.chain_record()) << c.name();
        }
    }
    EXPECT_GE(opened, 6);

    int rejected = 0;
    for (const auto& m : file.malformed()) {
        const auto d = from_hex(m.datagram());
        wire::PacketView v;
        const bool about_tag = m.why().find("tag") != std::string::npos;
        if (!about_tag) continue;  // header-level faults: the wire tests' job
        ASSERT_EQ(wire::parse_packet(d, v), wire::WireError::ok) << m.why() << ": only the tag is wrong";
        ASSERT_FALSE(m.key().empty()) << m.why();
        const GcmKey k(engine, key_from_hex(m.key()));
        std::vector<std::uint8_t> plain(v.payload.size());
        EXPECT_FALSE(open_packet(engine, k, v, plain)) << m.why();
        ++rejected;
    }
    EXPECT_GE(rejected, 2);
}

}  // namespace
}  // namespace replicast::crypto
