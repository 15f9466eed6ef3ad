// The replica daemon (`replicast client`): one replica store, one control
// connection, one Follower per database, all stepped by the calling thread
// (the processing thread; each follower has its own receive thread). Also the
// stats socket and the periodic statistics line.
//
//   start: resolve ["*"] through Databases; start every follower (a follower
//          that cannot start is tried again every retry_ms; a denied one never)
//   loop:  step every follower; answer the stats socket; log statistics; when
//          nothing was done, sleep until a receive thread queues something
//          (rx::Wakeup) or kIdleWaitMs passes, whichever is first: timers
//          (Recover retries, Keys, silence, the stats socket, the stop flag)
//          are looked at that often. (It slept 1 ms after every idle pass:
//          1000 wake-ups a second per idle daemon, 2.5-3 % of a core each.)
//   stop:  (the flag) finish the chain in hand, Unsubscribe each, return
//
// Threading: run() on one thread; `stop` may be set from any (a signal handler).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "engine/client/config.hpp"
#include "engine/client/control_port.hpp"
#include "engine/client/follower.hpp"
#include "engine/client/stats_socket.hpp"
#include "engine/rx/wakeup.hpp"
#include "store/replica.hpp"

namespace replicast::client {

class Daemon {
public:
    /// Longest sleep of an idle processing loop.
    static constexpr std::uint32_t kIdleWaitMs = 50;

    Daemon(const ClientConfig& config, ControlPort& control, store::ReplicaStore& replica);
    ~Daemon();

    /// Runs until `stop` is set, or until no database can be followed (every
    /// one denied, or none listed). @return 0 on a requested stop; 1 when nothing could be followed.
    int run(const std::atomic<bool>& stop);

    /// The statistics document (JSON): every database's FollowerStats.
    [[nodiscard]] std::string stats_json(std::uint64_t now_ns) const;

private:
    bool resolve_databases(std::uint64_t now_ns);
    void make_followers(const std::atomic<bool>& stop);

    ClientConfig config_;
    ControlPort& control_;
    store::ReplicaStore& replica_;
    rx::Wakeup wakeup_;  // the receive threads' nudge; declared before the followers, whose threads hold it
    std::vector<std::unique_ptr<Follower>> followers_;
    std::vector<std::uint64_t> retry_at_;
    std::unique_ptr<StatsServer> stats_server_;
    std::uint64_t started_ns_ = 0;
};

}  // namespace replicast::client
