// Raw DEFLATE (RFC 1951) of chain bodies through ISA-L, comp_alg 1 of
// PROTOCOL.md 1.1. One-shot (stateless) calls: a chain body is always whole in
// memory, on both sides, so no streaming state is needed.
//
// Each object owns its working memory, allocated once at construction; the
// calls allocate nothing. One object per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace replicast::chain {

/// ISA-L compression levels (ISA-L's own scale: 0 fastest .. 3 best).
inline constexpr int kMinLevel = 0;
inline constexpr int kMaxLevel = 3;

class Compressor {
public:
    /// Throws std::invalid_argument for a level outside 0..3.
    explicit Compressor(int level);
    ~Compressor();
    Compressor(const Compressor&) = delete;
    Compressor& operator=(const Compressor&) = delete;

    /// Compresses all of `in` into `out`.
    /// @return the compressed size, or 0 when it does not fit in `out` (size `out`
    ///         to the input to mean "only if it shrinks").
    [[nodiscard]] std::size_t compress(std::span<const std::uint8_t> in, std::span<std::uint8_t> out) noexcept;

    [[nodiscard]] int level() const noexcept { return level_; }

private:
    int level_;
    std::unique_ptr<std::uint8_t[]> level_buf_;
    std::uint32_t level_buf_size_;
};

class Decompressor {
public:
    Decompressor();
    ~Decompressor();
    Decompressor(const Decompressor&) = delete;
    Decompressor& operator=(const Decompressor&) = delete;

    /// Inflates `in`, which must be one complete raw DEFLATE stream, into exactly
    /// `out.size()` bytes.
    /// @return true only when the stream ends exactly at the end of `in` and
    ///         produced exactly out.size() bytes; false for corrupt data, a stream
    ///         that is short, long, truncated, or followed by extra bytes.
    [[nodiscard]] bool decompress_exact(std::span<const std::uint8_t> in, std::span<std::uint8_t> out) noexcept;

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace replicast::chain
