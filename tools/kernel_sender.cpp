#include "tools/kernel_sender.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "crypto/gcm.hpp"
#include "engine/wire/packet.hpp"

namespace replicast::tools {

namespace {

constexpr unsigned kBatch = 32;

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

KernelSendResult kernel_send(const std::string& group, const std::string& interface_ip, std::uint16_t port,
                             std::uint32_t payload, bool sealed, double seconds, std::uint64_t max_packets,
                             crypto::GcmArch arch) {
    KernelSendResult r;
    Fd s{::socket(AF_INET, SOCK_DGRAM, 0)};
    if (s.fd < 0) {
        r.error = std::string("socket: ") + std::strerror(errno);
        return r;
    }
    in_addr iface{};
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(port);
    if (inet_pton(AF_INET, interface_ip.c_str(), &iface) != 1 || inet_pton(AF_INET, group.c_str(), &dst.sin_addr) != 1) {
        r.error = "bad kernel group or interface address";
        return r;
    }
    const unsigned char ttl = 1, loop = 0;
    int sndbuf = 4 << 20;
    if (setsockopt(s.fd, IPPROTO_IP, IP_MULTICAST_IF, &iface, sizeof iface) != 0 ||
        setsockopt(s.fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) != 0 ||
        setsockopt(s.fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) != 0) {
        r.error = std::string("multicast socket options: ") + std::strerror(errno);
        return r;
    }
    (void)setsockopt(s.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);

    crypto::GcmEngine engine(arch);
    crypto::Key raw{};
    raw[0] = 1;
    const crypto::GcmKey key(engine, raw);
    const std::size_t datagram = wire::datagram_size(payload, sealed);
    std::vector<std::uint8_t> plaintext(payload, 0x5a);
    std::vector<std::uint8_t> buffers(kBatch * datagram);
    std::array<iovec, kBatch> iov{};
    std::array<mmsghdr, kBatch> msgs{};
    for (unsigned i = 0; i < kBatch; ++i) {
        iov[i] = {buffers.data() + i * datagram, datagram};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &dst;
        msgs[i].msg_hdr.msg_namelen = sizeof dst;
    }
    std::array<crypto::SealOp, kBatch> ops{};
    std::uint64_t seq = 1;
    const auto start = std::chrono::steady_clock::now();
    const auto until = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
    while (r.packets < max_packets) {
        // The same per-packet work as the DPDK worker: header, seal (one burst).
        for (unsigned i = 0; i < kBatch; ++i) {
            std::uint8_t* d = buffers.data() + i * datagram;
            wire::encode_header({.flags = wire::flags::kMic, .stream_id = 1, .packet_seq = seq + i,
                                 .key_epoch = sealed ? 1u : 0u, .comp_alg = wire::CompAlg::none,
                                 .payload_len = static_cast<std::uint16_t>(payload)},
                                d);
            if (sealed) {
                ops[i] = {.key = &key, .stream_id = 1, .packet_seq = seq + i, .aad = d, .src = plaintext.data(),
                          .dst = d + wire::kHeaderSize, .len = payload, .tag_out = d + wire::kHeaderSize + payload};
            } else {
                std::memcpy(d + wire::kHeaderSize, plaintext.data(), payload);
            }
        }
        if (sealed) (void)engine.seal_burst(ops);
        unsigned sent = 0;
        while (sent < kBatch) {
            const int n = ::sendmmsg(s.fd, msgs.data() + sent, kBatch - sent, 0);
            if (n < 0) {
                if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN) continue;
                r.error = std::string("sendmmsg: ") + std::strerror(errno);
                return r;
            }
            sent += static_cast<unsigned>(n);
        }
        seq += kBatch;
        r.packets += kBatch;
        if ((r.packets & 1023) == 0 && std::chrono::steady_clock::now() >= until) break;
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

}  // namespace replicast::tools
