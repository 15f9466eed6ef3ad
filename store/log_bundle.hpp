// Reading a database's log as bundles: runs of consecutive LSNs, cut by limits
// in updates and bytes, that a caller turns into one chain (the server's chain
// cutter) or one recovery batch (the control plane's Recover). Both read the
// log the same way: from an LSN, or from the oldest entry still kept when
// retention trimmed past it (reported as skipped), never past a last LSN,
// ending at a hole (never expected: the log has none) and at an entry that
// does not decode, which is reported only when it would start the bundle, so
// that the entries before it still go out.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

#include "engine/wire/error.hpp"
#include "store/master.hpp"
#include "store/status.hpp"

namespace replicast::store {

struct BundleLimits {
    std::uint32_t max_updates = 256;
    std::uint64_t max_bytes = 65536;  // encoded updates; a single larger update still makes a bundle
};

struct Bundle {
    std::uint64_t first_lsn = 0;  // 0: nothing was read
    std::uint32_t count = 0;
    std::uint64_t bytes = 0;      // encoded update bytes taken
    std::uint64_t skipped = 0;    // LSNs from `from` that retention trimmed before the bundle's first
};

/// What the caller does with one log entry.
enum class Take : std::uint8_t {
    take,  // it belongs to the bundle
    stop,  // the bundle ends before it (the caller's own limit, e.g. a reader-group change)
};

/// Reads the bundle of `db` that starts at `from` (or at the oldest kept entry),
/// handing each entry, already checked to decode (wire::parse_update), to
/// `take` in LSN order, within `limits` and never past `last`.
/// @return ok (out.count 0 when there is nothing from `from` to `last`);
///         kCorrupt naming the LSN when the first entry does not decode;
///         the store's read errors.
Status read_bundle(MasterStore& store, std::string_view db, std::uint64_t from, std::uint64_t last,
                   const BundleLimits& limits,
                   const std::function<Take(std::uint64_t lsn, std::span<const std::uint8_t> update)>& take, Bundle& out);

}  // namespace replicast::store
