// Small helpers for the _meta database: fixed-width big-endian values by key.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <cstring>
#include <string_view>

#include "engine/wire/endian.hpp"
#include "store/env.hpp"

// Inside a transaction body (Env::write/read): any LMDB/errno code or
// StoreCode stops the body and is its result.
#define RC_TRY(expr)                                \
    do {                                            \
        if (int rc_ = (expr); rc_ != 0) return rc_; \
    } while (0)

namespace replicast::store::meta {

/// @return 0 with `out` set, MDB_NOTFOUND (out = fallback), or kCorrupt for a value of the wrong size.
inline int get_u64(MDB_txn* txn, MDB_dbi dbi, std::string_view key, std::uint64_t& out, std::uint64_t fallback = 0) {
    MDB_val k = as_val(key), v{};
    const int rc = mdb_get(txn, dbi, &k, &v);
    if (rc == MDB_NOTFOUND) {
        out = fallback;
        return 0;
    }
    if (rc != 0) return rc;
    if (v.mv_size != 8) return kCorrupt;
    out = wire::load_be<std::uint64_t>(static_cast<const std::uint8_t*>(v.mv_data));
    return 0;
}

inline int put_u64(MDB_txn* txn, MDB_dbi dbi, std::string_view key, std::uint64_t value) {
    std::uint8_t b[8];
    wire::store_be<std::uint64_t>(b, value);
    MDB_val k = as_val(key), v{8, b};
    return mdb_put(txn, dbi, &k, &v, 0);
}

inline int get_u32(MDB_txn* txn, MDB_dbi dbi, std::string_view key, std::uint32_t& out, bool& found) {
    MDB_val k = as_val(key), v{};
    const int rc = mdb_get(txn, dbi, &k, &v);
    found = rc == 0;
    if (rc == MDB_NOTFOUND) return 0;
    if (rc != 0) return rc;
    if (v.mv_size != 4) return kCorrupt;
    out = wire::load_be<std::uint32_t>(static_cast<const std::uint8_t*>(v.mv_data));
    return 0;
}

inline int put_u32(MDB_txn* txn, MDB_dbi dbi, std::string_view key, std::uint32_t value) {
    std::uint8_t b[4];
    wire::store_be<std::uint32_t>(b, value);
    MDB_val k = as_val(key), v{4, b};
    return mdb_put(txn, dbi, &k, &v, 0);
}

inline int get_bytes(MDB_txn* txn, MDB_dbi dbi, std::string_view key, std::span<const std::uint8_t>& out, bool& found) {
    MDB_val k = as_val(key), v{};
    const int rc = mdb_get(txn, dbi, &k, &v);
    found = rc == 0;
    if (rc == 0) out = as_span(v);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

inline int put_bytes(MDB_txn* txn, MDB_dbi dbi, std::string_view key, std::span<const std::uint8_t> value) {
    MDB_val k = as_val(key), v = as_val(value);
    return mdb_put(txn, dbi, &k, &v, 0);
}

}  // namespace replicast::store::meta
