// What the client benchmarks (bench_client_*) share: real chains of 100-byte
// updates built as the server builds them, and a sender that seals and
// multicasts them on lo inside a private network namespace.
//
// The workload: updates of 100 encoded bytes (9 of head, a 12-byte key, a
// 79-byte JSON-like value with varying digits), keys cycling over
// `kKeySpace` so a long run overwrites rather than grows the replica; chains
// cut as the server's defaults cut them ([bundle] max_updates 256, 25.6 KB of
// body, ISA-L level 1 when it shrinks them), segmented into 1432-byte payloads
// (the DPDK sender's max_payload) and sealed with AES-256-GCM.
//
// The chain records are built once; the sender patches each record head's
// first_lsn as it goes round them again (the head is carried plain before
// the deflated body) and seals every packet on the fly, so a stream can run
// for any number of LSNs with every packet_seq fresh.
//
// The sender is closed-loop: it keeps at most `window` datagrams beyond what
// the receiver reports consumed, so a receiver is measured at its own pace
// without loss (a loss would make the follower Recover, which is not what
// these measure) and the socket's buffer never overflows.
#pragma once

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <x86intrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/bench_env.hpp"
#include "crypto/gcm.hpp"
#include "engine/chain/builder.hpp"
#include "engine/chain/segment.hpp"
#include "engine/wire/chain_record.hpp"
#include "engine/wire/packet.hpp"
#include "store/replica.hpp"
#include "tests/unit/rx/rx_net.hpp"

namespace replicast::bench {

inline constexpr std::uint64_t kKeySpace = 100'000;
inline constexpr std::uint32_t kChainUpdates = 256;  // [bundle] max_updates default
inline constexpr std::size_t kMaxPayload = 1432;

/// The replica's durability, REPLICAST_BENCH_DURABILITY: nosync, nometasync (the daemon's default) or full.
inline store::Durability durability() {
    const char* v = std::getenv("REPLICAST_BENCH_DURABILITY");
    const std::string d = v != nullptr ? v : "nometasync";
    return d == "nosync" ? store::Durability::nosync : d == "full" ? store::Durability::full : store::Durability::nometasync;
}

inline void pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/// TSC ticks per nanosecond, measured over `ms`.
inline double tsc_per_ns(int ms = 50) {
    const std::uint64_t t0 = now_ns(), c0 = __rdtsc();
    while (now_ns() - t0 < std::uint64_t(ms) * 1'000'000) {
    }
    return static_cast<double>(__rdtsc() - c0) / static_cast<double>(now_ns() - t0);
}

/// One update of 100 encoded bytes for `lsn`: a 12-byte key (cycling over
/// kKeySpace) and a 79-byte JSON-like value whose numbers change per update.
struct UpdateText {
    char key[13];
    char value[80];
    explicit UpdateText(std::uint64_t lsn) {
        std::snprintf(key, sizeof key, "k%011llu", static_cast<unsigned long long>(lsn % kKeySpace));
        const std::uint64_t h = lsn * 0x9e3779b97f4a7c15ull;
        const int n = std::snprintf(value, sizeof value, "{\"id\":%llu,\"qty\":%llu,\"px\":%llu.%02llu,\"side\":\"%c\",\"acct\":\"A%07llu\"}",
                                    static_cast<unsigned long long>(lsn), static_cast<unsigned long long>(h % 10000),
                                    static_cast<unsigned long long>((h >> 16) % 100000),
                                    static_cast<unsigned long long>((h >> 40) % 100), (h >> 50) % 2 ? 'B' : 'S',
                                    static_cast<unsigned long long>((h >> 20) % 10'000'000));
        for (int i = std::min(n, 79); i < 79; ++i) value[i] = ' ';
    }
    [[nodiscard]] wire::UpdateView view() const {
        return {.op = wire::Op::put,
                .reader_group = 0,
                .key = {reinterpret_cast<const std::uint8_t*>(key), 12},
                .value = {reinterpret_cast<const std::uint8_t*>(value), 79}};
    }
};

/// Appends the encoded updates of LSNs [first, first + count).
inline void add_updates(chain::ChainBuilder& b, std::uint64_t first, std::uint32_t count) {
    for (std::uint32_t i = 0; i < count; ++i) {
        const UpdateText u(first + i);
        if (b.add(u.view()) != wire::WireError::ok) throw std::runtime_error("ChainBuilder::add");
    }
}

/// `chains` chain records of kChainUpdates updates, LSNs from 1 (patched per lap by the sender).
struct ChainSet {
    std::vector<std::vector<std::uint8_t>> records;
    std::vector<wire::CompAlg> algs;
    std::uint64_t plain_bytes = 0, carried_bytes = 0;

    explicit ChainSet(std::size_t chains) {
        chain::ChainBuilder b({.compress = true, .level = 1});
        for (std::size_t c = 0; c < chains; ++c) {
            b.begin(1 + c * kChainUpdates);
            add_updates(b, 1 + c * kChainUpdates, kChainUpdates);
            plain_bytes += b.body_size();
            const chain::BuiltChain built = b.finish();
            records.emplace_back(built.record.begin(), built.record.end());
            algs.push_back(built.comp_alg);
            carried_bytes += built.record.size();
        }
    }
    [[nodiscard]] std::uint64_t updates_per_lap() const { return records.size() * kChainUpdates; }
};

/// A UDP socket bound to the test source address that multicasts on lo, and
/// the group's address in `to`; throws when the network namespace lacks either.
inline int open_multicast_sender(std::uint32_t group, std::uint16_t port, sockaddr_in& to) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(testing::kSource);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("sender bind");
    ip_mreqn m{};
    m.imr_ifindex = static_cast<int>(if_nametoindex("lo"));
    if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m) != 0) throw std::runtime_error("IP_MULTICAST_IF");
    to = {};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(group);
    return fd;
}

/// Seals and multicasts one stream's chains from 127.0.0.1 on lo (sendmmsg), LSNs and packet_seq running on.
class StreamSender {
public:
    StreamSender(const ChainSet& set, std::uint32_t stream, std::uint32_t epoch, const crypto::Key& key,
                 std::uint32_t group, std::uint16_t port)
        : set_(set), stream_(stream), epoch_(epoch), key_(engine_, key), group_(group), port_(port) {
        fd_ = open_multicast_sender(group_, port_, to_);
        const int buf = 8 << 20;
        (void)setsockopt(fd_, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf);
        out_.resize(kBatch * wire::datagram_size(kMaxPayload, true));
        iov_.resize(kBatch);
        msgs_.resize(kBatch);
    }
    ~StreamSender() { ::close(fd_); }
    StreamSender(const StreamSender&) = delete;
    StreamSender& operator=(const StreamSender&) = delete;

    std::uint64_t next_lsn = 1;  // first LSN of the next chain
    std::uint64_t seq = 1;       // next packet_seq
    std::uint64_t datagrams = 0; // sent

    /// Seals and sends the next chain. @return its datagrams.
    std::size_t send_chain() {
        const std::size_t c = chain_index_++ % set_.records.size();
        std::vector<std::uint8_t>& rec = scratch_;
        rec.assign(set_.records[c].begin(), set_.records[c].end());
        wire::ChainRecordView view;
        if (wire::parse_chain_record(rec, view) != wire::WireError::ok) throw std::runtime_error("chain record");
        wire::ChainRecordHead head = view.head;  // only first_lsn changes per lap
        head.first_lsn = next_lsn;
        wire::encode_chain_record_head(head, rec.data());
        const std::size_t count = chain::segment_count(rec.size(), kMaxPayload);
        std::size_t i = 0;
        while (i < count) {
            const std::size_t n = std::min(kBatch, count - i);
            const std::size_t dsize = wire::datagram_size(kMaxPayload, true);
            for (std::size_t k = 0; k < n; ++k) {
                const chain::Segment s = chain::segment(rec, kMaxPayload, i + k, count);
                const std::span<std::uint8_t> out(out_.data() + k * dsize, wire::datagram_size(s.payload.size(), true));
                const wire::PacketHeader h{.flags = wire::position_flags(s.position), .stream_id = stream_,
                                           .packet_seq = seq++, .key_epoch = epoch_, .comp_alg = set_.algs[c]};
                if (crypto::seal_packet(engine_, key_, h, s.payload, out) != out.size()) throw std::runtime_error("seal_packet");
                iov_[k] = {.iov_base = out.data(), .iov_len = out.size()};
                msgs_[k].msg_hdr = {};
                msgs_[k].msg_hdr.msg_name = &to_;
                msgs_[k].msg_hdr.msg_namelen = sizeof to_;
                msgs_[k].msg_hdr.msg_iov = &iov_[k];
                msgs_[k].msg_hdr.msg_iovlen = 1;
            }
            std::size_t sent = 0;
            while (sent < n) {
                const int r = ::sendmmsg(fd_, msgs_.data() + sent, static_cast<unsigned>(n - sent), 0);
                if (r < 0) {
                    if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN) continue;
                    throw std::runtime_error(std::string("sendmmsg: ") + std::strerror(errno));
                }
                sent += static_cast<std::size_t>(r);
            }
            i += n;
        }
        next_lsn += kChainUpdates;
        datagrams += count;
        return count;
    }

private:
    static constexpr std::size_t kBatch = 32;
    const ChainSet& set_;
    std::uint32_t stream_, epoch_;
    crypto::GcmEngine engine_;
    crypto::GcmKey key_;
    std::uint32_t group_;
    std::uint16_t port_;
    int fd_ = -1;
    sockaddr_in to_{};
    std::size_t chain_index_ = 0;
    std::vector<std::uint8_t> scratch_, out_;
    std::vector<iovec> iov_;
    std::vector<mmsghdr> msgs_;
};

}  // namespace replicast::bench
