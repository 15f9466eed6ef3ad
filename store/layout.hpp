// The on-disk layout shared by masters and replicas (store/LAYOUT.md is the
// reader's guide; keep the two in step).
#pragma once

#include <lmdb.h>

#include <array>
#include <cstring>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "engine/wire/endian.hpp"
#include "engine/wire/update.hpp"

namespace replicast::store::layout {

inline constexpr const char* kMetaDb = "_meta";
inline constexpr const char* kLogDb = "_log";  // master only
inline constexpr const char* kRequestsDb = "_requests";  // master only: Publish request ids (write_once)

// _requests keys (LAYOUT.md "_requests"): 'i' || db_id (4, BE) || request id -> stored_ms (8) || first_lsn (8) || count (4);
// 't' || stored_ms (8, BE) || db_id (4, BE) || request id -> empty (the expiry index, oldest first).
inline constexpr std::size_t kRequestValueSize = 20;

// _meta keys
inline constexpr std::string_view kKind = "kind";  // "master" or "replica"
inline constexpr std::string_view kUuid = "uuid";  // master: 16 bytes, made at creation
inline constexpr std::string_view kNextDbId = "next_db_id";
inline std::string db_key(std::string_view name) { return "db/" + std::string(name); }  // -> db_id (4, BE)
inline std::string per_db(std::string_view what, std::uint32_t id) { return std::string(what) + "/" + std::to_string(id); }
inline std::string per_db(std::string_view what, std::string_view name) { return std::string(what) + "/" + std::string(name); }
// master: "next_lsn/<id>" (8, BE), "oldest_lsn/<id>" (8, BE), "stream/<id>" (packet_seq watermark 8 + key epoch 4 + multicast LSN 8; older stores wrote the first 12)
// replica: "applied/<name>" (8, BE), "master_uuid/<name>" (16), "incomplete/<name>" (present while bootstrapping)

/// Database names: 1..200 bytes, not starting with '_' (reserved for the store's own).
inline bool valid_name(std::string_view name) {
    return !name.empty() && name.size() <= 200 && name[0] != '_' && name.find('\0') == std::string_view::npos;
}

/// _log key: db_id (4, BE) || LSN (8, BE), so one database's entries sort by LSN.
inline std::array<std::uint8_t, 12> log_key(std::uint32_t db_id, std::uint64_t lsn) {
    std::array<std::uint8_t, 12> k{};
    wire::store_be<std::uint32_t>(k.data(), db_id);
    wire::store_be<std::uint64_t>(k.data() + 4, lsn);
    return k;
}

/// A user record's value: reader group (2, BE) || the application's value.
inline constexpr std::size_t kGroupPrefix = 2;

/// Applies one update to a user database in `txn`: a put reserves the value in
/// the map and writes group || value in place (no extra copy); a delete of an
/// absent key is still an update (not an error). The master's hook and the
/// replica's apply both write records through here.
inline int write_record(MDB_txn* txn, MDB_dbi dbi, const wire::UpdateView& u) {
    MDB_val key{u.key.size(), const_cast<std::uint8_t*>(u.key.data())};
    if (u.op == wire::Op::put) {
        MDB_val v{kGroupPrefix + u.value.size(), nullptr};
        if (const int rc = mdb_put(txn, dbi, &key, &v, MDB_RESERVE); rc != 0) return rc;
        auto* p = static_cast<std::uint8_t*>(v.mv_data);
        wire::store_be<std::uint16_t>(p, u.reader_group);
        if (!u.value.empty()) std::memcpy(p + kGroupPrefix, u.value.data(), u.value.size());
        return 0;
    }
    const int rc = mdb_del(txn, dbi, &key, nullptr);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

inline std::array<std::uint8_t, 8> be64(std::uint64_t v) {
    std::array<std::uint8_t, 8> b{};
    wire::store_be<std::uint64_t>(b.data(), v);
    return b;
}
inline std::array<std::uint8_t, 4> be32(std::uint32_t v) {
    std::array<std::uint8_t, 4> b{};
    wire::store_be<std::uint32_t>(b.data(), v);
    return b;
}

}  // namespace replicast::store::layout
