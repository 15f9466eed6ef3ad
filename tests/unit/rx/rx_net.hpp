// Plumbing for tests on real sockets: a private network namespace for the
// test process (made with unshare, so it disappears with the process and
// needs no clean-up), lo up with multicast on, and sealed packets built the
// way the server builds them (ChainBuilder, segment, seal_packet) and sent
// from a chosen source address with a plain UDP socket.
#pragma once

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "crypto/gcm.hpp"
#include "engine/chain/builder.hpp"
#include "engine/chain/segment.hpp"
#include "engine/wire/control.hpp"
#include "engine/wire/packet.hpp"

namespace replicast::testing {

inline constexpr std::uint32_t kGroup = 0xe8010203;  // 232.1.2.3, in the SSM range
inline constexpr std::uint32_t kSource = 0x7f000001;  // 127.0.0.1
inline constexpr std::uint32_t kOtherSource = 0x7f000002;  // 127.0.0.2, also on lo

/// Moves this process into a new network namespace with lo up and multicast
/// on. @return an empty string, or why it could not (not root, no netns).
inline std::string enter_private_netns() {
    if (::unshare(CLONE_NEWNET) != 0) return std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
    if (std::system("ip link set lo up && ip link set lo multicast on") != 0) return "ip link set lo up/multicast on failed";
    return {};
}

/// A UDP socket bound to `source` that sends to group:port out of lo.
class Sender {
public:
    Sender(std::uint32_t source, std::uint16_t port) : port_(port) {
        fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw std::runtime_error("sender socket");
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(source);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("sender bind");
        ip_mreqn m{};
        m.imr_ifindex = static_cast<int>(if_nametoindex("lo"));
        if (setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m) != 0) throw std::runtime_error("IP_MULTICAST_IF");
    }
    ~Sender() { ::close(fd_); }
    Sender(const Sender&) = delete;
    Sender& operator=(const Sender&) = delete;

    void send(std::span<const std::uint8_t> datagram) const {
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(port_);
        to.sin_addr.s_addr = htonl(kGroup);
        if (::sendto(fd_, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) !=
            static_cast<ssize_t>(datagram.size())) {
            throw std::runtime_error("sendto");
        }
    }

private:
    int fd_ = -1;
    std::uint16_t port_;
};

using Datagram = std::vector<std::uint8_t>;

/// Seals one packet of `payload`.
inline Datagram seal(crypto::GcmEngine& engine, const crypto::GcmKey& key, wire::PacketHeader h,
                     std::span<const std::uint8_t> payload) {
    Datagram d(wire::datagram_size(payload.size(), true));
    h.payload_len = static_cast<std::uint16_t>(payload.size());
    if (crypto::seal_packet(engine, key, h, payload, d) != d.size()) throw std::runtime_error("seal_packet");
    return d;
}

/// The sealed packets of one chain of `updates` puts ("k<lsn>" = `value_bytes` bytes) from `first_lsn`,
/// packet_seq from `seq` on (advanced past the chain).
inline std::vector<Datagram> sealed_chain(crypto::GcmEngine& engine, const crypto::GcmKey& key, std::uint32_t stream,
                                          std::uint32_t epoch, std::uint64_t& seq, std::uint64_t first_lsn,
                                          std::uint32_t updates, std::size_t value_bytes, std::size_t max_payload = 1432) {
    chain::ChainBuilder b({.compress = false});
    b.begin(first_lsn);
    std::vector<std::string> keys;
    const std::vector<std::uint8_t> value(value_bytes, 0x5a);
    for (std::uint32_t i = 0; i < updates; ++i) keys.push_back("k" + std::to_string(first_lsn + i));
    for (const std::string& k : keys) {
        const wire::UpdateView u{.op = wire::Op::put,
                                 .reader_group = 0,
                                 .key = {reinterpret_cast<const std::uint8_t*>(k.data()), k.size()},
                                 .value = value};
        if (b.add(u) != wire::WireError::ok) throw std::runtime_error("ChainBuilder::add");
    }
    const chain::BuiltChain c = b.finish();
    std::vector<Datagram> out;
    const std::size_t count = chain::segment_count(c.record.size(), max_payload);
    for (std::size_t i = 0; i < count; ++i) {
        const chain::Segment s = chain::segment(c.record, max_payload, i, count);
        out.push_back(seal(engine, key,
                           {.flags = wire::position_flags(s.position), .stream_id = stream, .packet_seq = seq++,
                            .key_epoch = epoch, .comp_alg = c.comp_alg},
                           s.payload));
    }
    return out;
}

inline Datagram sealed_heartbeat(crypto::GcmEngine& engine, const crypto::GcmKey& key, std::uint32_t stream,
                                 std::uint32_t epoch, std::uint64_t seq, std::uint64_t last_lsn) {
    std::uint8_t p[wire::kHeartbeatSize];
    wire::encode_heartbeat({.last_lsn = last_lsn, .server_time_ns = 1}, p);
    return seal(engine, key,
                {.flags = wire::flags::kHeartbeat | wire::flags::kOic, .stream_id = stream, .packet_seq = seq,
                 .key_epoch = epoch},
                p);
}

inline Datagram sealed_key_change(crypto::GcmEngine& engine, const crypto::GcmKey& key, std::uint32_t stream,
                                  std::uint32_t epoch, std::uint64_t seq, std::uint32_t next_epoch, std::uint64_t first_seq) {
    std::uint8_t p[wire::kKeyChangeSize];
    wire::encode_key_change({.next_epoch = next_epoch, .first_seq = first_seq}, p);
    return seal(engine, key,
                {.flags = wire::flags::kKeyChange | wire::flags::kOic, .stream_id = stream, .packet_seq = seq,
                 .key_epoch = epoch},
                p);
}

}  // namespace replicast::testing
