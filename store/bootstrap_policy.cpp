#include "store/bootstrap_policy.hpp"

namespace replicast::store {

BootstrapReason bootstrap_reason(const ReplicaState& replica, const MasterPosition& master) noexcept {
    if (!replica.bound) return BootstrapReason::new_replica;
    if (replica.incomplete) return BootstrapReason::incomplete;
    if (replica.master_uuid != master.uuid) return BootstrapReason::other_store;
    if (replica.applied_lsn + 1 < master.oldest_lsn) return BootstrapReason::behind_retention;
    if (replica.applied_lsn > master.last_lsn) return BootstrapReason::ahead_of_master;
    return BootstrapReason::none;
}

std::string_view describe(BootstrapReason reason) noexcept {
    switch (reason) {
    case BootstrapReason::none: return "up to date or behind within the log";
    case BootstrapReason::new_replica: return "new replica";
    case BootstrapReason::incomplete: return "incomplete bootstrap";
    case BootstrapReason::other_store: return "replica of another master store";
    case BootstrapReason::behind_retention: return "behind the log's retention";
    case BootstrapReason::ahead_of_master: return "ahead of the master";
    }
    return "unknown";
}

}  // namespace replicast::store
