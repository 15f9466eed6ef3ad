#include "store/replica.hpp"

#include <cstring>

#include "engine/wire/update.hpp"
#include "store/layout.hpp"
#include "store/meta.hpp"

namespace replicast::store {

namespace {

const std::span<const std::uint8_t> kReplicaKind{reinterpret_cast<const std::uint8_t*>("replica"), 7};
}  // namespace

ReplicaStore::ReplicaStore(const std::string& path, const EnvOptions& options) : env_(path, options) {
    if (options.read_only) return;
    const Status s = env_.write("initialise", [&](MDB_txn* txn) {
        MDB_dbi meta_dbi;
        RC_TRY(env_.dbi(txn, layout::kMetaDb, true, meta_dbi));
        std::span<const std::uint8_t> kind;
        bool found = false;
        RC_TRY(meta::get_bytes(txn, meta_dbi, layout::kKind, kind, found));
        if (found) {
            return std::string_view(reinterpret_cast<const char*>(kind.data()), kind.size()) == "replica"
                       ? 0
                       : static_cast<int>(kWrongKind);
        }
        return meta::put_bytes(txn, meta_dbi, layout::kKind, kReplicaKind);
    });
    if (!s) {
        if (s.code() == kWrongKind) throw StoreError({kWrongKind, path + ": this is a master store, not a replica"});
        throw StoreError(s);
    }
}

namespace {

int read_state(Env& env, MDB_txn* txn, std::string_view db, ReplicaState& out, bool create) {
    MDB_dbi meta_dbi;
    RC_TRY(env.dbi(txn, layout::kMetaDb, create, meta_dbi));
    RC_TRY(meta::get_u64(txn, meta_dbi, layout::per_db("applied", db), out.applied_lsn, 0));
    std::span<const std::uint8_t> v;
    RC_TRY(meta::get_bytes(txn, meta_dbi, layout::per_db("master_uuid", db), v, out.bound));
    if (out.bound) {
        if (v.size() != 16) return kCorrupt;
        std::memcpy(out.master_uuid.data(), v.data(), 16);
    }
    RC_TRY(meta::get_bytes(txn, meta_dbi, layout::per_db("incomplete", db), v, out.incomplete));
    return 0;
}

}  // namespace

Status ReplicaStore::state(std::string_view db, ReplicaState& out) {
    out = {};
    return env_.read("database " + std::string(db) + ": state",
                     [&](MDB_txn* txn) { return read_state(env_, txn, db, out, false); });
}

Status ReplicaStore::bind(std::string_view db, const std::array<std::uint8_t, 16>& uuid) {
    if (!layout::valid_name(db)) return {kBadName, path() + ": bad database name \"" + std::string(db) + "\""};
    return env_.write("database " + std::string(db) + ": bind to master " + uuid_to_text(uuid), [&](MDB_txn* txn) {
        ReplicaState st;
        RC_TRY(read_state(env_, txn, db, st, true));
        if (st.bound) return st.master_uuid == uuid ? 0 : static_cast<int>(kWrongStore);
        MDB_dbi meta_dbi;
        RC_TRY(env_.dbi(txn, layout::kMetaDb, true, meta_dbi));
        return meta::put_bytes(txn, meta_dbi, layout::per_db("master_uuid", db), uuid);
    });
}

ReplicaStore::DbCache& ReplicaStore::cache(std::string_view db) {
    if (const auto it = cache_.find(db); it != cache_.end()) return it->second;
    DbCache c{.name = std::string(db),
              .applied_key = layout::per_db("applied", db),
              .uuid_key = layout::per_db("master_uuid", db),
              .incomplete_key = layout::per_db("incomplete", db),
              .apply_what = "database " + std::string(db) + ": apply"};
    return cache_.emplace(std::string(db), std::move(c)).first->second;
}

namespace {

// read_state() with the cached keys: no string is built per chain.
int read_state_cached(MDB_txn* txn, MDB_dbi meta_dbi, const std::string& applied_key, const std::string& uuid_key,
                      const std::string& incomplete_key, ReplicaState& out) {
    RC_TRY(meta::get_u64(txn, meta_dbi, applied_key, out.applied_lsn, 0));
    std::span<const std::uint8_t> v;
    RC_TRY(meta::get_bytes(txn, meta_dbi, uuid_key, v, out.bound));
    if (out.bound) {
        if (v.size() != 16) return kCorrupt;
        std::memcpy(out.master_uuid.data(), v.data(), 16);
    }
    return meta::get_bytes(txn, meta_dbi, incomplete_key, v, out.incomplete);
}

}  // namespace

Status ReplicaStore::apply(std::string_view db, std::uint64_t first_lsn, std::uint32_t count,
                           std::span<const std::uint8_t> body, const GroupFilter& groups, ApplyResult* result,
                           BodyCheck check) {
    if (!layout::valid_name(db)) return {kBadName, path() + ": bad database name \"" + std::string(db) + "\""};
    if (count == 0 || first_lsn == 0) {
        return {kBadUpdate, path() + ": database " + std::string(db) + ": a chain has at least one update, from LSN 1 on"};
    }
    // Parse the whole body before touching the store: a chain applies whole or not at all.
    if (check == BodyCheck::validate) {
        if (const wire::WireError e = wire::validate_body(body, count); e != wire::WireError::ok) {
            return {kBadUpdate, path() + ": database " + std::string(db) + ": chain at LSN " + std::to_string(first_lsn) +
                                    ": " + std::string(wire::describe(e))};
        }
    }
    DbCache& c = cache(db);
    ApplyResult r;
    bool opened_here = false;
    MDB_dbi data_dbi = c.data_dbi, meta_dbi = c.meta_dbi;
    Status s = env_.write(c.apply_what, [&](MDB_txn* txn) {
        r = {};
        if (!c.handles) {
            opened_here = true;
            RC_TRY(env_.dbi(txn, c.name, true, data_dbi));
            RC_TRY(env_.dbi(txn, layout::kMetaDb, true, meta_dbi));
        }
        ReplicaState st;
        RC_TRY(read_state_cached(txn, meta_dbi, c.applied_key, c.uuid_key, c.incomplete_key, st));
        if (st.incomplete) return static_cast<int>(kIncomplete);
        if (first_lsn > st.applied_lsn + 1) return static_cast<int>(kLsnGap);
        const std::uint64_t last = first_lsn + count - 1;
        if (last <= st.applied_lsn) {
            r.duplicates = count;
            return 0;  // nothing to do, nothing to write
        }
        wire::UpdateReader reader(body, count);
        std::uint64_t lsn = first_lsn;
        for (wire::UpdateView u; reader.next(u); ++lsn) {
            if (lsn <= st.applied_lsn) {
                ++r.duplicates;
                continue;
            }
            MDB_val key = as_val(u.key);
            if (!groups.allows(u.reader_group)) {
                // The master's record is now in a group this replica does not
                // keep (or gone): a copy from a kept group must not linger, or
                // the replica would show a state the filtered master never had.
                const int rc = mdb_del(txn, data_dbi, &key, nullptr);
                if (rc != 0 && rc != MDB_NOTFOUND) return rc;
                ++r.filtered;
                continue;
            }
            RC_TRY(layout::write_record(txn, data_dbi, u));
            ++r.applied;
        }
        return meta::put_u64(txn, meta_dbi, c.applied_key, last);
    });
    if (s && opened_here) {
        c.data_dbi = data_dbi;
        c.meta_dbi = meta_dbi;
        c.handles = true;
    }
    if (!s) s = Status(s.code(), s.message() + " (chain at LSN " + std::to_string(first_lsn) + ")");
    if (result != nullptr) *result = r;
    return s;
}

Status ReplicaStore::skip(std::string_view db, std::uint64_t from, std::uint64_t through) {
    return env_.write("database " + std::string(db) + ": skip LSNs", [&](MDB_txn* txn) {
        ReplicaState st;
        RC_TRY(read_state(env_, txn, db, st, true));
        if (st.incomplete) return static_cast<int>(kIncomplete);
        if (from > st.applied_lsn + 1) return static_cast<int>(kLsnGap);
        if (through <= st.applied_lsn) return 0;
        MDB_dbi meta_dbi;
        RC_TRY(env_.dbi(txn, layout::kMetaDb, true, meta_dbi));
        return meta::put_u64(txn, meta_dbi, layout::per_db("applied", db), through);
    });
}

Status ReplicaStore::begin_bootstrap(std::string_view db, const std::array<std::uint8_t, 16>& uuid) {
    if (!layout::valid_name(db)) return {kBadName, path() + ": bad database name \"" + std::string(db) + "\""};
    return env_.write("database " + std::string(db) + ": begin bootstrap", [&](MDB_txn* txn) {
        MDB_dbi data_dbi, meta_dbi;
        RC_TRY(env_.dbi(txn, std::string(db), true, data_dbi));
        RC_TRY(env_.dbi(txn, layout::kMetaDb, true, meta_dbi));
        RC_TRY(mdb_drop(txn, data_dbi, 0));  // empty it, keep the handle
        const std::uint8_t mark = 1;
        RC_TRY(meta::put_bytes(txn, meta_dbi, layout::per_db("incomplete", db), {&mark, 1}));
        RC_TRY(meta::put_bytes(txn, meta_dbi, layout::per_db("master_uuid", db), uuid));
        return meta::put_u64(txn, meta_dbi, layout::per_db("applied", db), 0);
    });
}

Status ReplicaStore::bootstrap_page(std::string_view db, std::span<const Record> records) {
    return env_.write("database " + std::string(db) + ": bootstrap page", [&](MDB_txn* txn) {
        ReplicaState st;
        RC_TRY(read_state(env_, txn, db, st, true));
        if (!st.incomplete) return static_cast<int>(kIncomplete);  // no bootstrap in progress
        MDB_dbi data_dbi;
        RC_TRY(env_.dbi(txn, std::string(db), true, data_dbi));
        for (const Record& rec : records) {
            MDB_val key = as_val(rec.key);
            MDB_val v{layout::kGroupPrefix + rec.value.size(), nullptr};
            RC_TRY(mdb_put(txn, data_dbi, &key, &v, MDB_RESERVE));
            auto* p = static_cast<std::uint8_t*>(v.mv_data);
            wire::store_be<std::uint16_t>(p, rec.group);
            if (!rec.value.empty()) std::memcpy(p + layout::kGroupPrefix, rec.value.data(), rec.value.size());
        }
        return 0;
    });
}

Status ReplicaStore::finish_bootstrap(std::string_view db, std::uint64_t snapshot_lsn) {
    return env_.write("database " + std::string(db) + ": finish bootstrap", [&](MDB_txn* txn) {
        ReplicaState st;
        RC_TRY(read_state(env_, txn, db, st, true));
        // Only a bootstrap in progress can finish: a second one (another copy)
        // that already finished must not mark this partial data complete.
        if (!st.incomplete) return static_cast<int>(kIncomplete);
        MDB_dbi meta_dbi;
        RC_TRY(env_.dbi(txn, layout::kMetaDb, true, meta_dbi));
        const std::string mark = layout::per_db("incomplete", db);  // outlives the MDB_val that points into it
        MDB_val k = as_val(mark);
        const int rc = mdb_del(txn, meta_dbi, &k, nullptr);
        if (rc != 0 && rc != MDB_NOTFOUND) return rc;
        return meta::put_u64(txn, meta_dbi, layout::per_db("applied", db), snapshot_lsn);
    });
}

Status ReplicaStore::scan(std::string_view db, std::uint64_t& applied_lsn, const std::function<bool(const Record&)>& visit) {
    return env_.read("database " + std::string(db) + ": scan", [&](MDB_txn* txn) {
        ReplicaState st;
        RC_TRY(read_state(env_, txn, db, st, false));
        if (st.incomplete) return static_cast<int>(kIncomplete);  // LAYOUT.md: unavailable mid-bootstrap
        applied_lsn = st.applied_lsn;
        MDB_dbi data_dbi;
        const int open_rc = env_.dbi(txn, std::string(db), false, data_dbi);
        if (open_rc == MDB_NOTFOUND) return static_cast<int>(kNoSuchDatabase);
        RC_TRY(open_rc);
        MDB_cursor* c = nullptr;
        RC_TRY(mdb_cursor_open(txn, data_dbi, &c));
        MDB_val k{}, v{};
        int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
        while (rc == 0) {
            if (v.mv_size < layout::kGroupPrefix) { rc = kCorrupt; break; }
            const auto s = as_span(v);
            if (!visit({.key = as_span(k), .group = wire::load_be<std::uint16_t>(s.data()), .value = s.subspan(2)})) break;
            rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
        }
        mdb_cursor_close(c);
        return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
    });
}

}  // namespace replicast::store
