// The four frame paths of the tx worker, one per (sealed, checksum offload):
// the worker picks one per stream at setup (build_frames<sealed, offload>),
// so each is exercised here on a real DPDK net_ring port and every data frame
// checked as a receiver and a NIC would see it:
//   sealed      key_epoch 1, and the payload opens with the stream's key to the
//               record's slice; unsealed: key_epoch 0, no tag, the slice itself;
//   software    IPv4 and UDP checksums verify, no offload flags on the mbuf;
//   offload     the mbuf asks the port for IPv4 and UDP checksums (flags,
//               l2_len 14, l3_len 20), the IPv4 checksum field is left 0 and
//               the UDP field holds the pseudo-header sum, worked out here.
// net_ring hands the very mbufs from tx to rx, so the flags are visible.
// Control packets (heartbeats) always carry software checksums.
#include <gtest/gtest.h>

#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "crypto/gcm.hpp"
#include "engine/chain/segment.hpp"
#include "engine/tx/worker.hpp"
#include "engine/wire/endian.hpp"
#include "engine/wire/frame.hpp"
#include "engine/wire/packet.hpp"
#include "ring_port.hpp"

namespace replicast::tx {
namespace {

using Clock = std::chrono::steady_clock;

// The UDP pseudo-header sum (RFC 768) a NIC expects to find in the checksum
// field: source, destination, protocol 17, UDP length; folded, not inverted.
std::uint16_t pseudo_header_sum(const wire::FrameInfo& f, std::uint16_t udp_len) {
    std::uint32_t sum = (f.src_ip >> 16) + (f.src_ip & 0xffff) + (f.dst_ip >> 16) + (f.dst_ip & 0xffff) + 17u + udp_len;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

struct Path {
    bool sealed;
    bool offload;
};

void send_and_check(Port& port, const PmdProfile& profile, const test_port::MessageRings& rings,
                    crypto::GcmEngine& engine, const crypto::GcmKey& key, Path path) {
    SCOPED_TRACE(std::string(path.sealed ? "sealed" : "unsealed") + ", " + (path.offload ? "offload" : "software"));
    const test_port::PlainRecord record = test_port::plain_record(
        12, [](std::uint32_t i) { return "k/" + std::to_string(i); },
        [](std::uint32_t i) { return std::vector<std::uint8_t>(700 + 97 * i, static_cast<std::uint8_t>(i + 1)); });
    const std::size_t segments = chain::segment_count(record.bytes.size(), 1432);
    ASSERT_GE(segments, 9u) << "FIC, MIC and LIC all needed";

    TxWorkerConfig wc = test_port::worker_config(port, rings);
    wc.checksum_offload = path.offload;
    TxStreamConfig sc = test_port::sealed_stream(profile, 7, &key);
    if (!path.sealed) {
        sc.key_epoch = 0;
        sc.key = nullptr;
    }
    wc.streams.push_back(sc);
    TxWorker worker(std::move(wc));
    TxMessage chain = test_port::chain_message(record, 1, 12);
    ASSERT_EQ(rte_ring_enqueue(rings.inbox, &chain), 0);
    const unsigned lcore = profile.tx_lcores[0];
    ASSERT_EQ(rte_eal_remote_launch(&TxWorker::launch, &worker, lcore), 0);

    std::size_t data = 0, control = 0;
    std::vector<std::uint8_t> plain(2048);
    rte_mbuf* burst[64];
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (data < segments && Clock::now() < deadline) {
        const std::uint16_t n = rte_eth_rx_burst(port.id(), 0, burst, 64);
        for (std::uint16_t i = 0; i < n; ++i) {
            rte_mbuf* m = burst[i];
            const std::span<const std::uint8_t> frame(rte_pktmbuf_mtod(m, const std::uint8_t*), m->data_len);
            wire::FrameInfo f;
            wire::PacketView v;
            ASSERT_EQ(wire::parse_ethernet_frame(frame, f), wire::FrameError::ok);
            ASSERT_EQ(wire::parse_packet(f.udp_payload, v), wire::WireError::ok);
            const auto udp_len = static_cast<std::uint16_t>(8 + f.udp_payload.size());
            const std::uint64_t cksum_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM;
            if (v.kind != wire::PacketKind::data) {
                EXPECT_TRUE(f.ipv4_checksum_ok && f.udp_checksum_ok) << "control packets carry software checksums";
                ++control;
                continue;
            }
            if (path.offload) {
                EXPECT_EQ(m->ol_flags & cksum_flags, cksum_flags);
                EXPECT_EQ(m->l2_len, 14u);
                EXPECT_EQ(m->l3_len, 20u);
                EXPECT_EQ(frame[14 + 10], 0u) << "the IPv4 checksum is the port's to write";
                EXPECT_EQ(frame[14 + 11], 0u);
                EXPECT_EQ(wire::load_be<std::uint16_t>(frame.data() + 14 + 20 + 6), pseudo_header_sum(f, udp_len));
            } else {
                EXPECT_EQ(m->ol_flags & cksum_flags, 0u);
                EXPECT_TRUE(f.ipv4_checksum_ok) << "data packet " << data;
                EXPECT_TRUE(f.udp_checksum_present && f.udp_checksum_ok) << "data packet " << data;
            }
            ASSERT_LT(data, segments);
            const chain::Segment seg = chain::segment(record.bytes, 1432, data, segments);
            EXPECT_EQ(v.position, seg.position);
            std::span<const std::uint8_t> payload = v.payload;
            if (path.sealed) {
                EXPECT_EQ(v.header.key_epoch, 1u);
                ASSERT_LE(v.payload.size(), plain.size());
                ASSERT_TRUE(crypto::open_packet(engine, key, v, std::span(plain.data(), v.payload.size())))
                    << "data packet " << data << " does not open with the stream's key";
                payload = std::span<const std::uint8_t>(plain.data(), v.payload.size());
            } else {
                EXPECT_EQ(v.header.key_epoch, 0u);
                EXPECT_TRUE(v.tag.empty());
            }
            EXPECT_TRUE(std::equal(payload.begin(), payload.end(), seg.payload.begin(), seg.payload.end()))
                << "data packet " << data << " does not carry slice " << data;
            ++data;
        }
        rte_pktmbuf_free_bulk(burst, n);
    }
    test_port::stop_and_drain(worker, port, lcore);
    void* back = nullptr;
    while (rte_ring_dequeue(rings.outbox, &back) == 0) {
    }
    EXPECT_EQ(data, segments);
    EXPECT_EQ(worker.counters().seal_errors.load(), 0u);
    std::printf("%s, %s: %zu data and %zu control packets checked\n", path.sealed ? "sealed" : "unsealed",
                path.offload ? "offload" : "software", data, control);
}

TEST(TxFramePaths, EveryPathBuildsFramesAReceiverAndANicAccept) {
    test_port::RingRig rig("framepaths");
    const test_port::MessageRings rings;
    ASSERT_NE(rings.inbox, nullptr);
    ASSERT_NE(rings.outbox, nullptr);
    crypto::GcmEngine engine;
    crypto::Key raw{};
    raw[5] = 0x5a;
    const crypto::GcmKey key(engine, raw);
    // One EAL per process: the four paths run one after another on it.
    for (const Path path : {Path{true, false}, Path{true, true}, Path{false, false}, Path{false, true}}) {
        send_and_check(rig.port, rig.profile, rings, engine, key, path);
        if (HasFatalFailure()) return;
    }
}

}  // namespace
}  // namespace replicast::tx
