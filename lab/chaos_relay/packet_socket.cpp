#include "lab/chaos_relay/packet_socket.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace replicast::chaos {

namespace {

[[noreturn]] void fail(const std::string& iface, const char* step) {
    throw std::runtime_error("interface " + iface + ": " + step + ": " + std::strerror(errno));
}

}  // namespace

PacketSocket::PacketSocket(const std::string& interface) : name_(interface) {
    const unsigned index = if_nametoindex(interface.c_str());
    if (index == 0) fail(interface, "no such interface");
    // Protocol 0 until bound: no frame of another interface is queued meanwhile.
    fd_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd_ < 0) fail(interface, "socket(AF_PACKET)");
    const int one = 1;
    if (setsockopt(fd_, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) != 0) fail(interface, "PACKET_VNET_HDR");
    // Our own sends would come back as PACKET_OUTGOING frames otherwise.
    if (setsockopt(fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) != 0) {
        fail(interface, "PACKET_IGNORE_OUTGOING");
    }
    // A burst of the stream must wait in the socket, not be dropped, while
    // the relay sends: 8 MiB (FORCE: root may exceed rmem_max).
    const int rcvbuf = 8 << 20;
    if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0) {
        (void)setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    }
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = static_cast<int>(index);
    if (bind(fd_, reinterpret_cast<const sockaddr*>(&sll), sizeof sll) != 0) fail(interface, "bind");
    packet_mreq mr{};
    mr.mr_ifindex = static_cast<int>(index);
    mr.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(fd_, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) != 0) fail(interface, "promiscuous mode");
}

PacketSocket::~PacketSocket() {
    if (fd_ >= 0) ::close(fd_);
}

PacketSocket::Rx PacketSocket::receive(std::span<std::byte> buf, std::size_t& len) noexcept {
    const ssize_t n = ::recv(fd_, buf.data(), buf.size(), MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? Rx::again : Rx::error;
    if (static_cast<std::size_t>(n) > buf.size()) return Rx::truncated;
    len = static_cast<std::size_t>(n);
    return Rx::frame;
}

bool PacketSocket::send(std::span<const std::byte> frame) noexcept {
    return ::send(fd_, frame.data(), frame.size(), 0) == static_cast<ssize_t>(frame.size());
}

}  // namespace replicast::chaos
