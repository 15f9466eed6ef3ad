// The receiving end of the master's write notifications: the server's update
// detector binds <store>/notify.sock and waits on it with a timeout, polling the
// log whenever it wakes (a notification is a hint, never the only signal).
#pragma once

#include <chrono>
#include <string>

#include "store/status.hpp"

namespace replicast::store {

class NotifyListener {
public:
    /// Binds `path` (unlinking a stale socket first). Throws StoreError.
    explicit NotifyListener(std::string path);
    ~NotifyListener();
    NotifyListener(const NotifyListener&) = delete;
    NotifyListener& operator=(const NotifyListener&) = delete;

    /// Waits up to `timeout` for notifications; drains every one queued.
    /// @return how many arrived (0 on timeout).
    int wait(std::chrono::milliseconds timeout);

    [[nodiscard]] int fd() const noexcept { return fd_; }

private:
    std::string path_;
    int fd_ = -1;
};

}  // namespace replicast::store
