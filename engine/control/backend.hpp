// What the control service needs from the process it runs in (the server):
// the master store, and the streams, which the server's control loop owns.
// engine/control has no DPDK and knows nothing of workers or rings; the server
// implements this interface (engine/server/control_backend.hpp).
//
// Threading: every method is called from gRPC threads, concurrently. The
// server's loop stays the single writer of stream state: it publishes an
// immutable StreamView per stream (read here without locks, RCU-style through
// shared_ptr: a view, and the keys in it, are wiped when the last reader drops
// it), and takes commands (rotate a key, start a stream) over a bounded queue
// it drains, so a handler never touches what a worker or the loop is using.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/crypto.h>

#include "crypto/gcm.hpp"
#include "engine/control/result.hpp"
#include "store/master.hpp"

namespace replicast::v1 {
class StatsReply;
}

namespace replicast::control {

/// One key epoch of a stream, raw (as handed to subscribers). Wiped when destroyed.
struct EpochKey {
    std::uint32_t epoch = 0;
    crypto::Key key{};

    EpochKey() = default;
    EpochKey(std::uint32_t e, const crypto::Key& k) : epoch(e), key(k) {}
    EpochKey(const EpochKey&) = default;
    EpochKey& operator=(const EpochKey&) = default;
    ~EpochKey() { OPENSSL_cleanse(key.data(), key.size()); }
};

/// A stream as the loop last published it. Immutable once published.
struct StreamView {
    std::string database;
    std::uint32_t stream_id = 0;
    bool streaming = false;              // multicast now
    std::uint32_t group = 0;             // host order
    std::uint16_t port = 0;
    std::uint32_t source = 0;            // data-plane source address, host order
    std::uint32_t key_epoch = 0;         // sealing now; 0 = unsealed
    std::vector<EpochKey> keys;          // current, announced next, previous in its overlap
    std::uint32_t heartbeat_interval_ms = 100;
};

/// A receiver's counters for one stream, as a request of it carried them
/// (ReceiveStats; totals since that follower started).
struct ReceiverReport {
    std::uint64_t packets = 0;
    std::uint64_t packets_missed = 0;
    std::uint64_t chains_applied = 0;
    std::uint64_t chains_dropped = 0;
    // Overrun (adaptive rate): totals, and the fullest either buffer was since the last report.
    std::uint64_t socket_drops = 0;
    std::uint64_t queue_overflows = 0;
    std::uint32_t buffer_fill_pct = 0;
};

class ControlBackend {
public:
    virtual ~ControlBackend() = default;

    /// The master store. Reads (log ranges, snapshots, LSN ranges) run in read
    /// transactions on the caller's thread; writes go through publish().
    virtual store::MasterStore& store() noexcept = 0;

    /// The stream of `database`; nullptr when it is not multicast (and, with
    /// `start`, could not be started: `why` says so).
    virtual std::shared_ptr<const StreamView> stream(std::string_view database, bool start, Result& why) = 0;
    /// The stream with `stream_id`; nullptr when there is none.
    virtual std::shared_ptr<const StreamView> stream(std::uint32_t stream_id) = 0;

    /// Commits `ops` to `database` through the store's hook (logged and
    /// multicast like a local write). A non-empty `request_id` seen within the
    /// window returns that commit's first LSN with `duplicate` set, writing nothing.
    virtual Result publish(std::string_view database, std::span<const wire::UpdateView> ops,
                           std::span<const std::uint8_t> request_id, std::uint64_t& first_lsn, bool& duplicate) = 0;

    /// Starts a new key epoch for the stream of `database` now (announced
    /// in-band, PROTOCOL.md 1.5). Waits for the loop to take the command.
    virtual Result rotate_key(std::string_view database, std::uint32_t& next_epoch) = 0;

    /// The stream's subscriptions (leases, engine/control/leases.hpp) run
    /// until `until_ns` (steady clock, nanoseconds since its epoch): the
    /// latest expiry of the leases running, or the moment the last one ended.
    /// The server's idle clock for the stream starts there. Called whenever a
    /// lease is taken, renewed or ended; calls for one stream come in order
    /// (the service holds its lease lock across the call), so keep it short
    /// and never wait on the loop.
    virtual void lease_horizon(std::uint32_t stream_id, std::uint64_t until_ns) = 0;

    /// `identity` reported its receive counters for `stream_id` (a Subscribe,
    /// Keys or Recover carried them): the server sizes the stream's chains
    /// from its receivers' loss ([bundle] adaptive). Default: ignored.
    virtual void receiver_report(std::string_view /*identity*/, std::uint32_t /*stream_id*/,
                                 const ReceiverReport& /*report*/) {}

    /// Fills the server part of Stats: uptime, packets, bytes, one row per stream.
    virtual void server_stats(v1::StatsReply& out) = 0;
};

}  // namespace replicast::control
