// The replicast server: the control core of DESIGN.md section 4. It owns the
// master store, the EAL and port, one tx worker per worker lcore, and the
// streams: the configured databases' (always on) and those a Subscribe starts
// (stopped again streams.idle_stop_seconds after the last subscription lease
// ran out or ended, stream_lifecycle.cpp). Its loop is the update detector:
// woken by the store's notify socket (polling as a fallback), it cuts each
// stream's new log entries into chain jobs, posts them to the stream's
// worker, takes finished jobs back, and persists what keeps IVs unique (the
// packet_seq watermark and key epoch) and how far each stream got.
//
// Every start begins a new key epoch; a clean stop persists the exact next
// packet_seq so the sequence continues, and a crash resumes past a reserved
// watermark (never reusing a packet_seq, and never a key either way). An
// epoch is used only once the store has recorded it, since a restart starts
// past the recorded one: a rotation the store cannot record (a full disk)
// keeps the current key and is tried again every second.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "crypto/key_log.hpp"
#include "engine/server/chain_job.hpp"
#include "engine/server/commands.hpp"
#include "engine/server/codec_stage.hpp"
#include "engine/server/config.hpp"
#include "engine/server/receiver_loss.hpp"
#include "engine/server/receiver_pressure.hpp"
#include "engine/server/stream.hpp"
#include "engine/logging/log.hpp"
#include "engine/tx/eal.hpp"
#include "engine/tx/port.hpp"
#include "engine/tx/profile.hpp"
#include "engine/tx/worker.hpp"
#include "store/master.hpp"
#include "store/notify.hpp"

struct rte_ring;

namespace replicast::server {

struct ServerOptions {
    bool once = false;           // multicast what the log holds at start, then stop
    bool force_no_huge = false;  // the operator's --no-huge
};

/// What a run did, for the final log line and the tests.
struct RunSummary {
    std::uint64_t chains = 0;
    std::uint64_t updates = 0;
    std::uint64_t packets = 0;
    std::uint64_t stalled = 0;  // streams stopped by a log entry that does not decode
};

class Server {
public:
    /// Brings everything up; throws (ConfigError, EalError, PortError,
    /// StoreError, std::runtime_error) with the reason.
    Server(ServerConfig config, ServerOptions options);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Runs until `stop` is set (SIGINT/SIGTERM) or, with `once`, until caught
    /// up; then drains the workers, persists the stream state and returns.
    RunSummary run(const std::atomic<bool>& stop);

    /// Every stream started so far (running or stopped), for statistics: a
    /// copy of the list, taken under the registry's lock (the loop appends to
    /// it when a database streams for the first time; a Stream is never freed
    /// before the Server). Read a stream's atomics and view(), not its plain fields.
    [[nodiscard]] std::vector<const Stream*> streams() const;
    [[nodiscard]] const tx::TxCounters& worker_counters(unsigned worker) const noexcept;
    [[nodiscard]] unsigned worker_lcore(unsigned worker) const noexcept { return workers_[worker]->lcore; }
    [[nodiscard]] std::size_t worker_count() const noexcept { return workers_.size(); }

    // For the control service (engine/server/control_backend.hpp); safe from
    // any thread: streams_ grows only under registry_mutex_, views are
    // published by the loop, statistics are atomics, and changes go through
    // commands() (start_stream starts a database's stream).
    [[nodiscard]] std::shared_ptr<const control::StreamView> view_of(std::string_view db) const;
    [[nodiscard]] std::shared_ptr<const control::StreamView> view_of(std::uint32_t stream_id) const;
    /// The stream's subscription leases run until `until_ns` (steady clock);
    /// its idle clock starts there. False for an unknown stream_id.
    bool set_lease_horizon(std::uint32_t stream_id, std::uint64_t until_ns) noexcept;
    [[nodiscard]] CommandQueue& commands() noexcept { return commands_; }
    /// A receiver's counters for a stream, from a control request (any thread):
    /// adaptive bundling weighs them at its next tick.
    void receiver_report(std::string_view identity, std::uint32_t stream_id, const control::ReceiverReport& r);
    /// The master store: its reads are thread-safe (store/env.hpp); writes from
    /// other threads serialise among themselves (MasterStore::write's scratch).
    [[nodiscard]] store::MasterStore& store() noexcept { return store_; }
    [[nodiscard]] const tx::PmdProfile& profile() const noexcept { return profile_; }
    [[nodiscard]] std::uint64_t started_ns() const noexcept { return started_ns_; }

private:
    struct Worker {
        unsigned lcore = 0;
        rte_ring* inbox = nullptr;
        rte_ring* outbox = nullptr;
        std::vector<ChainJob> jobs;
        std::vector<std::uint32_t> free_jobs;
        // One per slot of the worker's stream table (tx::TxWorkerConfig::max_streams):
        // the stream in it and the messages that slot may have in flight.
        struct Slot {
            Stream* owner = nullptr;  // null: free (a stopping stream keeps it until its stop is back)
            tx::TxStreamConfig config;
            tx::TxMessage start, stop, key;
        };
        std::vector<Slot> slots;
        std::uint32_t used = 0;
        std::unique_ptr<tx::TxWorker> tx;
        bool launched = false;
    };

    void open_streams();
    void start_workers();
    // Stream lifecycle (stream_lifecycle.cpp).
    Stream& add_stream(const std::string& db, std::uint32_t stream_id);
    Stream* find_stream(std::string_view db) noexcept;
    control::Result start_stream(Stream& s, std::optional<std::size_t> configured);
    bool pick_slot(unsigned& worker, std::uint32_t& slot) const;
    bool pick_group(const Stream& s, std::optional<std::size_t> configured, std::uint32_t& group) const;
    void stop_idle_streams();
    bool post_stop(Stream& s);
    void stopped(Stream& s, const tx::TxMessage& m);
    void answer_waiting(Stream& s, const control::Result& r);
    void start_on_request(Command& c);
    void refresh_last_lsns();
    bool reap();
    bool feed();
    bool feed_one(Stream& s);  // at most one chain: @return whether one was posted
    bool caught_up() const noexcept;
    void rotate_keys();
    void trim_logs();
    /// Stores the stream's watermark, newest epoch and multicast LSN; logs a failure (rate-limited).
    store::Status persist(Stream& s, bool exact);
    void log_stats();
    void stop_workers();
    void release_workers() noexcept;  // stop_workers, then free the rings: the destructor, or a failed start
    std::uint32_t make_key(Stream& s, std::uint32_t epoch);
    void drop_raw_keys_not_in_ring(Stream& s);
    void publish_view(Stream& s);
    control::Result rotate_stream(Stream& s, std::uint32_t& next);
    void run_commands();
    // Adaptive bundling (adaptive_bundling.cpp): each running stream's chain size from its receivers' loss.
    void adapt_bundles();
    void adapt_rates();  // adaptive_rate.cpp

    ServerConfig config_;
    ServerOptions options_;
    tx::PmdProfile profile_;
    store::MasterStore store_;
    std::unique_ptr<store::NotifyListener> notify_;
    std::optional<crypto::KeyLogWriter> key_log_;
    crypto::GcmEngine control_gcm_;  // expands keys on the control core
    std::unique_ptr<tx::Eal> eal_;
    std::unique_ptr<tx::Port> port_;
    ChainCutter cutter_;
    // Appended to by the loop alone, under registry_mutex_ (other threads look
    // streams up under it); the loop reads it without the lock.
    std::vector<std::unique_ptr<Stream>> streams_;
    mutable std::mutex registry_mutex_;
    std::uint32_t running_ = 0;           // streams holding a slot (running or stopping)
    std::uint64_t next_idle_check_ns_ = 0;
    std::vector<std::unique_ptr<Worker>> workers_;
    rte_ring* codec_ring_ = nullptr;        // control core -> codec lcore, when compression has its own lcore
    std::unique_ptr<CodecStage> codec_;
    bool codec_launched_ = false;
    std::uint64_t next_rotation_ns_ = 0;
    logging::RateLimit persist_log_{std::chrono::seconds(10), 3};  // per cause below: a full disk fails every persist
    logging::RateLimit rotation_log_{std::chrono::seconds(10), 3};
    std::uint64_t next_trim_ns_ = 0;
    std::size_t map_bytes_ = 0;  // the store's LMDB map as last logged
    std::uint64_t started_ns_ = 0;
    CommandQueue commands_;
    ReceiverLoss loss_;                    // receivers' reports (gRPC threads add, the loop reads)
    std::vector<double> loss_scratch_;     // the loop's, reused each tick
    std::uint64_t next_adapt_ns_ = 0;
    ReceiverPressure pressure_;            // receivers' overrun reports (gRPC threads add, the loop takes)
    std::uint64_t next_rate_tick_ns_ = 0;
};

}  // namespace replicast::server
