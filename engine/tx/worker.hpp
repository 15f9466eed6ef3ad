// A tx worker: one per worker lcore, in the shape of DPDK's l3fwd loop.
//
//   for (;;) {
//     dequeue a burst of messages (chains, key changes) from the inbox ring
//     for the chain at the head: take the packets whose pacing deadline has
//       come, write Ethernet/IPv4/UDP/replicast headers into fresh mbufs, seal
//       the chain's slices straight from the chain buffer into the mbufs (one
//       ipsec-mb burst), UDP checksum, rte_eth_tx_burst; keep what the ring
//       refused for the next turn (counted, never dropped)
//     between chains: key-change announcements, key switches, heartbeats
//     hand finished messages back on the outbox ring
//   }
//
// Nothing in the loop allocates, locks, makes a system call or logs (but for
// the sleeps of the "sleep" idle policy, taken only with nothing to send); the
// control core reads the per-worker counters. All state is owned by the
// worker's lcore; the control core talks to it only through the rings, and
// configures streams before launch.
#pragma once

#include <atomic>
#include <memory>
#include <cstdint>
#include <vector>

#include "crypto/gcm.hpp"
#include "engine/chain/segment.hpp"
#include "engine/pace/pacer.hpp"
#include "engine/tx/frame_template.hpp"
#include "engine/tx/idle_backoff.hpp"
#include "engine/tx/messages.hpp"

struct rte_ring;
struct rte_mempool;
struct rte_mbuf;

namespace replicast::tx {

inline constexpr unsigned kBurst = 32;  // packets per seal burst and per rte_eth_tx_burst
inline constexpr unsigned kSealGroup = 8;  // frames sealed, then checksummed, while still in L1

struct TxStreamConfig {
    std::uint32_t stream_id = 0;
    FrameAddressing addressing;
    std::uint64_t next_seq = 1;       // first packet_seq this run sends (from the persisted watermark)
    std::uint32_t key_epoch = 0;      // 0 = unsealed
    const crypto::GcmKey* key = nullptr;
    pace::PaceConfig pace;
    std::uint64_t heartbeat_interval_ns = 100'000'000;  // PROTOCOL.md 1.4: 100 ms idle
    std::uint64_t key_announce_ns = 2'000'000'000;      // 1.5: announce during the 2 s before a switch
    std::uint64_t key_announce_every_ns = 100'000'000;  // 1.5: every 100 ms
    std::uint32_t max_payload = 1432;
    std::uint64_t last_lsn = 0;  // highest LSN multicast so far (for heartbeats)
};

/// Per-worker counters, written only by the worker, read by the control core.
struct alignas(64) TxCounters {
    std::atomic<std::uint64_t> packets{0};
    std::atomic<std::uint64_t> bytes{0};  // frame bytes handed to the port
    std::atomic<std::uint64_t> chains{0};
    std::atomic<std::uint64_t> updates{0};
    std::atomic<std::uint64_t> heartbeats{0};
    std::atomic<std::uint64_t> key_announcements{0};
    std::atomic<std::uint64_t> key_switches{0};
    std::atomic<std::uint64_t> tx_ring_full{0};      // rte_eth_tx_burst took fewer than offered
    std::atomic<std::uint64_t> mbuf_exhausted{0};    // rte_pktmbuf_alloc_bulk failed: retried next turn
    std::atomic<std::uint64_t> seal_errors{0};
    std::atomic<std::uint64_t> pacing_waits{0};      // loop turns where the next packet was not due yet
    std::atomic<std::uint64_t> dropped_at_stop{0};   // frames freed unsent: stopping, the port took nothing for 1 s
    std::atomic<std::uint64_t> idle_sleeps{0};       // idle policy "sleep": sleeps taken with nothing to send
};

struct TxWorkerConfig {
    std::uint16_t port = 0;
    std::uint16_t queue = 0;
    rte_mempool* pool = nullptr;
    rte_ring* inbox = nullptr;   // TxMessage*, single producer (control core), single consumer (this worker)
    rte_ring* outbox = nullptr;  // TxMessage* handed back
    bool checksum_offload = false;
    crypto::GcmArch crypto_arch = crypto::GcmArch::best;  // narrower only for benchmarks
    IdlePolicy idle;  // what an empty pass does (the profile's workers.idle)
    std::vector<TxStreamConfig> streams;  // sending from the start, in slots 0..n-1
    // Slots in the stream table: at least streams.size(); the others wait for
    // a stream_start message (TxMessage). Fixed here so the loop never grows it.
    std::uint32_t max_streams = 0;
};

class TxWorker {
public:
    /// Throws std::runtime_error (from GcmEngine) if ipsec-mb cannot initialise,
    /// or if a stream's key was expanded for another ipsec-mb code path.
    explicit TxWorker(TxWorkerConfig config);

    /// The loop; returns when stop() was called and every message was sent, or,
    /// once stopping, when the port has taken nothing for a second (link down):
    /// then what is left is freed and counted (dropped_at_stop), and chains not
    /// wholly sent go back marked `dropped`, so the server does not count them.
    /// Run it on the worker lcore: rte_eal_remote_launch(&TxWorker::launch, worker, lcore).
    int run() noexcept;
    static int launch(void* self) noexcept { return static_cast<TxWorker*>(self)->run(); }

    /// Asks the loop to drain its inbox, send a final heartbeat per stream, and return.
    void stop() noexcept { stop_.store(true, std::memory_order_release); }

    [[nodiscard]] const TxCounters& counters() const noexcept { return counters_; }
    /// The ipsec-mb code path this worker seals with (GcmEngine::arch_name()).
    [[nodiscard]] std::string_view crypto_path() const noexcept { return gcm_.arch_name(); }
    /// packet_seq each stream will use next; read after run() returned (persisted as the watermark).
    [[nodiscard]] std::uint64_t next_seq(std::uint32_t stream) const noexcept { return streams_[stream].seq; }
    /// Adaptive rate, from the control core: slot `stream` paces at
    /// `ticks_per_byte` (pace::Pacer::ticks_per_byte_for its new cap) from its
    /// next chain; 0 keeps the cap its config gave it. One relaxed store here,
    /// one relaxed load per chain there: no message, so a cap lowered for an
    /// overrun receiver does not wait behind the chains already queued.
    void set_pace_rate(std::uint32_t stream, std::uint64_t ticks_per_byte) noexcept {
        pace_rates_[stream].store(ticks_per_byte, std::memory_order_relaxed);
    }
    /// Slots in the stream table (TxWorkerConfig::max_streams).
    [[nodiscard]] std::uint32_t slots() const noexcept { return static_cast<std::uint32_t>(streams_.size()); }
    [[nodiscard]] std::uint32_t key_epoch(std::uint32_t stream) const noexcept { return streams_[stream].epoch; }

private:
    struct Stream;
    /// Writes, seals and checksums the frames of `n` slices of the current
    /// chain into `mbufs`; false when sealing failed (the chain is abandoned).
    /// One instance per (sealed, checksum offload): both are fixed for a
    /// stream, so the choice is made at setup (and again at a key switch), not
    /// per packet.
    using BuildFrames = bool (TxWorker::*)(Stream& s, rte_mbuf** mbufs, const chain::Segment* segs, unsigned n,
                                           std::uint64_t& bytes) noexcept;

    struct Stream {
        TxStreamConfig config;
        bool active = false;  // a free slot sends nothing (between_chains skips it)
        FrameTemplate frame;
        pace::Pacer pacer;
        bool unpaced;  // the pacer would pass every packet: not asked
        std::uint64_t seq;
        std::uint32_t epoch;
        const crypto::GcmKey* key;
        std::uint64_t last_lsn;
        // The config's intervals in TSC ticks, converted once: a conversion
        // divides 128 bits, and between_chains runs on every idle pass.
        std::uint64_t heartbeat_tsc = 0;        // heartbeat_interval_ns
        std::uint64_t announce_window_tsc = 0;  // key_announce_ns
        std::uint64_t announce_every_tsc = 0;   // key_announce_every_ns
        std::uint32_t frame_overhead = 0;       // frame bytes beyond a packet's payload (headers, tag when sealed)
        BuildFrames build = nullptr;
        std::uint64_t last_tx_tsc = 0;
        std::uint64_t last_heartbeat_tsc = 0;
        // key change in progress
        TxMessage* pending_key = nullptr;
        unsigned announcements = 0;  // of pending_key so far
        std::uint64_t switch_tsc = 0;
        std::uint64_t next_announce_tsc = 0;
    };

    template <bool kSealed, bool kOffload>
    bool build_frames(Stream& s, rte_mbuf** mbufs, const chain::Segment* segs, unsigned n,
                      std::uint64_t& bytes) noexcept;
    /// Fixes what depends on whether `s` is sealed: its frame builder and overhead.
    void choose_frame_path(Stream& s) noexcept;

    Stream make_stream(const TxStreamConfig& c, bool active) noexcept;
    /// @return how many inbox messages it took (0: the inbox was empty)
    unsigned take_messages() noexcept;
    /// stream_start / stream_stop: the slot's lifecycle, between chains.
    void start_stream(TxMessage* m) noexcept;
    void stop_stream(TxMessage* m, std::uint64_t now) noexcept;
    void final_heartbeat(Stream& s, std::uint64_t now) noexcept;
    void send_chain_packets(std::uint64_t now) noexcept;
    void complete_chain() noexcept;
    /// Heartbeats, key announcements and switches of every stream but `busy`
    /// (the one whose chain is in progress, or none).
    void between_chains(std::uint64_t now, const Stream* busy) noexcept;
    /// @return whether the packet was built and handed over (or queued to retry).
    bool send_control(Stream& s, std::uint8_t flags, const std::uint8_t* payload, std::uint16_t len,
                      std::uint64_t now) noexcept;
    void flush_pending(std::uint64_t now) noexcept;
    void abandon_at_stop() noexcept;
    void switch_key(Stream& s) noexcept;
    void finish_message(TxMessage* m) noexcept;
    std::uint64_t ns_to_tsc(std::uint64_t ns) const noexcept;

    TxWorkerConfig config_;
    crypto::GcmEngine gcm_;
    std::vector<Stream> streams_;  // every slot, active or free: sized once
    std::unique_ptr<std::atomic<std::uint64_t>[]> pace_rates_;  // per slot: set_pace_rate's (0: the config's cap)
    std::uint32_t active_ = 0;     // slots in use
    std::uint64_t tsc_hz_;
    std::uint64_t once_per_second_tsc_;  // heartbeats at least this often, even when busy
    std::uint64_t control_check_tsc_;    // other streams' control work during a chain, this often
    std::atomic<bool> stop_{false};
    TxCounters counters_;
    IdleBackoff idle_;

    // The message being sent, and how far.
    TxMessage* current_ = nullptr;
    std::size_t next_segment_ = 0;
    std::size_t segments_ = 0;

    // Inbox messages taken but not started yet (a small FIFO; the ring holds the rest).
    std::array<TxMessage*, kBurst> queued_{};
    unsigned queued_head_ = 0;
    unsigned queued_count_ = 0;

    // Mbufs allocated in bulk ahead of pacing (taken from the end).
    std::array<rte_mbuf*, kBurst> stash_{};
    unsigned stash_count_ = 0;

    // Frames rte_eth_tx_burst refused, sent first on the next turn.
    std::array<rte_mbuf*, kBurst> pending_{};
    unsigned pending_count_ = 0;
    std::uint64_t next_control_tsc_ = 0;  // next look at the other streams' control work during a chain
    std::uint64_t stalled_since_ = 0;  // TSC of the first refused offer since the port last took a frame; 0: not stalled
};

}  // namespace replicast::tx
