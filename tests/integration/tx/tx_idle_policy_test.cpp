// The tx worker's idle policy (pmd-config/README.md, "Idle policy") on a real
// DPDK net_ring port. "sleep": an idle worker gives its core back (its thread's
// CPU time over an idle second is a fraction of it), counts its sleeps, and
// still sends every chain posted to it, each within a bounded wake-up, with
// its heartbeats on time. "pause" and "poll" never sleep and send the same.
#include <gtest/gtest.h>
#include <pthread.h>

#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "crypto/gcm.hpp"
#include "engine/chain/segment.hpp"
#include "engine/tx/profile.hpp"
#include "engine/tx/worker.hpp"
#include "engine/wire/frame.hpp"
#include "engine/wire/packet.hpp"
#include "ring_port.hpp"

namespace replicast::tx {
namespace {

using Clock = std::chrono::steady_clock;

/// Runs the worker on its lcore and publishes that thread's CPU clock.
struct Launch {
    TxWorker* worker;
    std::atomic<clockid_t> cpu_clock{0};
    std::atomic<bool> ready{false};
    static int run(void* self) {
        auto* l = static_cast<Launch*>(self);
        clockid_t c{};
        pthread_getcpuclockid(pthread_self(), &c);
        l->cpu_clock.store(c);
        l->ready.store(true, std::memory_order_release);
        return l->worker->run();
    }
};

double cpu_seconds(clockid_t c) {
    timespec ts{};
    clock_gettime(c, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Counts {
    std::uint64_t data = 0, heartbeats = 0;
};

/// Reads the port until `done` or `seconds` pass.
template <typename Done>
void drain(const Port& port, Counts& c, double seconds, Done done) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
    while (Clock::now() < deadline && !done()) {
        const std::uint16_t n = test_port::receive_burst(port, [&](const wire::PacketView& v) {
            if (v.kind == wire::PacketKind::heartbeat) ++c.heartbeats;
            if (v.kind == wire::PacketKind::data) ++c.data;
        });
        if (n == 0) std::this_thread::yield();  // the test thread shares the machine with the worker
    }
}

/// Waits (bounded) for `m` back on the outbox, draining the port meanwhile.
bool handed_back(const test_port::MessageRings& rings, const TxMessage* m, const Port& port, Counts& c) {
    bool back = false;
    drain(port, c, 5, [&] {
        void* p = nullptr;
        while (rte_ring_dequeue(rings.outbox, &p) == 0) back = back || p == m;
        return back;
    });
    return back;
}

struct Outcome {
    double idle_cpu_share = 0;   // of one core, over an idle second
    std::uint64_t idle_sleeps = 0;
    std::uint64_t heartbeats_idle = 0;
    std::uint64_t data = 0, expected_data = 0;
    double worst_post_to_send_ms = 0;
};

Outcome run_policy(test_port::RingRig& rig, IdlePolicy policy) {
    const test_port::MessageRings rings;
    EXPECT_NE(rings.inbox, nullptr);
    crypto::GcmEngine engine;
    crypto::Key raw{};
    raw[0] = 0x5a;
    const crypto::GcmKey key(engine, raw);
    TxWorkerConfig wc = test_port::worker_config(rig.port, rings);
    wc.idle = policy;
    wc.streams.push_back(test_port::sealed_stream(rig.profile, 3, &key, 50'000'000));  // 50 ms heartbeats
    TxWorker worker(std::move(wc));
    const unsigned lcore = rig.profile.tx_lcores[0];
    Launch launch{.worker = &worker};
    EXPECT_EQ(rte_eal_remote_launch(&Launch::run, &launch, lcore), 0);
    while (!launch.ready.load(std::memory_order_acquire)) std::this_thread::yield();

    Outcome o;
    Counts c;
    drain(rig.port, c, 5, [&] { return c.heartbeats >= 1; });  // running
    const double cpu0 = cpu_seconds(launch.cpu_clock.load());
    const auto t0 = Clock::now();
    const std::uint64_t beats0 = c.heartbeats;
    drain(rig.port, c, 1.0, [] { return false; });  // the idle second itself
    o.idle_cpu_share = (cpu_seconds(launch.cpu_clock.load()) - cpu0) /
                       std::chrono::duration<double>(Clock::now() - t0).count();
    o.heartbeats_idle = c.heartbeats - beats0;

    // Chains posted one at a time to a worker that has been idle since the last.
    const test_port::PlainRecord record = test_port::plain_record(
        4, [](std::uint32_t i) { return "idle/" + std::to_string(i); },
        [](std::uint32_t i) { return std::vector<std::uint8_t>(1000, static_cast<std::uint8_t>(i)); });
    const std::size_t segments = chain::segment_count(record.bytes.size(), 1432);
    for (int i = 0; i < 10; ++i) {
        drain(rig.port, c, 0.02, [] { return false; });  // idle long enough to reach the longest sleep
        TxMessage chain = test_port::chain_message(record, 1 + 4 * i, 4);
        const std::uint64_t before = c.data;
        const auto posted = Clock::now();
        EXPECT_EQ(rte_ring_enqueue(rings.inbox, &chain), 0);
        drain(rig.port, c, 5, [&] { return c.data > before; });
        o.worst_post_to_send_ms = std::max(o.worst_post_to_send_ms,
                                           std::chrono::duration<double, std::milli>(Clock::now() - posted).count());
        EXPECT_TRUE(handed_back(rings, &chain, rig.port, c));
        o.expected_data += segments;
    }
    o.data = c.data;
    o.idle_sleeps = worker.counters().idle_sleeps.load();
    test_port::stop_and_drain(worker, rig.port, lcore);
    return o;
}

/// One EAL per process: the tests share it.
test_port::RingRig& shared_rig() {
    static test_port::RingRig rig("idle");
    return rig;
}

TEST(TxIdlePolicy, SleepGivesTheCoreBackAndStillSendsEverything) {
    test_port::RingRig& rig = shared_rig();
    const Outcome sleep = run_policy(rig, {.mode = IdleMode::sleep, .sleep_max_us = 200});
    // A polling worker is on CPU the whole second; a sleeping one a few percent
    // (each sleep costs a few microseconds of wake-up); a loaded machine only lowers it.
    EXPECT_LT(sleep.idle_cpu_share, 0.30) << "an idle worker under \"sleep\" must not hold its core";
    EXPECT_GT(sleep.idle_sleeps, 1000u) << "a second of 200 us sleeps";
    EXPECT_GE(sleep.heartbeats_idle, 15u) << "heartbeats (every 50 ms) keep their schedule while it sleeps";
    EXPECT_EQ(sleep.data, sleep.expected_data) << "every packet of every chain";
    // Bounded wake-up: 200 us plus scheduling. A generous bound that an
    // unbounded back-off (the sleeps doubling past the maximum) would break.
    EXPECT_LT(sleep.worst_post_to_send_ms, 100.0);

    const Outcome pause = run_policy(rig, {.mode = IdleMode::pause});
    EXPECT_EQ(pause.idle_sleeps, 0u);
    EXPECT_EQ(pause.data, pause.expected_data);
    const Outcome poll = run_policy(rig, {.mode = IdleMode::poll});
    EXPECT_EQ(poll.idle_sleeps, 0u);
    EXPECT_EQ(poll.data, poll.expected_data);
    std::printf("idle worker CPU: sleep %.1f %% (%llu sleeps), pause %.1f %%, poll %.1f %% of a core; worst post-to-send %.2f / %.2f / %.2f ms\n",
                100 * sleep.idle_cpu_share, static_cast<unsigned long long>(sleep.idle_sleeps), 100 * pause.idle_cpu_share,
                100 * poll.idle_cpu_share, sleep.worst_post_to_send_ms, pause.worst_post_to_send_ms, poll.worst_post_to_send_ms);
}

TEST(TxIdlePolicy, ABurstOfMessagesIsNotSplitBySleeps) {
    // 40 stream starts posted to a worker asleep with a 200 ms bound: it takes
    // what the inbox holds, and what is posted next must follow at once, not
    // after another sleep (a start is work, though no chain comes with it).
    test_port::RingRig& rig = shared_rig();
    test_port::MessageRings rings;
    ASSERT_NE(rings.inbox, nullptr);
    constexpr unsigned kStreams = 40;
    TxWorkerConfig wc = test_port::worker_config(rig.port, rings);
    wc.idle = {.mode = IdleMode::sleep, .sleep_max_us = 200'000};
    wc.max_streams = kStreams;
    TxWorker worker(std::move(wc));
    const unsigned lcore = rig.profile.tx_lcores[0];
    ASSERT_EQ(rte_eal_remote_launch(&TxWorker::launch, &worker, lcore), 0);
    Counts idle;
    drain(rig.port, idle, 0.5, [] { return false; });  // asleep at its longest by now

    std::vector<TxStreamConfig> configs;
    std::vector<TxMessage> starts(kStreams);
    for (unsigned i = 0; i < kStreams; ++i) {
        configs.push_back(test_port::sealed_stream(rig.profile, 100 + i, nullptr, 10'000'000'000));
        configs.back().key_epoch = 0;  // unsealed: no key needed to start
    }
    for (unsigned i = 0; i < kStreams; ++i) {
        starts[i].kind = TxMessage::Kind::stream_start;
        starts[i].stream = i;
        starts[i].start = &configs[i];
    }
    // The inbox holds 15: post as the worker takes them, as the control core
    // would; each time the worker empties it the burst continues.
    std::map<std::uint32_t, Clock::time_point> first_seen;
    unsigned posted = 0;
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (first_seen.size() < kStreams && Clock::now() < deadline) {
        while (posted < kStreams && rte_ring_enqueue(rings.inbox, &starts[posted]) == 0) ++posted;
        void* back = nullptr;
        while (rte_ring_dequeue(rings.outbox, &back) == 0) {
        }
        test_port::receive_burst(rig.port, [&](const wire::PacketView& v) { first_seen.emplace(v.header.stream_id, Clock::now()); });
    }
    ASSERT_EQ(first_seen.size(), kStreams) << "every started stream sends its first heartbeat";
    auto [lo, hi] = std::minmax_element(first_seen.begin(), first_seen.end(),
                                        [](const auto& a, const auto& b) { return a.second < b.second; });
    const double spread_ms = std::chrono::duration<double, std::milli>(hi->second - lo->second).count();
    EXPECT_LT(spread_ms, 100.0) << "the starts after the first 32 waited for a sleep (bound 200 ms)";
    test_port::stop_and_drain(worker, rig.port, lcore);
}

}  // namespace
}  // namespace replicast::tx
