// One followed database of the replica daemon (issue 11 items 1-8): its
// subscription, its receive thread (engine/rx) and, on the caller's
// processing thread, the path from opened packets to the replica:
//
//   rx queue -> Reassembler (PROTOCOL.md 1.3) -> complete chain
//            -> GapPolicy (by LSN) -> apply in order (ReplicaStore, one
//               transaction per chain, body already validated; once a gap
//               closes, the buffered chains that follow on go in batches)
//                                   -> or buffer (bounded) / drop, and Recover
//   heartbeat -> GapPolicy (a lost last chain)
//   unknown epoch, KEYCHANGE -> Keys at once (at most every keys_interval)
//   Recover OUT_OF_RANGE -> Snapshot bootstrap, checksum verified, continue at LSN + 1
//   PERMISSION_DENIED (any call) -> stop following, the replica stays readable
//   ErrorRatePolicy -> resubscribe; leave multicast for periodic Recover; rejoin
//   silence (no packet, not even a heartbeat, for silence_ns) -> resubscribe
//
// Restart resumes from the replica's applied LSN; bootstraps when
// store::bootstrap_reason says so.
//
// Threading: every method on one processing thread (the receive thread is the
// follower's own, started by start() and joined by stop()/the destructor).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/chain/reassembler.hpp"
#include "engine/client/control_port.hpp"
#include "engine/client/error_rate.hpp"
#include "engine/client/gap_policy.hpp"
#include "engine/client/stats.hpp"
#include "engine/rx/receiver.hpp"
#include "engine/rx/socket.hpp"
#include "engine/rx/wakeup.hpp"
#include "store/replica.hpp"

namespace replicast::client {

struct ReceiveConfig {
    std::string interface;             // where to join (required)
    std::size_t rcvbuf_bytes = 32u << 20;
    std::size_t batch = 32;            // datagrams per recvmmsg
    std::size_t queue_slots = 8192;    // power of two
    std::size_t max_datagram = 0;      // 0: the interface's (rx::interface_max_datagram), else 9216
    bool prefault_queue = false;       // rx::ReceiverConfig::prefault_queue
};

struct FollowerConfig {
    std::string database;
    ReceiveConfig receive;
    GapConfig gap;
    ErrorRateConfig error_rate;
    std::uint64_t keys_interval_ns = 100'000'000;  // Keys at most this often for unknown epochs
    std::size_t drain_limit = 4096;                // packets handled per step()
    /// No packet at all for this long (and at least 10 heartbeat intervals):
    /// subscribe again. A server restart may have moved the stream, or the
    /// host lost its group membership; heartbeats make silence abnormal.
    std::uint64_t silence_ns = 3'000'000'000;
    /// The follower's ReceiveStats go to the server (a Keys call) this often,
    /// and at least every third of the lease the Subscription named: that
    /// renews the subscription's lease (PROTOCOL.md 2.1, docs/protocol-notes.md).
    std::uint64_t report_interval_ns = 10'000'000'000;
    /// Set (by a signal handler) to end a Recover or Snapshot stream between
    /// two batches, so that a stop never waits for a long catch-up. May be null.
    const std::atomic<bool>* cancel = nullptr;
    /// Notified by the receive thread after each batch, so the loop stepping
    /// this follower may sleep while there is nothing to do. May be null.
    rx::Wakeup* wakeup = nullptr;
    /// Called between two batches of a Recover or Snapshot stream (on this
    /// thread): the daemon answers its stats socket there, so that its
    /// statistics stay readable during a catch-up or bootstrap of minutes.
    /// May be empty.
    std::function<void()> between_batches;
};

class Follower {
public:
    enum class State : std::uint8_t { idle, following, unicast, denied, failed, stopped };

    Follower(const FollowerConfig& config, store::ReplicaStore& replica, ControlPort& control);
    ~Follower();
    Follower(const Follower&) = delete;
    Follower& operator=(const Follower&) = delete;

    /// Subscribe, bootstrap when needed, join, start the receive thread.
    /// @return ok; PERMISSION_DENIED (state denied); other codes (state failed: retry start later).
    Result start(std::uint64_t now_ns);
    /// One turn: keys, up to drain_limit packets, recovery, the error-rate policy.
    /// @return how much work it did (packets + LSNs recovered); 0 = idle.
    std::size_t step(std::uint64_t now_ns);
    /// Stops the receive thread and unsubscribes (best effort). Idempotent.
    void stop(std::uint64_t now_ns);

    [[nodiscard]] State state() const noexcept { return state_; }
    [[nodiscard]] const std::string& database() const noexcept { return config_.database; }
    /// A copy of the statistics, receive counters included.
    [[nodiscard]] FollowerStats stats(std::uint64_t now_ns) const;
    [[nodiscard]] std::uint64_t applied_lsn() const noexcept { return gap_ ? gap_->next() - 1 : 0; }

private:
    Result subscribe_and_join(std::uint64_t now_ns);
    Result join(std::uint64_t now_ns);  // subscribe_and_join, which may throw
    void leave();
    Result install_keys(const KeySet& keys);
    Result fetch_keys(std::uint64_t now_ns);
    void report(std::uint64_t now_ns);  // ReceiveStats to the server, renewing the lease
    [[nodiscard]] std::uint64_t report_interval_ns() const noexcept;
    Result bootstrap(std::uint64_t now_ns, const char* why);
    Result recover(const LsnRange& range, std::uint64_t now_ns);
    void handle_chain(const chain::CompleteChain& c, std::uint64_t now_ns);
    bool apply_chain(std::uint64_t first, std::uint32_t count, std::span<const std::uint8_t> body, bool validated,
                     std::uint64_t now_ns);
    void drain_buffer(std::uint64_t now_ns);
    std::size_t drain_queue(std::uint64_t now_ns);
    void count_missed(const wire::PacketHeader& h) noexcept;  // stats_.packets_missed
    bool on_denied(const Result& r, const char* call);
    [[nodiscard]] bool cancelled() const noexcept;
    [[nodiscard]] bool keys_wanted(std::uint64_t now_ns) noexcept;
    static std::uint64_t steady_now() noexcept;  // inside a long Recover only: its batches have no step() time
    void set_filter();

    FollowerConfig config_;
    store::ReplicaStore& replica_;
    ControlPort& control_;
    State state_ = State::idle;
    Subscription sub_;
    std::vector<std::uint16_t> groups_;
    store::GroupFilter filter_;

    std::unique_ptr<rx::RxSocket> socket_;
    std::unique_ptr<rx::Receiver> receiver_;
    std::atomic<bool> stop_rx_{false};
    std::thread rx_thread_;

    std::unique_ptr<chain::Reassembler> reassembler_;  // one per stream incarnation
    std::uint64_t reassembler_drops_seen_ = 0;
    bool seq_seen_ = false;         // packet_seq of this incarnation seen yet
    std::uint32_t seq_epoch_ = 0;   // the key epoch of last_seq_
    std::uint64_t last_seq_ = 0;    // the highest packet_seq seen in that epoch
    std::unique_ptr<GapPolicy> gap_;
    ErrorRatePolicy error_rate_;
    struct Buffered {
        std::uint32_t count = 0;
        std::vector<std::uint8_t> body;
    };
    std::map<std::uint64_t, Buffered> buffer_;  // by first LSN; only while a gap is open
    std::vector<std::uint8_t> batch_body_;      // consecutive buffered chains applied as one (grows only)
    // In-order chains of one queue pass, committed together at its end (or at
    // a bound): behind, one commit per pass instead of one per chain; at the
    // head a chain is alone in its pass and commits at once.
    struct Staged {
        std::uint64_t first = 0;
        std::uint64_t last = 0;
        std::uint32_t count = 0;
        std::size_t chains = 0;
        std::vector<std::uint8_t> body;  // grows only
    } staged_;
    void stage(std::uint64_t first, std::uint32_t count, std::span<const std::uint8_t> body, std::uint64_t now_ns);
    void flush_staged(std::uint64_t now_ns);
    std::uint64_t next_keys_at_ = 0;
    std::uint64_t next_report_at_ = 0;
    std::uint64_t next_unicast_poll_ = 0;
    std::uint64_t behind_since_ns_ = 0;
    std::uint64_t last_packets_ = 0;       // the receiver's packet count at the last step
    std::uint64_t last_activity_ns_ = 0;   // when it last changed (or the stream was joined)
    // Overrun (sample_buffers): the current socket's drops, the fullest either
    // buffer was since the last report, and what the last report said.
    void sample_buffers(std::uint64_t now_ns);
    std::uint64_t next_buffer_sample_ = 0;
    std::uint64_t socket_drops_now_ = 0;
    std::uint32_t fill_peak_pct_ = 0;
    std::uint64_t reported_drops_ = 0;
    std::uint64_t reported_overflows_ = 0;
    std::uint64_t last_report_ns_ = 0;
    std::uint64_t early_reports_from_ = 0;  // after a report that failed: none before then
    FollowerStats stats_;
};

[[nodiscard]] const char* state_name(Follower::State s) noexcept;

}  // namespace replicast::client
