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
}

Env::~Env() {
    if (env_ != nullptr) mdb_env_close(env_);
}

std::size_t Env::map_bytes() const noexcept {
    MDB_envinfo info{};
    mdb_env_info(env_, &info);
    return info.me_mapsize;
}

int Env::begin(MDB_txn** txn, unsigned flags, std::shared_lock<std::shared_mutex>& lock) {
    lock.lock();
    int rc = mdb_txn_begin(env_, nullptr, flags, txn);
    if (rc == MDB_MAP_RESIZED) {
        // Another process grew the map: take its size (0 = adopt) with no
        // transaction of ours open, and start again.
        lock.unlock();
        {
            std::unique_lock<std::shared_mutex> remap(map_lock_);
            rc = mdb_env_set_mapsize(env_, 0);
        }
        lock.lock();
        if (rc == 0) rc = mdb_txn_begin(env_, nullptr, flags, txn);
    }
    if (rc != 0) lock.unlock();
    return rc;
}

bool Env::grow() {
    std::unique_lock<std::shared_mutex> remap(map_lock_);
    const std::size_t now = map_bytes();
    if (now >= options_.max_map_bytes) return false;
    const std::size_t next = std::min(options_.max_map_bytes, now * 2);
    return mdb_env_set_mapsize(env_, next) == 0;
}

int Env::dbi(MDB_txn* txn, const std::string& name, bool create, MDB_dbi& out) {
    std::lock_guard lock(dbi_mutex_);
    if (const auto it = dbis_.find(name); it != dbis_.end()) {
        out = it->second;
        return 0;
    }
    const int rc = mdb_dbi_open(txn, name.c_str(), create ? MDB_CREATE : 0, &out);
    if (rc == 0) {
        dbis_[name] = out;
        // Write transactions open with create=true (and may abort); read-only ones
        // with create=false, and read() commits them, so their handles are final.
        if (create) tentative_.push_back(name);
    }
    return rc;
}

void Env::settle_handles(bool committed) {
    std::lock_guard lock(dbi_mutex_);
    if (!committed) {
        for (const std::string& name : tentative_) dbis_.erase(name);
    }
    tentative_.clear();
}

}  // namespace replicast::store
