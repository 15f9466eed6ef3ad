#include "store/status.hpp"

#include <lmdb.h>
#include <sys/statvfs.h>

#include <cerrno>

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
    case kBadRequestId: return "request id longer than 64 bytes";
    case kNoHandleYet: return "a database handle this process has not opened yet (internal: the transaction runs again)";
    default: return nullptr;
    }
}

Status lmdb_status(int rc, const std::string& path, const std::string& what) {
    const char* own = store_code_text(rc);
    std::string reason = own != nullptr ? own : mdb_strerror(rc);
    int code = rc;
    // LMDB reports a short page write as EIO: when the filesystem has no room,
    // say so, because that is the operator's fix, and return ENOSPC, because
    // callers act on the cause (Publish answers RESOURCE_EXHAUSTED, which
    // publishers retry; an EIO became INTERNAL, found by the e2e master disk
    // full scenario: a full tmpfs fails LMDB's page writes short, as EIO).
    if (rc == ENOSPC || rc == EIO) {
        struct statvfs fs {};
        if (::statvfs(path.c_str(), &fs) == 0) {
            const unsigned long long free_bytes = static_cast<unsigned long long>(fs.f_bavail) * fs.f_frsize;
            if (rc == ENOSPC || free_bytes < (1u << 20)) {
                reason += " (the filesystem holding the store is full: " + std::to_string(free_bytes / 1024) +
                          " KiB free; nothing committed was lost)";
                code = ENOSPC;
            }
        }
    }
    if (rc == MDB_MAP_FULL) reason += " (the map could not grow)";
    return {code, path + ": " + what + ": " + reason};
}

}  // namespace replicast::store
