#include "engine/server/chain_cutter.hpp"

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
                               std::uint32_t max_updates, CutChain& out, CutResult& result) {
    result = {};
    store::Bundle bundle;
    bool begun = false;
    const BundleLimits limits{.max_updates = max_updates == 0 || max_updates > limits_.max_updates ? limits_.max_updates : max_updates,
                              .max_bytes = limits_.max_bytes};
    const store::Status s = store::read_bundle(
        store, db, from, last, limits,
        [&](std::uint64_t lsn, std::span<const std::uint8_t> update) {
            if (!begun) {
                builder_.begin(lsn);
                begun = true;
            }
            // The bundle already checked the entry; only the 64 MiB body bound can refuse it here.
            return builder_.add_encoded(update, 1) == wire::WireError::ok ? store::Take::take : store::Take::stop;
        },
        bundle);
    if (!s) return s;
    if (bundle.count == 0) return store::Status::ok();
    result.skipped = bundle.skipped;
    out.uncompressed_bytes = builder_.body_size();
    const chain::BuiltChain built = builder_.finish();
    out.record.assign(built.record.begin(), built.record.end());  // within the reserved capacity, bar one oversized update
    out.comp_alg = built.comp_alg;
    out.first_lsn = built.head.first_lsn;
    out.update_count = built.head.update_count;
    result.made = true;
    return store::Status::ok();
}

}  // namespace replicast::server
