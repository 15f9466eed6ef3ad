#include "engine/rx/socket.hpp"

#include <arpa/inet.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace replicast::rx {

namespace {

[[noreturn]] void fail(const std::string& what, int err) {
    throw std::runtime_error("receive socket: " + what + ": " + std::strerror(err));
}

std::string dotted(std::uint32_t host_order) {
    in_addr a{.s_addr = htonl(host_order)};
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &a, text, sizeof text);
    return text;
}

sockaddr_storage v4(std::uint32_t host_order, std::uint16_t port) {
    sockaddr_storage ss{};
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr.s_addr = htonl(host_order);
    return ss;
}

}  // namespace

RxSocket::RxSocket(const SocketConfig& config) : requested_(config.rcvbuf_bytes) {
    if ((config.group >> 28) != 0xe) fail("group " + dotted(config.group), EINVAL);
    const unsigned ifindex = if_nametoindex(config.interface.c_str());
    if (ifindex == 0) fail("interface \"" + config.interface + "\"", errno);
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
    if (fd_ < 0) fail("socket", errno);
    try {
        const int one = 1, zero = 0;
        // Several receivers of one host (and tests) may share the group and port.
        if (setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) fail("SO_REUSEADDR", errno);
        if (setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof zero) != 0) fail("IP_MULTICAST_ALL", errno);
        const int want = config.rcvbuf_bytes > 0x3fffffff ? 0x3fffffff : static_cast<int>(config.rcvbuf_bytes);
        if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0 &&
            setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &want, sizeof want) != 0) {
            fail("SO_RCVBUF", errno);
        }
        int got = 0;
        socklen_t len = sizeof got;
        if (getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &got, &len) != 0) fail("SO_RCVBUF (read back)", errno);
        granted_ = static_cast<std::size_t>(got) / 2;  // the kernel doubles it for its bookkeeping
        timeval tv{.tv_sec = static_cast<time_t>(config.timeout_ms / 1000),
                   .tv_usec = static_cast<suseconds_t>((config.timeout_ms % 1000) * 1000)};
        if (setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) fail("SO_RCVTIMEO", errno);
        // Bound to the group: unicast and other groups to this port stay out.
        const sockaddr_storage bind_addr = v4(config.group, config.port);
        if (::bind(fd_, reinterpret_cast<const sockaddr*>(&bind_addr), sizeof(sockaddr_in)) != 0) {
            fail("bind " + dotted(config.group) + ":" + std::to_string(config.port), errno);
        }
        if (config.kernel_source_filter) {
            group_source_req req{};
            req.gsr_interface = ifindex;
            req.gsr_group = v4(config.group, 0);
            req.gsr_source = v4(config.source, 0);
            if (setsockopt(fd_, IPPROTO_IP, MCAST_JOIN_SOURCE_GROUP, &req, sizeof req) != 0) {
                fail("join " + dotted(config.group) + " from " + dotted(config.source) + " on " + config.interface, errno);
            }
        } else {
            group_req req{};
            req.gr_interface = ifindex;
            req.gr_group = v4(config.group, 0);
            if (setsockopt(fd_, IPPROTO_IP, MCAST_JOIN_GROUP, &req, sizeof req) != 0) {
                fail("join " + dotted(config.group) + " on " + config.interface, errno);
            }
        }
    } catch (...) {
        ::close(fd_);
        throw;
    }
}

RxSocket::~RxSocket() {
    if (fd_ >= 0) ::close(fd_);  // closing leaves the group
}

std::size_t interface_max_datagram(const std::string& interface) noexcept {
    ifreq req{};
    if (interface.empty() || interface.size() >= sizeof req.ifr_name) return 0;
    std::memcpy(req.ifr_name, interface.c_str(), interface.size() + 1);
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    const int rc = ::ioctl(fd, SIOCGIFMTU, &req);
    ::close(fd);
    constexpr int kIpUdpHeaders = 20 + 8;
    if (rc != 0 || req.ifr_mtu <= kIpUdpHeaders) return 0;
    return std::min<std::size_t>(kMaxDatagramDefault, static_cast<std::size_t>(req.ifr_mtu - kIpUdpHeaders));
}

bool RxSocket::buffer_state(BufferState& out) const noexcept {
    std::uint32_t mem[SK_MEMINFO_VARS] = {};
    socklen_t len = sizeof mem;
    if (::getsockopt(fd_, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0 || len < sizeof mem) return false;
    out.drops = mem[SK_MEMINFO_DROPS];
    const std::uint64_t size = mem[SK_MEMINFO_RCVBUF];  // what rmem_alloc is charged against (the doubled value)
    out.fill_pct = size == 0 ? 0 : static_cast<std::uint32_t>(std::uint64_t{mem[SK_MEMINFO_RMEM_ALLOC]} * 100 / size);
    return true;
}

RecvBatch::RecvBatch(std::size_t batch, std::size_t max_datagram)
    : max_datagram_(max_datagram), buffers_(batch * max_datagram), addrs_(batch), iovs_(batch), msgs_(batch) {
    for (std::size_t i = 0; i < batch; ++i) {
        iovs_[i] = {.iov_base = buffers_.data() + i * max_datagram, .iov_len = max_datagram};
        msgs_[i].msg_hdr = {};
        msgs_[i].msg_hdr.msg_name = &addrs_[i];
        msgs_[i].msg_hdr.msg_iov = &iovs_[i];
        msgs_[i].msg_hdr.msg_iovlen = 1;
    }
}

int RecvBatch::receive(int fd) noexcept {
    for (auto& m : msgs_) {
        m.msg_hdr.msg_namelen = sizeof(sockaddr_in);  // in and out: reset per call
        m.msg_hdr.msg_flags = 0;
    }
    const int n = ::recvmmsg(fd, msgs_.data(), static_cast<unsigned>(msgs_.size()), MSG_WAITFORONE, nullptr);
    if (n >= 0) return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
    return -errno;
}

}  // namespace replicast::rx
