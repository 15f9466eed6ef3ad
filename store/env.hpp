// An LMDB environment with the store's policies: durability modes, a map that
// grows when it is full (the write is retried, never lost), adoption of a map
// another process grew, and a cache of named-database handles.
//
// Durability (the master defaults to `full`):
//   full        fsync on every commit: a committed write survives power loss.
//   nometasync  the meta page is not synced: a power loss may undo the last
//               commit(s), but never corrupts the store.
//   nosync      no fsync at all (benchmarks, tests): a process crash loses
//               nothing, but an OS crash may lose recent commits and, unless
//               the filesystem keeps write order, corrupt the store (LMDB's
//               MDB_NOSYNC caveat). Never for data that matters.
//
// Threading: one Env per process and store, shared by its threads. Write
// transactions are serialised by LMDB (across processes too); read
// transactions may run on any thread (MDB_NOTLS). Remapping (growing the map,
// or adopting a size another process set) must happen with no transaction of
// this process open, since readers hold pointers into the old mapping: every
// transaction holds `map_lock_` shared and a remap takes it exclusive, so a
// remap waits for the readers in flight (the server's gRPC threads stream
// snapshots from long read transactions) and they wait for it. The initial
// map is large (virtual memory, not disk) so that remaps are rare.
// (Known limit: a database handle opened by a write transaction is cached
// before that transaction commits, so a read on another thread could pick up a
// handle that an abort then voids; databases are created by the first write
// and user names are validated before, so aborts of creating writes are rare.)
#pragma once

#include <lmdb.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/status.hpp"

namespace replicast::store {

enum class Durability : std::uint8_t { full, nometasync, nosync };

struct EnvOptions {
    std::size_t initial_map_bytes = std::size_t{1} << 30;  // 1 GiB of address space
    std::size_t max_map_bytes = std::size_t{1} << 40;      // 1 TiB
    Durability durability = Durability::full;
    unsigned max_databases = 256;
    bool read_only = false;
    bool create = true;  // create the directory and environment if missing
};

inline MDB_val as_val(std::span<const std::uint8_t> s) noexcept {
    return {s.size(), const_cast<std::uint8_t*>(s.data())};
}
inline MDB_val as_val(std::string_view s) noexcept { return {s.size(), const_cast<char*>(s.data())}; }
inline std::span<const std::uint8_t> as_span(const MDB_val& v) noexcept {
    return {static_cast<const std::uint8_t*>(v.mv_data), v.mv_size};
}

class Env {
public:
    /// Throws StoreError naming the path and LMDB's or the OS's reason.
    Env(std::string path, const EnvOptions& options);
    ~Env();
    Env(const Env&) = delete;
    Env& operator=(const Env&) = delete;

    [[nodiscard]] MDB_env* get() const noexcept { return env_; }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] std::size_t map_bytes() const noexcept;

    /// Runs `body(txn)` in a write transaction and commits. `body` returns 0 or an
    /// LMDB/errno code (or a StoreCode). A full map is grown and the whole body
    /// retried, so `body` must be idempotent up to its own writes.
    template <typename Body>
    Status write(const std::string& what, Body&& body);

    /// Runs `body(txn)` in a read-only transaction.
    template <typename Body>
    Status read(const std::string& what, Body&& body);

    /// Handle of a named database. Write transactions pass create=true (the
    /// database is created if missing), read transactions create=false.
    /// @return 0, or MDB_NOTFOUND when it does not exist and may not be created.
    int dbi(MDB_txn* txn, const std::string& name, bool create, MDB_dbi& out);

private:
    /// Begins a transaction holding `lock` (shared) for its whole life.
    int begin(MDB_txn** txn, unsigned flags, std::shared_lock<std::shared_mutex>& lock);
    bool grow();  // takes map_lock_ exclusive: call with no transaction of this thread open

    std::string path_;
    EnvOptions options_;
    MDB_env* env_ = nullptr;
    void settle_handles(bool committed);

    std::shared_mutex map_lock_;  // shared: a transaction is open; exclusive: remapping
    std::mutex dbi_mutex_;
    std::map<std::string, MDB_dbi> dbis_;
    std::vector<std::string> tentative_;  // handles opened by the write txn in flight
};

template <typename Body>
Status Env::write(const std::string& what, Body&& body) {
    for (;;) {
        MDB_txn* txn = nullptr;
        std::shared_lock<std::shared_mutex> lock(map_lock_, std::defer_lock);
        if (int rc = begin(&txn, 0, lock); rc != 0) return lmdb_status(rc, path_, what);
        int rc = body(txn);
        if (rc == 0) {
            rc = mdb_txn_commit(txn);  // frees txn, success or not
        } else {
            mdb_txn_abort(txn);
        }
        // LMDB closes the handles an aborted transaction opened: forget them too.
        settle_handles(rc == 0);
        lock.unlock();
        if (rc == MDB_MAP_FULL && grow()) continue;
        if (rc == 0) return Status::ok();
        return lmdb_status(rc, path_, what);
    }
}

template <typename Body>
Status Env::read(const std::string& what, Body&& body) {
    MDB_txn* txn = nullptr;
    std::shared_lock<std::shared_mutex> lock(map_lock_, std::defer_lock);
    if (int rc = begin(&txn, MDB_RDONLY, lock); rc != 0) return lmdb_status(rc, path_, what);
    const int rc = body(txn);
    // Committing a read-only transaction makes database handles it opened
    // shared (aborting would close them); it writes nothing.
    mdb_txn_commit(txn);
    if (rc == 0) return Status::ok();
    return lmdb_status(rc, path_, what);
}

}  // namespace replicast::store
