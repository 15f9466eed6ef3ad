#include "engine/wire/frame.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "engine/wire/endian.hpp"

#include <bit>
#include <cstring>

namespace replicast::wire {

namespace {

constexpr std::size_t kEthernetHeader = 14;
constexpr std::size_t kVlanTag = 4;
constexpr std::size_t kIpv4MinHeader = 20;
constexpr std::size_t kUdpHeader = 8;
constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
constexpr std::uint16_t kEtherTypeVlan = 0x8100;
constexpr std::uint8_t kIpProtoUdp = 17;
constexpr std::uint16_t kIpFlagDf = 0x4000;
constexpr std::uint16_t kIpFlagMf = 0x2000;
constexpr std::uint16_t kIpFragOffsetMask = 0x1fff;

// RFC 1071 sum of big-endian 16-bit words, 8 bytes per step. The ones'
// complement sum is byte-order independent (RFC 1071 2(B)), so words are summed
// in native order and swapped once at the end; 32-bit halves go into a 64-bit
// accumulator, which cannot overflow for any datagram.
//
// The tx worker sums every sealed datagram when the port has no checksum
// offload, so the bulk of a large datagram goes through the widest vector unit
// the CPU has. Each 64-bit lane takes the two 32-bit halves of its input as
// (v & 0xffffffff) + (v >> 32): plain ALU work, no shuffles, and no carries to
// chase (2^32 steps could not overflow a lane). Two accumulators per step keep
// the adds off one dependency chain. A 1432-byte payload costs ~14 ns with
// AVX-512, ~20 ns with AVX2 and ~32 ns with the widening shuffles this replaced.
#if defined(__x86_64__)
__attribute__((target("avx512f"))) std::uint64_t sum_avx512(const std::uint8_t*& p, std::size_t& n) noexcept {
    const __m512i low_halves = _mm512_set1_epi64(0xffffffff);
    __m512i acc_lo = _mm512_setzero_si512();
    __m512i acc_hi = _mm512_setzero_si512();
    for (; n >= 64; p += 64, n -= 64) {
        const __m512i v = _mm512_loadu_si512(p);
        acc_lo = _mm512_add_epi64(acc_lo, _mm512_and_si512(v, low_halves));
        acc_hi = _mm512_add_epi64(acc_hi, _mm512_maskz_srli_epi64(0xff, v, 32));  // maskz: GCC 12 warns on the plain form
    }
    // Each lane is below 2^33 * steps; the eight-lane total stays far below 2^64.
    // (Stored and added by hand: GCC 12 trips -Wuninitialized on _mm512_reduce_add_epi64.)
    alignas(64) std::uint64_t lanes[8];
    _mm512_store_si512(lanes, _mm512_add_epi64(acc_lo, acc_hi));
    std::uint64_t total = 0;
    for (std::uint64_t l : lanes) total += l;
    return total;
}

// VPDPBUSD with the accumulator tied to one register. GCC 12 compiles
// _mm512_dpbusd_epi32 in a loop into a copy of every accumulator and a second
// load of every data vector per step (twice the loads the sum needs: the loop
// ran at half the L1 read rate); the one-instruction asm keeps it to one
// load and one VPDPBUSD per operand. Operand order is AT&T: weights, data, acc.
__attribute__((target("avx512f,avx512vnni"), always_inline)) inline __m512i dpbusd(__m512i acc, __m512i data,
                                                                                   __m512i weights) noexcept {
    asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(data), "v"(weights));
    return acc;
}

// high * 256 + low over the sixteen lanes. Each lane is below 2^27 (see the
// bounds below), so the total fits 32 bits and the reduction stays in vector
// registers. (maskz forms throughout: GCC 12 warns on the plain ones.)
__attribute__((target("avx512f,avx512vnni"), always_inline)) inline std::uint32_t words_total(__m512i high,
                                                                                           __m512i low) noexcept {
    const __m512i words = _mm512_add_epi32(_mm512_maskz_slli_epi32(0xffff, high, 8), low);
    const __m256i half = _mm256_add_epi32(_mm512_maskz_extracti64x4_epi64(0xf, words, 0),
                                          _mm512_maskz_extracti64x4_epi64(0xf, words, 1));
    __m128i quarter = _mm_add_epi32(_mm256_castsi256_si128(half), _mm256_extracti128_si256(half, 1));
    quarter = _mm_add_epi32(quarter, _mm_shuffle_epi32(quarter, 0x4e));
    quarter = _mm_add_epi32(quarter, _mm_shuffle_epi32(quarter, 0xb1));
    return static_cast<std::uint32_t>(_mm_cvtsi128_si32(quarter));
}

// With AVX-512 VNNI the sum takes two instructions per 64 bytes instead of
// four: VPDPBUSD multiplies unsigned bytes by signed byte weights and adds
// each group of four products into a 32-bit lane, so weights 1,0,1,0 sum the
// even bytes (the high bytes of big-endian words) and 0,1,0,1 the odd ones;
// high * 256 + low is then the sum of the big-endian words directly, with no
// byte swap. Returns the sum folded to 16 bits.
//
// Loads are 64-byte aligned: a datagram in a frame starts 34 or 38 bytes into
// a cache line, and unaligned loads would each straddle two lines. The first
// and last loads are masked (BZHI builds the masks; masked-off bytes are never
// read, so nothing outside the span is touched). Starting at an odd address
// pairs the bytes the other way round, which byte-swaps the sum (RFC 1071
// 2(B)); it is swapped back at the end. In `bench tx` at 1400 bytes this moved
// the sender from 74.7-75.1 % to 75.6-79.4 % of seal-only (alternating runs).
//
// Bounds: a lane gains at most 2 x 255 per 64 bytes in each sum, so after a
// 64 KiB block (1024 steps) high * 256 + low stays below 2^27 per lane and the
// sixteen lanes below 2^31; blocks are folded as they finish.
__attribute__((target("avx512f,avx512bw,avx512vnni,bmi2"))) std::uint16_t sum_avx512_vnni(const std::uint8_t* p,
                                                                                          std::size_t n) noexcept {
    constexpr std::size_t kBlock = 64 * 1024;
    const __m512i even = _mm512_set1_epi32(0x00010001);  // little-endian lanes: bytes 0 and 2 weigh 1
    const __m512i odd = _mm512_set1_epi32(0x01000100);
    constexpr __mmask64 kAll = ~__mmask64{0};
    if (n <= 128) {
        // Short (control packets, small updates): two masked loads wherever
        // they fall beat aligning, whose extra head and tail cost more here.
        const __m512i a = _mm512_maskz_loadu_epi8(_bzhi_u64(kAll, static_cast<unsigned>(n < 64 ? n : 64)), p);
        // (p + 64 only when it is inside the span: the mask is empty otherwise)
        const __m512i b = _mm512_maskz_loadu_epi8(n > 64 ? _bzhi_u64(kAll, static_cast<unsigned>(n - 64)) : 0, n > 64 ? p + 64 : p);
        const __m512i high = dpbusd(dpbusd(_mm512_setzero_si512(), a, even), b, even);
        const __m512i low = dpbusd(dpbusd(_mm512_setzero_si512(), a, odd), b, odd);
        std::uint32_t total = words_total(high, low);
        while (total >> 16) total = (total & 0xffff) + (total >> 16);
        return static_cast<std::uint16_t>(total);
    }
    const std::size_t skew = reinterpret_cast<std::uintptr_t>(p) & 63;
    // Aligned; the skew bytes before p are masked off (the address is formed
    // as an integer: p - skew may lie before the object p points into).
    const auto* q = reinterpret_cast<const std::uint8_t*>(reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{63});
    std::size_t span = n + skew;       // bytes from q to the end
    __mmask64 first = _bzhi_u64(kAll, static_cast<unsigned>(span < 64 ? span : 64)) & (kAll << skew);
    std::uint64_t total = 0;
    while (span > 0) {
        std::size_t left = span < kBlock ? span : kBlock;
        span -= left;
        // The block's first vector: masked at the datagram's start (first
        // block only) and at its end (a block shorter than 64 bytes).
        const __m512i v = _mm512_maskz_loadu_epi8(first & _bzhi_u64(kAll, static_cast<unsigned>(left < 64 ? left : 64)), q);
        __m512i hi0 = dpbusd(_mm512_setzero_si512(), v, even);
        __m512i lo0 = dpbusd(_mm512_setzero_si512(), v, odd);
        __m512i hi1 = _mm512_setzero_si512(), lo1 = _mm512_setzero_si512();
        first = kAll;
        const std::size_t head = left < 64 ? left : 64;
        q += head;
        left -= head;
        for (; left >= 128; q += 128, left -= 128) {  // two chains each: the adds' latency overlaps
            const __m512i a = _mm512_load_si512(q);
            const __m512i b = _mm512_load_si512(q + 64);
            hi0 = dpbusd(hi0, a, even);
            lo0 = dpbusd(lo0, a, odd);
            hi1 = dpbusd(hi1, b, even);
            lo1 = dpbusd(lo1, b, odd);
        }
        if (left > 0) {  // up to two more vectors, the last one masked at the end (zeros: RFC 1071's odd-byte rule too)
            const __m512i a = _mm512_maskz_loadu_epi8(_bzhi_u64(kAll, static_cast<unsigned>(left)), q);
            hi1 = dpbusd(hi1, a, even);
            lo1 = dpbusd(lo1, a, odd);
            if (left > 64) {
                const __m512i b = _mm512_maskz_loadu_epi8(_bzhi_u64(kAll, static_cast<unsigned>(left - 64)), q + 64);
                hi0 = dpbusd(hi0, b, even);
                lo0 = dpbusd(lo0, b, odd);
            }
            q += left;
        }
        total += words_total(_mm512_add_epi32(hi0, hi1), _mm512_add_epi32(lo0, lo1));
        while (total >> 16) total = (total & 0xffff) + (total >> 16);
    }
    const auto sum = static_cast<std::uint16_t>(total);
    return (skew & 1) != 0 ? __builtin_bswap16(sum) : sum;
}

__attribute__((target("avx2"))) std::uint64_t sum_avx2(const std::uint8_t*& p, std::size_t& n) noexcept {
    const __m256i low_halves = _mm256_set1_epi64x(0xffffffff);
    __m256i acc_lo = _mm256_setzero_si256();
    __m256i acc_hi = _mm256_setzero_si256();
    for (; n >= 32; p += 32, n -= 32) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
        acc_lo = _mm256_add_epi64(acc_lo, _mm256_and_si256(v, low_halves));
        acc_hi = _mm256_add_epi64(acc_hi, _mm256_srli_epi64(v, 32));
    }
    const __m256i acc = _mm256_add_epi64(acc_lo, acc_hi);
    alignas(32) std::uint64_t lanes[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), acc);
    return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}
#endif

ChecksumPath best_path() noexcept {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("bmi2")) return ChecksumPath::avx512_vnni;
    if (__builtin_cpu_supports("avx512f")) return ChecksumPath::avx512;
    if (__builtin_cpu_supports("avx2")) return ChecksumPath::avx2;
#endif
    return ChecksumPath::scalar;
}
const ChecksumPath kBestPath = best_path();

std::uint32_t sum_words(std::span<const std::uint8_t> bytes, std::uint32_t sum, ChecksumPath path = kBestPath) noexcept {
    const std::uint8_t* p = bytes.data();
    std::size_t n = bytes.size();
    std::uint64_t acc = 0;
#if defined(__x86_64__)
    if (path == ChecksumPath::avx512_vnni) {
        return sum + sum_avx512_vnni(p, n);  // already in big-endian word order
    }
    if (n >= 64 && path == ChecksumPath::avx512) {
        acc = sum_avx512(p, n);
    } else if (n >= 64 && path == ChecksumPath::avx2) {
        acc = sum_avx2(p, n);
    }
#endif
    for (; n >= 8; p += 8, n -= 8) {
        std::uint64_t v;
        std::memcpy(&v, p, 8);
        acc += (v & 0xffffffffu) + (v >> 32);
    }
    std::uint8_t tail[8] = {};
    std::memcpy(tail, p, n);  // zero-padded, which is also RFC 1071's rule for an odd byte
    std::uint64_t v;
    std::memcpy(&v, tail, 8);
    acc += (v & 0xffffffffu) + (v >> 32);
    while (acc >> 16) {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    // (acc holds 32-bit words' sums; folding to 16 bits is the same ones'
    // complement sum, RFC 1071 2(C))
    std::uint16_t native = static_cast<std::uint16_t>(acc);
    if constexpr (std::endian::native == std::endian::little) {
        native = __builtin_bswap16(native);
    }
    return sum + native;
}

// sum_words with no initial sum returns one folded, byte-order-corrected word.
std::uint16_t folded_sum_generic(const std::uint8_t* p, std::size_t n) noexcept {
    return static_cast<std::uint16_t>(sum_words({p, n}, 0));
}

std::uint16_t fold(std::uint32_t sum) noexcept {
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(~sum & 0xffff);
}

}  // namespace

std::string_view describe(FrameError e) noexcept {
    switch (e) {
    case FrameError::ok: return "ok";
    case FrameError::truncated: return "frame truncated inside a header";
    case FrameError::not_ipv4: return "not IPv4";
    case FrameError::bad_ipv4_header: return "bad IPv4 header length or total length";
    case FrameError::fragment: return "IPv4 fragment";
    case FrameError::not_udp: return "not UDP";
    case FrameError::bad_udp_length: return "UDP length disagrees with the IPv4 total length";
    }
    return "unknown frame error";
}

std::uint32_t checksum_partial(std::span<const std::uint8_t> bytes, std::uint32_t sum) noexcept {
    return sum_words(bytes, sum);
}

std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes, std::uint32_t sum) noexcept {
    return fold(sum_words(bytes, sum));
}

ChecksumPath checksum_path() noexcept { return kBestPath; }

FoldedSumFn folded_sum_fn() noexcept {
#if defined(__x86_64__)
    if (kBestPath == ChecksumPath::avx512_vnni) return &sum_avx512_vnni;
#endif
    return &folded_sum_generic;
}

const char* checksum_path_name(ChecksumPath path) noexcept {
    switch (path) {
    case ChecksumPath::scalar: return "scalar";
    case ChecksumPath::avx2: return "AVX2";
    case ChecksumPath::avx512: return "AVX-512F";
    case ChecksumPath::avx512_vnni: return "AVX-512 VNNI";
    }
    return "unknown";
}

bool checksum_path_available(ChecksumPath path) noexcept {
    return static_cast<std::uint8_t>(path) <= static_cast<std::uint8_t>(kBestPath);
}

std::uint16_t internet_checksum_via(ChecksumPath path, std::span<const std::uint8_t> bytes, std::uint32_t sum) noexcept {
    return fold(sum_words(bytes, sum, checksum_path_available(path) ? path : ChecksumPath::scalar));
}

std::string ipv4_text(std::uint32_t ip) {
    return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 255) + "." + std::to_string((ip >> 8) & 255) +
           "." + std::to_string(ip & 255);
}

std::array<std::uint8_t, 6> multicast_mac(std::uint32_t group) noexcept {
    return {0x01, 0x00, 0x5e, static_cast<std::uint8_t>((group >> 16) & 0x7f),
            static_cast<std::uint8_t>(group >> 8), static_cast<std::uint8_t>(group)};
}

FrameError parse_ethernet_frame(std::span<const std::uint8_t> frame, FrameInfo& out) noexcept {
    if (frame.size() < kEthernetHeader) {
        return FrameError::truncated;
    }
    for (std::size_t i = 0; i < 6; ++i) {
        out.dst_mac[i] = frame[i];
        out.src_mac[i] = frame[6 + i];
    }
    std::size_t off = 12;
    std::uint16_t ether_type = load_be<std::uint16_t>(frame.data() + off);
    out.has_vlan = false;
    if (ether_type == kEtherTypeVlan) {
        if (frame.size() < kEthernetHeader + kVlanTag) {
            return FrameError::truncated;
        }
        const std::uint16_t tci = load_be<std::uint16_t>(frame.data() + 14);
        out.has_vlan = true;
        out.vlan_id = tci & 0x0fff;
        out.vlan_pcp = static_cast<std::uint8_t>(tci >> 13);
        off += kVlanTag;
        ether_type = load_be<std::uint16_t>(frame.data() + off);
    }
    if (ether_type != kEtherTypeIpv4) {
        return FrameError::not_ipv4;
    }
    return parse_ipv4_udp(frame.subspan(off + 2), out);
}

FrameError parse_ipv4_udp(std::span<const std::uint8_t> ip, FrameInfo& out) noexcept {
    if (ip.size() < kIpv4MinHeader) {
        return FrameError::truncated;
    }
    const std::uint8_t* p = ip.data();
    if ((p[0] >> 4) != 4) {
        return FrameError::not_ipv4;
    }
    const std::size_t ihl = std::size_t{p[0] & 0x0fu} * 4;
    const std::size_t total = load_be<std::uint16_t>(p + 2);
    // Ethernet pads short frames, so the IP packet may be shorter than what follows it.
    if (ihl < kIpv4MinHeader || total < ihl || total > ip.size()) {
        return FrameError::bad_ipv4_header;
    }
    // Protocol first: a fragmented ping or TCP segment is other traffic, not
    // a broken replicast frame.
    if (p[9] != kIpProtoUdp) {
        return FrameError::not_udp;
    }
    const std::uint16_t frag = load_be<std::uint16_t>(p + 6);
    if ((frag & kIpFlagMf) != 0 || (frag & kIpFragOffsetMask) != 0) {
        return FrameError::fragment;
    }
    out.dscp = static_cast<std::uint8_t>(p[1] >> 2);
    out.ttl = p[8];
    out.dont_fragment = (frag & kIpFlagDf) != 0;
    out.ipv4_checksum_ok = internet_checksum(ip.first(ihl)) == 0;
    out.src_ip = load_be<std::uint32_t>(p + 12);
    out.dst_ip = load_be<std::uint32_t>(p + 16);

    const std::span<const std::uint8_t> udp = ip.subspan(ihl, total - ihl);
    if (udp.size() < kUdpHeader) {
        return FrameError::truncated;
    }
    const std::size_t udp_len = load_be<std::uint16_t>(udp.data() + 4);
    if (udp_len != udp.size()) {
        return FrameError::bad_udp_length;
    }
    out.src_port = load_be<std::uint16_t>(udp.data());
    out.dst_port = load_be<std::uint16_t>(udp.data() + 2);
    out.udp_checksum_present = load_be<std::uint16_t>(udp.data() + 6) != 0;
    // RFC 768 pseudo-header: source, destination, zero + protocol, UDP length.
    std::uint32_t pseudo = (out.src_ip >> 16) + (out.src_ip & 0xffff) + (out.dst_ip >> 16) +
                           (out.dst_ip & 0xffff) + kIpProtoUdp + static_cast<std::uint32_t>(udp_len);
    out.udp_checksum_ok = out.udp_checksum_present && internet_checksum(udp, pseudo) == 0;
    out.udp_payload = udp.subspan(kUdpHeader);
    return FrameError::ok;
}

}  // namespace replicast::wire
