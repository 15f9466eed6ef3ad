// AES-256-GCM sealing of data-plane packets (PROTOCOL.md 1.2) through Intel
// ipsec-mb's burst API.
//
//   IV   = stream_id (4, big-endian) || packet_seq (8, big-endian)
//   AAD  = the 24-byte packet header exactly as sent
//   out  = ciphertext (same length as the payload) followed by a 16-byte tag
//
// The IV comes from the sequence number, never from a random source (as in
// IPsec ESP): packet_seq never repeats within a stream and each stream has its
// own keys, so no (key, IV) pair is ever used twice.
//
// Threading: one GcmEngine per thread (it owns an IMB_MGR, whose job queue is
// not shared). A GcmKey is read-only once built and may be used by any number
// of engines on any threads. The burst calls allocate nothing, take no locks,
// make no system calls and log nothing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "engine/wire/packet.hpp"

struct gcm_key_data;
struct IMB_MGR;

namespace replicast::crypto {

inline constexpr std::size_t kKeySize = 32;
inline constexpr std::size_t kIvSize = 12;
inline constexpr std::size_t kTagSize = 16;
inline constexpr std::size_t kAadSize = wire::kHeaderSize;

using Key = std::array<std::uint8_t, kKeySize>;

class GcmEngine;

/// An expanded AES-256-GCM key (round keys and GHASH tables) in ipsec-mb's
/// `gcm_key_data`, in its own allocation aligned as ipsec-mb requires, wiped
/// with OPENSSL_cleanse when destroyed. Not copyable and not movable: hold it
/// by pointer (SealOp/OpenOp point at it). Read-only after construction, so one
/// GcmKey may be used by any number of engines on any threads at once.
class GcmKey {
public:
    /// Expands `key` with `engine`'s manager. The expansion's layout depends
    /// on the engine's code path (ipsec-mb keeps the GHASH table differently
    /// for VAES, AVX2 and SSE): use the key with engines of the same path()
    /// only; another path computes wrong tags. Throws std::bad_alloc.
    GcmKey(GcmEngine& engine, std::span<const std::uint8_t, kKeySize> key);
    ~GcmKey();
    GcmKey(const GcmKey&) = delete;
    GcmKey& operator=(const GcmKey&) = delete;

    [[nodiscard]] const gcm_key_data* data() const noexcept { return data_.get(); }
    /// The code path it was expanded for: GcmEngine::arch_name() of its engine.
    [[nodiscard]] std::string_view path() const noexcept { return path_; }

private:
    struct Deleter {
        void operator()(gcm_key_data* p) const noexcept;
    };
    std::unique_ptr<gcm_key_data, Deleter> data_;
    std::string_view path_;
};

/// One packet to seal. `src` may equal `dst` (in place) or be another buffer:
/// the sender seals chain bytes straight from the chain buffer into mbuf data.
/// `src` and `dst` hold `len` bytes (they may be null when `len` is 0) and
/// must not partly overlap. Writes `len` bytes of ciphertext to `dst` and the
/// tag to `tag_out`, which may sit right after `dst` (the wire layout).
struct SealOp {
    const GcmKey* key;
    std::uint32_t stream_id;
    std::uint64_t packet_seq;
    const std::uint8_t* aad;  // aad_len bytes: the packet header
    const std::uint8_t* src;
    std::uint8_t* dst;
    std::uint32_t len;
    std::uint8_t* tag_out;  // kTagSize bytes
    std::uint32_t aad_len = kAadSize;  // always the header on the wire; other lengths for test vectors
};

/// One packet to open: the same buffer rules as SealOp, `tag_in` is the
/// received tag. `ok` is the result. On failure (`ok` false) the bytes written
/// to `dst` are not authentic and must not be used: decryption writes `dst`
/// before the tag is known to be bad, so never open in place into memory a
/// reader may see before `ok` is checked.
struct OpenOp {
    const GcmKey* key;
    std::uint32_t stream_id;
    std::uint64_t packet_seq;
    const std::uint8_t* aad;
    const std::uint8_t* src;
    std::uint8_t* dst;
    std::uint32_t len;
    const std::uint8_t* tag_in;
    bool ok = false;  // out
    std::uint32_t aad_len = kAadSize;
};

/// Which of ipsec-mb's code paths a GcmEngine runs: the best the CPU has, or
/// a narrower one by name, so that a benchmark can show what the rest of the
/// sender costs against a slower seal (as on CPUs without VAES).
enum class GcmArch : std::uint8_t { best, avx512, avx2, avx, sse };
/// "best", "avx512", "avx2", "avx", "sse": the names parse_gcm_arch() takes.
[[nodiscard]] std::string_view gcm_arch_id(GcmArch arch) noexcept;
/// @return false for a name that is none of gcm_arch_id()'s.
[[nodiscard]] bool parse_gcm_arch(std::string_view name, GcmArch& out) noexcept;

/// The per-thread sealing engine: one ipsec-mb manager (IMB_MGR) and its job
/// queue. Not thread-safe: use one GcmEngine per thread (per lcore); it is
/// cheap to keep, costly to create (allocation and CPU feature probing).
class GcmEngine {
public:
    /// Allocates and initialises an IMB_MGR with the best code path this CPU
    /// has, or with `arch`. Throws std::runtime_error when ipsec-mb cannot, or
    /// when the CPU lacks what `arch` needs (naming it).
    explicit GcmEngine(GcmArch arch = GcmArch::best);
    ~GcmEngine();
    GcmEngine(const GcmEngine&) = delete;
    GcmEngine& operator=(const GcmEngine&) = delete;

    /// "AVX-512 with VAES", "AVX-512", "AVX2", "AVX", "SSE" or "no AES-NI".
    [[nodiscard]] std::string_view arch_name() const noexcept { return arch_name_; }

    /// Seals every op, in bursts of up to IMB_MAX_BURST_SIZE jobs (any span
    /// length is fine); ops may use different keys. Allocates nothing, takes
    /// no lock, makes no system call, logs nothing.
    /// A burst of one takes ipsec-mb's direct GCM call instead of the job
    /// queue (measured a little faster for one packet; bench/RESULTS.md).
    /// @return ops.size(), unless ipsec-mb refused a job (counted in errors();
    ///         the direct call always checks its arguments, the job queue only
    ///         in debug builds: release submits unchecked, STYLE 9):
    ///         then the ops before the returned index are sealed and the
    ///         outputs of the others are unspecified.
    std::size_t seal_burst(std::span<SealOp> ops) noexcept;

    /// Opens every op and sets each op's `ok` (tags compared in constant time,
    /// CRYPTO_memcmp); an op ipsec-mb refused gets `ok` false and is counted in
    /// errors(). Same allocation/lock/syscall guarantees as seal_burst.
    /// @return how many ops verified.
    std::size_t open_burst(std::span<OpenOp> ops) noexcept;

    /// Jobs ipsec-mb refused, since construction.
    [[nodiscard]] std::uint64_t errors() const noexcept { return errors_; }

    /// The engine's manager, for GcmKey and benchmarks; it belongs to this engine's thread.
    [[nodiscard]] IMB_MGR* manager() const noexcept { return mgr_; }

private:
    template <typename Op>
    std::size_t run_burst(std::span<Op> ops) noexcept;

    IMB_MGR* mgr_ = nullptr;
    std::string_view arch_name_;
    std::uint64_t errors_ = 0;
};

/// The code path ipsec-mb picks on this CPU (builds a throwaway manager), as
/// GcmEngine::arch_name() names it. For `replicast version`. Throws like GcmEngine().
std::string_view selected_arch_name();

/// Seals a whole datagram: header for `h` (payload_len taken from `plaintext`),
/// ciphertext, tag. `out` must hold wire::datagram_size(plaintext.size(), true).
/// @return the datagram size, or 0 when `out` is too small or sealing failed.
std::size_t seal_packet(GcmEngine& engine, const GcmKey& key, wire::PacketHeader h,
                        std::span<const std::uint8_t> plaintext, std::span<std::uint8_t> out) noexcept;

/// Opens a parsed, sealed packet into `out` (payload_len bytes): IV from the
/// header's stream_id and packet_seq, AAD = `packet.header_bytes`, tag = `packet.tag`.
/// @return true when the tag verifies; false when it does not, when the packet
///         is not sealed, or when `out` is too small. `out` is untrusted on false.
bool open_packet(GcmEngine& engine, const GcmKey& key, const wire::PacketView& packet,
                 std::span<std::uint8_t> out) noexcept;

}  // namespace replicast::crypto
