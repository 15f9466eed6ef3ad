// The daemon's statistics on a local unix stream socket: a connection gets
// one JSON document and is closed (`replicast client-stats --socket PATH`).
// The daemon polls the listening socket from its processing loop (accept is
// non-blocking), so no thread and no lock is added for it. The socket file is
// created mode 0660 and removed when the server is destroyed.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace replicast::client {

class StatsServer {
public:
    /// Binds `path` (a stale socket file left by a crashed daemon is replaced;
    /// any other file there is an error). Throws std::runtime_error naming the path.
    explicit StatsServer(std::string path);
    ~StatsServer();
    StatsServer(const StatsServer&) = delete;
    StatsServer& operator=(const StatsServer&) = delete;

    /// Answers every connection waiting now with `document()`. @return connections answered.
    std::size_t poll(const std::function<std::string()>& document);

private:
    std::string path_;
    int fd_ = -1;
};

/// Connects to a daemon's stats socket and reads its document (bounded: 5 s, 16 MiB).
/// Throws std::runtime_error naming the path and the reason.
std::string query_stats(const std::string& path);

}  // namespace replicast::client
