#include "crypto/gcm.hpp"

#include <intel-ipsec-mb.h>
#include <openssl/crypto.h>

#include <cstring>
#include <new>
#include <stdexcept>

#include "engine/wire/endian.hpp"

namespace replicast::crypto {

namespace {

// ipsec-mb declares gcm_key_data 64-byte aligned only when LINUX is defined
// (its own build defines it; consumers usually do not, and then alignof is 1).
// Allocate with the alignment it was designed for rather than trust alignof.
constexpr std::align_val_t kKeyDataAlign{64};
static_assert(alignof(gcm_key_data) <= 64);

std::string_view name_of(IMB_ARCH arch, const IMB_MGR* mgr) noexcept {
    switch (arch) {
    case IMB_ARCH_AVX512: return (mgr->features & IMB_FEATURE_VAES) ? "AVX-512 with VAES" : "AVX-512";
    case IMB_ARCH_AVX2: return "AVX2";
    case IMB_ARCH_AVX: return "AVX";
    case IMB_ARCH_SSE: return "SSE";
    case IMB_ARCH_NOAESNI: return "no AES-NI";
    default: return "unknown";
    }
}

void make_iv(std::uint8_t* iv, std::uint32_t stream_id, std::uint64_t seq) noexcept {
    wire::store_be<std::uint32_t>(iv, stream_id);
    wire::store_be<std::uint64_t>(iv + 4, seq);
}

// Tag check in constant time: every byte is looked at whatever the first
// difference, as CRYPTO_memcmp does, but inline (it ran for every packet and
// cost a call each; the tag is always 16 bytes).
bool tags_equal(const std::uint8_t* a, const std::uint8_t* b) noexcept {
    static_assert(kTagSize == 16);
    std::uint64_t a0, a1, b0, b1;
    std::memcpy(&a0, a, 8);
    std::memcpy(&a1, a + 8, 8);
    std::memcpy(&b0, b, 8);
    std::memcpy(&b1, b + 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

// Per-op view the burst loop needs, whether sealing or opening.
inline const GcmKey* key_of(const SealOp& o) noexcept { return o.key; }
inline const GcmKey* key_of(const OpenOp& o) noexcept { return o.key; }

}  // namespace

void GcmKey::Deleter::operator()(gcm_key_data* p) const noexcept {
    OPENSSL_cleanse(p, sizeof *p);
    ::operator delete(p, kKeyDataAlign);
}

GcmKey::GcmKey(GcmEngine& engine, std::span<const std::uint8_t, kKeySize> key)
    : data_(static_cast<gcm_key_data*>(::operator new(sizeof(gcm_key_data), kKeyDataAlign))), path_(engine.arch_name()) {
    IMB_AES256_GCM_PRE(engine.manager(), key.data(), data_.get());
}

GcmKey::~GcmKey() = default;

std::string_view gcm_arch_id(GcmArch arch) noexcept {
    switch (arch) {
    case GcmArch::best: return "best";
    case GcmArch::avx512: return "avx512";
    case GcmArch::avx2: return "avx2";
    case GcmArch::avx: return "avx";
    case GcmArch::sse: return "sse";
    }
    return "unknown";
}

bool parse_gcm_arch(std::string_view name, GcmArch& out) noexcept {
    for (GcmArch a : {GcmArch::best, GcmArch::avx512, GcmArch::avx2, GcmArch::avx, GcmArch::sse}) {
        if (name == gcm_arch_id(a)) {
            out = a;
            return true;
        }
    }
    return false;
}

GcmEngine::GcmEngine(GcmArch wanted) {
    mgr_ = alloc_mb_mgr(0);
    if (mgr_ == nullptr) {
        throw std::runtime_error("ipsec-mb: cannot allocate a multi-buffer manager");
    }
    IMB_ARCH arch = IMB_ARCH_NONE;
    // A named path must have its CPU features: ipsec-mb would otherwise run
    // instructions the CPU does not have.
    auto init_if = [&](std::uint64_t needs, void (*init)(IMB_MGR*), IMB_ARCH as) {
        if ((mgr_->features & needs) != needs) {
            free_mb_mgr(mgr_);
            throw std::runtime_error("ipsec-mb: this CPU cannot run the " + std::string(gcm_arch_id(wanted)) + " code path");
        }
        init(mgr_);
        arch = as;
    };
    switch (wanted) {
    case GcmArch::best: init_mb_mgr_auto(mgr_, &arch); break;
    case GcmArch::avx512: init_if(IMB_CPUFLAGS_AVX512, init_mb_mgr_avx512, IMB_ARCH_AVX512); break;
    case GcmArch::avx2: init_if(IMB_CPUFLAGS_AVX2, init_mb_mgr_avx2, IMB_ARCH_AVX2); break;
    case GcmArch::avx: init_if(IMB_CPUFLAGS_AVX, init_mb_mgr_avx, IMB_ARCH_AVX); break;
    case GcmArch::sse: init_if(IMB_CPUFLAGS_SSE, init_mb_mgr_sse, IMB_ARCH_SSE); break;
    }
    if (const int err = imb_get_errno(mgr_); err != 0 || arch == IMB_ARCH_NONE) {
        free_mb_mgr(mgr_);
        throw std::runtime_error(std::string("ipsec-mb: cannot initialise: ") + imb_get_strerror(err));
    }
    arch_name_ = name_of(arch, mgr_);
}

GcmEngine::~GcmEngine() { free_mb_mgr(mgr_); }

template <typename Op>
std::size_t GcmEngine::run_burst(std::span<Op> ops) noexcept {
    if (ops.size() == 1) {
        // One packet (a control packet, or a receiver decrypting into place):
        // the direct GCM call skips the job queue, which costs more than it
        // saves for a single buffer.
        Op& op = ops[0];
        std::uint8_t iv[kIvSize];
        make_iv(iv, op.stream_id, op.packet_seq);
        gcm_context_data ctx;
        // The direct call reports a refused argument only through imb_errno
        // (reset to 0 by every accepted call).
        if constexpr (std::is_same_v<Op, SealOp>) {
            IMB_AES256_GCM_ENC(mgr_, op.key->data(), &ctx, op.dst, op.src, op.len, iv, op.aad, op.aad_len, op.tag_out,
                               kTagSize);
            if (imb_get_errno(mgr_) != 0) {
                ++errors_;
                return 0;
            }
        } else {
            std::uint8_t tag[kTagSize];
            IMB_AES256_GCM_DEC(mgr_, op.key->data(), &ctx, op.dst, op.src, op.len, iv, op.aad, op.aad_len, tag, kTagSize);
            if (imb_get_errno(mgr_) != 0) {
                ++errors_;
                return 0;
            }
            op.ok = tags_equal(tag, op.tag_in);
        }
        return 1;
    }
    // IVs and, when opening, computed tags live here for the burst's duration.
    std::array<std::array<std::uint8_t, kIvSize>, IMB_MAX_BURST_SIZE> ivs;
    std::array<std::array<std::uint8_t, kTagSize>, IMB_MAX_BURST_SIZE> tags;
    std::array<IMB_JOB*, IMB_MAX_BURST_SIZE> jobs;
    std::size_t done = 0;
    while (done < ops.size()) {
        const auto want = static_cast<std::uint32_t>(std::min<std::size_t>(ops.size() - done, IMB_MAX_BURST_SIZE));
        // Every burst is flushed to completion below, so the queue is empty here
        // and ipsec-mb hands out all the jobs asked for.
        const std::uint32_t n = IMB_GET_NEXT_BURST(mgr_, want, jobs.data());
        if (n == 0) {
            ++errors_;
            return done;
        }
        for (std::uint32_t i = 0; i < n; ++i) {
            Op& op = ops[done + i];
            IMB_JOB* job = jobs[i];
            make_iv(ivs[i].data(), op.stream_id, op.packet_seq);
            job->cipher_mode = IMB_CIPHER_GCM;
            job->hash_alg = IMB_AUTH_AES_GMAC;
            job->key_len_in_bytes = IMB_KEY_256_BYTES;
            job->enc_keys = key_of(op)->data();
            job->dec_keys = key_of(op)->data();
            job->src = op.src;
            job->dst = op.dst;
            job->cipher_start_src_offset_in_bytes = 0;
            job->msg_len_to_cipher_in_bytes = op.len;
            job->hash_start_src_offset_in_bytes = 0;
            job->msg_len_to_hash_in_bytes = op.len;
            job->iv = ivs[i].data();
            job->iv_len_in_bytes = kIvSize;
            job->u.GCM.aad = op.aad;
            job->u.GCM.aad_len_in_bytes = op.aad_len;
            job->auth_tag_output_len_in_bytes = kTagSize;
            if constexpr (std::is_same_v<Op, SealOp>) {
                job->cipher_direction = IMB_DIR_ENCRYPT;
                job->chain_order = IMB_ORDER_CIPHER_HASH;
                job->auth_tag_output = op.tag_out;
            } else {
                job->cipher_direction = IMB_DIR_DECRYPT;
                job->chain_order = IMB_ORDER_HASH_CIPHER;
                job->auth_tag_output = tags[i].data();
            }
            job->user_data = &op;
            job->user_data2 = reinterpret_cast<void*>(static_cast<std::uintptr_t>(i));
        }
#ifdef NDEBUG
        std::uint32_t completed = IMB_SUBMIT_BURST_NOCHECK(mgr_, n, jobs.data());
#else
        std::uint32_t completed = IMB_SUBMIT_BURST(mgr_, n, jobs.data());
#endif
        if (completed < n) {
            completed += IMB_FLUSH_BURST(mgr_, n - completed, jobs.data() + completed);
        }
        for (std::uint32_t i = 0; i < completed; ++i) {
            IMB_JOB* job = jobs[i];
            Op& op = *static_cast<Op*>(job->user_data);
            const bool good = job->status == IMB_STATUS_COMPLETED;
            if (!good) ++errors_;
            if constexpr (std::is_same_v<Op, OpenOp>) {
                const auto slot = reinterpret_cast<std::uintptr_t>(job->user_data2);
                op.ok = good && tags_equal(tags[slot].data(), op.tag_in);
            } else if (!good) {
                return done + i;
            }
        }
        if (completed < n) {
            ++errors_;
            return done;
        }
        done += n;
    }
    return done;
}

std::size_t GcmEngine::seal_burst(std::span<SealOp> ops) noexcept { return run_burst(ops); }

std::size_t GcmEngine::open_burst(std::span<OpenOp> ops) noexcept {
    for (OpenOp& op : ops) op.ok = false;
    run_burst(ops);
    std::size_t good = 0;
    for (const OpenOp& op : ops) good += op.ok ? 1 : 0;
    return good;
}

std::string_view selected_arch_name() {
    GcmEngine engine;
    return engine.arch_name();
}

std::size_t seal_packet(GcmEngine& engine, const GcmKey& key, wire::PacketHeader h,
                        std::span<const std::uint8_t> plaintext, std::span<std::uint8_t> out) noexcept {
    const std::size_t size = wire::datagram_size(plaintext.size(), true);
    if (plaintext.size() > wire::kMaxPayload || out.size() < size || h.key_epoch == 0) {
        return 0;
    }
    h.payload_len = static_cast<std::uint16_t>(plaintext.size());
    wire::encode_header(h, out.data());
    SealOp op{.key = &key, .stream_id = h.stream_id, .packet_seq = h.packet_seq, .aad = out.data(),
              .src = plaintext.data(), .dst = out.data() + wire::kHeaderSize,
              .len = static_cast<std::uint32_t>(plaintext.size()),
              .tag_out = out.data() + wire::kHeaderSize + plaintext.size()};
    return engine.seal_burst(std::span(&op, 1)) == 1 ? size : 0;
}

bool open_packet(GcmEngine& engine, const GcmKey& key, const wire::PacketView& p, std::span<std::uint8_t> out) noexcept {
    if (!p.header.sealed() || out.size() < p.payload.size() || p.tag.size() != kTagSize) {
        return false;
    }
    OpenOp op{.key = &key, .stream_id = p.header.stream_id, .packet_seq = p.header.packet_seq,
              .aad = p.header_bytes.data(), .src = p.payload.data(), .dst = out.data(),
              .len = static_cast<std::uint32_t>(p.payload.size()), .tag_in = p.tag.data(), .ok = false};
    return engine.open_burst(std::span(&op, 1)) == 1;
}

}  // namespace replicast::crypto
