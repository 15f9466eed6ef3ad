// The tx worker when the port's ring is full: what rte_eth_tx_burst refuses is
// kept and offered again, counted, never dropped or duplicated. The port is a
// real DPDK net_ring device, whose tx and rx share one 1024-slot ring: nobody
// drains it at first, so the worker runs into a full ring for certain; then
// the test drains it and checks that every packet of a ~3400-packet chain
// came out once, in order, sealed and byte-identical to the chain record.
#include <gtest/gtest.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "crypto/gcm.hpp"
#include "engine/chain/builder.hpp"
#include "engine/chain/segment.hpp"
#include "engine/tx/eal.hpp"
#include "engine/tx/port.hpp"
#include "engine/tx/profile.hpp"
#include "engine/tx/worker.hpp"
#include "engine/wire/frame.hpp"
#include "engine/wire/packet.hpp"
#include "ring_port.hpp"

namespace replicast::tx {
namespace {

using Clock = std::chrono::steady_clock;

TEST(TxRingFull, RefusedPacketsAreRetriedNeverLostOrRepeated) {
    test_port::RingRig rig("ringtest");
    const PmdProfile& profile = rig.profile;
    Port& port = rig.port;

    crypto::GcmEngine engine;
    crypto::Key raw{};
    raw[3] = 0x42;
    const crypto::GcmKey key(engine, raw);

    // ~3400 packets of 1432 bytes: more than three times what the ring holds.
    const test_port::PlainRecord built = test_port::plain_record(
        100, [](std::uint32_t i) { return "key/" + std::to_string(i); },
        [](std::uint32_t i) {
            std::vector<std::uint8_t> value(48 * 1024);
            for (std::size_t b = 0; b < value.size(); ++b) value[b] = static_cast<std::uint8_t>(i * 31 + b * 7);
            return value;
        });
    const std::vector<std::uint8_t>& record = built.bytes;
    const std::uint32_t max_payload = 1432;
    const std::size_t segments = chain::segment_count(record.size(), max_payload);
    ASSERT_GT(segments, 3000u);

    const test_port::MessageRings rings;
    ASSERT_NE(rings.inbox, nullptr);
    ASSERT_NE(rings.outbox, nullptr);
    // A key expanded for one ipsec-mb code path never reaches a worker that
    // seals with another: its tags would be wrong on every packet.
    if (engine.arch_name() != "AVX2") {
        TxWorkerConfig other = test_port::worker_config(port, rings);
        other.crypto_arch = crypto::GcmArch::avx2;
        other.streams.push_back(test_port::sealed_stream(profile, 9, &key));
        try {
            TxWorker refused(std::move(other));
            ADD_FAILURE() << "a worker on the AVX2 path took a key expanded for " << engine.arch_name();
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("code path"), std::string::npos) << e.what();
        }
    }

    TxWorkerConfig wc = test_port::worker_config(port, rings);
    wc.streams.push_back(test_port::sealed_stream(profile, 9, &key));
    TxWorker worker(std::move(wc));

    TxMessage msg = test_port::chain_message(built, 1, 100);
    ASSERT_EQ(rte_ring_enqueue(rings.inbox, &msg), 0);
    const unsigned lcore = profile.tx_lcores[0];
    ASSERT_EQ(rte_eal_remote_launch(&TxWorker::launch, &worker, lcore), 0);

    // Nobody drains yet: the ring fills and the worker must be told "no".
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (worker.counters().tx_ring_full.load() < 3 && Clock::now() < deadline) {
        rte_pause();
    }
    EXPECT_GE(worker.counters().tx_ring_full.load(), 3u) << "the ring never refused a burst";
    const std::uint64_t sent_while_full = worker.counters().packets.load();
    EXPECT_LT(sent_while_full, segments) << "the whole chain went out although the ring holds 1023 frames";

    // Drain until the whole chain is out, opening and checking each data packet.
    std::vector<std::uint8_t> reassembled;
    std::uint64_t first_data_seq = 0;  // the worker may open with a heartbeat, which takes a packet_seq
    std::uint64_t expected_seq = 0;
    std::size_t data_packets = 0;
    std::size_t bad = 0;
    std::vector<std::uint8_t> plain(2048);
    rte_mbuf* burst[64];
    while (data_packets < segments && Clock::now() < deadline) {
        const std::uint16_t n = rte_eth_rx_burst(port.id(), 0, burst, 64);
        for (std::uint16_t i = 0; i < n; ++i) {
            const std::span<const std::uint8_t> frame(rte_pktmbuf_mtod(burst[i], const std::uint8_t*), burst[i]->data_len);
            wire::FrameInfo f;
            wire::PacketView v;
            if (wire::parse_ethernet_frame(frame, f) != wire::FrameError::ok || !f.udp_checksum_ok ||
                wire::parse_packet(f.udp_payload, v) != wire::WireError::ok) {
                ++bad;
            } else if (v.kind == wire::PacketKind::data) {
                if (data_packets == 0) {
                    first_data_seq = expected_seq = v.header.packet_seq;
                }
                EXPECT_EQ(v.header.packet_seq, expected_seq) << "a packet was lost, repeated or reordered";
                expected_seq = v.header.packet_seq + 1;
                crypto::OpenOp op{.key = &key, .stream_id = v.header.stream_id, .packet_seq = v.header.packet_seq,
                                  .aad = v.header_bytes.data(), .src = v.payload.data(), .dst = plain.data(),
                                  .len = static_cast<std::uint32_t>(v.payload.size()), .tag_in = v.tag.data()};
                EXPECT_EQ(engine.open_burst(std::span(&op, 1)), 1u);
                EXPECT_TRUE(op.ok) << "seq " << v.header.packet_seq;
                reassembled.insert(reassembled.end(), plain.begin(), plain.begin() + static_cast<long>(v.payload.size()));
                ++data_packets;
            }
            rte_pktmbuf_free(burst[i]);
        }
    }
    test_port::stop_and_drain(worker, port, lcore);

    EXPECT_EQ(bad, 0u);
    EXPECT_EQ(data_packets, segments);
    EXPECT_TRUE(reassembled == record) << "the payloads do not rebuild the chain record";
    void* back = nullptr;
    ASSERT_EQ(rte_ring_dequeue(rings.outbox, &back), 0) << "the chain message was not handed back";
    EXPECT_EQ(back, &msg);
    EXPECT_EQ(msg.first_seq, first_data_seq);
    EXPECT_EQ(msg.last_seq, first_data_seq + segments - 1);
    EXPECT_EQ(worker.counters().chains.load(), 1u);
    std::printf("ring refused %llu bursts; %zu packets arrived once and in order\n",
                static_cast<unsigned long long>(worker.counters().tx_ring_full.load()), data_packets);
}

}  // namespace
}  // namespace replicast::tx
