// The kernel receive socket of one stream: UDP bound to group:port, joined
// source-specifically (MCAST_JOIN_SOURCE_GROUP, the protocol-independent form
// of IP_ADD_SOURCE_MEMBERSHIP) on one named interface, with a large receive
// buffer, and batch receive with each datagram's source address.
//
// SO_RCVBUFFORCE is tried first (root, or CAP_NET_ADMIN, may pass
// net.core.rmem_max); otherwise SO_RCVBUF is capped by rmem_max and the cap is
// reported in `rcvbuf_granted` so the caller can warn: a small buffer is the
// first cause of loss at a burst.
//
// IP_MULTICAST_ALL is switched off: Linux would otherwise hand this socket
// datagrams for every group any socket of the host joined on the same port.
// A receive timeout bounds each blocking batch so the loop can see a stop.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace replicast::rx {

struct SocketConfig {
    std::string interface;          // the interface to join on ("eth0"); required
    std::uint32_t group = 0;        // IPv4 multicast group, host order
    std::uint16_t port = 0;
    std::uint32_t source = 0;       // the only sender to join (SSM), host order
    bool kernel_source_filter = true;  // false: any-source join (tests of the user-space source check only)
    std::size_t rcvbuf_bytes = 32u << 20;
    std::uint32_t timeout_ms = 100;  // longest a batch receive blocks
};

class RxSocket {
public:
    /// Opens, configures, binds and joins. Throws std::runtime_error naming the
    /// step and errno's text (unknown interface, not a multicast group, ...).
    explicit RxSocket(const SocketConfig& config);
    ~RxSocket();
    RxSocket(const RxSocket&) = delete;
    RxSocket& operator=(const RxSocket&) = delete;

    [[nodiscard]] int fd() const noexcept { return fd_; }
    /// What the kernel granted (getsockopt reports the doubled value; this is halved back).
    [[nodiscard]] std::size_t rcvbuf_granted() const noexcept { return granted_; }
    [[nodiscard]] bool rcvbuf_capped() const noexcept { return granted_ < requested_; }

    /// What the kernel says of the receive buffer now (SO_MEMINFO): datagrams
    /// dropped because it was full (a total for this socket) and how full it
    /// is, in percent of its size. One getsockopt; false if it failed.
    struct BufferState {
        std::uint64_t drops = 0;
        std::uint32_t fill_pct = 0;
    };
    [[nodiscard]] bool buffer_state(BufferState& out) const noexcept;

private:
    int fd_ = -1;
    std::size_t requested_ = 0;
    std::size_t granted_ = 0;
};

/// The largest datagram an IPv4 multicast stream can deliver on `interface`
/// with DF set (the server's frames never fragment): its MTU less the IPv4
/// and UDP headers, at most kMaxDatagramDefault (a jumbo frame's). 0 when the
/// interface's MTU cannot be read (the caller keeps its default).
inline constexpr std::size_t kMaxDatagramDefault = 9216;
[[nodiscard]] std::size_t interface_max_datagram(const std::string& interface) noexcept;

/// The buffers of one recvmmsg batch: `batch` datagrams of up to `max_datagram`
/// bytes each, with their source addresses. Allocated once.
class RecvBatch {
public:
    RecvBatch(std::size_t batch, std::size_t max_datagram);

    /// One recvmmsg (MSG_WAITFORONE: blocks for the first datagram up to the
    /// socket's timeout, then takes what is queued). @return datagrams received
    /// (0 on timeout or EINTR), or -errno.
    int receive(int fd) noexcept;

    [[nodiscard]] std::span<const std::uint8_t> datagram(std::size_t i) const noexcept {
        return {buffers_.data() + i * max_datagram_, msgs_[i].msg_len};
    }
    /// The datagram was longer than max_datagram and cut (MSG_TRUNC).
    [[nodiscard]] bool truncated(std::size_t i) const noexcept { return (msgs_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0; }
    /// Source IPv4 address, host order.
    [[nodiscard]] std::uint32_t source(std::size_t i) const noexcept { return ntohl(addrs_[i].sin_addr.s_addr); }
    [[nodiscard]] std::size_t capacity() const noexcept { return msgs_.size(); }

private:
    std::size_t max_datagram_;
    std::vector<std::uint8_t> buffers_;
    std::vector<sockaddr_in> addrs_;
    std::vector<iovec> iovs_;
    std::vector<mmsghdr> msgs_;
};

}  // namespace replicast::rx
