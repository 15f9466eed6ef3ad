#include "engine/server/chain_cutter.hpp"

#include <algorithm>

#include "store/status.hpp"

namespace replicast::server {

ChainCutter::ChainCutter(const BundleLimits& limits, const chain::BuilderConfig& builder)
    : limits_(limits), builder_(builder) {}

std::size_t ChainCutter::max_record_bytes() const noexcept {
    // The builder keeps the uncompressed body when deflate does not shrink it,
    // so the head plus the body bound is enough for every chain but one whose
    // single update is itself over max_bytes: that job's buffer grows (on the
    // control core, once), rather than every job reserving 16 MiB.
    return wire::kChainRecordHeadSize + limits_.max_bytes + wire::kUpdateHeadSize + wire::kMaxKeyLen;
}

store::Status ChainCutter::cut(store::MasterStore& store, std::string_view db, std::uint64_t from, std::uint64_t last,
                               std::uint32_t stream, ChainJob& job, CutResult& result) {
    result = {};
    if (from > last) return store::Status::ok();
    std::uint64_t first = 0;
    wire::WireError bad = wire::WireError::ok;
    std::uint64_t bad_lsn = 0;
    // Read up to `last`, not from + max_updates: if retention trimmed past
    // `from`, the log starts further on and the chain must start there; the
    // visitor ends the chain at max_updates (it stops the read).
    const store::Status s = store.read_log(db, from, last, [&](std::uint64_t lsn, std::span<const std::uint8_t> update) {
        if (first == 0) {
            first = lsn;
            builder_.begin(lsn);
        }
        if (lsn != first + builder_.update_count()) return false;  // a hole (never expected): end the chain there
        if (builder_.update_count() > 0 && builder_.body_size() + update.size() > limits_.max_bytes) return false;
        if (builder_.update_count() >= limits_.max_updates) return false;
        bad = builder_.add_encoded(update, 1);
        if (bad != wire::WireError::ok) {
            bad_lsn = lsn;
            return false;
        }
        return true;
    });
    if (!s) return s;
    // Entries before a damaged one still go out, as a chain of their own; the
    // next cut starts at the damaged entry and reports it, so the stream stops
    // exactly there.
    if (bad != wire::WireError::ok && builder_.update_count() == 0) {
        return {store::kCorrupt, store.path() + ": database " + std::string(db) + ": log entry " + std::to_string(bad_lsn) +
                                     " does not decode: " + std::string(wire::describe(bad))};
    }
    if (first == 0 || builder_.update_count() == 0) return store::Status::ok();
    result.skipped = first - from;
    job.uncompressed_bytes = builder_.body_size();
    const chain::BuiltChain built = builder_.finish();
    job.record.assign(built.record.begin(), built.record.end());  // within the reserved capacity, bar one oversized update
    job.message = tx::TxMessage{};
    job.message.kind = tx::TxMessage::Kind::chain;
    job.message.stream = stream;
    job.message.record = job.record;
    job.message.comp_alg = built.comp_alg;
    job.message.first_lsn = built.head.first_lsn;
    job.message.update_count = built.head.update_count;
    result.made = true;
    return store::Status::ok();
}

}  // namespace replicast::server
