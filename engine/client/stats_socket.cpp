#include "engine/client/stats_socket.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace replicast::client {

namespace {

sockaddr_un address(const std::string& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof a.sun_path) {
        throw std::runtime_error("stats socket \"" + path + "\": path empty or too long for a unix socket");
    }
    std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
    return a;
}

[[noreturn]] void fail(const std::string& path, const std::string& what, int err) {
    throw std::runtime_error("stats socket " + path + ": " + what + ": " + std::strerror(err));
}

}  // namespace

StatsServer::StatsServer(std::string path, std::function<void()> pending)
    : path_(std::move(path)), pending_(std::move(pending)) {
    const sockaddr_un a = address(path_);
    struct stat st {};
    if (::lstat(path_.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) throw std::runtime_error("stats socket " + path_ + ": exists and is not a socket");
        ::unlink(path_.c_str());  // left by a daemon that did not exit cleanly
    }
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) fail(path_, "socket", errno);
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        const int e = errno;
        ::close(fd_);
        fail(path_, "bind", e);
    }
    ::chmod(path_.c_str(), 0660);
    if (::listen(fd_, 16) != 0) {
        const int e = errno;
        ::close(fd_);
        ::unlink(path_.c_str());
        fail(path_, "listen", e);
    }
    if (pending_) {
        stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
        if (stop_fd_ < 0) {
            const int e = errno;
            ::close(fd_);
            ::unlink(path_.c_str());
            fail(path_, "eventfd", e);
        }
        watcher_ = std::thread([this] { watch(); });
    }
}

StatsServer::~StatsServer() {
    if (watcher_.joinable()) {
        stopping_.store(true, std::memory_order_release);
        const std::uint64_t one = 1;
        (void)!::write(stop_fd_, &one, sizeof one);
        polls_.fetch_add(1, std::memory_order_release);
        polls_.notify_all();
        watcher_.join();
        ::close(stop_fd_);
    }
    ::close(fd_);
    ::unlink(path_.c_str());
}

void StatsServer::watch() {
    for (;;) {
        pollfd p[2] = {{.fd = fd_, .events = POLLIN, .revents = 0}, {.fd = stop_fd_, .events = POLLIN, .revents = 0}};
        if (::poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;  // cannot wait: the loop still answers at its own pace, as without a watcher
        }
        if (p[1].revents != 0) return;
        if ((p[0].revents & POLLIN) == 0) return;  // POLLERR/POLLNVAL: looking again would spin
        // A connection waits: wake the loop, then let it take the connection
        // before looking again (the socket stays readable until it does).
        const std::uint64_t before = polls_.load(std::memory_order_acquire);
        // The destructor sets stopping_ before it bumps polls_: having read the
        // bumped count, the watcher sees the flag, and does not wait for a
        // bump that will never come.
        if (stopping_.load(std::memory_order_acquire)) return;
        pending_();
        polls_.wait(before, std::memory_order_acquire);
        if (stopping_.load(std::memory_order_acquire)) return;
    }
}

std::size_t StatsServer::poll(const std::function<std::string()>& document) {
    struct Count {
        std::atomic<std::uint64_t>& polls;
        ~Count() {  // after the accepts: the watcher looks at the socket again then
            polls.fetch_add(1, std::memory_order_release);
            polls.notify_all();
        }
    } count{polls_};
    std::size_t n = 0;
    for (int i = 0; i < 16; ++i) {  // bounded: a flood of connections cannot hold the processing loop
        const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) break;
        const std::string doc = document() + "\n";
        // A reader that does not read cannot block the daemon: a send timeout bounds it.
        timeval tv{.tv_sec = 0, .tv_usec = 200'000};
        ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        std::size_t off = 0;
        while (off < doc.size()) {
            const ssize_t w = ::send(c, doc.data() + off, doc.size() - off, MSG_NOSIGNAL);
            if (w <= 0) break;
            off += static_cast<std::size_t>(w);
        }
        ::close(c);
        ++n;
    }
    return n;
}

std::string query_stats(const std::string& path) {
    const sockaddr_un a = address(path);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail(path, "socket", errno);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        const int e = errno;
        ::close(fd);
        fail(path, "connect (is `replicast client` running with [stats] socket set to it?)", e);
    }
    std::string out;
    char buf[65536];
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            ::close(fd);
            throw std::runtime_error("stats socket " + path + ": no answer within 5 s");
        }
        pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
        const ssize_t r = ::read(fd, buf, sizeof buf);
        if (r < 0) {
            const int e = errno;
            ::close(fd);
            fail(path, "read", e);
        }
        if (r == 0) break;
        out.append(buf, static_cast<std::size_t>(r));
        if (out.size() > (16u << 20)) {
            ::close(fd);
            throw std::runtime_error("stats socket " + path + ": answer larger than 16 MiB");
        }
    }
    ::close(fd);
    return out;
}

}  // namespace replicast::client
