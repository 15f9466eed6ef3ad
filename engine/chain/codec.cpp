#include "engine/chain/codec.hpp"

#include <isa-l/igzip_lib.h>

#include <limits>
#include <stdexcept>
#include <string>

namespace replicast::chain {

namespace {

std::uint32_t level_buffer_size(int level) {
    switch (level) {
    case 0: return ISAL_DEF_LVL0_DEFAULT;
    case 1: return ISAL_DEF_LVL1_DEFAULT;
    case 2: return ISAL_DEF_LVL2_DEFAULT;
    case 3: return ISAL_DEF_LVL3_DEFAULT;
    default: throw std::invalid_argument("compression level " + std::to_string(level) + " is outside 0..3");
    }
}

}  // namespace

Compressor::Compressor(int level)
    : level_(level), level_buf_size_(level_buffer_size(level)) {
    level_buf_ = std::make_unique<std::uint8_t[]>(level_buf_size_);
}

Compressor::~Compressor() = default;

std::size_t Compressor::compress(std::span<const std::uint8_t> in, std::span<std::uint8_t> out) noexcept {
    if (in.size() > std::numeric_limits<std::uint32_t>::max() || out.empty()) {
        return 0;
    }
    isal_zstream s;
    isal_deflate_stateless_init(&s);
    s.level = static_cast<std::uint32_t>(level_);
    s.level_buf = level_buf_.get();
    s.level_buf_size = level_buf_size_;
    s.gzip_flag = IGZIP_DEFLATE;  // raw DEFLATE, no zlib or gzip wrapper
    s.flush = NO_FLUSH;
    s.end_of_stream = 1;
    s.next_in = const_cast<std::uint8_t*>(in.data());  // ISA-L's API is not const-correct; it only reads
    s.avail_in = static_cast<std::uint32_t>(in.size());
    s.next_out = out.data();
    s.avail_out = static_cast<std::uint32_t>(std::min<std::size_t>(out.size(), std::numeric_limits<std::uint32_t>::max()));
    if (isal_deflate_stateless(&s) != COMP_OK || s.avail_in != 0) {
        return 0;
    }
    return s.total_out;
}

struct Decompressor::State {
    inflate_state st;
};

Decompressor::Decompressor() : state_(std::make_unique<State>()) {}
Decompressor::~Decompressor() = default;

bool Decompressor::decompress_exact(std::span<const std::uint8_t> in, std::span<std::uint8_t> out) noexcept {
    if (in.size() > std::numeric_limits<std::uint32_t>::max() || out.size() > std::numeric_limits<std::uint32_t>::max()) {
        return false;
    }
    inflate_state& st = state_->st;
    isal_inflate_init(&st);
    st.crc_flag = ISAL_DEFLATE;  // raw DEFLATE
    st.next_in = const_cast<std::uint8_t*>(in.data());
    st.avail_in = static_cast<std::uint32_t>(in.size());
    st.next_out = out.data();
    st.avail_out = static_cast<std::uint32_t>(out.size());
    const int rc = isal_inflate_stateless(&st);
    // Exactly: the final block ended, every input byte was used, every output byte written.
    return rc == ISAL_DECOMP_OK && st.block_state == ISAL_BLOCK_FINISH && st.avail_in == 0 && st.avail_out == 0 &&
           st.total_out == out.size();
}

}  // namespace replicast::chain
