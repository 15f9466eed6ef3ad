// Ethernet/802.1Q/IPv4/UDP framing, as `replicast decode` reads captures: no
// crash on any bytes; what parses has views inside the frame and fields that
// agree with the bytes; and the checksum verdicts agree with the RFC 1071
// textbook loop, through every vector path the CPU has (AVX-512, AVX2,
// scalar), on the frame's own bytes at every length and alignment the fuzzer
// finds.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "engine/wire/frame.hpp"

using namespace replicast::wire;

namespace {

std::uint16_t textbook(std::span<const std::uint8_t> b, std::uint32_t sum) {
    for (std::size_t i = 0; i < b.size(); i += 2) {
        sum += static_cast<std::uint32_t>(b[i]) << 8 | (i + 1 < b.size() ? b[i + 1] : 0);
        sum = (sum & 0xffff) + (sum >> 16);
    }
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum & 0xffff);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes(data, size);

    // Every checksum path against the textbook, from two offsets (alignment).
    const std::uint32_t seed = size >= 2 ? (std::uint32_t{data[0]} << 8 | data[1]) : 0;
    for (std::size_t off = 0; off < 2 && off <= size; ++off) {
        const std::uint16_t want = textbook(bytes.subspan(off), seed);
        for (ChecksumPath p : kChecksumPaths) {
            if (checksum_path_available(p) && internet_checksum_via(p, bytes.subspan(off), seed) != want) std::abort();
        }
        if (internet_checksum(bytes.subspan(off), seed) != want) std::abort();
    }

    FrameInfo f;
    if (parse_ethernet_frame(bytes, f) != FrameError::ok) return 0;
    const std::uint8_t* end = data + size;
    if (f.udp_payload.data() < data || f.udp_payload.data() + f.udp_payload.size() > end) std::abort();
    // The UDP header sits just before the payload: its ports must be what was reported.
    const std::uint8_t* udp = f.udp_payload.data() - 8;
    if (udp < data + 14 + 20) std::abort();
    if ((std::uint16_t{udp[0]} << 8 | udp[1]) != f.src_port || (std::uint16_t{udp[2]} << 8 | udp[3]) != f.dst_port) std::abort();
    if (f.udp_checksum_ok && !f.udp_checksum_present) std::abort();
    if (f.has_vlan != (size >= 14 && data[12] == 0x81 && data[13] == 0x00)) std::abort();
    return 0;
}
