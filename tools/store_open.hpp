// Opening the store a command names: a master for writes (created on first
// use), or whichever kind is there for reads. Failures become the command's
// exit status with the store's own message.
#pragma once

#include <CLI/CLI.hpp>
#include <lmdb.h>

#include <filesystem>
#include <string>

#include "store/master.hpp"
#include "store/replica.hpp"
#include "tools/commands.hpp"

namespace replicast::tools {

/// initial_map_bytes: the first LMDB map (0 = the store's default, 1 GiB).
inline store::MasterStore open_master(const std::string& path, bool must_exist = false, std::size_t initial_map_bytes = 0) {
    try {
        store::EnvOptions o;
        o.create = !must_exist;
        if (initial_map_bytes != 0) o.initial_map_bytes = initial_map_bytes;
        return store::MasterStore(path, o);
    } catch (const store::StoreError& e) {
        throw CLI::RuntimeError(std::string("replicast: ") + e.what(), kExitUsage);
    }
}

/// Runs on_master or on_replica, whichever kind of store `path` holds.
template <typename OnMaster, typename OnReplica>
void with_store(const std::string& path, OnMaster&& on_master, OnReplica&& on_replica) {
    store::EnvOptions o;
    o.create = false;
    try {
        store::MasterStore m(path, o);
        on_master(m);
        return;
    } catch (const store::StoreError& e) {
        if (e.code() != store::kWrongKind) throw CLI::RuntimeError(std::string("replicast: ") + e.what(), kExitUsage);
    }
    try {
        store::ReplicaStore r(path, o);
        on_replica(r);
    } catch (const store::StoreError& e) {
        throw CLI::RuntimeError(std::string("replicast: ") + e.what(), kExitUsage);
    }
}

}  // namespace replicast::tools
