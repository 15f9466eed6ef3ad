// The control calls the replica daemon makes (PROTOCOL.md section 2), as a
// small interface in plain C++ types. Production implements it with
// control::ControlClient (grpc_control_port.hpp); tests of the pure policies
// may script it. The statistics of every call (issue 11 item 8) ride along.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "crypto/gcm.hpp"
#include "engine/control/result.hpp"
#include "store/master.hpp"

namespace replicast::client {

using control::Code;
using control::Result;

/// What a receiver saw (mirrors v1::ReceiveStats).
struct ReceiveStats {
    std::uint64_t packets = 0, bytes = 0, chains_applied = 0, chains_dropped = 0, gaps = 0, lsns_recovered = 0,
                  decrypt_failures = 0, window_ms = 0, applied_lsn = 0, lag_lsns = 0, replays = 0, wrong_source = 0,
                  queue_overflows = 0, snapshots = 0, packets_missed = 0, socket_drops = 0,
                  buffer_fill_pct = 0;
};

struct StreamKey {
    std::uint32_t epoch = 0;
    crypto::Key key{};
};

struct KeySet {
    std::uint32_t key_epoch = 0;  // sealing now (0: unsealed stream)
    std::vector<StreamKey> keys;
    std::uint32_t lease_ms = 0;   // Keys: how long the caller's lease runs from now (0: none held)
};

struct Subscription {
    std::string database;
    std::uint32_t stream_id = 0;
    std::uint32_t group = 0;   // host order
    std::uint16_t port = 0;
    std::uint32_t source = 0;  // host order
    std::array<std::uint8_t, 16> store_uuid{};
    KeySet keys;
    bool all_groups = true;
    std::vector<std::uint16_t> reader_groups;
    std::uint64_t last_lsn = 0;
    std::uint64_t oldest_lsn = 1;
    std::uint32_t heartbeat_interval_ms = 100;
    std::uint32_t lease_ms = 0;   // the subscription's lease (0: a server without leases)
};

/// One batch of a Recover stream: a chain body of update_count updates, or a placeholder.
struct RecoveredBatch {
    std::uint64_t first_lsn = 0;
    std::uint32_t update_count = 0;
    std::span<const std::uint8_t> body;  // valid during the callback
    bool placeholder = false;
};

/// One page of a Snapshot stream; views valid during the callback.
struct SnapshotPage {
    bool first = false;
    std::uint64_t lsn = 0;                       // first page
    std::array<std::uint8_t, 16> store_uuid{};   // first page
    std::span<const store::Record> records;
    bool last = false;
    std::uint64_t record_count = 0;  // last page
    std::string sha256;              // last page
};

struct DatabaseEntry {
    std::string name;
    bool streaming = false;
    std::uint64_t last_lsn = 0;
};

class ControlPort {
public:
    virtual ~ControlPort() = default;
    virtual Result subscribe(const std::string& database, Subscription& out, const ReceiveStats& stats) = 0;
    virtual Result unsubscribe(std::uint32_t stream_id, const ReceiveStats& stats) = 0;
    virtual Result keys(std::uint32_t stream_id, KeySet& out, const ReceiveStats& stats) = 0;
    /// [from, to] in order; `on_batch` returning false cancels (the Result is then CANCELLED).
    virtual Result recover(std::uint32_t stream_id, std::uint64_t from, std::uint64_t to,
                           const std::function<bool(const RecoveredBatch&)>& on_batch, const ReceiveStats& stats) = 0;
    virtual Result snapshot(const std::string& database, const std::function<bool(const SnapshotPage&)>& on_page,
                            const ReceiveStats& stats) = 0;
    virtual Result databases(std::vector<DatabaseEntry>& out, const ReceiveStats& stats) = 0;
};

}  // namespace replicast::client
