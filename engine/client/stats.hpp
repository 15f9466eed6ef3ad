// The statistics of one followed database (issue 11 item 9), kept by the
// processing thread and copied out for `replicast client-stats`, the periodic
// log line and the ReceiveStats that ride on every control call.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "engine/client/control_port.hpp"

namespace replicast::client {

/// Apply latency per chain (one replica transaction), log2 buckets of
/// nanoseconds: bucket i counts latencies in [2^i, 2^(i+1)) ns.
struct LatencyHistogram {
    static constexpr std::size_t kBuckets = 40;
    std::array<std::uint64_t, kBuckets> buckets{};
    std::uint64_t count = 0;
    void add(std::uint64_t ns) noexcept;
    /// The upper bound of the bucket that holds quantile q (0..1), in ns; 0 when empty.
    [[nodiscard]] std::uint64_t quantile(double q) const noexcept;
};

struct FollowerStats {
    std::string database;
    std::string state;  // "starting", "bootstrapping", "following", "unicast", "denied", "failed", "stopped"
    std::uint32_t stream_id = 0;
    std::uint32_t key_epoch = 0;
    // receive thread (copied from rx::RxCounters)
    std::uint64_t datagrams = 0, packets = 0, bytes = 0, malformed = 0, truncated = 0, bad_length = 0,
                  wrong_source = 0, wrong_stream = 0,
                  replays = 0, too_old = 0, unknown_epoch = 0, open_failures = 0, queue_overflows = 0;
    // processing thread
    std::uint64_t packets_missed = 0;  // packet_seq skipped within a key epoch (ReceiveStats.packets_missed)
    // Overrun, sampled by the processing thread (ReceiveStats 17, 18; adaptive rate on the server):
    std::uint64_t socket_drops = 0;     // datagrams the socket dropped for a full receive buffer (SO_MEMINFO)
    std::uint32_t buffer_fill_pct = 0;  // the socket buffer or receive queue at its fullest since the last report
    std::uint64_t slot_bytes = 0;       // the receive queue's slot (the largest datagram taken whole)
    std::uint64_t chains_applied = 0, updates_applied = 0, chains_duplicate = 0, chains_buffered = 0,
                  chains_dropped_buffer_full = 0, chains_dropped_broken = 0, gaps = 0, recoveries = 0,
                  recover_failures = 0, lsns_recovered = 0, bytes_recovered = 0, snapshots = 0, snapshot_records = 0, key_fetches = 0,
                  reports = 0, resubscribes = 0, unicast_periods = 0, store_errors = 0;
    std::uint64_t applied_lsn = 0, known_last_lsn = 0, lag_lsns = 0;
    double lag_seconds = 0.0;
    LatencyHistogram apply_latency;
    std::uint64_t started_ns = 0;  // steady clock, for window_ms

    [[nodiscard]] ReceiveStats receive_stats(std::uint64_t now_ns) const noexcept;
};

/// The JSON object `replicast client-stats` prints for one database.
std::string to_json(const FollowerStats& s);
/// A one-line summary for the periodic log.
std::string summary_line(const FollowerStats& s);

}  // namespace replicast::client
