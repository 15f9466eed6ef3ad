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

/// An expanded AES-256-GCM key (round keys and GHASH tables), zeroised when destroyed.
class GcmKey {
public:
    GcmKey(GcmEngine& engine, std::span<const std::uint8_t, kKeySize> key);
    ~GcmKey();
    GcmKey(const GcmKey&) = delete;
    GcmKey& operator=(const GcmKey&) = delete;

    [[nodiscard]] const gcm_key_data* data() const noexcept { return data_.get(); }

private:
    struct Deleter {
        void operator()(gcm_key_data* p) const noexcept;
    };
    std::unique_ptr<gcm_key_data, Deleter> data_;
};

/// One packet to seal. `src` may equal `dst` (in place) or be another buffer:
/// the sender seals chain bytes straight from the chain buffer into mbuf data.
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

/// One packet to open. On failure (`ok` false) the bytes written to `dst` are
/// not authentic and must not be used.
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

class GcmEngine {
public:
    /// Allocates and initialises an IMB_MGR with the best code path this CPU has.
    /// Throws std::runtime_error when ipsec-mb cannot.
    GcmEngine();
    ~GcmEngine();
    GcmEngine(const GcmEngine&) = delete;
    GcmEngine& operator=(const GcmEngine&) = delete;

    /// "AVX-512 with VAES", "AVX-512", "AVX2", "AVX", "SSE" or "no AES-NI".
    [[nodiscard]] std::string_view arch_name() const noexcept { return arch_name_; }

    /// Seals every op. @return how many were sealed: ops.size() unless ipsec-mb
    /// rejected a job (counted in errors()); the others' outputs are undefined then.
    std::size_t seal_burst(std::span<SealOp> ops) noexcept;

    /// Opens every op, setting each op's `ok` (constant-time tag comparison).
    /// @return how many verified.
    std::size_t open_burst(std::span<OpenOp> ops) noexcept;

    /// Jobs ipsec-mb refused, since construction.
    [[nodiscard]] std::uint64_t errors() const noexcept { return errors_; }

    [[nodiscard]] IMB_MGR* manager() const noexcept { return mgr_; }

private:
    template <typename Op>
    std::size_t run_burst(std::span<Op> ops) noexcept;

    IMB_MGR* mgr_ = nullptr;
    std::string_view arch_name_;
    std::uint64_t errors_ = 0;
};

/// The code path ipsec-mb picks on this CPU (builds a throwaway manager).
std::string_view selected_arch_name();

/// Seals a whole datagram: header for `h` (payload_len taken from `plaintext`),
/// ciphertext, tag. `out` must hold wire::datagram_size(plaintext.size(), true).
/// @return the datagram size, or 0 when `out` is too small or sealing failed.
std::size_t seal_packet(GcmEngine& engine, const GcmKey& key, wire::PacketHeader h,
                        std::span<const std::uint8_t> plaintext, std::span<std::uint8_t> out) noexcept;

/// Opens a parsed, sealed packet into `out` (payload_len bytes).
/// @return true when the tag verifies; false when it does not or `out` is too small.
bool open_packet(GcmEngine& engine, const GcmKey& key, const wire::PacketView& packet,
                 std::span<std::uint8_t> out) noexcept;

}  // namespace replicast::crypto
