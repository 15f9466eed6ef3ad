// The master store: user databases, the update log, and the hook that ties
// them. write() applies a batch of ops to a database and appends one log entry
// per op, with consecutive LSNs, in the same LMDB transaction: no committed
// write can be missed by the multicaster, and no log entry exists without its
// write. After the commit it pokes the server's update detector (a datagram to
// <store>/notify.sock, best effort: the detector also polls).
//
// Several processes may write at once (LMDB's writer lock serialises them).
// Readers (log ranges, snapshots) run in read transactions and hand out views
// into the map; they never block writers.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/wire/update.hpp"
#include "store/env.hpp"
#include "store/status.hpp"

namespace replicast::store {

struct Retention {
    std::uint64_t keep_updates = 0;  // 0 = no count bound
    std::uint64_t keep_bytes = 0;    // 0 = no size bound; with both, whichever keeps more
    std::uint64_t keep_from = 0;     // 0 = no floor; else every LSN >= keep_from stays (not yet multicast,
                                     // or a bound on how much one call trims)
};

/// What the server keeps per stream so that no (key, IV) pair repeats across restarts.
struct StreamState {
    std::uint64_t packet_seq_watermark = 0;  // every packet_seq below it may have been used
    std::uint32_t key_epoch = 0;             // the last epoch used
    std::uint64_t multicast_lsn = 0;         // every LSN up to it has been multicast
};

struct Record {
    std::span<const std::uint8_t> key;
    std::uint16_t group = 0;
    std::span<const std::uint8_t> value;
};

class MasterStore {
public:
    /// Opens (creating when missing) the master store in directory `path`.
    /// Throws StoreError naming the path and the reason; a replica store is refused.
    MasterStore(const std::string& path, const EnvOptions& options = {});
    ~MasterStore();
    MasterStore(const MasterStore&) = delete;
    MasterStore& operator=(const MasterStore&) = delete;

    [[nodiscard]] const std::string& path() const noexcept { return env_.path(); }
    [[nodiscard]] const std::array<std::uint8_t, 16>& uuid() const noexcept { return uuid_; }
    [[nodiscard]] std::string uuid_text() const;

    /// The hook: applies `ops` to `db` (created on first write) and logs them.
    /// @param first_lsn set to the LSN given to ops[0].
    /// @return ok; kBadName, kBadUpdate (which op and why), or an LMDB/errno code
    ///         (a full disk: ENOSPC, with nothing of the batch committed).
    Status write(std::string_view db, std::span<const wire::UpdateView> ops, std::uint64_t* first_lsn = nullptr);

    /// A retried remote write (Publish) is identified by its request id.
    struct RequestId {
        std::span<const std::uint8_t> id;  // 0..kMaxRequestId bytes; empty = no id (a plain write)
        std::uint64_t now_ms = 0;          // the caller's wall clock, passed in
        std::uint64_t window_ms = 0;       // how long the id is remembered
    };
    static constexpr std::size_t kMaxRequestId = 64;

    /// write() exactly once per non-empty request id within the window: the id, the first LSN and
    /// the count are stored in the same transaction as the writes; a repeat within the window
    /// writes nothing, sets `duplicate` and returns the earlier first_lsn. Expired ids are pruned
    /// (a bounded number per call).
    /// The id is per database: the same id on another database is another request. A repeat
    /// whose ops differ from the first is still a repeat (the id is the caller's promise).
    /// @return as write(); kBadRequestId for an id longer than kMaxRequestId.
    Status write_once(std::string_view db, std::span<const wire::UpdateView> ops, const RequestId& request,
                      std::uint64_t& first_lsn, bool& duplicate);

    /// The database's id (stable for the store's life: the server's stream_id),
    /// registering the database when `create` is set. @return kNoSuchDatabase otherwise.
    Status database_id(std::string_view db, bool create, std::uint32_t& id);

    /// Names of the user databases.
    Status databases(std::vector<std::string>& out);
    /// Highest LSN written (0 when none) and oldest LSN still in the log.
    Status lsn_range(std::string_view db, std::uint64_t& oldest, std::uint64_t& last);

    /// One record. @return ok with `found`; kNoSuchDatabase.
    Status get(std::string_view db, std::span<const std::uint8_t> key, bool& found, std::vector<std::uint8_t>& value,
               std::uint16_t& group);

    /// Log entries with LSN in [from, to] in order, as encoded updates (wire format),
    /// views into the map valid during the call. `visit` returns false to stop.
    Status read_log(std::string_view db, std::uint64_t from, std::uint64_t to,
                    const std::function<bool(std::uint64_t lsn, std::span<const std::uint8_t> update)>& visit);

    /// A consistent snapshot: `at` gets the LSN it reflects, then every record in key order.
    Status snapshot(std::string_view db, const std::function<void(std::uint64_t lsn)>& at,
                    const std::function<bool(const Record&)>& visit);

    /// Drops log entries the policy no longer needs, in transactions of at most
    /// `batch` entries so that writers never wait long. @param removed count.
    Status trim(std::string_view db, const Retention& policy, std::uint64_t& removed, std::size_t batch = 1000);

    Status stream_state(std::string_view db, StreamState& out);
    Status put_stream_state(std::string_view db, const StreamState& state);

    /// Path of the update detector's socket.
    [[nodiscard]] std::string notify_path() const { return path() + "/notify.sock"; }

    Env& env() noexcept { return env_; }

private:
    int db_id(MDB_txn* txn, std::string_view name, bool create, std::uint32_t& id);
    Status write_impl(std::string_view db, std::span<const wire::UpdateView> ops, const RequestId* request,
                      std::uint64_t& first_lsn, bool& duplicate);
    int walk_log(MDB_txn* txn, std::string_view db, std::uint64_t start, bool backward,
                 const std::function<bool(std::uint64_t, std::span<const std::uint8_t>)>& visit);
    void notify(std::uint32_t db_id, std::uint64_t last_lsn) noexcept;

    Env env_;
    std::array<std::uint8_t, 16> uuid_{};
    std::vector<std::uint8_t> scratch_;  // encoded updates of the batch in flight
    int notify_fd_ = -1;
};

/// Canonical text of 16 UUID bytes (8-4-4-4-12 lowercase hex).
std::string uuid_to_text(const std::array<std::uint8_t, 16>& u);

}  // namespace replicast::store
