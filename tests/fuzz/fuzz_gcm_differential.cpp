// ipsec-mb against OpenSSL: the input picks the key, stream_id, packet_seq,
// header and plaintext, and how many packets go in one burst; both must give
// the same ciphertext and tag, our open must verify and round-trip, and a
// flipped tag bit must fail.
#include <openssl/evp.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "crypto/gcm.hpp"

using namespace replicast;

namespace {

struct Reader {
    const std::uint8_t* p;
    std::size_t n;
    std::uint8_t byte() { return n ? (--n, *p++) : 0; }
    void bytes(std::uint8_t* out, std::size_t k) {
        for (std::size_t i = 0; i < k; ++i) out[i] = byte();
    }
};

void openssl_seal(const crypto::Key& key, const std::uint8_t* iv, const std::uint8_t* aad, const std::uint8_t* plain,
                  std::size_t len, std::uint8_t* out, std::uint8_t* tag) {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    int n = 0;
    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key.data(), iv);
    EVP_EncryptUpdate(ctx, nullptr, &n, aad, crypto::kAadSize);
    if (len) EVP_EncryptUpdate(ctx, out, &n, plain, static_cast<int>(len));
    EVP_EncryptFinal_ex(ctx, nullptr, &n);
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, crypto::kTagSize, tag);
    EVP_CIPHER_CTX_free(ctx);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static crypto::GcmEngine engine;
    Reader in{data, size};
    crypto::Key key{};
    in.bytes(key.data(), key.size());
    const crypto::GcmKey gkey(engine, key);
    const std::size_t burst = 1 + in.byte() % 8;
    struct Packet {
        std::uint32_t stream;
        std::uint64_t seq;
        std::uint8_t aad[crypto::kAadSize];
        std::vector<std::uint8_t> plain, ours, theirs, back;
        std::uint8_t tag[crypto::kTagSize], their_tag[crypto::kTagSize];
    };
    std::vector<Packet> packets(burst);
    std::vector<crypto::SealOp> seals(burst);
    for (std::size_t i = 0; i < burst; ++i) {
        Packet& p = packets[i];
        std::uint8_t head[12];
        in.bytes(head, sizeof head);
        std::memcpy(&p.stream, head, 4);
        std::memcpy(&p.seq, head + 4, 8);
        in.bytes(p.aad, sizeof p.aad);
        const std::size_t len = (std::size_t{in.byte()} << 8 | in.byte()) % 2048;
        p.plain.resize(len);
        in.bytes(p.plain.data(), len);
        p.ours.resize(len);
        p.theirs.resize(len);
        p.back.resize(len);
        seals[i] = {.key = &gkey, .stream_id = p.stream, .packet_seq = p.seq, .aad = p.aad, .src = p.plain.data(),
                    .dst = p.ours.data(), .len = static_cast<std::uint32_t>(len), .tag_out = p.tag};
    }
    if (engine.seal_burst(seals) != burst) std::abort();
    std::vector<crypto::OpenOp> opens(burst);
    for (std::size_t i = 0; i < burst; ++i) {
        Packet& p = packets[i];
        std::uint8_t iv[crypto::kIvSize];
        for (int b = 0; b < 4; ++b) iv[b] = static_cast<std::uint8_t>(p.stream >> (24 - 8 * b));
        for (int b = 0; b < 8; ++b) iv[4 + b] = static_cast<std::uint8_t>(p.seq >> (56 - 8 * b));
        openssl_seal(key, iv, p.aad, p.plain.data(), p.plain.size(), p.theirs.data(), p.their_tag);
        if (p.ours != p.theirs || std::memcmp(p.tag, p.their_tag, crypto::kTagSize) != 0) std::abort();
        opens[i] = {.key = &gkey, .stream_id = p.stream, .packet_seq = p.seq, .aad = p.aad, .src = p.ours.data(),
                    .dst = p.back.data(), .len = static_cast<std::uint32_t>(p.plain.size()), .tag_in = p.tag};
    }
    if (engine.open_burst(opens) != burst) std::abort();
    for (std::size_t i = 0; i < burst; ++i) {
        if (packets[i].back != packets[i].plain) std::abort();
    }
    // A flipped tag bit fails that packet alone, in the same burst shape (a
    // burst of one takes the direct call, longer ones the job queue).
    packets[0].tag[in.byte() % crypto::kTagSize] ^= static_cast<std::uint8_t>(1u << (in.byte() % 8));
    if (engine.open_burst(opens) != burst - 1 || opens[0].ok) std::abort();
    return 0;
}
