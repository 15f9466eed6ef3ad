// The update detector's cutting step: read a database's log from an LSN as one
// bundle (store/log_bundle.hpp, which Recover reads the same way) and build it
// into a chain record, compressed here on the control core so the tx worker
// only frames, seals and paces. No DPDK and no tx message: the server wraps
// the cut chain into its job (engine/server/chain_job.hpp).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/chain/builder.hpp"
#include "engine/wire/packet.hpp"
#include "store/log_bundle.hpp"
#include "store/master.hpp"

namespace replicast::server {

/// One cut chain: the record as carried and what it holds. Its record buffer is
/// reserved once (ChainCutter::max_record_bytes) and reused.
struct CutChain {
    std::vector<std::uint8_t> record;
    wire::CompAlg comp_alg = wire::CompAlg::none;
    std::uint64_t first_lsn = 0;
    std::uint32_t update_count = 0;
    std::uint64_t uncompressed_bytes = 0;  // body before compression, for statistics
};

using BundleLimits = store::BundleLimits;

struct CutResult {
    bool made = false;             // a chain was cut
    std::uint64_t skipped = 0;     // LSNs retention trimmed before they were multicast
};

class ChainCutter {
public:
    ChainCutter(const BundleLimits& limits, const chain::BuilderConfig& builder);

    /// The largest record a chain can need: reserve this much in every job.
    [[nodiscard]] std::size_t max_record_bytes() const noexcept;

    /// Fills `out` with the chain of `db` that starts at `from` (or, when the log
    /// no longer holds `from`, at its oldest entry: `skipped` says how many LSNs
    /// were lost to retention). Never reads past `last`.
    store::Status cut(store::MasterStore& store, std::string_view db, std::uint64_t from, std::uint64_t last,
                      CutChain& out, CutResult& result) {
        return cut(store, db, from, last, limits_.max_updates, out, result);
    }
    /// The same with at most `max_updates` updates (adaptive bundling; the
    /// constructor's limits stay the ceiling: a larger value is cut down to them).
    store::Status cut(store::MasterStore& store, std::string_view db, std::uint64_t from, std::uint64_t last,
                      std::uint32_t max_updates, CutChain& out, CutResult& result);

private:
    BundleLimits limits_;
    chain::ChainBuilder builder_;
};

}  // namespace replicast::server
