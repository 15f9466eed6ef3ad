// Subscriptions as leases (PROTOCOL.md 2.1): one per (identity, stream), valid
// for `length` after it was last taken or renewed. A replica that dies without
// Unsubscribe (SIGKILL, a lost host) simply stops renewing, so its lease runs
// out and the stream can go idle; a count of Subscribe minus Unsubscribe never
// came back down for such a replica.
//
// Subscribe takes a lease (or renews it); every other call naming the stream
// that carries the caller's ReceiveStats renews a lease still running (a
// lapsed one needs a Subscribe again: a renewal never creates one); an
// Unsubscribe ends it. For each stream the table gives its horizon: the latest
// expiry of its running leases, or the moment the last one ended, whichever is
// later. Nobody holds the stream after it, so the server's idle clock starts
// there; with the horizon in hand nothing has to sweep expired leases for the
// stop (the loop compares times), they are pruned whenever their stream is
// touched.
//
// Pure: time (steady clock, nanoseconds) is passed in. Not synchronised: the
// owner (control::Service) holds a lock around it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace replicast::control {

class LeaseTable {
public:
    struct Holder {
        std::string identity;
        std::uint64_t expires_ns = 0;
    };

    explicit LeaseTable(std::uint64_t length_ns) : length_ns_(length_ns) {}

    [[nodiscard]] std::uint64_t length_ns() const noexcept { return length_ns_; }

    /// Subscribe: takes the lease of (identity, stream) or renews it.
    /// @return the stream's horizon afterwards.
    std::uint64_t take(std::string_view identity, std::uint32_t stream, std::uint64_t now_ns);
    /// Any other call with ReceiveStats: renews a lease still running.
    /// @return false (nothing changed) when the identity holds none on the stream.
    bool renew(std::string_view identity, std::uint32_t stream, std::uint64_t now_ns, std::uint64_t& horizon_ns);
    /// Unsubscribe: ends the lease. @return false (nothing changed) when none was running.
    bool end(std::string_view identity, std::uint32_t stream, std::uint64_t now_ns, std::uint64_t& horizon_ns);
    /// Ends every lease of `identity` (it left the access list): the streams
    /// whose horizon changed, with the new horizon.
    std::vector<std::pair<std::uint32_t, std::uint64_t>> end_all(std::string_view identity, std::uint64_t now_ns);

    /// How long the identity's lease on the stream still runs (0: none).
    [[nodiscard]] std::uint64_t remaining_ns(std::string_view identity, std::uint32_t stream, std::uint64_t now_ns) const;
    /// The identities holding a running lease on the stream, in name order.
    [[nodiscard]] std::vector<Holder> holders(std::uint32_t stream, std::uint64_t now_ns) const;

private:
    using Key = std::pair<std::uint32_t, std::string>;  // by stream first: one stream's leases are adjacent
    // Drops the stream's lapsed leases; its horizon: the latest running expiry, at least `floor_ns`.
    std::uint64_t horizon(std::uint32_t stream, std::uint64_t now_ns, std::uint64_t floor_ns);

    std::uint64_t length_ns_;
    std::map<Key, std::uint64_t, std::less<>> expires_;  // (stream, identity) -> expiry
};

}  // namespace replicast::control
