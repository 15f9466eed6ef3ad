// The replica daemon's receive path on one core against the kernel's receive
// ceiling, and one receive thread per database against one for all.
//
// BM_ReceiveApplyVsRecvmmsg (issue 11: "client receive + open + apply of
// 100-byte updates on one core: updates/s and packets/s against a bare
// recvmmsg loop on the same socket in the same run, with the share of time
// per stage"). One socket (rx::RxSocket, SSM join on lo in a private netns),
// read in alternating slices by
//   ours: rx::Receiver::poll (recvmmsg, per-datagram checks, ipsec-mb open
//         into the SPSC queue), then the processing pass the follower runs
//         (engine/client/follower.cpp, drain_queue/stage/flush_staged):
//         chain::Reassembler::on_data (gather, inflate, validate), the
//         in-order chains of the pass copied into one body, one
//         ReplicaStore::apply (BodyCheck::validated) per pass;
//   bare: RecvBatch::receive (the same recvmmsg of 32) and nothing else.
// Both on the calling thread pinned to CPU 1 ("one core"). Each slice first
// fills the socket's buffer (512 MiB, SO_RCVBUFFORCE) with
// REPLICAST_BENCH_CLIENT_FILL datagrams from the sender (client_rig.hpp,
// sealing on the fly, on CPU 0; untimed), then drains them, timed: so the
// figure is the receiver's alone, never the sender's (on this 2-vCPU VM a
// sender running alongside would set both rates). The pipeline runs on one
// thread here, where the daemon gives the receive loop its own thread: this
// is what one core does, receive and processing together. It polls while the
// socket has more (up to the follower's drain_limit of 4096 packets), then
// processes, as the daemon's two threads would batch. Per-stage time: rdtsc
// around poll(), each on_data(), and the stage copies plus the commit; the
// bare slices give recvmmsg's own cost per datagram.
//
// BM_ReceiveThreads (issue 11: "one receive thread per group or one for all
// (measured)"). D databases (REPLICAST_BENCH_CLIENT_DBS, default 4), each its
// own stream, socket and Receiver, one processing thread for all of them
// (the daemon's), fed by
//   per_db: one thread per database blocking in Receiver::run (today's daemon);
//   one:    one thread, epoll over the D sockets (non-blocking), poll()ing each
//           ready receiver until it is empty (what "one for all" would be).
// Alternating slices of REPLICAST_BENCH_CLIENT_SLICE_MS; updates/s applied,
// and the receive threads' CPU per datagram (CLOCK_THREAD_CPUTIME_ID).
// Threads are not pinned (the daemon does not pin); the sender is one thread
// round-robin over the D streams, closed-loop (at most
// REPLICAST_BENCH_CLIENT_WINDOW datagrams, default 2048, beyond what the
// processing thread has taken).
//
//   REPLICAST_BENCH_CLIENT_ROUNDS=10 REPLICAST_BENCH_CLIENT_FILL=20000 REPLICAST_BENCH_CLIENT_SLICE_MS=300 build/bench/bench_client_rx
//   (REPLICAST_BENCH_DURABILITY=nosync|nometasync|full, default nometasync as the daemon; REPLICAST_BENCH_DIR)
// Root: it makes a private network namespace (unshare) with lo multicast.
#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <sys/epoll.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <thread>

#include "bench/client_rig.hpp"
#include "engine/chain/reassembler.hpp"
#include "engine/rx/receiver.hpp"
#include "engine/rx/socket.hpp"
#include "store/replica.hpp"

using namespace replicast;
using namespace replicast::bench;

namespace {

std::string netns_error() {
    static const std::string e = testing::enter_private_netns();
    return e;
}

crypto::Key key_of(std::uint32_t stream) {
    crypto::Key k{};
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(stream * 17 + i);
    return k;
}

/// One database on the receiving side: socket, receiver, reassembler, the staged body of a pass.
struct Db {
    std::string name;
    std::unique_ptr<rx::RxSocket> socket;
    std::unique_ptr<rx::Receiver> rx;
    chain::Reassembler reasm;
    std::uint64_t next = 1;  // next LSN to apply
    std::vector<std::uint8_t> staged;
    std::uint64_t staged_first = 0;
    std::uint32_t staged_count = 0;
    std::uint64_t applied = 0, commits = 0;
    std::uint64_t processed = 0;  // packets taken off the queue
    std::string error;

    Db(const std::string& n, std::uint32_t stream, std::uint32_t group, std::uint16_t port, store::ReplicaStore& replica,
       std::size_t rcvbuf = std::size_t{32} << 20)
        : name(n) {
        socket = std::make_unique<rx::RxSocket>(rx::SocketConfig{.interface = "lo", .group = group, .port = port,
                                                                 .source = testing::kSource, .rcvbuf_bytes = rcvbuf});
        rx = std::make_unique<rx::Receiver>(rx::ReceiverConfig{.stream_id = stream, .source = testing::kSource}, socket->fd());
        auto k = rx->make_key(key_of(stream));
        if (!rx->post_key(1, k)) throw std::runtime_error("post_key");
        std::array<std::uint8_t, 16> uuid{};
        uuid[0] = 1;
        if (!replica.bind(name, uuid)) throw std::runtime_error("bind");
        staged.reserve(8u << 20);
    }

    // The follower's processing pass over what the queue holds (drain_queue,
    // stage, flush_staged: in-order chains committed together, at most 256
    // chains or 8 MiB per transaction), timed per stage into `ticks`
    // (reassemble, apply).
    std::size_t process(store::ReplicaStore& replica, std::uint64_t* ticks) {
        auto& q = rx->queue();
        auto& ring = q.ring();
        const std::size_t n = std::min<std::size_t>(ring.readable(), 4096);
        std::size_t chains = 0;
        staged.clear();
        staged_count = 0;
        auto flush = [&] {
            if (staged_count == 0) return;
            const std::uint64_t c0 = __rdtsc();
            store::ApplyResult ar;
            if (const store::Status s = replica.apply(name, staged_first, staged_count, staged, {}, &ar,
                                                      store::BodyCheck::validated);
                !s) {
                error = s.message();
            }
            next += staged_count;
            applied += staged_count;
            ++commits;
            staged.clear();
            staged_count = 0;
            chains = 0;
            ticks[1] += __rdtsc() - c0;
        };
        for (std::size_t i = 0; i < n; ++i) {
            const rx::RxPacket& p = ring.peek(i);
            if (!p.valid || p.kind != wire::PacketKind::data) continue;
            const std::uint64_t c0 = __rdtsc();
            const auto ev = reasm.on_data(p.header, p.position, q.payload(i));
            const std::uint64_t c1 = __rdtsc();
            ticks[0] += c1 - c0;
            if (ev == chain::Reassembler::Event::chain) {
                const chain::CompleteChain& c = reasm.chain();
                if (c.head.first_lsn != next + staged_count) {
                    error = "chain out of order (a loss): LSN " + std::to_string(c.head.first_lsn);
                    continue;
                }
                if (staged_count == 0) staged_first = c.head.first_lsn;
                staged.insert(staged.end(), c.body.begin(), c.body.end());
                staged_count += c.head.update_count;
                ticks[1] += __rdtsc() - c1;
                if (++chains >= 256 || staged.size() >= (std::size_t{8} << 20)) flush();
            } else if (ev == chain::Reassembler::Event::dropped) {
                error = "reassembler dropped a chain: " + std::string(chain::describe(reasm.last_drop()));
            }
        }
        flush();
        ring.release(n);
        processed += n;
        return n;
    }
};

/// Runs a StreamSender per stream on its own thread, closed-loop against `consumed`.
struct SenderThread {
    std::vector<std::unique_ptr<StreamSender>> streams;
    std::atomic<int> mode{0};  // 0 idle, 1 send, 2 quit
    std::atomic<std::uint64_t> pause_req{0}, pause_ack{0};  // pause(): the sender saw mode 0 after request N
    std::atomic<std::uint64_t> sent{0};
    std::atomic<std::uint64_t> consumed{0};
    std::atomic<std::uint64_t> limit{~std::uint64_t{0}};  // sends no further than this many datagrams in all
    std::uint64_t window = 2048;
    int cpu = -1;
    std::string error;
    std::thread t;

    void start() {
        t = std::thread([this] {
            if (cpu >= 0) pin_to_cpu(cpu);
            std::size_t next = 0;
            std::uint64_t total = 0;
            try {
                for (;;) {
                    const int m = mode.load(std::memory_order_acquire);
                    if (m == 2) return;
                    if (m == 0) {
                        pause_ack.store(pause_req.load(std::memory_order_acquire), std::memory_order_release);
                        std::this_thread::sleep_for(std::chrono::microseconds(100));
                        continue;
                    }
                    if (total >= limit.load(std::memory_order_acquire)) {
                        std::this_thread::sleep_for(std::chrono::microseconds(100));
                        continue;
                    }
                    if (total - consumed.load(std::memory_order_acquire) >= window) {
                        _mm_pause();
                        continue;
                    }
                    total += streams[next]->send_chain();  // whole chains only
                    next = (next + 1) % streams.size();
                    sent.store(total, std::memory_order_release);
                }
            } catch (const std::exception& e) {
                error = e.what();
                pause_ack.store(~std::uint64_t{0});
            }
        });
    }
    /// Stops sending at a chain boundary; on return `sent` is final until the next mode 1.
    void pause() {
        mode.store(0, std::memory_order_release);
        const std::uint64_t r = pause_req.fetch_add(1, std::memory_order_acq_rel) + 1;
        while (pause_ack.load(std::memory_order_acquire) < r) std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    ~SenderThread() {
        mode.store(2);
        if (t.joinable()) t.join();
    }
};

void BM_ReceiveApplyVsRecvmmsg(benchmark::State& state) {
    if (const std::string e = netns_error(); !e.empty()) return state.SkipWithError(e.c_str());
    const int rounds = static_cast<int>(env_u64("REPLICAST_BENCH_CLIENT_ROUNDS", 2));
    const std::uint64_t fill = env_u64("REPLICAST_BENCH_CLIENT_FILL", 2000);
    const auto dir = bench_dir("client-rx");
    const ChainSet set(256);
    pin_to_cpu(1);
    std::unique_ptr<store::ReplicaStore> replica;
    std::unique_ptr<Db> db;
    SenderThread sender;
    try {
        replica = std::make_unique<store::ReplicaStore>((dir / "replica").string(),
                                                        store::EnvOptions{.durability = durability()});
        db = std::make_unique<Db>("bench", 7, testing::kGroup, 42000, *replica, std::size_t{512} << 20);
        sender.streams.push_back(std::make_unique<StreamSender>(set, 7, 1, key_of(7), testing::kGroup, 42000));
    } catch (const std::exception& e) {
        return state.SkipWithError(e.what());
    }
    sender.window = ~std::uint64_t{0} / 2;  // filled ahead, not closed-loop
    sender.limit = 0;
    sender.cpu = 0;
    sender.start();
    rx::RecvBatch bare(32, 9216);
    const int fd = db->socket->fd();
    const double tpn = tsc_per_ns();

    // Wall rates, and rates per CPU-second of the receiving thread (CLOCK_THREAD_CPUTIME_ID):
    // on this shared VM the thread gets a fraction of its core, and the second figure is what
    // the core would do if it were the receiver's alone.
    Spread ours_ups, ours_pps, bare_pps, ratio, ours_cpu_ups, ours_cpu_pps, bare_cpu_pps, ratio_cpu;
    std::uint64_t t_poll = 0, t_stage[2] = {0, 0}, ours_dgrams = 0, bare_ticks = 0, bare_dgrams = 0;
    std::uint64_t consumed = 0;  // datagrams read from the socket, both modes
    std::string error;
    for (auto _ : state) {
        for (int round = 0; round < rounds && error.empty(); ++round) {
            for (int k = 0; k < 2 && error.empty(); ++k) {
                const bool ours = ((round + k) % 2) == 0;  // who goes first alternates
                if (ours && sender.streams[0]->next_lsn > db->next) {
                    // The bare slices took chains off the stream: their LSNs become placeholders (untimed).
                    if (!replica->skip("bench", db->next, sender.streams[0]->next_lsn - 1)) {
                        error = "skip failed";
                        break;
                    }
                    db->next = sender.streams[0]->next_lsn;
                }
                // Fill the socket's buffer (untimed; whole chains, so a little over `fill`), then drain it, timed.
                sender.limit.store(sender.sent.load() + fill, std::memory_order_release);
                sender.mode.store(1, std::memory_order_release);
                while (sender.sent.load(std::memory_order_acquire) < sender.limit.load() && sender.error.empty()) {
                    std::this_thread::sleep_for(std::chrono::microseconds(200));
                }
                sender.pause();
                if (!sender.error.empty()) {
                    error = sender.error;
                    break;
                }
                const std::uint64_t target = sender.sent.load(std::memory_order_acquire);
                const std::uint64_t lsn0 = db->next, c_before = consumed;
                const std::uint64_t t0 = now_ns();
                const double cpu0 = thread_cpu_s();
                std::uint64_t last_progress = t0;
                while (consumed < target || (ours && db->rx->queue().ring().readable() > 0)) {
                    const std::uint64_t before = consumed;
                    if (ours) {
                        // Poll while the socket has more, up to the follower's drain_limit, then process.
                        int n = 0;
                        do {
                            const std::uint64_t c0 = __rdtsc();
                            n = db->rx->poll();
                            t_poll += __rdtsc() - c0;
                            if (n > 0) consumed += static_cast<std::uint64_t>(n);
                        } while (n == 32 && db->rx->queue().ring().readable() < 4096);
                        std::uint64_t ticks[2] = {0, 0};
                        if (db->rx->queue().ring().readable() > 0) db->process(*replica, ticks);
                        t_stage[0] += ticks[0];
                        t_stage[1] += ticks[1];
                        if (!db->error.empty()) {
                            error = db->error;
                            break;
                        }
                    } else {
                        const std::uint64_t c0 = __rdtsc();
                        const int n = bare.receive(fd);
                        bare_ticks += __rdtsc() - c0;
                        if (n > 0) consumed += static_cast<std::uint64_t>(n);
                    }
                    const std::uint64_t t = now_ns();
                    if (consumed != before) {
                        last_progress = t;
                    } else if (t - last_progress > 2'000'000'000) {
                        error = "the socket dropped datagrams (" + std::to_string(target - consumed) +
                                " never came): raise the receive buffer or lower REPLICAST_BENCH_CLIENT_FILL";
                        break;
                    }
                }
                const std::uint64_t t1 = now_ns();
                const double cpu = thread_cpu_s() - cpu0;
                const std::uint64_t got = consumed - c_before;
                const double pps = static_cast<double>(got) * 1e9 / static_cast<double>(t1 - t0);
                (ours ? ours_pps : bare_pps).add(pps);
                (ours ? ours_cpu_pps : bare_cpu_pps).add(static_cast<double>(got) / cpu);
                (ours ? ours_dgrams : bare_dgrams) += got;
                if (ours) {
                    ours_ups.add(static_cast<double>(db->next - lsn0) * 1e9 / static_cast<double>(t1 - t0));
                    ours_cpu_ups.add(static_cast<double>(db->next - lsn0) / cpu);
                }
            }
            if (error.empty()) {
                ratio.add(ours_pps.v.back() / bare_pps.v.back());
                ratio_cpu.add(ours_cpu_pps.v.back() / bare_cpu_pps.v.back());
            }
        }
    }
    if (!error.empty()) return state.SkipWithError(error.c_str());
    const rx::RxCounters& c = db->rx->counters();
    for (std::size_t r = 0; r < static_cast<std::size_t>(rx::RxDrop::count_); ++r) {
        if (c.dropped[r].get() != 0) {
            return state.SkipWithError(("receiver dropped: " + std::string(rx::describe(static_cast<rx::RxDrop>(r)))).c_str());
        }
    }
    ours_ups.put(state, "ours_updates_per_s");
    ours_pps.put(state, "ours_packets_per_s");
    bare_pps.put(state, "recvmmsg_packets_per_s");
    ratio.put(state, "ours_over_recvmmsg");
    ours_cpu_ups.put(state, "cpu_ours_updates_per_cpu_s");
    ours_cpu_pps.put(state, "cpu_ours_packets_per_cpu_s");
    bare_cpu_pps.put(state, "cpu_recvmmsg_packets_per_cpu_s");
    ratio_cpu.put(state, "cpu_ours_over_recvmmsg");
    const double total = static_cast<double>(t_poll + t_stage[0] + t_stage[1]);
    state.counters["share_receive_open"] = static_cast<double>(t_poll) / total;
    state.counters["share_reassemble"] = static_cast<double>(t_stage[0]) / total;
    state.counters["share_apply"] = static_cast<double>(t_stage[1]) / total;
    state.counters["ns_per_pkt_poll"] = static_cast<double>(t_poll) / tpn / static_cast<double>(ours_dgrams);
    state.counters["ns_per_pkt_reassemble"] = static_cast<double>(t_stage[0]) / tpn / static_cast<double>(ours_dgrams);
    state.counters["ns_per_pkt_apply"] = static_cast<double>(t_stage[1]) / tpn / static_cast<double>(ours_dgrams);
    state.counters["ns_per_pkt_bare_recvmmsg"] = static_cast<double>(bare_ticks) / tpn / static_cast<double>(bare_dgrams);
    state.counters["updates_per_pkt"] =
        static_cast<double>(set.updates_per_lap()) /
        static_cast<double>(std::max<std::uint64_t>(1, [&] {
            std::uint64_t p = 0;
            for (const auto& r : set.records) p += chain::segment_count(r.size(), kMaxPayload);
            return p;
        }()));
    state.counters["deflate_ratio"] = static_cast<double>(set.carried_bytes) / static_cast<double>(set.plain_bytes);
    state.counters["updates_per_commit"] = static_cast<double>(db->applied) / static_cast<double>(std::max<std::uint64_t>(1, db->commits));
    db.reset();
    replica.reset();
    std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ReceiveApplyVsRecvmmsg)->UseRealTime()->Iterations(1)->Unit(benchmark::kMillisecond);

void set_nonblocking(int fd, bool on) {
    const int flags = ::fcntl(fd, F_GETFL);
    (void)::fcntl(fd, F_SETFL, on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK));
}

void unpin() {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < CPU_SETSIZE; ++i) CPU_SET(i, &set);
    (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

void BM_ReceiveThreads(benchmark::State& state) {
    if (const std::string e = netns_error(); !e.empty()) return state.SkipWithError(e.c_str());
    const int rounds = static_cast<int>(env_u64("REPLICAST_BENCH_CLIENT_ROUNDS", 2));
    const std::uint64_t slice_ns = env_u64("REPLICAST_BENCH_CLIENT_SLICE_MS", 30) * 1'000'000;
    const std::size_t dbs = std::max<std::size_t>(1, env_u64("REPLICAST_BENCH_CLIENT_DBS", 4));
    const auto dir = bench_dir("client-threads");
    const ChainSet set(64);
    unpin();  // the daemon pins nothing
    std::unique_ptr<store::ReplicaStore> replica;
    std::vector<std::unique_ptr<Db>> db;
    SenderThread sender;
    try {
        replica = std::make_unique<store::ReplicaStore>((dir / "replica").string(),
                                                        store::EnvOptions{.durability = durability()});
        for (std::size_t i = 0; i < dbs; ++i) {
            const auto stream = static_cast<std::uint32_t>(20 + i);
            const std::uint32_t group = testing::kGroup + 16 + static_cast<std::uint32_t>(i);
            const auto port = static_cast<std::uint16_t>(42100 + i);
            db.push_back(std::make_unique<Db>("db" + std::to_string(i), stream, group, port, *replica));
            sender.streams.push_back(std::make_unique<StreamSender>(set, stream, 1, key_of(stream), group, port));
        }
    } catch (const std::exception& e) {
        return state.SkipWithError(e.what());
    }
    sender.window = env_u64("REPLICAST_BENCH_CLIENT_WINDOW", 2048);
    sender.start();
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    for (std::size_t i = 0; i < dbs; ++i) {
        epoll_event ev{.events = EPOLLIN, .data = {.u64 = i}};
        (void)::epoll_ctl(ep, EPOLL_CTL_ADD, db[i]->socket->fd(), &ev);
    }
    auto received = [&] {
        std::uint64_t n = 0;
        for (const auto& d : db) n += d->rx->counters().datagrams.get();
        return n;
    };

    Spread ups[2], rx_us[2], ratio, wakeups[2];
    std::string error;
    for (auto _ : state) {
        for (int round = 0; round < rounds && error.empty(); ++round) {
            double rate[2] = {0, 0};
            for (int k = 0; k < 2 && error.empty(); ++k) {
                const int mode = (round + k) % 2;  // 0: a thread per database, 1: one thread for all
                for (std::size_t i = 0; i < dbs; ++i) {
                    if (sender.streams[i]->next_lsn > db[i]->next) {
                        if (!replica->skip(db[i]->name, db[i]->next, sender.streams[i]->next_lsn - 1)) error = "skip failed";
                        db[i]->next = sender.streams[i]->next_lsn;
                    }
                    set_nonblocking(db[i]->socket->fd(), mode == 1);
                }
                std::atomic<bool> stop{false};
                std::vector<double> cpu(mode == 0 ? dbs : 1, 0.0);
                std::vector<std::uint64_t> waits(cpu.size(), 0);
                std::vector<std::thread> threads;
                const std::uint64_t rx0 = received();
                if (mode == 0) {
                    for (std::size_t i = 0; i < dbs; ++i) {
                        threads.emplace_back([&, i] {
                            const double c0 = thread_cpu_s();
                            db[i]->rx->run(stop);
                            cpu[i] = thread_cpu_s() - c0;
                        });
                    }
                } else {
                    threads.emplace_back([&] {
                        const double c0 = thread_cpu_s();
                        epoll_event evs[64];
                        while (!stop.load(std::memory_order_acquire)) {
                            const int n = ::epoll_wait(ep, evs, 64, 100);
                            ++waits[0];
                            for (int e = 0; e < n; ++e) {
                                rx::Receiver& r = *db[evs[e].data.u64]->rx;
                                // Up to 8 batches from one socket, then the next ready one (level-triggered: it comes back).
                                for (int b = 0; b < 8 && r.poll() == 32; ++b) {
                                }
                            }
                        }
                        cpu[0] = thread_cpu_s() - c0;
                    });
                }
                std::uint64_t applied0 = 0;
                for (const auto& d : db) applied0 += d->applied;
                sender.mode.store(1, std::memory_order_release);
                const std::uint64_t t0 = now_ns();
                std::uint64_t t1 = t0, applied_slice = 0;
                bool timing = true;
                for (;;) {
                    std::size_t work = 0;
                    for (auto& d : db) {
                        std::uint64_t ticks[2] = {0, 0};
                        if (d->rx->queue().ring().readable() > 0) work += d->process(*replica, ticks);
                        if (!d->error.empty()) error = d->error;
                    }
                    std::uint64_t processed = 0;  // closed loop on what was processed, so no queue overflows
                    for (const auto& d : db) processed += d->processed;
                    sender.consumed.store(processed, std::memory_order_release);
                    if (!error.empty() || !sender.error.empty()) break;
                    if (timing && (t1 = now_ns()) - t0 >= slice_ns) {
                        timing = false;
                        for (const auto& d : db) applied_slice += d->applied;
                        applied_slice -= applied0;
                        sender.pause();
                    }
                    if (!timing && received() >= sender.sent.load(std::memory_order_acquire)) {
                        bool empty = true;
                        for (const auto& d : db) empty = empty && d->rx->queue().ring().readable() == 0;
                        if (empty) break;
                    }
                    if (work == 0) ::usleep(1000);  // the daemon's idle back-off
                }
                stop.store(true, std::memory_order_release);
                for (auto& t : threads) t.join();
                if (!sender.error.empty()) error = sender.error;
                const std::uint64_t dgrams = received() - rx0;
                double cpu_total = 0;
                for (double c : cpu) cpu_total += c;
                rate[mode] = static_cast<double>(applied_slice) * 1e9 / static_cast<double>(t1 - t0);
                ups[mode].add(rate[mode]);
                rx_us[mode].add(cpu_total * 1e6 / static_cast<double>(std::max<std::uint64_t>(1, dgrams)));
                if (mode == 1) wakeups[1].add(static_cast<double>(dgrams) / static_cast<double>(std::max<std::uint64_t>(1, waits[0])));
            }
            if (rate[0] > 0) ratio.add(rate[1] / rate[0]);
        }
    }
    ::close(ep);
    if (!error.empty()) return state.SkipWithError(error.c_str());
    for (const auto& d : db) {
        if (d->rx->counters().drop(rx::RxDrop::queue_overflow) != 0) return state.SkipWithError("queue overflow");
    }
    ups[0].put(state, "per_db_updates_per_s");
    ups[1].put(state, "one_updates_per_s");
    ratio.put(state, "one_over_per_db");
    rx_us[0].put(state, "per_db_rx_cpu_us_per_pkt");
    rx_us[1].put(state, "one_rx_cpu_us_per_pkt");
    wakeups[1].put(state, "one_pkts_per_epoll_wait");
    state.counters["databases"] = static_cast<double>(dbs);
    db.clear();
    replica.reset();
    std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ReceiveThreads)->UseRealTime()->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
