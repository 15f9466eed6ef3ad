#include "store/notify.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace replicast::store {

NotifyListener::NotifyListener(std::string path) : path_(std::move(path)) {
    sockaddr_un addr{};
    if (path_.size() >= sizeof addr.sun_path) {
        throw StoreError({ENAMETOOLONG, path_ + ": notify socket path is too long for a unix socket"});
    }
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw StoreError({errno, path_ + ": socket: " + std::strerror(errno)});
    ::unlink(path_.c_str());  // a stale socket of a server that died
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        const int err = errno;
        ::close(fd_);
        throw StoreError({err, path_ + ": bind: " + std::strerror(err)});
    }
}

NotifyListener::~NotifyListener() {
    if (fd_ >= 0) {
        ::close(fd_);
        ::unlink(path_.c_str());
    }
}

int NotifyListener::wait(std::chrono::milliseconds timeout) {
    pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return 0;
    int n = 0;
    char buf[64];
    while (::recv(fd_, buf, sizeof buf, MSG_DONTWAIT) >= 0) ++n;
    return n;
}

}  // namespace replicast::store
