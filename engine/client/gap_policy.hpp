// Loss is judged by LSN (PROTOCOL.md 1.3): the decisions of one followed
// database about complete chains, heartbeats and recovery, as a pure class.
// It holds numbers only (the next LSN the replica needs, what is buffered,
// what must be recovered, when to retry); the follower owns the chain bytes,
// the store and the control calls, and tells the policy what happened.
//
//   chain [first, last] arrives:
//     last < next              -> duplicate (ignored, counted)
//     first <= next            -> apply now (the store skips the overlap)
//     first > next             -> a gap [next, first-1]: recover it; the chain
//                                 waits in the buffer while the buffer has room
//                                 (max chains, max bytes), else it is dropped and
//                                 recovered too
//   heartbeat last_lsn >= next with no chain in flight -> recover [next, last_lsn]
//   recover_due(now): the range to fetch now, at most one at a time, retried
//                     after a failure no sooner than retry_ns later
//   after every apply or recovered batch: applied(last); then the follower
//   applies the buffered chains that now start at or before next, in order.
//
// Never applies out of order or twice: nothing is ever "apply" unless it
// starts at or before next. Time is passed in (STYLE practice 5).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace replicast::client {

struct GapConfig {
    std::size_t max_buffered_chains = 4096;
    std::size_t max_buffered_bytes = std::size_t{256} << 20;
    std::uint64_t retry_ns = 200'000'000;  // after a failed Recover
};

struct LsnRange {
    std::uint64_t from = 0;
    std::uint64_t to = 0;  // inclusive
    bool operator==(const LsnRange&) const = default;
};

class GapPolicy {
public:
    enum class Verdict : std::uint8_t { apply, duplicate, buffer, drop };

    GapPolicy(const GapConfig& config, std::uint64_t applied_lsn) noexcept : config_(config), next_(applied_lsn + 1) {}

    /// A complete chain of LSNs [first, first + count - 1] and `bytes` of body.
    /// For `buffer` the caller keeps the chain and must call unbuffered() when it lets it go.
    Verdict on_chain(std::uint64_t first, std::uint32_t count, std::size_t bytes) noexcept;
    /// A heartbeat: the stream has multicast up to `last_lsn`.
    void on_heartbeat(std::uint64_t last_lsn, bool chain_in_flight) noexcept;
    /// LSNs through `lsn` must be fetched (a chain the store could not take,
    /// the master's last LSN at Subscribe).
    void missing_through(std::uint64_t lsn) noexcept { need_through(lsn); }
    /// LSNs from `first` on, counted applied when staged, were not committed
    /// after all: the next LSN needed goes back to `first`, and they are missing.
    void unapplied(std::uint64_t first, std::uint64_t last) noexcept {
        if (first < next_) next_ = first;
        need_through(last);
    }
    /// The master's last LSN from elsewhere (Subscribe, Databases).
    void on_known_last(std::uint64_t last_lsn) noexcept;

    /// The range to Recover now, or none (nothing missing, one running, or waiting to retry).
    /// `buffered_from`: the first LSN of the lowest buffered chain (when any):
    /// the range stops before it, since those LSNs are here already.
    [[nodiscard]] std::optional<LsnRange> recover_due(std::uint64_t now_ns,
                                                      std::uint64_t buffered_from = UINT64_MAX) noexcept;
    /// The Recover that recover_due() handed out ended; on failure it is retried later.
    void recover_done(bool ok, std::uint64_t now_ns) noexcept;
    /// Give up what is missing (a snapshot will replace everything up to its LSN).
    void reset(std::uint64_t applied_lsn) noexcept;

    /// LSNs up to `last` are in the replica now.
    void applied(std::uint64_t last) noexcept;
    /// A buffered chain of `bytes` left the buffer (applied or found duplicate).
    void unbuffered(std::size_t bytes) noexcept;

    [[nodiscard]] std::uint64_t next() const noexcept { return next_; }
    [[nodiscard]] std::uint64_t known_last() const noexcept { return known_last_; }
    [[nodiscard]] std::uint64_t lag() const noexcept { return known_last_ >= next_ ? known_last_ - next_ + 1 : 0; }
    [[nodiscard]] bool recovering() const noexcept { return in_flight_; }
    [[nodiscard]] std::size_t buffered_chains() const noexcept { return chains_; }
    [[nodiscard]] std::size_t buffered_bytes() const noexcept { return bytes_; }
    /// Gaps seen (a chain past next, or a heartbeat past it): each one counted once.
    [[nodiscard]] std::uint64_t gaps() const noexcept { return gaps_; }

private:
    void need_through(std::uint64_t lsn) noexcept;

    GapConfig config_;
    std::uint64_t next_;
    std::uint64_t known_last_ = 0;
    std::uint64_t need_to_ = 0;  // recover through here (0: nothing missing)
    bool in_flight_ = false;
    std::uint64_t retry_at_ = 0;
    std::size_t chains_ = 0;
    std::size_t bytes_ = 0;
    std::uint64_t gaps_ = 0;
};

}  // namespace replicast::client
