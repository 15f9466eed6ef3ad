// The control service's logic, one plain function per RPC of (identity,
// request, reply or writer): no gRPC ServerContext here, so tests and the fuzz
// target call the handlers directly and control_server.cpp only adapts them.
//
// Every handler: looks the identity up in the access list current at the call
// (PERMISSION_DENIED when unknown, without the role, or without the database),
// validates the request completely before it changes anything
// (INVALID_ARGUMENT), remembers the caller's ReceiveStats, and counts its answer.
//
// Recover and Snapshot read the store in LMDB read transactions on the
// caller's thread: writers never wait for them (LMDB MVCC). A slow reader only
// holds its own call; the number of such calls per identity is bounded
// (RESOURCE_EXHAUSTED beyond) and each ends at the stream deadline.
//
// Threading: every method may be called from any thread, concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "engine/control/access_list.hpp"
#include "engine/control/backend.hpp"
#include "engine/control/control_server.hpp"
#include "engine/control/leases.hpp"
#include "engine/control/replicast.pb.h"
#include "engine/control/result.hpp"

namespace replicast::control {

class Service {
public:
    /// `access` is the list loaded at start (never null).
    Service(const ControlConfig& config, ControlBackend& backend, std::shared_ptr<const AccessList> access);

    /// Installs a new access list; identities that lost databases fail Keys from
    /// now on, and each stream they could read gets a new key (backend.rotate_key).
    /// @return ok, or the first rotation that failed (the list is installed anyway).
    Result replace_access_list(std::shared_ptr<const AccessList> next);
    [[nodiscard]] std::shared_ptr<const AccessList> access_list() const { return std::atomic_load(&access_); }

    using RecoverWriter = std::function<bool(const v1::RecoverBatch&)>;  // false: the caller went away
    using SnapshotWriter = std::function<bool(const v1::SnapshotPage&)>;

    Result subscribe(std::string_view identity, const v1::SubscribeRequest& req, v1::Subscription& out);
    Result unsubscribe(std::string_view identity, const v1::UnsubscribeRequest& req, v1::UnsubscribeReply& out);
    Result keys(std::string_view identity, const v1::KeysRequest& req, v1::KeysReply& out);
    Result recover(std::string_view identity, const v1::RecoverRequest& req, const RecoverWriter& write);
    Result snapshot(std::string_view identity, const v1::SnapshotRequest& req, const SnapshotWriter& write);
    Result publish(std::string_view identity, const v1::PublishRequest& req, v1::PublishReply& out);
    Result databases(std::string_view identity, const v1::DatabasesRequest& req, v1::DatabasesReply& out);
    Result stats(std::string_view identity, const v1::StatsRequest& req, v1::StatsReply& out);
    Result rotate_key(std::string_view identity, const v1::RotateKeyRequest& req, v1::RotateKeyReply& out);

    /// Counts an answer the gRPC layer made itself (a message over the size
    /// limit, a refused call) so that ControlCounters see every answer class.
    void count(const Result& r) noexcept;
    /// Counts `r` (RESOURCE_EXHAUSTED) for a request that never arrived whole:
    /// over max_message_bytes, refused by gRPC's core (ControlCounters.oversize).
    void count_oversize(const Result& r) noexcept;
    [[nodiscard]] v1::ControlCounters counters() const;

private:
    struct Reported {
        v1::ReceiveStats stats;
        std::chrono::steady_clock::time_point at;
    };
    struct InFlight {
        std::uint32_t recoveries = 0;
        std::uint32_t snapshots = 0;
    };
    class Slot;

    Result finish(Result r) noexcept {
        count(r);
        return r;
    }
    /// The caller's entry when it holds `role` (and may use `db`, when given).
    Result admit(std::string_view identity, Role role, const std::string* db, std::shared_ptr<const AccessList>& list,
                 const AccessEntry*& entry);
    void remember(std::string_view identity, bool has, const v1::ReceiveStats& stats);
    // Leases (leases.hpp): take (Subscribe), renew (any call naming the stream
    // with ReceiveStats; no-op without a running lease), end (Unsubscribe).
    void take_lease(std::string_view identity, std::uint32_t stream_id);
    void renew_lease(std::string_view identity, std::uint32_t stream_id, bool has_stats);
    void renew_lease(std::string_view identity, const std::string& database, bool has_stats);
    bool end_lease(std::string_view identity, std::uint32_t stream_id);
    void fill_leases(v1::StatsReply& out);
    /// Passes a request's stats for `stream_id` on to the backend (bundle sizing).
    void report(std::string_view identity, std::uint32_t stream_id, bool has, const v1::ReceiveStats& stats);
    Result stream_database(std::uint32_t stream_id, std::shared_ptr<const StreamView>& view);

    const ControlConfig config_;
    ControlBackend& backend_;
    std::shared_ptr<const AccessList> access_;  // std::atomic_load / atomic_store
    const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();

    std::mutex mutex_;  // guards reported_ and in_flight_ (control plane only, never a data path)
    std::map<std::string, Reported, std::less<>> reported_;
    std::map<std::string, InFlight, std::less<>> in_flight_;
    // Subscriptions, one lease per (identity, stream): an identity only ever
    // renews or ends its own. lease_mutex_ is held across the backend's
    // lease_horizon call, so each stream's horizons reach the server in order.
    std::mutex lease_mutex_;
    LeaseTable leases_;

    struct Counters {
        std::atomic<std::uint64_t> calls{0}, denied{0}, invalid{0}, exhausted{0}, oversize{0}, recoveries{0}, recovered_lsns{0},
            snapshots{0}, snapshot_records{0}, publishes{0}, published_updates{0}, duplicate_publishes{0};
    } counters_;
};

/// Result <- store::Status: NOT_FOUND for a missing database, INVALID_ARGUMENT
/// for what the caller sent, INTERNAL for the rest.
Result from_store(const store::Status& s);

}  // namespace replicast::control
