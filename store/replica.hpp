// A replica store: the same user databases as the master, plus per database the
// applied LSN and the UUID of the master it copies. apply() is exactly-once and
// in order: one transaction holds a chain's ops and the new applied LSN, updates
// at or below the applied LSN are ignored, and a chain that starts past
// applied + 1 is refused whole (the client recovers the gap first).
//
// Applications read replicas with plain LMDB, read-only (store/LAYOUT.md).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "store/env.hpp"
#include "store/master.hpp"
#include "store/status.hpp"

namespace replicast::store {

/// Reader groups a replica keeps: 0 (everyone) always, plus the listed ones; `all` keeps every group.
struct GroupFilter {
    bool all = true;
    std::span<const std::uint16_t> groups;

    [[nodiscard]] bool allows(std::uint16_t g) const noexcept {
        if (all || g == 0) return true;
        for (std::uint16_t x : groups) {
            if (x == g) return true;
        }
        return false;
    }
};

struct ReplicaState {
    std::uint64_t applied_lsn = 0;
    bool bound = false;       // a master UUID is recorded
    std::array<std::uint8_t, 16> master_uuid{};
    bool incomplete = false;  // a snapshot bootstrap started and did not finish
};

/// Whether apply() parses the body before its transaction. A caller that has
/// just validated it (the client: the reassembler hands out only bodies that
/// parsed to exactly update_count updates, wire::validate_body) says so and
/// saves a second pass over every byte at line rate.
enum class BodyCheck : std::uint8_t {
    validate,   // parse the whole body first: a bad one is kBadUpdate, nothing applied
    validated,  // the caller guarantees wire::validate_body(body, count) == ok
};

struct ApplyResult {
    std::uint32_t applied = 0;     // updates that changed the replica
    std::uint32_t filtered = 0;    // updates of other reader groups: LSN advanced, nothing stored
    std::uint32_t duplicates = 0;  // at or below the applied LSN: ignored
};

class ReplicaStore {
public:
    /// Opens (creating when missing) a replica store. Throws StoreError; a master is refused.
    ReplicaStore(const std::string& path, const EnvOptions& options = {});

    [[nodiscard]] const std::string& path() const noexcept { return env_.path(); }

    Status state(std::string_view db, ReplicaState& out);

    /// Records the master's UUID for `db` on first use; a different one is kWrongStore.
    Status bind(std::string_view db, const std::array<std::uint8_t, 16>& master_uuid);

    /// Applies a chain: `count` encoded updates (wire format) with LSNs from `first_lsn`.
    /// With BodyCheck::validated the body must already have passed
    /// wire::validate_body (a body that does not is undefined behaviour, not an error).
    /// Cost per call when it succeeds: one write transaction, no heap allocation
    /// after the database's first apply (its meta keys and handles are cached).
    /// @return ok; kLsnGap (first_lsn > applied + 1: nothing applied); kBadUpdate
    ///         (a body that does not parse: nothing applied); kIncomplete; LMDB codes.
    Status apply(std::string_view db, std::uint64_t first_lsn, std::uint32_t count, std::span<const std::uint8_t> body,
                 const GroupFilter& groups, ApplyResult* result = nullptr, BodyCheck check = BodyCheck::validate);

    /// Placeholders from recovery: LSNs up to `through` exist but carry nothing this
    /// replica may read. Advances the applied LSN; kLsnGap if it would skip LSNs.
    Status skip(std::string_view db, std::uint64_t from, std::uint64_t through);

    /// Snapshot bootstrap: begin() empties the database and marks it incomplete,
    /// page() adds records, finish() sets the applied LSN and clears the mark. A
    /// bootstrap interrupted by a crash leaves the mark: begin() again.
    Status begin_bootstrap(std::string_view db, const std::array<std::uint8_t, 16>& master_uuid);
    Status bootstrap_page(std::string_view db, std::span<const Record> records);
    Status finish_bootstrap(std::string_view db, std::uint64_t snapshot_lsn);

    /// Every record in key order (for dump and checksum), in one read transaction.
    Status scan(std::string_view db, std::uint64_t& applied_lsn, const std::function<bool(const Record&)>& visit);

    Env& env() noexcept { return env_; }

private:
    // Per database: its meta keys and the text of its failure messages, made
    // once, and the data and meta handles once a transaction that opened them
    // committed (a handle opened by an aborted transaction is void).
    struct DbCache {
        std::string name;
        std::string applied_key, uuid_key, incomplete_key;
        std::string apply_what;
        bool handles = false;
        MDB_dbi data_dbi = 0;
        MDB_dbi meta_dbi = 0;
    };
    DbCache& cache(std::string_view db);

    Env env_;
    // apply() and skip() are for one thread (the client's processing thread);
    // the cache is theirs.
    std::map<std::string, DbCache, std::less<>> cache_;
};

}  // namespace replicast::store
