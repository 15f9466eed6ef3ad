// Commands from other threads (the control service's gRPC threads, the
// SIGHUP watcher) to the server's loop, which stays the single writer of
// stream state (STYLE practice 2: the conductor takes commands, nobody
// reaches into its state). A bounded queue: a post that finds it full fails at
// once (the caller answers UNAVAILABLE), so no thread ever waits on a busy
// loop without a bound. Each command carries a promise the loop fulfils (a
// start_stream for a stream still stopping: once it has stopped and started again).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <string>

#include "engine/control/result.hpp"

namespace replicast::server {

struct CommandReply {
    control::Result result;
    std::uint32_t epoch = 0;  // rotate_key: the epoch announced (or to be announced)
};

struct Command {
    enum class Kind : std::uint8_t {
        rotate_key,    // start a new key epoch for `database` now
        start_stream,  // multicast `database` (a Subscribe for one not streaming): answered once it runs
    };
    Kind kind = Kind::rotate_key;
    std::string database;
    std::promise<CommandReply> reply;
};

class CommandQueue {
public:
    static constexpr std::size_t kCapacity = 256;

    /// @return false when the queue is full (the command is dropped unanswered).
    bool post(Command&& c) {
        std::lock_guard lock(mutex_);
        if (queue_.size() >= kCapacity) return false;
        queue_.push_back(std::move(c));
        return true;
    }

    /// The oldest command, if any (the loop's side).
    std::optional<Command> take() {
        std::lock_guard lock(mutex_);
        if (queue_.empty()) return std::nullopt;
        Command c = std::move(queue_.front());
        queue_.pop_front();
        return c;
    }

private:
    std::mutex mutex_;
    std::deque<Command> queue_;
};

}  // namespace replicast::server
