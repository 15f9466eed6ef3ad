// Builds chain records (PROTOCOL.md 1.3) from bundles of updates: encode the
// body, compress it with ISA-L when that is enabled and actually shrinks it,
// prefix the 16-byte head. The result is cut into packets with segment.hpp.
//
// Buffers only grow: after the largest chain has been built once, building
// allocates nothing. One builder per thread; the record view stays valid until
// the next begin().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "engine/chain/bytes.hpp"
#include "engine/chain/codec.hpp"
#include "engine/wire/chain_record.hpp"
#include "engine/wire/packet.hpp"
#include "engine/wire/update.hpp"

namespace replicast::chain {

struct BuilderConfig {
    bool compress = true;
    int level = 1;  // ISA-L level 0..3, used when compress is set
};

struct BuiltChain {
    wire::ChainRecordHead head;
    wire::CompAlg comp_alg = wire::CompAlg::none;
    std::span<const std::uint8_t> record;  // head + body as carried (compressed when comp_alg says so)
};

class ChainBuilder {
public:
    /// Throws std::invalid_argument for a level outside 0..3.
    explicit ChainBuilder(const BuilderConfig& config);

    /// Starts a chain whose first update has LSN `first_lsn`.
    void begin(std::uint64_t first_lsn) noexcept;

    /// Appends one update (LSN first_lsn + updates so far).
    /// @return ok; or check_update's errors; or body_too_large past 64 MiB. Nothing is
    ///         appended on error.
    [[nodiscard]] wire::WireError add(const wire::UpdateView& update);

    /// Appends `count` updates that are already encoded (the store's log values).
    /// @return ok, or validate_body's errors, or body_too_large.
    [[nodiscard]] wire::WireError add_encoded(std::span<const std::uint8_t> updates, std::uint32_t count);

    /// Body bytes so far (uncompressed): for bundling decisions.
    [[nodiscard]] std::size_t body_size() const noexcept { return record_.size() - wire::kChainRecordHeadSize; }
    [[nodiscard]] std::uint32_t update_count() const noexcept { return count_; }

    /// Finishes the chain (at least one update must have been added).
    [[nodiscard]] BuiltChain finish();

private:
    bool compress_;
    Compressor compressor_;
    std::uint64_t first_lsn_ = 0;
    std::uint32_t count_ = 0;
    // Updates are encoded straight after the 16-byte head, so an uncompressed
    // chain is finished without copying its body; a compressed one is written
    // to packed_.
    Bytes record_;
    Bytes packed_;
};

}  // namespace replicast::chain
