#include "store/env.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace replicast::store {

Env::Env(std::string path, const EnvOptions& options) : path_(std::move(path)), options_(options) {
    std::error_code ec;
    if (options.create && !options.read_only) {
        std::filesystem::create_directories(path_, ec);
        if (ec) throw StoreError({ec.value(), path_ + ": cannot create the store directory: " + ec.message()});
    } else if (!std::filesystem::exists(std::filesystem::path(path_) / "data.mdb", ec)) {
        throw StoreError({ENOENT, path_ + ": no store here (no data.mdb)"});
    }
    if (int rc = mdb_env_create(&env_); rc != 0) throw StoreError(lmdb_status(rc, path_, "create environment"));
    unsigned flags = MDB_NOTLS;  // read transactions are not tied to threads
    if (options.read_only) flags |= MDB_RDONLY;
    if (options.durability == Durability::nometasync) flags |= MDB_NOMETASYNC;
    if (options.durability == Durability::nosync) flags |= MDB_NOSYNC;
    int rc = mdb_env_set_maxdbs(env_, options.max_databases);
    if (rc == 0) rc = mdb_env_set_maxreaders(env_, 512);
    if (rc == 0 && !options.read_only) rc = mdb_env_set_mapsize(env_, options.initial_map_bytes);
    if (rc == 0) rc = mdb_env_open(env_, path_.c_str(), flags, 0644);
    if (rc != 0) {
        mdb_env_close(env_);
        env_ = nullptr;
        throw StoreError(lmdb_status(rc, path_, "open"));
    }
    // A map another process already grew past ours: adopt its size.
    MDB_envinfo info{};
    mdb_env_info(env_, &info);
    if (!options.read_only && info.me_mapsize < options.initial_map_bytes) {
        mdb_env_set_mapsize(env_, options.initial_map_bytes);
    }
    // The main database's handle (NULL name: opens no slot, always valid), for
    // dbi() to tell whether a named database exists without opening it.
    // Another process may grow the map between mdb_env_open and here (two
    // writers starting together: found by store-processes): adopt its size,
    // with no transaction of ours open, and begin again, as begin() does.
    MDB_txn* txn = nullptr;
    rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
    for (int tries = 0; rc == MDB_MAP_RESIZED && tries < 100; ++tries) {
        rc = mdb_env_set_mapsize(env_, 0);
        if (rc == 0) rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
    }
    if (rc == 0) {
        rc = mdb_dbi_open(txn, nullptr, 0, &main_dbi_);
        mdb_txn_abort(txn);
    }
    if (rc != 0) {
        mdb_env_close(env_);
        env_ = nullptr;
        throw StoreError(lmdb_status(rc, path_, "open the main database"));
    }
}

Env::~Env() {
    if (env_ != nullptr) mdb_env_close(env_);
}

std::size_t Env::map_bytes() const noexcept {
    MDB_envinfo info{};
    mdb_env_info(env_, &info);
    return info.me_mapsize;
}

thread_local Env::Scope* Env::scopes_ = nullptr;

Env::Scope::Scope(Env& e, bool alone_, bool read_only_)
    : env(e), alone(alone_), read_only(read_only_), shared(e.map_lock_, std::defer_lock),
      exclusive(e.map_lock_, std::defer_lock) {}

Env::Scope::~Scope() {
    if (txn != nullptr) (void)env.end(*this, ECANCELED);  // the body threw: abort, publish nothing
}

bool Env::nested() const noexcept {
    for (const Scope* o = scopes_; o != nullptr; o = o->outer) {
        if (&o->env == this) return true;
    }
    return false;
}

int Env::begin(Scope& s, unsigned flags) {
    // Alone inside a transaction of this Env on this thread would wait for
    // that transaction, that is for itself: refuse instead.
    if (s.alone && nested()) return EDEADLK;
    if (s.alone) {
        s.exclusive.lock();
    } else {
        s.shared.lock();
    }
    int rc = mdb_txn_begin(env_, nullptr, flags, &s.txn);
    if (rc == MDB_MAP_RESIZED) {
        // Another process grew the map: take its size (0 = adopt) with no
        // transaction of ours open, and start again.
        if (s.alone) {
            rc = mdb_env_set_mapsize(env_, 0);
        } else if (nested()) {
            rc = EDEADLK;  // the remap would wait for this thread's outer transaction
        } else {
            s.shared.unlock();
            {
                std::unique_lock<std::shared_mutex> remap(map_lock_);
                rc = mdb_env_set_mapsize(env_, 0);
            }
            s.shared.lock();
        }
        if (rc == 0) rc = mdb_txn_begin(env_, nullptr, flags, &s.txn);
    }
    if (rc != 0) {
        s.txn = nullptr;
        if (s.alone) s.exclusive.unlock(); else s.shared.unlock();
        return rc;
    }
    s.outer = scopes_;
    scopes_ = &s;
    return 0;
}

int Env::end(Scope& s, int rc) {
    // A transaction that met a database without a handle runs again: what it
    // did is undone, whatever the body made of the code dbi() gave it.
    if (s.need_handle) rc = kNoHandleYet;
    if (rc == 0 || (s.read_only && !s.need_handle)) {
        const int c = mdb_txn_commit(s.txn);  // frees the transaction, success or not
        if (rc == 0) rc = c;
        if (c == 0 && !s.opened.empty()) {
            // Committed alone: the handles are the environment's now, and every
            // transaction that begins from here on may use them.
            std::lock_guard lock(dbi_mutex_);
            for (const auto& [name, dbi] : s.opened) dbis_.insert_or_assign(name, dbi);
        }
    } else {
        mdb_txn_abort(s.txn);  // closes the handles it opened: nobody else has seen them
    }
    s.txn = nullptr;
    scopes_ = s.outer;
    if (s.alone) s.exclusive.unlock(); else s.shared.unlock();
    return rc;
}

int Env::open_handles(const std::vector<std::string>& names) {
    if (nested()) return EDEADLK;
    std::unique_lock<std::shared_mutex> alone(map_lock_);
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
    if (rc == MDB_MAP_RESIZED) {
        rc = mdb_env_set_mapsize(env_, 0);
        if (rc == 0) rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
    }
    if (rc != 0) return rc;
    std::vector<std::pair<std::string, MDB_dbi>> opened;
    for (const std::string& name : names) {
        MDB_dbi dbi = 0;
        const int o = mdb_dbi_open(txn, name.c_str(), 0, &dbi);
        if (o == MDB_NOTFOUND) continue;  // not there any more: the body runs again and sees it absent
        if (o != 0) {
            rc = o;
            break;
        }
        opened.emplace_back(name, dbi);
    }
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    // Committing a read-only transaction keeps the handles it opened (an abort closes them).
    if (rc = mdb_txn_commit(txn); rc != 0) return rc;
    std::lock_guard lock(dbi_mutex_);
    for (const auto& [name, dbi] : opened) dbis_.insert_or_assign(name, dbi);
    return 0;
}

bool Env::grow() {
    if (nested()) return false;  // the remap would wait for this thread's outer transaction
    std::unique_lock<std::shared_mutex> remap(map_lock_);
    const std::size_t now = map_bytes();
    if (now >= options_.max_map_bytes) return false;
    const std::size_t next = std::min(options_.max_map_bytes, now * 2);
    return mdb_env_set_mapsize(env_, next) == 0;
}

int Env::dbi(MDB_txn* txn, const std::string& name, bool create, MDB_dbi& out) {
    {
        std::lock_guard lock(dbi_mutex_);
        if (const auto it = dbis_.find(name); it != dbis_.end()) {
            out = it->second;
            return 0;
        }
    }
    Scope* s = scopes_;
    while (s != nullptr && s->txn != txn) s = s->outer;
    if (s == nullptr) return EINVAL;
    if (s->alone) {
        // No other transaction of this process is open: LMDB's rule holds. The
        // handle is published if this transaction commits; an abort closes it.
        const int rc = mdb_dbi_open(txn, name.c_str(), create && !s->read_only ? MDB_CREATE : 0, &out);
        if (rc == 0) s->opened.emplace_back(name, out);
        return rc;
    }
    // Absent from this transaction's view and not to be created: say so now,
    // so that reading a database that does not exist costs no second run.
    MDB_val k = as_val(name), v{};
    const int rc = mdb_get(txn, main_dbi_, &k, &v);
    if (rc == MDB_NOTFOUND && (!create || s->read_only)) return MDB_NOTFOUND;
    if (rc != 0 && rc != MDB_NOTFOUND) return rc;
    s->need_handle = true;
    s->wanted.push_back(name);
    return kNoHandleYet;
}

}  // namespace replicast::store
