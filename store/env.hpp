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
//
// Named-database handles are opened the same way: alone. LMDB keeps one table
// of handles per environment, and a handle is usable only by transactions that
// begin after the one that opened it ended, and only if that one committed (an
// abort closes it); two live transactions that open handles take the same slot,
// and the abort of one frees the other's name (mdb_dbi_open: "A transaction
// that uses this function must finish before any other transaction may use
// this function"). So dbi() hands out only handles from its cache, which holds
// handles opened while no other transaction of this process was open and
// published after their transaction committed. A database this process has no
// handle for yet ends the transaction: a read opens the handle in a short read
// transaction of its own, a write runs again with the map lock exclusive
// (opening, say, a database it creates in the same transaction as its data);
// then the body runs again. This happens once per database and process.
// Transactions of one Env may nest on one thread only while they need no
// exclusive lock (a remap, a handle not opened yet): that would wait for the
// outer one, so it fails instead (EDEADLK, or MDB_MAP_FULL for a map that
// cannot grow now). Transactions of two Envs nest freely (`replicast copy`).
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
    /// LMDB/errno code (or a StoreCode). `body` may run more than once (a full
    /// map is grown and the whole body retried; a database this process has
    /// no handle for yet runs it again alone, see above), so it must be
    /// idempotent up to its own writes, which an abort undoes.
    template <typename Body>
    Status write(const std::string& what, Body&& body);

    /// Runs `body(txn)` in a read-only transaction. `body` may run more than
    /// once: before its first dbi() of a database this process has not opened
    /// yet, it must have done nothing it cannot do again.
    template <typename Body>
    Status read(const std::string& what, Body&& body);

    /// Handle of a named database for `txn`, a transaction of write() or read()
    /// on this thread. Write transactions pass create=true (the database is
    /// created, in that transaction, if missing), read transactions create=false.
    /// @return 0; MDB_NOTFOUND when it does not exist in `txn`'s view and may
    ///   not be created; kNoHandleYet when this process has no handle for it
    ///   yet: the body returns it (as any error: RC_TRY) and write()/read() end
    ///   the transaction, get the handle and run the body again; or LMDB's
    ///   error (MDB_DBS_FULL). EINVAL when `txn` is not this thread's.
    int dbi(MDB_txn* txn, const std::string& name, bool create, MDB_dbi& out);

private:
    // One transaction of write() or read(): the map lock it holds (shared, or
    // exclusive when it runs alone) and what dbi() learnt in it. Scopes form a
    // stack per thread (Envs may nest, see above); the destructor ends a
    // transaction a body left by throwing.
    struct Scope {
        Scope(Env& env, bool alone, bool read_only);
        ~Scope();
        Scope(const Scope&) = delete;
        Scope& operator=(const Scope&) = delete;

        Env& env;
        const bool alone;      // map_lock_ exclusive: no other transaction of this process is open
        const bool read_only;
        MDB_txn* txn = nullptr;
        bool need_handle = false;  // dbi() met a database this process has no handle for
        std::vector<std::string> wanted;                      // read: the handles to open before running again
        std::vector<std::pair<std::string, MDB_dbi>> opened;  // alone: published if the transaction commits
        std::shared_lock<std::shared_mutex> shared;
        std::unique_lock<std::shared_mutex> exclusive;
        Scope* outer = nullptr;
    };
    static thread_local Scope* scopes_;  // this thread's innermost transaction of any Env

    /// Takes the scope's lock and begins its transaction. @return 0 or LMDB's code.
    int begin(Scope& s, unsigned flags);
    /// Commits (`rc` == 0, or a read) or aborts the scope's transaction and
    /// releases its lock; handles opened alone are published on commit.
    /// @return the transaction's result: `rc`, or the commit's error.
    int end(Scope& s, int rc);
    /// Opens existing databases' handles in a read transaction of their own,
    /// alone, and publishes them. @return 0 or LMDB's code.
    int open_handles(const std::vector<std::string>& names);
    bool grow();  // takes map_lock_ exclusive: false when this thread has a transaction of this Env open
    /// Whether this thread has a transaction of this Env open (then nothing may wait for map_lock_ exclusive).
    [[nodiscard]] bool nested() const noexcept;

    std::string path_;
    EnvOptions options_;
    MDB_env* env_ = nullptr;
    MDB_dbi main_dbi_ = 0;  // LMDB's main database (the names of the named ones): always open

    std::shared_mutex map_lock_;  // shared: a transaction is open; exclusive: remapping or opening handles
    std::mutex dbi_mutex_;        // guards dbis_ (read under a shared map lock by many threads)
    std::map<std::string, MDB_dbi, std::less<>> dbis_;  // only handles every open transaction may use
};

template <typename Body>
Status Env::write(const std::string& what, Body&& body) {
    bool alone = false;
    for (;;) {
        Scope scope(*this, alone, false);
        if (const int rc = begin(scope, 0); rc != 0) return lmdb_status(rc, path_, what);
        const int rc = end(scope, body(scope.txn));
        if (scope.need_handle && !alone) {
            alone = true;  // again, with the handle opened in the transaction itself
            continue;
        }
        if (rc == MDB_MAP_FULL && grow()) continue;
        if (rc == 0) return Status::ok();
        return lmdb_status(rc, path_, what);
    }
}

template <typename Body>
Status Env::read(const std::string& what, Body&& body) {
    for (;;) {
        Scope scope(*this, false, true);
        if (const int rc = begin(scope, MDB_RDONLY); rc != 0) return lmdb_status(rc, path_, what);
        const int rc = end(scope, body(scope.txn));
        if (scope.need_handle) {
            if (const int o = open_handles(scope.wanted); o != 0) return lmdb_status(o, path_, what);
            continue;
        }
        if (rc == 0) return Status::ok();
        return lmdb_status(rc, path_, what);
    }
}

}  // namespace replicast::store
