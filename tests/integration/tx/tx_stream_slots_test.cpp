// The tx worker's stream table while it runs (stream_start / stream_stop
// messages, engine/tx README), on a real DPDK net_ring port: a worker built
// with one stream and a free slot takes a second stream into that slot (its
// heartbeats and a chain go out, sealed with its key), stops it (a final
// heartbeat whose packet_seq the stop message reports, then nothing more of
// it while the first stream's heartbeats go on), and takes another stream
// into the same slot with the packet_seq it is given.
#include <gtest/gtest.h>

#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "crypto/gcm.hpp"
#include "engine/chain/segment.hpp"
#include "engine/tx/worker.hpp"
#include "engine/wire/frame.hpp"
#include "engine/wire/packet.hpp"
#include "ring_port.hpp"

namespace replicast::tx {
namespace {

using Clock = std::chrono::steady_clock;

struct Seen {
    std::uint64_t packets = 0, heartbeats = 0, data = 0, not_opened = 0;
    std::uint64_t last_seq = 0;
    std::uint64_t first_seq = 0;
};

/// Reads the port for `seconds` or until `done` says so; counts frames per stream_id.
template <typename Done>
void drain(const Port& port, crypto::GcmEngine& engine, const std::map<std::uint32_t, const crypto::GcmKey*>& keys,
           std::map<std::uint32_t, Seen>& seen, double seconds, Done done) {
    std::vector<std::uint8_t> plain(2048);
    rte_mbuf* burst[64];
    const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    while (Clock::now() < deadline && !done()) {
        const std::uint16_t n = rte_eth_rx_burst(port.id(), 0, burst, 64);
        for (std::uint16_t i = 0; i < n; ++i) {
            const std::span<const std::uint8_t> frame(rte_pktmbuf_mtod(burst[i], const std::uint8_t*), burst[i]->data_len);
            wire::FrameInfo f;
            wire::PacketView v;
            ASSERT_EQ(wire::parse_ethernet_frame(frame, f), wire::FrameError::ok);
            ASSERT_EQ(wire::parse_packet(f.udp_payload, v), wire::WireError::ok);
            Seen& s = seen[v.header.stream_id];
            if (s.packets++ == 0) s.first_seq = v.header.packet_seq;
            s.last_seq = v.header.packet_seq;
            if (v.kind == wire::PacketKind::heartbeat) ++s.heartbeats;
            if (v.kind == wire::PacketKind::data) ++s.data;
            const auto k = keys.find(v.header.stream_id);
            if (k == keys.end() || !crypto::open_packet(engine, *k->second, v, std::span(plain.data(), v.payload.size()))) {
                ++s.not_opened;
            }
        }
        rte_pktmbuf_free_bulk(burst, n);
    }
}

/// Waits (bounded) for `m` on the outbox; other messages handed back meanwhile are dropped.
bool handed_back(const test_port::MessageRings& rings, const TxMessage* m, double seconds, const Port& port) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    rte_mbuf* burst[64];
    while (Clock::now() < deadline) {
        void* back = nullptr;
        while (rte_ring_dequeue(rings.outbox, &back) == 0) {
            if (back == m) return true;
        }
        // The port must drain for the worker to get on (its final heartbeat).
        const std::uint16_t n = rte_eth_rx_burst(port.id(), 0, burst, 64);
        rte_pktmbuf_free_bulk(burst, n);
    }
    return false;
}

TEST(TxStreamSlots, AStreamStartsStopsAndItsSlotIsReused) {
    test_port::RingRig rig("slots");
    const test_port::MessageRings rings;
    ASSERT_NE(rings.inbox, nullptr);
    crypto::GcmEngine engine;
    crypto::Key raw{};
    raw[1] = 0x11;
    const crypto::GcmKey key7(engine, raw);
    raw[1] = 0x22;
    const crypto::GcmKey key9(engine, raw);
    raw[1] = 0x33;
    const crypto::GcmKey key11(engine, raw);
    const std::map<std::uint32_t, const crypto::GcmKey*> keys{{7, &key7}, {9, &key9}, {11, &key11}};

    constexpr std::uint64_t kBeat = 50'000'000;  // 50 ms heartbeats
    TxWorkerConfig wc = test_port::worker_config(rig.port, rings);
    wc.streams.push_back(test_port::sealed_stream(rig.profile, 7, &key7, kBeat));
    wc.max_streams = 2;
    TxWorker worker(std::move(wc));
    ASSERT_EQ(worker.slots(), 2u);
    const unsigned lcore = rig.profile.tx_lcores[0];
    ASSERT_EQ(rte_eal_remote_launch(&TxWorker::launch, &worker, lcore), 0);

    std::map<std::uint32_t, Seen> seen;
    drain(rig.port, engine, keys, seen, 5, [&] { return seen[7].heartbeats >= 2; });
    EXPECT_EQ(seen.count(9), 0u) << "the free slot sends nothing";

    // Start stream 9 in slot 1, then a chain on it.
    TxStreamConfig nine = test_port::sealed_stream(rig.profile, 9, &key9, kBeat);
    nine.next_seq = 1000;
    TxMessage start;
    start.kind = TxMessage::Kind::stream_start;
    start.stream = 1;
    start.start = &nine;
    ASSERT_EQ(rte_ring_enqueue(rings.inbox, &start), 0);
    const test_port::PlainRecord record = test_port::plain_record(
        6, [](std::uint32_t i) { return "k/" + std::to_string(i); },
        [](std::uint32_t i) { return std::vector<std::uint8_t>(900, static_cast<std::uint8_t>(i)); });
    const std::size_t segments = chain::segment_count(record.bytes.size(), 1432);
    TxMessage chain = test_port::chain_message(record, 1, 6, 1);
    ASSERT_EQ(rte_ring_enqueue(rings.inbox, &chain), 0);
    drain(rig.port, engine, keys, seen, 5, [&] { return seen[9].data >= segments && seen[9].heartbeats >= 2; });
    ASSERT_EQ(seen[9].data, segments);
    EXPECT_EQ(seen[9].first_seq, 1000u) << "the slot starts at the packet_seq it was given";
    EXPECT_GE(seen[9].heartbeats, 2u);

    // Stop it: a final heartbeat, reported in the stop message, then silence.
    TxMessage stop;
    stop.kind = TxMessage::Kind::stream_stop;
    stop.stream = 1;
    ASSERT_EQ(rte_ring_enqueue(rings.inbox, &stop), 0);
    const std::uint64_t beats_before = seen[9].heartbeats;
    drain(rig.port, engine, keys, seen, 5, [&] { return seen[9].heartbeats > beats_before; });
    ASSERT_TRUE(handed_back(rings, &stop, 5, rig.port));
    EXPECT_EQ(stop.last_seq, seen[9].last_seq) << "the stop reports the slot's last packet_seq";
    const Seen nine_at_stop = seen[9];
    const std::uint64_t seven_at_stop = seen[7].heartbeats;
    drain(rig.port, engine, keys, seen, 0.5, [] { return false; });  // 10 heartbeat intervals
    EXPECT_EQ(seen[9].packets, nine_at_stop.packets) << "nothing of a stopped stream";
    EXPECT_GE(seen[7].heartbeats, seven_at_stop + 5) << "the other stream goes on";

    // The slot again, for stream 11.
    TxStreamConfig eleven = test_port::sealed_stream(rig.profile, 11, &key11, kBeat);
    eleven.next_seq = 5000;
    start.start = &eleven;
    ASSERT_EQ(rte_ring_enqueue(rings.inbox, &start), 0);
    drain(rig.port, engine, keys, seen, 5, [&] { return seen[11].heartbeats >= 1; });
    EXPECT_EQ(seen[11].first_seq, 5000u);

    test_port::stop_and_drain(worker, rig.port, lcore);
    void* back = nullptr;
    while (rte_ring_dequeue(rings.outbox, &back) == 0) {
    }
    for (const auto& [id, s] : seen) {
        EXPECT_EQ(s.not_opened, 0u) << "stream " << id << ": a packet that does not open with its key";
    }
    EXPECT_EQ(worker.counters().seal_errors.load(), 0u);
    std::printf("stream 7: %llu packets; 9: %llu (%llu data); 11: %llu\n", static_cast<unsigned long long>(seen[7].packets),
                static_cast<unsigned long long>(seen[9].packets), static_cast<unsigned long long>(seen[9].data),
                static_cast<unsigned long long>(seen[11].packets));
}

}  // namespace
}  // namespace replicast::tx
