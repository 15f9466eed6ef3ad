// One multicast stream as the control core sees it: a database, its group and
// port, its tx worker, how far its log has been cut and multicast, and its
// keys. Statistics are atomics because DPDK telemetry reads them from its own
// thread.
#pragma once

#include <atomic>
#include <future>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "crypto/key_ring.hpp"
#include "engine/control/backend.hpp"
#include "engine/server/bundle_controller.hpp"
#include "engine/server/commands.hpp"
#include "engine/server/rate_controller.hpp"

namespace replicast::server {

// A crash loses the exact next packet_seq; the next start resumes at the
// persisted watermark, which runs this far ahead of what was used. 2^40
// packets is days at line rate, and the 64-bit sequence holds 2^24 such jumps.
inline constexpr std::uint64_t kSeqReserve = std::uint64_t{1} << 40;

// A rotation the store could not record (a full disk) is tried again this
// often: soon enough that a revoked identity does not keep the key for long
// once there is room, rarely enough that a full disk costs little.
inline constexpr std::uint64_t kRotationRetryNs = 1'000'000'000;

struct StreamStats {
    std::atomic<std::uint64_t> chains{0};
    std::atomic<std::uint64_t> updates{0};
    std::atomic<std::uint64_t> body_bytes{0};    // uncompressed chain bodies
    std::atomic<std::uint64_t> record_bytes{0};  // chain records as carried (after compression)
    std::atomic<std::uint64_t> skipped_lsns{0};  // trimmed by retention before they were multicast
    std::atomic<std::uint64_t> multicast_lsn{0};
    std::atomic<std::uint64_t> last_lsn{0};
    std::atomic<std::uint64_t> key_epoch{0};
    std::atomic<std::uint64_t> key_switches{0};
    std::atomic<std::uint64_t> epochs_not_recorded{0};  // rotations refused: the store could not record the epoch
    std::atomic<std::uint64_t> trimmed{0};       // log entries removed by retention
    // Written by the control service (ControlBackend::lease_horizon): its
    // leases run until then (steady clock ns); the idle clock starts there.
    std::atomic<std::uint64_t> lease_until_ns{0};
    std::atomic<std::uint64_t> starts{0};        // times started (the first start included)
    std::atomic<std::uint32_t> chain_updates{0}; // updates per chain the cutter allows now (adaptive bundling)
    std::atomic<std::uint32_t> lossy_receivers{0};  // receivers whose loss the last decision weighed
    std::atomic<std::uint32_t> loss_ppm{0};      // the highest of their loss rates, parts per million
    std::atomic<std::uint64_t> bundle_changes{0};   // times the chain size changed
    std::atomic<std::uint64_t> rate_bps{0};         // the pacing cap now ([pacing] adaptive; else the configured one)
    std::atomic<std::uint64_t> rate_changes{0};     // times adaptive rate changed it
    std::atomic<std::uint64_t> overrun_reports{0};  // receivers' reports of overrun (socket drops, a full buffer)
};

/// The stream as the control service sees it: an immutable view the loop
/// replaces whenever keys or addressing change. Readers copy the pointer under
/// the mutex (held for that copy only) and read the view without it; a view
/// and its raw keys are wiped when the last reader drops it (RCU by refcount).
class PublishedView {
public:
    void publish(std::shared_ptr<const control::StreamView> v) {
        std::lock_guard lock(mutex_);
        view_ = std::move(v);
    }
    [[nodiscard]] std::shared_ptr<const control::StreamView> get() const {
        std::lock_guard lock(mutex_);
        return view_;
    }

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const control::StreamView> view_;
};

struct Stream {
    enum class Run : std::uint8_t {
        stopped,   // no slot, no keys; its view says streaming = false
        running,   // in a worker's slot, fed by the loop
        stopping,  // idle: fed no more; its stop is posted once nothing of it is in flight
    };

    std::string db;
    std::uint32_t stream_id = 0;  // the database's id in the store: stable across restarts
    bool always_on = false;       // configured (streams.databases): never stopped for idleness
    Run run = Run::stopped;
    bool stop_posted = false;     // stopping: the worker has its stream_stop
    bool restart = false;         // stopping, and a Subscribe wants it: started again once stopped
    // Subscribe handlers waiting for it to run (a start asked for while it stops).
    std::vector<std::promise<CommandReply>> waiting;
    // Fields below: the loop's; other threads read the view and the stats only.
    std::uint32_t group = 0;      // host order
    std::uint16_t port = 0;
    unsigned worker = 0;          // index of the tx worker that owns it
    std::uint32_t slot = 0;       // its index in that worker's stream table
    std::uint64_t idle_from_ns = 0;  // started (or a stop taken back) then: idle no earlier than from there

    std::uint64_t next_lsn = 1;       // the next LSN to cut into a chain
    std::uint64_t multicast_lsn = 0;  // every LSN up to it has left (chains come back in order)
    std::uint64_t last_lsn = 0;       // the newest LSN in the log, as last read
    std::uint64_t target_lsn = 0;     // --once: stop when multicast_lsn reaches it
    std::uint64_t first_seq = 1;      // packet_seq of this run's first packet
    std::uint64_t highest_seq = 0;    // the highest packet_seq seen in a returned message
    std::uint64_t watermark = 0;      // persisted: no packet_seq at or above it has been used
    std::uint32_t epoch = 0;          // current key epoch (0: unsealed)
    std::uint32_t newest_made = 0;    // the newest epoch a key was made for: never made twice, even if not used
    bool key_change_pending = false;
    bool stalled = false;             // its log holds an entry that does not decode: stopped, operator's call
    bool rotate_after_switch = false; // a rotation asked for while a switch was announced: made once it happened
    std::uint64_t rotation_retry_ns = 0;  // a rotation the store could not record: tried again then (0: none)
    std::unique_ptr<crypto::KeyRing> keys;
    // Adaptive bundling: the size the cutter reads at each chain boundary; only the loop changes it.
    BundleController bundle{BundleBounds{}};
    // Adaptive rate: the cap; the loop is its only writer and tells the worker (TxWorker::set_pace_rate).
    RateController rate{RateBounds{}};
    // The raw keys of the epochs `keys` holds, for subscribers (Keys, Subscribe):
    // never logged (but to the opt-in key log), wiped when their epoch is retired.
    std::vector<control::EpochKey> raw_keys;
    PublishedView view;

    StreamStats stats;
};

}  // namespace replicast::server
