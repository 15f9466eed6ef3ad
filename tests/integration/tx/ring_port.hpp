// The plumbing of tx worker tests: a DPDK net_ring port (its tx and rx share
// one ring that nobody drains unless the test does, so "the port refuses
// frames" is certain), the worker's message rings, a sealed stream, chain
// records and messages, and draining the port until the worker has returned.
#pragma once

#include <gtest/gtest.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "crypto/gcm.hpp"
#include "engine/chain/builder.hpp"
#include "engine/tx/eal.hpp"
#include "engine/tx/port.hpp"
#include "engine/tx/profile.hpp"
#include "engine/tx/worker.hpp"
#include "engine/wire/frame.hpp"
#include "engine/wire/packet.hpp"

namespace replicast::tx::test_port {

/// Removes the EAL's runtime directory (/var/run/dpdk/<file_prefix>) when it
/// goes: declare it before the Eal, so that it runs after rte_eal_cleanup.
/// EAL leaves the directory behind, and every run's prefix is new.
struct RuntimeDirCleanup {
    std::string dir;
    explicit RuntimeDirCleanup(const PmdProfile& p) : dir("/var/run/dpdk/" + p.eal.file_prefix) {}
    ~RuntimeDirCleanup() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

/// One EAL per process: `name` keeps concurrent test processes' files apart.
inline PmdProfile ring_profile(const std::string& name, unsigned mbufs);

/// A test process's EAL and net_ring port, brought up in order and torn down
/// in reverse (the runtime directory last, after rte_eal_cleanup).
struct RingRig {
    explicit RingRig(const std::string& name, unsigned mbufs = 8191) : profile(ring_profile(name, mbufs)) {}
    PmdProfile profile;
    RuntimeDirCleanup cleanup{profile};
    Eal eal{profile, {.force_no_huge = true}};
    Port port{profile, 1};
};

inline PmdProfile ring_profile(const std::string& name, unsigned mbufs) {
    const std::string text = R"(
description = "tx test on net_ring"
[eal]
lcores = "0,1"
memory = "no-huge"
memory_mb = 256
file_prefix = "replicast-)" + name + "-" + std::to_string(getpid()) + R"("
vdevs = ["net_ring0"]
[port]
name = "net_ring0"
tx_descriptors = 512
mtu = 1500
checksum_offload = "off"
mbufs = )" + std::to_string(mbufs) + R"(
mbuf_cache = 256
[dataplane]
source_ip = "10.77.0.1"
source_mac = "02:00:00:00:00:01"
[workers]
tx_lcores = [1]
)";
    return parse_profile(text, name);
}

/// The worker's inbox and outbox (one worker per test process), freed with it.
struct MessageRings {
    rte_ring* inbox = rte_ring_create("test_in", 16, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    rte_ring* outbox = rte_ring_create("test_out", 16, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    MessageRings() = default;
    MessageRings(const MessageRings&) = delete;
    MessageRings& operator=(const MessageRings&) = delete;
    ~MessageRings() {
        rte_ring_free(inbox);
        rte_ring_free(outbox);
    }
};

inline TxWorkerConfig worker_config(const Port& port, const MessageRings& rings) {
    TxWorkerConfig wc;
    wc.port = port.id();
    wc.queue = 0;
    wc.pool = port.pool();
    wc.inbox = rings.inbox;
    wc.outbox = rings.outbox;
    return wc;
}

/// A stream sealed with `key` under epoch 1, sending to its own group.
inline TxStreamConfig sealed_stream(const PmdProfile& profile, std::uint32_t stream_id, const crypto::GcmKey* key,
                                    std::uint64_t heartbeat_interval_ns = 1'000'000'000) {
    TxStreamConfig sc;
    sc.stream_id = stream_id;
    sc.addressing = {.source_mac = profile.dataplane.source_mac, .source_ip = profile.dataplane.source_ip,
                     .group = 0xEFC00000 + stream_id, .source_port = 40000, .group_port = 5000, .ttl = 16, .dscp = 0};
    sc.key_epoch = 1;
    sc.key = key;
    sc.max_payload = 1432;
    sc.heartbeat_interval_ns = heartbeat_interval_ns;
    return sc;
}

struct PlainRecord {
    std::vector<std::uint8_t> bytes;
    wire::CompAlg comp_alg = wire::CompAlg::none;
};

/// An uncompressed chain record of `count` puts from LSN 1: key_of(i) and value_of(i) give each update.
template <typename KeyOf, typename ValueOf>
PlainRecord plain_record(std::uint32_t count, KeyOf key_of, ValueOf value_of) {
    chain::ChainBuilder builder({.compress = false});
    builder.begin(1);
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::string k = key_of(i);
        const std::vector<std::uint8_t> v = value_of(i);
        EXPECT_EQ(builder.add({.op = wire::Op::put, .key = {reinterpret_cast<const std::uint8_t*>(k.data()), k.size()},
                               .value = v}),
                  wire::WireError::ok);
    }
    const chain::BuiltChain built = builder.finish();
    return {{built.record.begin(), built.record.end()}, built.comp_alg};
}

inline TxMessage chain_message(const PlainRecord& record, std::uint64_t first_lsn, std::uint32_t update_count,
                               std::uint32_t stream = 0) {
    TxMessage m;
    m.kind = TxMessage::Kind::chain;
    m.stream = stream;
    m.record = record.bytes;
    m.comp_alg = record.comp_alg;
    m.first_lsn = first_lsn;
    m.update_count = update_count;
    return m;
}

/// One receive burst from the port: each frame parsed as a receiver would
/// (one that does not parse fails the test), handed to `each`, then freed.
/// @return the frames read.
template <typename Each>
std::uint16_t receive_burst(const Port& port, Each each) {
    rte_mbuf* burst[64];
    const std::uint16_t n = rte_eth_rx_burst(port.id(), 0, burst, 64);
    for (std::uint16_t i = 0; i < n; ++i) {
        const std::span<const std::uint8_t> frame(rte_pktmbuf_mtod(burst[i], const std::uint8_t*), burst[i]->data_len);
        wire::FrameInfo f;
        wire::PacketView v;
        if (wire::parse_ethernet_frame(frame, f) != wire::FrameError::ok || wire::parse_packet(f.udp_payload, v) != wire::WireError::ok) {
            ADD_FAILURE() << "a frame the worker sent does not parse";
            continue;
        }
        each(v);
    }
    rte_pktmbuf_free_bulk(burst, n);
    return n;
}

/// Stops the worker and drains the port until it has returned (its final
/// heartbeats may need the ring too).
inline void stop_and_drain(TxWorker& worker, const Port& port, unsigned lcore) {
    worker.stop();
    rte_mbuf* burst[64];
    while (rte_eal_get_lcore_state(lcore) == RUNNING) {
        const std::uint16_t n = rte_eth_rx_burst(port.id(), 0, burst, 64);
        rte_pktmbuf_free_bulk(burst, n);
    }
    rte_eal_wait_lcore(lcore);
}

}  // namespace replicast::tx::test_port
