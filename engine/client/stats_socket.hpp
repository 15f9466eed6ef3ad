// The daemon's statistics on a local unix stream socket: a connection gets
// one JSON document and is closed (`replicast client-stats --socket PATH`).
// The daemon answers from its processing loop (accept is non-blocking), so the
// document is built by the thread that owns the state, without a lock. An
// idle loop sleeps up to 50 ms between passes (rx::Wakeup), so a watcher
// thread, blocked in poll(2) on the listening socket, nudges it when a
// connection is pending: an answer takes a pass, not a timeout (a monitor
// polling many daemons in turn would otherwise wait 50 ms per daemon). The
// socket file is created mode 0660 and removed when the server is destroyed.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

namespace replicast::client {

class StatsServer {
public:
    /// Binds `path` (a stale socket file left by a crashed daemon is replaced;
    /// any other file there is an error). Throws std::runtime_error naming the path.
    /// `pending`, when given, is called from a watcher thread whenever a
    /// connection waits to be answered (the daemon's wake-up of its loop).
    explicit StatsServer(std::string path, std::function<void()> pending = {});
    ~StatsServer();
    StatsServer(const StatsServer&) = delete;
    StatsServer& operator=(const StatsServer&) = delete;

    /// Answers every connection waiting now with `document()`. @return connections answered.
    std::size_t poll(const std::function<std::string()>& document);

private:
    void watch();

    std::string path_;
    int fd_ = -1;
    int stop_fd_ = -1;                      // eventfd: ends the watcher
    std::function<void()> pending_;
    std::atomic<std::uint64_t> polls_{0};   // poll() calls: the watcher waits for the next one after a nudge
    std::atomic<bool> stopping_{false};
    std::thread watcher_;
};

/// Connects to a daemon's stats socket and reads its document (bounded: 5 s, 16 MiB).
/// Throws std::runtime_error naming the path and the reason.
std::string query_stats(const std::string& path);

}  // namespace replicast::client
