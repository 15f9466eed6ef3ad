// When a replica must be rebuilt from a snapshot instead of continuing from
// its applied LSN: the one policy `replicast copy` and the client daemon share.
//
// A replica continues from applied + 1 only when every LSN from there on can
// still be had from the master's log and means what the replica thinks it
// means. Otherwise it bootstraps, for one of these reasons, checked in this
// order (the first that holds is reported):
//   new_replica       no master UUID recorded for the database yet
//   incomplete        a snapshot bootstrap started and did not finish
//   other_store       bound to another master (store UUID differs)
//   behind_retention  applied + 1 < the oldest LSN the log still keeps
//   ahead_of_master   applied > the master's last LSN: restored from a backup
//                     or a master that lost commits; those LSNs were reused,
//                     so they would be dropped as duplicates, never applied
// Pure: no I/O, no clock; safe anywhere.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "store/replica.hpp"

namespace replicast::store {

enum class BootstrapReason : std::uint8_t {
    none,  // continue from applied + 1
    new_replica,
    incomplete,
    other_store,
    behind_retention,
    ahead_of_master,
};

/// What the master says of a database: its UUID and its log's LSN range
/// (MasterStore::lsn_range, or a Subscription's oldest_lsn/last_lsn).
struct MasterPosition {
    std::array<std::uint8_t, 16> uuid{};
    std::uint64_t oldest_lsn = 1;  // the oldest LSN the log can serve
    std::uint64_t last_lsn = 0;    // the newest LSN written (0: none yet)
};

[[nodiscard]] BootstrapReason bootstrap_reason(const ReplicaState& replica, const MasterPosition& master) noexcept;

/// "new replica", "incomplete bootstrap", ...: for log lines.
[[nodiscard]] std::string_view describe(BootstrapReason reason) noexcept;

}  // namespace replicast::store
