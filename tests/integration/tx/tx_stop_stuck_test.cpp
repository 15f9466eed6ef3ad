// Stopping the tx worker while its port takes nothing (a link that went down
// mid-chain): the stop must not hang. The port is a DPDK net_ring device that
// nobody drains, so the worker's frames pile up until the ring refuses them;
// then stop() must return within a bounded time, free and count what the port
// never took, and hand back every chain not wholly sent marked `dropped` (the
// server then leaves multicast_lsn where it was, and the next start resends):
// also one whose every frame was offered but whose last ones were refused.
#include <gtest/gtest.h>

#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include <chrono>
#include <cstdio>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "crypto/gcm.hpp"
#include "engine/chain/builder.hpp"
#include "engine/chain/segment.hpp"
#include "engine/tx/eal.hpp"
#include "engine/tx/port.hpp"
#include "engine/tx/worker.hpp"
#include "ring_port.hpp"

namespace replicast::tx {
namespace {

using Clock = std::chrono::steady_clock;

TEST(TxStopStuck, StopReturnsAndReportsWhatThePortNeverTook) {
    // Run twice by meson: with a pool larger than the ring (the ring refuses
    // frames) and, REPLICAST_TEST_MBUFS=511, smaller (the port holds every
    // mbuf, so none can be allocated and nothing is ever refused).
    const char* mbufs_env = std::getenv("REPLICAST_TEST_MBUFS");
    const unsigned mbufs = mbufs_env != nullptr ? static_cast<unsigned>(std::atoi(mbufs_env)) : 8191;
    const bool pool_runs_dry = mbufs < 1023;
    test_port::RingRig rig(pool_runs_dry ? "stopstuck-pool" : "stopstuck", mbufs);
    const PmdProfile& profile = rig.profile;
    Port& port = rig.port;

    crypto::GcmEngine engine;
    crypto::Key raw{};
    raw[0] = 0x17;
    const crypto::GcmKey key(engine, raw);

    // 1024 packets: one more than the 1023 frames the ring holds, and no more
    // than the worker offers before it must wait. So every frame of the chain
    // is offered and the last one or two are refused: a chain that is "all
    // offered" but not all taken (100 updates of 4-byte keys and 14640-byte
    // values: a 1465316-byte record).
    const test_port::PlainRecord record = test_port::plain_record(
        100, [](std::uint32_t i) { return "k" + std::string(i < 10 ? "00" : "0") + std::to_string(i); },
        [](std::uint32_t) { return std::vector<std::uint8_t>(14640, 0x5a); });
    ASSERT_EQ(chain::segment_count(record.bytes.size(), 1432), 1024u);

    const test_port::MessageRings rings;
    ASSERT_NE(rings.inbox, nullptr);
    ASSERT_NE(rings.outbox, nullptr);
    TxWorkerConfig wc = test_port::worker_config(port, rings);
    wc.streams.push_back(test_port::sealed_stream(profile, 4, &key));
    TxWorker worker(std::move(wc));

    // Two chains: the first fills the ring and stalls, the second never starts.
    std::vector<TxMessage> msgs = {test_port::chain_message(record, 1, 100), test_port::chain_message(record, 101, 100)};
    for (TxMessage& m : msgs) ASSERT_EQ(rte_ring_enqueue(rings.inbox, &m), 0);
    const unsigned lcore = profile.tx_lcores[0];
    ASSERT_EQ(rte_eal_remote_launch(&TxWorker::launch, &worker, lcore), 0);

    const auto deadline = Clock::now() + std::chrono::seconds(20);
    const std::atomic<std::uint64_t>& stuck = pool_runs_dry ? worker.counters().mbuf_exhausted : worker.counters().tx_ring_full;
    while (stuck.load() < 3 && Clock::now() < deadline) rte_pause();
    ASSERT_GE(stuck.load(), 3u) << (pool_runs_dry ? "the pool never ran dry" : "the ring never refused a burst");

    const auto stop_at = Clock::now();
    worker.stop();
    // 1 s without progress, then 1 s for the final heartbeat: 10 s is a hang.
    while (rte_eal_get_lcore_state(lcore) == RUNNING && Clock::now() < stop_at + std::chrono::seconds(10)) rte_pause();
    if (rte_eal_get_lcore_state(lcore) == RUNNING) {
        ADD_FAILURE() << "stop() did not return within 10 s while the port took nothing";
        std::fflush(nullptr);
        std::error_code ec;
        std::filesystem::remove_all(rig.cleanup.dir, ec);  // _Exit skips the destructors
        std::_Exit(1);  // the worker lcore cannot be joined: leave rather than hang the suite
    }
    rte_eal_wait_lcore(lcore);
    const double took = std::chrono::duration<double>(Clock::now() - stop_at).count();

    const TxCounters& c = worker.counters();
    if (!pool_runs_dry) {
        EXPECT_GT(c.dropped_at_stop.load(), 0u) << "the frames the port never took were not counted";
    }
    EXPECT_EQ(c.chains.load(), 0u) << "a chain the port did not wholly take was counted as sent";
    for (TxMessage& m : msgs) {
        void* back = nullptr;
        ASSERT_EQ(rte_ring_dequeue(rings.outbox, &back), 0) << "a chain was not handed back";
        EXPECT_EQ(back, &m) << "chains came back out of order";
        EXPECT_TRUE(m.dropped) << "chain at LSN " << m.first_lsn << " came back as if sent";
    }
    std::printf("stop returned in %.2f s; %llu frames dropped at stop, %llu packets built\n", took,
                static_cast<unsigned long long>(c.dropped_at_stop.load()), static_cast<unsigned long long>(c.packets.load()));
}

}  // namespace
}  // namespace replicast::tx
