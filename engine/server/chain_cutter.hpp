// The update detector's cutting step: read a database's log from an LSN and
// bundle consecutive entries into one chain job (bundle limits in updates and
// uncompressed bytes), compressed here on the control core so the tx worker
// only frames, seals and paces. No DPDK: testable on its own.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/chain/builder.hpp"
#include "engine/tx/messages.hpp"
#include "store/master.hpp"

namespace replicast::server {

/// A chain job: the message a tx worker gets and the record bytes it points
/// at. Jobs are made once at start (record capacity reserved) and recycled.
struct ChainJob {
    tx::TxMessage message;
    std::vector<std::uint8_t> record;
    std::vector<std::uint8_t> packed;      // the compressed record, when a codec lcore deflates
    std::uint64_t uncompressed_bytes = 0;  // body before compression, for statistics
    void* inbox = nullptr;                 // the tx worker ring it goes to (an rte_ring), for the codec lcore
};

struct BundleLimits {
    std::uint32_t max_updates = 256;
    std::uint32_t max_bytes = 65536;  // uncompressed body; a single larger update still makes a chain
};

struct CutResult {
    bool made = false;             // a job was filled
    std::uint64_t skipped = 0;     // LSNs retention trimmed before they were multicast
};

class ChainCutter {
public:
    ChainCutter(const BundleLimits& limits, const chain::BuilderConfig& builder);

    /// The largest record a job can need: reserve this much in every job.
    [[nodiscard]] std::size_t max_record_bytes() const noexcept;

    /// Fills `job` with the chain of `db` that starts at `from` (or, when the log
    /// no longer holds `from`, at its oldest entry: `skipped` says how many LSNs
    /// were lost to retention). Never reads past `last`.
    store::Status cut(store::MasterStore& store, std::string_view db, std::uint64_t from, std::uint64_t last,
                      std::uint32_t stream, ChainJob& job, CutResult& result);

private:
    BundleLimits limits_;
    chain::ChainBuilder builder_;
};

}  // namespace replicast::server
