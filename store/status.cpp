#include "store/status.hpp"

#include <lmdb.h>

namespace replicast::store {

const char* store_code_text(int code) noexcept {
    switch (code) {
    case kNoSuchDatabase: return "no such database";
    case kBadName: return "bad database name";
    case kBadUpdate: return "an update the wire format cannot carry";
    case kLsnGap: return "LSN gap: updates past the applied LSN + 1";
    case kWrongStore: return "replica of another master store (store UUID differs): rebuild it";
    case kIncomplete: return "snapshot bootstrap did not finish: bootstrap again";
    case kWrongKind: return "wrong kind of store (master vs replica)";
    case kCorrupt: return "record that does not decode";
    default: return nullptr;
    }
}

Status lmdb_status(int rc, const std::string& path, const std::string& what) {
    const char* own = store_code_text(rc);
    std::string reason = own != nullptr ? own : mdb_strerror(rc);
    if (rc == ENOSPC) reason += " (the disk is full; nothing committed was lost)";
    if (rc == MDB_MAP_FULL) reason += " (the map could not grow)";
    return {rc, path + ": " + what + ": " + reason};
}

}  // namespace replicast::store
