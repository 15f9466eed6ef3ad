// A chain that takes longer on the wire than the key-announcement window and
// the heartbeat interval (a paced multi-megabyte chain), on a worker with two
// streams. While stream A sends it:
//   - stream B's heartbeats keep coming (PROTOCOL.md 1.4: at least once a
//     second, after 100 ms idle), interleaved with A's chain packets;
//   - A's key change, posted just before the chain, is not switched silently
//     when the chain ends after its window: at least one KEYCHANGE announcement
//     (PROTOCOL.md 1.5) precedes A's first packet sealed with the new epoch,
//     and A's chain packets stay contiguous in packet_seq (no control packet of
//     A inside its own chain).
// The port is a DPDK net_ring device the test drains as the worker sends.
#include <gtest/gtest.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "crypto/gcm.hpp"
#include "engine/chain/builder.hpp"
#include "engine/chain/segment.hpp"
#include "engine/tx/eal.hpp"
#include "engine/tx/port.hpp"
#include "engine/tx/worker.hpp"
#include "engine/wire/frame.hpp"
#include "engine/wire/packet.hpp"
#include "ring_port.hpp"

namespace replicast::tx {
namespace {

using Clock = std::chrono::steady_clock;

TxStreamConfig stream(const PmdProfile& profile, std::uint32_t id, const crypto::GcmKey* key) {
    TxStreamConfig sc;
    sc.stream_id = id;
    sc.addressing = {.source_mac = profile.dataplane.source_mac, .source_ip = profile.dataplane.source_ip,
                     .group = 0xEFC00000 + id, .source_port = 40000, .group_port = 5000, .ttl = 16, .dscp = 0};
    sc.key_epoch = 1;
    sc.key = key;
    sc.max_payload = 1432;
    sc.heartbeat_interval_ns = 100'000'000;
    sc.key_announce_ns = 300'000'000;       // a window much shorter than the chain
    sc.key_announce_every_ns = 50'000'000;
    return sc;
}

TEST(TxLongChain, OtherStreamsKeepTheirHeartbeatsAndKeyChangesAreAnnounced) {
    const PmdProfile profile = test_port::ring_profile("longchain");
    const test_port::RuntimeDirCleanup cleanup(profile);
    Eal eal(profile, {.force_no_huge = true});
    Port port(profile, 1);

    crypto::GcmEngine engine;
    crypto::Key raw1{}, raw2{};
    raw1[0] = 1;
    raw2[0] = 2;
    const crypto::GcmKey key1(engine, raw1), key2(engine, raw2);

    // ~3 MB: about 1.2 s at 20 Mbit/s, four windows' worth.
    chain::ChainBuilder builder({.compress = false});
    builder.begin(1);
    std::vector<std::uint8_t> value(30 * 1024, 0x33);
    for (std::uint32_t i = 0; i < 100; ++i) {
        const std::string k = "k" + std::to_string(i);
        ASSERT_EQ(builder.add({.op = wire::Op::put, .key = {reinterpret_cast<const std::uint8_t*>(k.data()), k.size()},
                               .value = value}),
                  wire::WireError::ok);
    }
    const chain::BuiltChain built = builder.finish();
    const std::vector<std::uint8_t> record(built.record.begin(), built.record.end());
    const std::size_t segments = chain::segment_count(record.size(), 1432);

    rte_ring* inbox = rte_ring_create("l_in", 16, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    rte_ring* outbox = rte_ring_create("l_out", 16, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    ASSERT_NE(inbox, nullptr);
    ASSERT_NE(outbox, nullptr);
    TxWorkerConfig wc;
    wc.port = port.id();
    wc.pool = port.pool();
    wc.inbox = inbox;
    wc.outbox = outbox;
    TxStreamConfig a = stream(profile, 1, &key1);
    a.pace.rate_bps = 20'000'000;
    wc.streams.push_back(a);
    wc.streams.push_back(stream(profile, 2, &key1));
    TxWorker worker(std::move(wc));

    TxMessage key_change;
    key_change.kind = TxMessage::Kind::key_change;
    key_change.stream = 0;
    key_change.next_epoch = 2;
    key_change.next_key = &key2;
    TxMessage chain;
    chain.kind = TxMessage::Kind::chain;
    chain.stream = 0;
    chain.record = record;
    chain.comp_alg = built.comp_alg;
    chain.first_lsn = 1;
    chain.update_count = 100;
    ASSERT_EQ(rte_ring_enqueue(inbox, &key_change), 0);
    ASSERT_EQ(rte_ring_enqueue(inbox, &chain), 0);
    const unsigned lcore = profile.tx_lcores[0];
    ASSERT_EQ(rte_eal_remote_launch(&TxWorker::launch, &worker, lcore), 0);

    // In send order: A's chain packets, A's control packets, B's heartbeats.
    std::size_t a_data = 0, b_heartbeats_during_chain = 0, a_announcements_before_switch = 0;
    std::uint64_t a_next_data_seq = 0;
    bool a_switched_seen = false, b_switched = false;
    rte_mbuf* burst[64];
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (!a_switched_seen && Clock::now() < deadline) {
        const std::uint16_t n = rte_eth_rx_burst(port.id(), 0, burst, 64);
        for (std::uint16_t i = 0; i < n; ++i) {
            const std::span<const std::uint8_t> frame(rte_pktmbuf_mtod(burst[i], const std::uint8_t*), burst[i]->data_len);
            wire::FrameInfo f;
            wire::PacketView v;
            ASSERT_EQ(wire::parse_ethernet_frame(frame, f), wire::FrameError::ok);
            ASSERT_EQ(wire::parse_packet(f.udp_payload, v), wire::WireError::ok);
            const bool in_chain = a_data > 0 && a_data < segments;
            if (v.header.stream_id == 2) {
                b_switched |= v.header.key_epoch != 1;
                if (in_chain && v.kind == wire::PacketKind::heartbeat) ++b_heartbeats_during_chain;
            } else if (v.kind == wire::PacketKind::data) {
                if (a_data > 0) {
                    EXPECT_EQ(v.header.packet_seq, a_next_data_seq) << "A's chain is not contiguous";
                }
                a_next_data_seq = v.header.packet_seq + 1;
                EXPECT_EQ(v.header.key_epoch, 1u) << "the chain was sealed with a key never announced";
                ++a_data;
            } else {
                EXPECT_FALSE(in_chain) << "a control packet of A inside A's own chain breaks it";
                if (v.header.key_epoch == 2) {
                    a_switched_seen = true;
                } else if (v.kind == wire::PacketKind::key_change) {
                    ++a_announcements_before_switch;
                }
            }
        }
        rte_pktmbuf_free_bulk(burst, n);
    }
    worker.stop();
    while (rte_eal_get_lcore_state(lcore) == RUNNING) {
        const std::uint16_t n = rte_eth_rx_burst(port.id(), 0, burst, 64);
        rte_pktmbuf_free_bulk(burst, n);
    }
    rte_eal_wait_lcore(lcore);

    EXPECT_EQ(a_data, segments);
    EXPECT_TRUE(a_switched_seen) << "A never switched to epoch 2";
    EXPECT_GE(a_announcements_before_switch, 1u) << "A switched keys without announcing the change";
    EXPECT_FALSE(b_switched);
    // ~1.2 s of chain at one heartbeat per 100 ms idle: at least 5 is far from flaky.
    EXPECT_GE(b_heartbeats_during_chain, 5u) << "stream B fell silent while A sent a long chain";
    std::printf("chain of %zu packets; B sent %zu heartbeats during it; A announced %zu times before switching\n",
                segments, b_heartbeats_during_chain, a_announcements_before_switch);
    rte_ring_free(inbox);
    rte_ring_free(outbox);
}

}  // namespace
}  // namespace replicast::tx
