#include "store/master.hpp"

#include <openssl/rand.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "store/layout.hpp"
#include "store/meta.hpp"

namespace replicast::store {

namespace {


}  // namespace

std::string uuid_to_text(const std::array<std::uint8_t, 16>& u) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
        s += hex[u[i] >> 4];
        s += hex[u[i] & 15];
    }
    return s;
}

MasterStore::MasterStore(const std::string& path, const EnvOptions& options) : env_(path, options) {
    const Status s = env_.write("initialise", [&](MDB_txn* txn) {
        MDB_dbi meta_dbi, log_dbi, requests_dbi;
        RC_TRY(env_.dbi(txn, layout::kMetaDb, true, meta_dbi));
        RC_TRY(env_.dbi(txn, layout::kLogDb, true, log_dbi));
        // Opened here, in a transaction that commits before any other thread
        // runs, rather than by the first Publish: a handle opened by a write
        // that then fails (a full disk) is closed by LMDB, and LMDB forbids
        // opening handles while another transaction that opened one is live.
        RC_TRY(env_.dbi(txn, layout::kRequestsDb, true, requests_dbi));
        std::span<const std::uint8_t> kind;
        bool found = false;
        RC_TRY(meta::get_bytes(txn, meta_dbi, layout::kKind, kind, found));
        if (found && std::string_view(reinterpret_cast<const char*>(kind.data()), kind.size()) != "master") {
            return static_cast<int>(kWrongKind);
        }
        std::span<const std::uint8_t> id;
        RC_TRY(meta::get_bytes(txn, meta_dbi, layout::kUuid, id, found));
        if (found) {
            // A uuid of another size is damage, not a new store: replacing it
            // would change the store's identity and re-bootstrap every replica.
            if (id.size() != 16) return static_cast<int>(kCorrupt);
            std::memcpy(uuid_.data(), id.data(), 16);
            return 0;
        }
        // A new store: its identity, so replicas of another store can tell.
        if (RAND_bytes(uuid_.data(), 16) != 1) return EIO;
        uuid_[6] = static_cast<std::uint8_t>((uuid_[6] & 0x0f) | 0x40);  // RFC 4122 version 4
        uuid_[8] = static_cast<std::uint8_t>((uuid_[8] & 0x3f) | 0x80);
        RC_TRY(meta::put_bytes(txn, meta_dbi, layout::kKind, {reinterpret_cast<const std::uint8_t*>("master"), 6}));
        return meta::put_bytes(txn, meta_dbi, layout::kUuid, uuid_);
    });
    if (!s) {
        if (s.code() == kWrongKind) throw StoreError({kWrongKind, path + ": this is a replica store, not a master"});
        throw StoreError(s);
    }
}

MasterStore::~MasterStore() {
    if (notify_fd_ >= 0) ::close(notify_fd_);
}

std::string MasterStore::uuid_text() const { return uuid_to_text(uuid_); }

int MasterStore::db_id(MDB_txn* txn, std::string_view name, bool create, std::uint32_t& id) {
    MDB_dbi meta_dbi;
    RC_TRY(env_.dbi(txn, layout::kMetaDb, create, meta_dbi));
    bool found = false;
    RC_TRY(meta::get_u32(txn, meta_dbi, layout::db_key(name), id, found));
    if (found) return 0;
    if (!create) return kNoSuchDatabase;
    std::uint32_t next = 1;
    bool have_next = false;
    RC_TRY(meta::get_u32(txn, meta_dbi, layout::kNextDbId, next, have_next));
    if (!have_next) next = 1;
    id = next;
    RC_TRY(meta::put_u32(txn, meta_dbi, layout::kNextDbId, next + 1));
    RC_TRY(meta::put_u32(txn, meta_dbi, layout::db_key(name), id));
    RC_TRY(meta::put_u64(txn, meta_dbi, layout::per_db("next_lsn", id), 1));
    return meta::put_u64(txn, meta_dbi, layout::per_db("oldest_lsn", id), 1);
}

Status MasterStore::write(std::string_view db, std::span<const wire::UpdateView> ops, std::uint64_t* first_lsn) {
    std::uint64_t first = 0;
    bool duplicate = false;
    const Status s = write_impl(db, ops, nullptr, first, duplicate);
    if (s && first_lsn != nullptr && !ops.empty()) *first_lsn = first;
    return s;
}

Status MasterStore::write_once(std::string_view db, std::span<const wire::UpdateView> ops, const RequestId& request,
                               std::uint64_t& first_lsn, bool& duplicate) {
    duplicate = false;
    if (request.id.size() > kMaxRequestId) {
        return {kBadRequestId, path() + ": " + std::string(db) + ": request id of " + std::to_string(request.id.size()) +
                                   " bytes, at most " + std::to_string(kMaxRequestId)};
    }
    return write_impl(db, ops, request.id.empty() ? nullptr : &request, first_lsn, duplicate);
}

namespace {

// Request ids expire in the order they were stored: at most this many are
// dropped per write, so pruning never makes one write long (a burst of expiries
// is spread over the next writes).
constexpr int kPruneAtMost = 32;

std::vector<std::uint8_t> request_key(char kind, std::uint64_t stored_ms, std::uint32_t id,
                                      std::span<const std::uint8_t> request) {
    std::vector<std::uint8_t> k;
    k.reserve(1 + 8 + 4 + request.size());
    k.push_back(static_cast<std::uint8_t>(kind));
    if (kind == 't') {
        const auto t = layout::be64(stored_ms);
        k.insert(k.end(), t.begin(), t.end());
    }
    const auto d = layout::be32(id);
    k.insert(k.end(), d.begin(), d.end());
    k.insert(k.end(), request.begin(), request.end());
    return k;
}

// Drops up to kPruneAtMost ids stored at or before `expired_at`, with their 'i' entries.
int prune_requests(MDB_txn* txn, MDB_dbi req_dbi, std::uint64_t expired_at) {
    MDB_cursor* c = nullptr;
    RC_TRY(mdb_cursor_open(txn, req_dbi, &c));
    const std::uint8_t t = 't';
    int rc = 0;
    for (int n = 0; n < kPruneAtMost; ++n) {
        // The oldest expiry entry is always the first 't' key: seek it afresh after each delete.
        MDB_val k{1, const_cast<std::uint8_t*>(&t)}, v{};
        rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        if (rc != 0) break;
        // Copied: the deletes below may move the page the cursor's view points into.
        const auto found = as_span(k);
        const std::vector<std::uint8_t> key(found.begin(), found.end());
        if (key.size() < 13 || key[0] != 't') break;
        const std::uint64_t stored = wire::load_be<std::uint64_t>(key.data() + 1);
        if (stored > expired_at) break;
        // The 'i' entry may have been stored again since (an expired id reused): only drop it when it is this one.
        std::vector<std::uint8_t> ik;
        ik.push_back('i');
        ik.insert(ik.end(), key.begin() + 9, key.end());
        MDB_val ikv{ik.size(), ik.data()}, iv{};
        if (const int g = mdb_get(txn, req_dbi, &ikv, &iv); g == 0) {
            if (iv.mv_size == layout::kRequestValueSize &&
                wire::load_be<std::uint64_t>(static_cast<const std::uint8_t*>(iv.mv_data)) == stored) {
                if (const int d = mdb_del(txn, req_dbi, &ikv, nullptr); d != 0) { rc = d; break; }
            }
        } else if (g != MDB_NOTFOUND) {
            rc = g;
            break;
        }
        MDB_val tk{key.size(), const_cast<std::uint8_t*>(key.data())};
        if (const int d = mdb_del(txn, req_dbi, &tk, nullptr); d != 0) { rc = d; break; }
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

}  // namespace

Status MasterStore::write_impl(std::string_view db, std::span<const wire::UpdateView> ops, const RequestId* request,
                               std::uint64_t& first_lsn, bool& duplicate) {
    duplicate = false;
    if (!layout::valid_name(db)) {
        return {kBadName, path() + ": database name \"" + std::string(db) + "\" must be 1..200 bytes, not starting with '_'"};
    }
    // Encode (and so validate) every op before the transaction: a bad op costs nothing.
    std::size_t total = 0;
    for (std::size_t i = 0; i < ops.size(); ++i) {
        if (const wire::WireError e = wire::check_update(ops[i]); e != wire::WireError::ok) {
            return {kBadUpdate, path() + ": " + std::string(db) + ": op " + std::to_string(i) + ": " +
                                    std::string(wire::describe(e))};
        }
        total += wire::encoded_update_size(ops[i]);
    }
    if (ops.empty()) return Status::ok();
    scratch_.resize(total);
    std::size_t at = 0;
    for (const wire::UpdateView& u : ops) {
        std::size_t n = 0;
        (void)wire::encode_update(u, std::span(scratch_).subspan(at), n);
        at += n;
    }

    std::uint32_t id = 0;
    std::uint64_t first = 0;
    const Status s = env_.write("database " + std::string(db) + ": write", [&](MDB_txn* txn) {
        duplicate = false;
        MDB_dbi meta_dbi, log_dbi, data_dbi;
        RC_TRY(env_.dbi(txn, layout::kMetaDb, true, meta_dbi));
        RC_TRY(env_.dbi(txn, layout::kLogDb, true, log_dbi));
        RC_TRY(db_id(txn, db, true, id));
        std::vector<std::uint8_t> ikey;
        MDB_dbi req_dbi = 0;
        if (request != nullptr) {
            RC_TRY(env_.dbi(txn, layout::kRequestsDb, true, req_dbi));
            if (request->now_ms >= request->window_ms) RC_TRY(prune_requests(txn, req_dbi, request->now_ms - request->window_ms));
            ikey = request_key('i', 0, id, request->id);
            MDB_val k{ikey.size(), ikey.data()}, v{};
            const int rc = mdb_get(txn, req_dbi, &k, &v);
            if (rc != 0 && rc != MDB_NOTFOUND) return rc;
            if (rc == 0) {
                if (v.mv_size != layout::kRequestValueSize) return static_cast<int>(kCorrupt);
                const auto* p = static_cast<const std::uint8_t*>(v.mv_data);
                const std::uint64_t stored = wire::load_be<std::uint64_t>(p);
                // Within the window (or stored "in the future": a clock stepped back) it is a repeat.
                if (request->now_ms < stored || request->now_ms - stored < request->window_ms) {
                    first = wire::load_be<std::uint64_t>(p + 8);
                    duplicate = true;
                    return 0;
                }
                // Expired and not yet pruned: forget it, this is a new request.
                auto tk = request_key('t', stored, id, request->id);
                MDB_val tkv{tk.size(), tk.data()};
                if (const int d = mdb_del(txn, req_dbi, &tkv, nullptr); d != 0 && d != MDB_NOTFOUND) return d;
            }
        }
        RC_TRY(env_.dbi(txn, std::string(db), true, data_dbi));
        RC_TRY(meta::get_u64(txn, meta_dbi, layout::per_db("next_lsn", id), first, 1));
        std::size_t off = 0;
        for (std::size_t i = 0; i < ops.size(); ++i) {
            const wire::UpdateView& u = ops[i];
            RC_TRY(layout::write_record(txn, data_dbi, u));
            const std::size_t len = wire::encoded_update_size(u);
            const auto lk = layout::log_key(id, first + i);
            MDB_val k{lk.size(), const_cast<std::uint8_t*>(lk.data())};
            MDB_val v{len, scratch_.data() + off};
            RC_TRY(mdb_put(txn, log_dbi, &k, &v, 0));
            off += len;
        }
        if (request != nullptr) {
            std::uint8_t val[layout::kRequestValueSize];
            wire::store_be<std::uint64_t>(val, request->now_ms);
            wire::store_be<std::uint64_t>(val + 8, first);
            wire::store_be<std::uint32_t>(val + 16, static_cast<std::uint32_t>(ops.size()));
            MDB_val k{ikey.size(), ikey.data()}, v{sizeof val, val};
            RC_TRY(mdb_put(txn, req_dbi, &k, &v, 0));
            auto tk = request_key('t', request->now_ms, id, request->id);
            MDB_val tkv{tk.size(), tk.data()}, empty{0, nullptr};
            RC_TRY(mdb_put(txn, req_dbi, &tkv, &empty, 0));
        }
        return meta::put_u64(txn, meta_dbi, layout::per_db("next_lsn", id), first + ops.size());
    });
    if (!s) return s;
    first_lsn = first;
    if (!duplicate) notify(id, first + ops.size() - 1);
    return s;
}

void MasterStore::notify(std::uint32_t id, std::uint64_t last_lsn) noexcept {
    if (notify_fd_ < 0) {
        notify_fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (notify_fd_ < 0) return;
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string p = notify_path();
    if (p.size() >= sizeof addr.sun_path) return;  // too long a path: the detector polls
    std::memcpy(addr.sun_path, p.c_str(), p.size() + 1);
    std::uint8_t msg[12];
    wire::store_be<std::uint32_t>(msg, id);
    wire::store_be<std::uint64_t>(msg + 4, last_lsn);
    // Best effort: no listener (ENOENT, ECONNREFUSED) or a full queue (EAGAIN) is fine.
    (void)::sendto(notify_fd_, msg, sizeof msg, MSG_DONTWAIT | MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr),
                   sizeof addr);
}

Status MasterStore::databases(std::vector<std::string>& out) {
    out.clear();
    return env_.read("list databases", [&](MDB_txn* txn) {
        MDB_dbi meta_dbi;
        RC_TRY(env_.dbi(txn, layout::kMetaDb, false, meta_dbi));
        MDB_cursor* c = nullptr;
        RC_TRY(mdb_cursor_open(txn, meta_dbi, &c));
        MDB_val k = as_val(std::string_view("db/")), v{};
        int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        while (rc == 0) {
            const std::string_view key(static_cast<const char*>(k.mv_data), k.mv_size);
            if (key.substr(0, 3) != "db/") break;
            out.emplace_back(key.substr(3));
            rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
        }
        mdb_cursor_close(c);
        return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
    });
}

Status MasterStore::lsn_range(std::string_view db, std::uint64_t& oldest, std::uint64_t& last) {
    return env_.read("database " + std::string(db) + ": LSN range", [&](MDB_txn* txn) {
        std::uint32_t id = 0;
        RC_TRY(db_id(txn, db, false, id));
        MDB_dbi meta_dbi;
        RC_TRY(env_.dbi(txn, layout::kMetaDb, false, meta_dbi));
        std::uint64_t next = 1;
        RC_TRY(meta::get_u64(txn, meta_dbi, layout::per_db("next_lsn", id), next, 1));
        RC_TRY(meta::get_u64(txn, meta_dbi, layout::per_db("oldest_lsn", id), oldest, 1));
        last = next - 1;
        return 0;
    });
}

Status MasterStore::get(std::string_view db, std::span<const std::uint8_t> key, bool& found,
                        std::vector<std::uint8_t>& value, std::uint16_t& group) {
    found = false;
    return env_.read("database " + std::string(db) + ": get", [&](MDB_txn* txn) {
        std::uint32_t id = 0;
        RC_TRY(db_id(txn, db, false, id));
        MDB_dbi data_dbi;
        RC_TRY(env_.dbi(txn, std::string(db), false, data_dbi));
        MDB_val k = as_val(key), v{};
        const int rc = mdb_get(txn, data_dbi, &k, &v);
        if (rc == MDB_NOTFOUND) return 0;
        if (rc != 0) return rc;
        if (v.mv_size < layout::kGroupPrefix) return static_cast<int>(kCorrupt);
        const auto s = as_span(v);
        group = wire::load_be<std::uint16_t>(s.data());
        value.assign(s.begin() + layout::kGroupPrefix, s.end());
        found = true;
        return 0;
    });
}

// One database's log entries from `start` (forward) or back from `start`
// (backward), as views into the map, in one read transaction's cursor.
int MasterStore::walk_log(MDB_txn* txn, std::string_view db, std::uint64_t start, bool backward,
                          const std::function<bool(std::uint64_t, std::span<const std::uint8_t>)>& visit) {
    std::uint32_t id = 0;
    RC_TRY(db_id(txn, db, false, id));
    MDB_dbi log_dbi;
    RC_TRY(env_.dbi(txn, layout::kLogDb, false, log_dbi));
    MDB_cursor* c = nullptr;
    RC_TRY(mdb_cursor_open(txn, log_dbi, &c));
    auto first = layout::log_key(id, start);
    MDB_val k{first.size(), first.data()}, v{};
    int rc = mdb_cursor_get(c, &k, &v, backward ? MDB_SET_KEY : MDB_SET_RANGE);
    while (rc == 0) {
        if (k.mv_size != 12) {
            rc = kCorrupt;
            break;
        }
        const auto* kp = static_cast<const std::uint8_t*>(k.mv_data);
        if (wire::load_be<std::uint32_t>(kp) != id || !visit(wire::load_be<std::uint64_t>(kp + 4), as_span(v))) break;
        rc = mdb_cursor_get(c, &k, &v, backward ? MDB_PREV : MDB_NEXT);
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

Status MasterStore::read_log(std::string_view db, std::uint64_t from, std::uint64_t to,
                             const std::function<bool(std::uint64_t, std::span<const std::uint8_t>)>& visit) {
    return env_.read("database " + std::string(db) + ": read log", [&](MDB_txn* txn) {
        return walk_log(txn, db, from, false,
                        [&](std::uint64_t lsn, std::span<const std::uint8_t> u) { return lsn <= to && visit(lsn, u); });
    });
}

Status MasterStore::snapshot(std::string_view db, const std::function<void(std::uint64_t)>& at,
                             const std::function<bool(const Record&)>& visit) {
    return env_.read("database " + std::string(db) + ": snapshot", [&](MDB_txn* txn) {
        std::uint32_t id = 0;
        RC_TRY(db_id(txn, db, false, id));
        MDB_dbi meta_dbi, data_dbi;
        RC_TRY(env_.dbi(txn, layout::kMetaDb, false, meta_dbi));
        RC_TRY(env_.dbi(txn, std::string(db), false, data_dbi));
        std::uint64_t next = 1;
        RC_TRY(meta::get_u64(txn, meta_dbi, layout::per_db("next_lsn", id), next, 1));
        at(next - 1);  // the same read transaction: the records below are exactly this LSN's state
        MDB_cursor* c = nullptr;
        RC_TRY(mdb_cursor_open(txn, data_dbi, &c));
        MDB_val k{}, v{};
        int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
        while (rc == 0) {
            if (v.mv_size < layout::kGroupPrefix) { rc = kCorrupt; break; }
            const auto s = as_span(v);
            const Record r{.key = as_span(k), .group = wire::load_be<std::uint16_t>(s.data()),
                           .value = s.subspan(layout::kGroupPrefix)};
            if (!visit(r)) break;
            rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
        }
        mdb_cursor_close(c);
        return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
    });
}

Status MasterStore::trim(std::string_view db, const Retention& policy, std::uint64_t& removed, std::size_t batch) {
    removed = 0;
    std::uint64_t oldest = 0, last = 0;
    if (Status s = lsn_range(db, oldest, last); !s) return s;
    // Keep at least keep_updates entries and at least keep_bytes of log: the cut is
    // the lower (more keeping) of the two bounds that are set.
    std::uint64_t cut = oldest;
    if (policy.keep_updates != 0 || policy.keep_bytes != 0) {
        std::uint64_t by_count = last + 1, by_bytes = last + 1;
        if (policy.keep_updates != 0) by_count = last >= policy.keep_updates ? last - policy.keep_updates + 1 : 1;
        if (policy.keep_bytes != 0) {
            // Walk back from the newest entry until keep_bytes are covered: the
            // cost is the entries kept, not the whole log, and nothing is copied.
            by_bytes = oldest;
            std::uint64_t bytes = 0;
            Status s = env_.read("database " + std::string(db) + ": size the log", [&](MDB_txn* txn) {
                return walk_log(txn, db, last, true, [&](std::uint64_t lsn, std::span<const std::uint8_t> u) {
                    bytes += u.size();
                    if (bytes < policy.keep_bytes) return true;
                    by_bytes = lsn;
                    return false;
                });
            });
            if (!s) return s;
        }
        if (policy.keep_updates == 0) by_count = by_bytes;
        if (policy.keep_bytes == 0) by_bytes = by_count;
        cut = std::max(oldest, std::min(by_count, by_bytes));
    }
    if (policy.keep_from != 0) cut = std::min(cut, std::max(oldest, policy.keep_from));
    while (oldest < cut) {
        const std::uint64_t end = std::min<std::uint64_t>(cut, oldest + batch);
        std::uint64_t deleted = 0;
        Status s = env_.write("database " + std::string(db) + ": trim log", [&](MDB_txn* txn) {
            deleted = 0;
            std::uint32_t id = 0;
            RC_TRY(db_id(txn, db, true, id));
            MDB_dbi meta_dbi, log_dbi;
            RC_TRY(env_.dbi(txn, layout::kMetaDb, true, meta_dbi));
            RC_TRY(env_.dbi(txn, layout::kLogDb, true, log_dbi));
            // Another trimmer (the server and `replicast trim`) may have moved
            // oldest_lsn since it was read: start from what is stored now, and
            // never move it back, or the log would claim entries it no longer has.
            std::uint64_t stored = 1;
            RC_TRY(meta::get_u64(txn, meta_dbi, layout::per_db("oldest_lsn", id), stored, 1));
            if (stored >= end) return 0;
            for (std::uint64_t lsn = std::max(stored, oldest); lsn < end; ++lsn) {
                auto key = layout::log_key(id, lsn);
                MDB_val k{key.size(), key.data()};
                const int rc = mdb_del(txn, log_dbi, &k, nullptr);
                if (rc != 0 && rc != MDB_NOTFOUND) return rc;
                ++deleted;
            }
            return meta::put_u64(txn, meta_dbi, layout::per_db("oldest_lsn", id), end);
        });
        if (!s) return s;
        removed += deleted;
        oldest = end;
    }
    return Status::ok();
}

Status MasterStore::stream_state(std::string_view db, StreamState& out) {
    out = {};
    return env_.read("database " + std::string(db) + ": stream state", [&](MDB_txn* txn) {
        std::uint32_t id = 0;
        RC_TRY(db_id(txn, db, false, id));
        MDB_dbi meta_dbi;
        RC_TRY(env_.dbi(txn, layout::kMetaDb, false, meta_dbi));
        std::span<const std::uint8_t> v;
        bool found = false;
        RC_TRY(meta::get_bytes(txn, meta_dbi, layout::per_db("stream", id), v, found));
        if (!found) return 0;
        // 12 bytes: watermark and epoch; 20: and the last multicast LSN.
        if (v.size() != 12 && v.size() != 20) return static_cast<int>(kCorrupt);
        out.packet_seq_watermark = wire::load_be<std::uint64_t>(v.data());
        out.key_epoch = wire::load_be<std::uint32_t>(v.data() + 8);
        if (v.size() == 20) out.multicast_lsn = wire::load_be<std::uint64_t>(v.data() + 12);
        return 0;
    });
}

Status MasterStore::put_stream_state(std::string_view db, const StreamState& state) {
    return env_.write("database " + std::string(db) + ": stream state", [&](MDB_txn* txn) {
        std::uint32_t id = 0;
        RC_TRY(db_id(txn, db, true, id));
        MDB_dbi meta_dbi;
        RC_TRY(env_.dbi(txn, layout::kMetaDb, true, meta_dbi));
        std::uint8_t b[20];
        wire::store_be<std::uint64_t>(b, state.packet_seq_watermark);
        wire::store_be<std::uint32_t>(b + 8, state.key_epoch);
        wire::store_be<std::uint64_t>(b + 12, state.multicast_lsn);
        return meta::put_bytes(txn, meta_dbi, layout::per_db("stream", id), b);
    });
}

}  // namespace replicast::store

namespace replicast::store {

Status MasterStore::database_id(std::string_view db, bool create, std::uint32_t& id) {
    if (!layout::valid_name(db)) {
        return {kBadName, path() + ": database name \"" + std::string(db) + "\" must be 1..200 bytes, not starting with '_'"};
    }
    if (!create) {
        return env_.read("database " + std::string(db) + ": id", [&](MDB_txn* txn) { return db_id(txn, db, false, id); });
    }
    return env_.write("database " + std::string(db) + ": register", [&](MDB_txn* txn) {
        RC_TRY(db_id(txn, db, true, id));
        MDB_dbi data_dbi;
        return env_.dbi(txn, std::string(db), true, data_dbi);  // an empty database is still a database
    });
}

}  // namespace replicast::store
