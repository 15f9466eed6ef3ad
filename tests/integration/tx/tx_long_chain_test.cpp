// A chain that takes longer on the wire than the key-announcement window and
// the heartbeat interval (a paced multi-megabyte chain), on a worker with two
// streams. While stream A sends it:
//   - stream B's heartbeats keep coming (PROTOCOL.md 1.4: at least once a
//     second, after 100 ms idle), interleaved with A's chain packets;
//   - A's key change, posted just before the chain, is not switched silently
//     when the chain ends after its window: at least one KEYCHANGE announcement
//     (PROTOCOL.md 1.5) precedes A's first packet sealed with the new epoch,
//     and A's chain packets stay contiguous in packet_seq (no control packet of
//     A inside its own chain);
//   - every packet opens with the key the test expects for its stream and
//     epoch (A and B: key 1 at epoch 1; A: key 2 at epoch 2), not merely
//     carries that epoch in its header: A's chain packets decrypt to the
//     record's slices in order, announcements to epoch 2 at the seq where A's
//     first epoch-2 packet is, heartbeats to heartbeats.
// The port is a DPDK net_ring device the test drains as the worker sends.
#include <gtest/gtest.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
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
#include "engine/wire/control.hpp"
#include "engine/wire/frame.hpp"
#include "engine/wire/packet.hpp"
#include "ring_port.hpp"

namespace replicast::tx {
namespace {

using Clock = std::chrono::steady_clock;

TxStreamConfig stream(const PmdProfile& profile, std::uint32_t id, const crypto::GcmKey* key) {
    TxStreamConfig sc = test_port::sealed_stream(profile, id, key, 100'000'000);
    sc.key_announce_ns = 300'000'000;  // a window much shorter than the chain
    sc.key_announce_every_ns = 50'000'000;
    return sc;
}

TEST(TxLongChain, OtherStreamsKeepTheirHeartbeatsAndKeyChangesAreAnnounced) {
    test_port::RingRig rig("longchain");
    const PmdProfile& profile = rig.profile;
    Port& port = rig.port;

    crypto::GcmEngine engine;
    crypto::Key raw1{}, raw2{};
    raw1[0] = 1;
    raw2[0] = 2;
    const crypto::GcmKey key1(engine, raw1), key2(engine, raw2);

    // ~3 MB: about 1.2 s at 20 Mbit/s, four windows' worth.
    const test_port::PlainRecord record = test_port::plain_record(
        100, [](std::uint32_t i) { return "k" + std::to_string(i); },
        [](std::uint32_t) { return std::vector<std::uint8_t>(30 * 1024, 0x33); });
    const std::size_t segments = chain::segment_count(record.bytes.size(), 1432);

    const test_port::MessageRings rings;
    ASSERT_NE(rings.inbox, nullptr);
    ASSERT_NE(rings.outbox, nullptr);
    TxWorkerConfig wc = test_port::worker_config(port, rings);
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
    TxMessage chain = test_port::chain_message(record, 1, 100);
    ASSERT_EQ(rte_ring_enqueue(rings.inbox, &key_change), 0);
    ASSERT_EQ(rte_ring_enqueue(rings.inbox, &chain), 0);
    const unsigned lcore = profile.tx_lcores[0];
    ASSERT_EQ(rte_eal_remote_launch(&TxWorker::launch, &worker, lcore), 0);

    // In send order: A's chain packets, A's control packets, B's heartbeats.
    std::size_t a_data = 0, b_heartbeats_during_chain = 0, a_announcements_before_switch = 0;
    std::uint64_t a_next_data_seq = 0;
    bool a_switched_seen = false, b_switched = false;
    std::size_t received = 0, opened = 0, wrong_key_refused = 0;
    std::uint64_t announced_first_seq = 0;
    std::vector<std::uint8_t> plain(2048);
    // The key the test handed out for (stream, epoch); null for any other.
    auto expected_key = [&](const wire::PacketHeader& h) -> const crypto::GcmKey* {
        if (h.key_epoch == 1 && (h.stream_id == 1 || h.stream_id == 2)) return &key1;
        if (h.key_epoch == 2 && h.stream_id == 1) return &key2;
        return nullptr;
    };
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
            ++received;
            const crypto::GcmKey* key = expected_key(v.header);
            ASSERT_NE(key, nullptr) << "stream " << v.header.stream_id << " sealed under epoch " << v.header.key_epoch;
            ASSERT_LE(v.payload.size(), plain.size());
            const std::span<std::uint8_t> out(plain.data(), v.payload.size());
            ASSERT_TRUE(crypto::open_packet(engine, *key, v, out))
                << "stream " << v.header.stream_id << " seq " << v.header.packet_seq << " epoch " << v.header.key_epoch
                << " does not open with the key given for that epoch";
            ++opened;
            if (received == 1) {
                // The check above is no formality: the other key does not open it.
                std::vector<std::uint8_t> scratch(v.payload.size());
                EXPECT_FALSE(crypto::open_packet(engine, key == &key1 ? key2 : key1, v, scratch));
                ++wrong_key_refused;
            }
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
                ASSERT_LT(a_data, segments);
                const chain::Segment seg = chain::segment(record.bytes, 1432, a_data, segments);
                EXPECT_TRUE(std::equal(out.begin(), out.end(), seg.payload.begin(), seg.payload.end()))
                    << "A's packet " << a_data << " does not decrypt to slice " << a_data << " of the record";
                ++a_data;
            } else {
                EXPECT_FALSE(in_chain) << "a control packet of A inside A's own chain breaks it";
                if (v.header.key_epoch == 2) {
                    a_switched_seen = true;
                    EXPECT_EQ(v.header.packet_seq, announced_first_seq) << "epoch 2 began away from the announced seq";
                } else if (v.kind == wire::PacketKind::key_change) {
                    wire::KeyChange kc;
                    ASSERT_EQ(wire::parse_key_change(out, kc), wire::WireError::ok);
                    EXPECT_EQ(kc.next_epoch, 2u);
                    EXPECT_TRUE(announced_first_seq == 0 || announced_first_seq == kc.first_seq)
                        << "the announced first_seq changed";
                    announced_first_seq = kc.first_seq;
                    ++a_announcements_before_switch;
                }
            }
            if (v.kind == wire::PacketKind::heartbeat) {
                wire::Heartbeat hb;
                EXPECT_EQ(wire::parse_heartbeat(out, hb), wire::WireError::ok);
            }
        }
        rte_pktmbuf_free_bulk(burst, n);
    }
    test_port::stop_and_drain(worker, port, lcore);

    EXPECT_EQ(a_data, segments);
    EXPECT_EQ(opened, received) << "every packet opened with the key expected for it";
    EXPECT_EQ(wrong_key_refused, 1u);
    EXPECT_TRUE(a_switched_seen) << "A never switched to epoch 2";
    EXPECT_GE(a_announcements_before_switch, 1u) << "A switched keys without announcing the change";
    EXPECT_FALSE(b_switched);
    // ~1.2 s of chain at one heartbeat per 100 ms idle: at least 5 is far from flaky.
    EXPECT_GE(b_heartbeats_during_chain, 5u) << "stream B fell silent while A sent a long chain";
    std::printf("chain of %zu packets; B sent %zu heartbeats during it; A announced %zu times before switching\n",
                segments, b_heartbeats_during_chain, a_announcements_before_switch);
}

}  // namespace
}  // namespace replicast::tx
