#include "store/log_bundle.hpp"

#include <string>

#include "engine/wire/update.hpp"

namespace replicast::store {

Status read_bundle(MasterStore& store, std::string_view db, std::uint64_t from, std::uint64_t last,
                   const BundleLimits& limits,
                   const std::function<Take(std::uint64_t, std::span<const std::uint8_t>)>& take, Bundle& out) {
    out = {};
    if (from > last) return Status::ok();
    wire::WireError bad = wire::WireError::ok;
    std::uint64_t bad_lsn = 0;
    // Read up to `last`, not from + max_updates: when retention trimmed past
    // `from`, the log starts further on and the bundle starts there.
    const Status s = store.read_log(db, from, last, [&](std::uint64_t lsn, std::span<const std::uint8_t> update) {
        if (out.count == 0) {
            out.first_lsn = lsn;
        } else if (lsn != out.first_lsn + out.count) {
            return false;  // a hole: end the bundle there
        }
        if (out.count >= limits.max_updates) return false;
        if (out.count > 0 && out.bytes + update.size() > limits.max_bytes) return false;
        wire::UpdateView u;
        std::size_t used = 0;
        bad = wire::parse_update(update, u, used);
        if (bad == wire::WireError::ok && used != update.size()) bad = wire::WireError::trailing_bytes;
        if (bad != wire::WireError::ok) {
            bad_lsn = lsn;
            return false;
        }
        if (take(lsn, update) == Take::stop) return false;
        ++out.count;
        out.bytes += update.size();
        return true;
    });
    if (!s) return s;
    if (bad != wire::WireError::ok && out.count == 0) {
        out = {};
        return {kCorrupt, store.path() + ": database " + std::string(db) + ": log entry " + std::to_string(bad_lsn) +
                              " does not decode: " + std::string(wire::describe(bad))};
    }
    if (out.count == 0) {
        out = {};
        return Status::ok();
    }
    out.skipped = out.first_lsn - from;
    return Status::ok();
}

}  // namespace replicast::store
