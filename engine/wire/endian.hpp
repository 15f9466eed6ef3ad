// Big-endian loads and stores for wire fields.
//
// Every multi-byte field of PROTOCOL.md is in network order and may sit at any
// alignment inside a datagram or an mbuf, so fields are read through memcpy
// (one unaligned load once optimised) and byte-swapped, never through casts.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace replicast::wire {

static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big);

template <typename T>
constexpr T byteswap_if_little(T v) noexcept {
    if constexpr (std::endian::native == std::endian::big || sizeof(T) == 1) {
        return v;
    } else if constexpr (sizeof(T) == 2) {
        return static_cast<T>(__builtin_bswap16(v));
    } else if constexpr (sizeof(T) == 4) {
        return static_cast<T>(__builtin_bswap32(v));
    } else {
        static_assert(sizeof(T) == 8);
        return static_cast<T>(__builtin_bswap64(v));
    }
}

template <typename T>
inline T load_be(const std::uint8_t* p) noexcept {
    T v;
    std::memcpy(&v, p, sizeof v);
    return byteswap_if_little(v);
}

template <typename T>
inline void store_be(std::uint8_t* p, T v) noexcept {
    v = byteswap_if_little(v);
    std::memcpy(p, &v, sizeof v);
}

}  // namespace replicast::wire
