// Chain record (PROTOCOL.md 1.3): the concatenated payloads of one chain.
//
//   0            8              12          16
//   +------------+--------------+-----------+---------------------------+
//   | first_lsn  | update_count | body_len  | body (compressed by alg)  |
//   +------------+--------------+-----------+---------------------------+
//
// body_len is the size *after* decompression; the compressed body is whatever
// follows the head. Views point into the caller's buffer. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/wire/error.hpp"

namespace replicast::wire {

inline constexpr std::size_t kChainRecordHeadSize = 16;
inline constexpr std::uint32_t kMaxBodyLen = 64u << 20;  // 64 MiB, bounds every receiver's buffer

struct ChainRecordHead {
    std::uint64_t first_lsn = 0;
    std::uint32_t update_count = 0;
    std::uint32_t body_len = 0;  // after decompression
};

struct ChainRecordView {
    ChainRecordHead head;
    std::span<const std::uint8_t> body;  // as carried: compressed when the packets say so
};

/// Validates the 16-byte head of a record.
/// @return ok; record_too_short, zero_update_count or body_too_large.
[[nodiscard]] WireError parse_chain_record(std::span<const std::uint8_t> record, ChainRecordView& out) noexcept;

/// Writes the 16-byte head. The caller guarantees 16 bytes at `out`.
void encode_chain_record_head(const ChainRecordHead& head, std::uint8_t* out) noexcept;

}  // namespace replicast::wire
