// The client's share of publish-to-apply latency (issue 11: "publish-to-apply
// latency p50/p99 at a modest rate"; the whole path, server included, is
// `replicast probe` on the lab, bench/RESULTS.md): from the moment a sealed
// chain of one 100-byte update leaves the sender's socket on lo to the
// moment the daemon's Follower has committed it to the replica.
//
// A real control server (control_rig.hpp) serves Subscribe and Keys; two
// databases, each its own stream and Follower (through GrpcControlPort, in a
// private netns, joined on lo), one with a `nometasync` replica (the
// daemon's default: an fdatasync per commit) and one with a `nosync` one.
// One processing thread steps both followers as Daemon::run does; after each
// step it reads the followers' applied LSN and takes, for every LSN newly
// applied, now minus the time its chain was sent. The loop's idle policy is
// the daemon's (usleep 1 ms when a pass did nothing) or, to show what that
// costs, none (spin). A sender thread sends one chain (one update, an OIC
// packet) every REPLICAST_BENCH_CLIENT_INTERVAL_US (default 1000: 1000
// updates/s). Each round runs the four combinations in slices of
// REPLICAST_BENCH_CLIENT_PROBES chains, the order rotated every round.
//
//   REPLICAST_BENCH_CLIENT_ROUNDS=10 REPLICAST_BENCH_CLIENT_PROBES=500 build/bench/bench_client_latency
// Root: it makes a private network namespace (unshare).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "bench/client_rig.hpp"
#include "bench/control_rig.hpp"
#include "engine/client/follower.hpp"
#include "store/replica.hpp"

using namespace replicast;
using namespace replicast::bench;

namespace {

/// Sends chains of one update, one sealed OIC datagram each, recording when each left.
class ProbeSender {
public:
    ProbeSender(std::uint32_t stream, std::uint32_t group, std::uint16_t port, std::size_t max_lsn)
        : stream_(stream), key_(engine_, control::testing::TestBackend::key_for(stream, 1)), builder_({.compress = true}) {
        std::vector<std::atomic<std::uint64_t>> at(max_lsn + 1);
        sent_at.swap(at);
        fd_ = open_multicast_sender(group, port, to_);
        out_.resize(wire::datagram_size(kMaxPayload, true));
    }
    ~ProbeSender() { ::close(fd_); }

    std::uint64_t next_lsn = 1;
    std::uint64_t seq = 1;
    std::vector<std::atomic<std::uint64_t>> sent_at;  // ns, by LSN

    void send_one() {
        builder_.begin(next_lsn);
        add_updates(builder_, next_lsn, 1);
        const chain::BuiltChain c = builder_.finish();
        const chain::Segment s = chain::segment(c.record, kMaxPayload, 0, 1);
        const std::span<std::uint8_t> out(out_.data(), wire::datagram_size(s.payload.size(), true));
        if (crypto::seal_packet(engine_, key_,
                                {.flags = wire::position_flags(s.position), .stream_id = stream_, .packet_seq = seq++,
                                 .key_epoch = 1, .comp_alg = c.comp_alg},
                                s.payload, out) != out.size()) {
            throw std::runtime_error("seal_packet");
        }
        sent_at[next_lsn].store(now_ns(), std::memory_order_release);
        if (::sendto(fd_, out.data(), out.size(), 0, reinterpret_cast<const sockaddr*>(&to_), sizeof to_) !=
            static_cast<ssize_t>(out.size())) {
            throw std::runtime_error(std::string("sendto: ") + std::strerror(errno));
        }
        ++next_lsn;
    }

private:
    std::uint32_t stream_;
    crypto::GcmEngine engine_;
    crypto::GcmKey key_;
    chain::ChainBuilder builder_;
    int fd_ = -1;
    sockaddr_in to_{};
    std::vector<std::uint8_t> out_;
};

double quantile(std::vector<double> v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

void BM_SendToApplyLatency(benchmark::State& state) {
    if (const std::string e = testing::enter_private_netns(); !e.empty()) return state.SkipWithError(e.c_str());
    const int rounds = static_cast<int>(env_u64("REPLICAST_BENCH_CLIENT_ROUNDS", 1));
    const std::uint64_t probes = env_u64("REPLICAST_BENCH_CLIENT_PROBES", 50);
    const std::uint64_t interval_us = env_u64("REPLICAST_BENCH_CLIENT_INTERVAL_US", 1000);
    const char* base = std::getenv("REPLICAST_BENCH_DIR");
    const auto dir = std::filesystem::path(base != nullptr ? base : std::filesystem::temp_directory_path().string()) /
                     ("rc-bench-latency-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    ControlRig rig(dir);
    if (!rig.error.empty()) return state.SkipWithError(rig.error.c_str());
    const std::array<std::string, 2> names = {"lat_nometasync", "lat_nosync"};
    const std::array<store::Durability, 2> modes = {store::Durability::nometasync, store::Durability::nosync};
    std::array<std::uint32_t, 2> ids{};
    for (int d = 0; d < 2; ++d) {
        if (!rig.master->database_id(names[d], true, ids[d])) return state.SkipWithError("database_id");
    }
    rig.serve();
    client::GrpcControlPort port(rig.target(), rig.tls());
    std::array<std::unique_ptr<store::ReplicaStore>, 2> replica;
    std::array<std::unique_ptr<client::Follower>, 2> follower;
    std::array<std::unique_ptr<ProbeSender>, 2> sender;
    const std::size_t max_lsn = static_cast<std::size_t>(rounds) * 2 * probes + 1;
    for (int d = 0; d < 2; ++d) {
        replica[d] = std::make_unique<store::ReplicaStore>((dir / names[d]).string(), store::EnvOptions{.durability = modes[d]});
        if (!replica[d]->bind(names[d], rig.master->uuid())) return state.SkipWithError("bind");
        client::FollowerConfig fc;
        fc.database = names[d];
        fc.receive.interface = "lo";
        fc.silence_ns = 600'000'000'000;
        follower[d] = std::make_unique<client::Follower>(fc, *replica[d], port);
        if (const client::Result r = follower[d]->start(now_ns()); !r) return state.SkipWithError(r.text().c_str());
        const client::FollowerStats st = follower[d]->stats(now_ns());
        sender[d] = std::make_unique<ProbeSender>(st.stream_id, 0xEF000001u + st.stream_id, 5000, max_lsn);
    }

    // samples[durability][idle policy]
    std::vector<double> samples[2][2];
    std::vector<double> round_p50[2][2];
    std::string error;
    for (auto _ : state) {
        for (int round = 0; round < rounds && error.empty(); ++round) {
            for (int k = 0; k < 4 && error.empty(); ++k) {
                const int v = (round + k) % 4;
                const int d = v / 2, spin = v % 2;
                ProbeSender& s = *sender[d];
                const std::uint64_t first = s.next_lsn, last = first + probes - 1;
                std::atomic<bool> done{false};
                std::string send_error;
                std::thread t([&] {
                    try {
                        std::uint64_t next = now_ns();
                        for (std::uint64_t i = 0; i < probes; ++i) {
                            while (now_ns() < next) std::this_thread::sleep_for(std::chrono::microseconds(50));
                            s.send_one();
                            next += interval_us * 1000;
                        }
                    } catch (const std::exception& e) {
                        send_error = e.what();
                    }
                    done = true;
                });
                std::vector<double> lat;
                std::array<std::uint64_t, 2> seen = {follower[0]->applied_lsn(), follower[1]->applied_lsn()};
                const std::uint64_t deadline = now_ns() + probes * interval_us * 1000 + 10'000'000'000;
                while (follower[d]->applied_lsn() < last && now_ns() < deadline) {
                    std::size_t work = 0;
                    for (int f = 0; f < 2; ++f) {
                        work += follower[f]->step(now_ns());
                        const std::uint64_t applied = follower[f]->applied_lsn();
                        if (f == d && applied > seen[f]) {
                            const std::uint64_t now = now_ns();
                            for (std::uint64_t l = seen[f] + 1; l <= applied; ++l) {
                                lat.push_back(static_cast<double>(now - s.sent_at[l].load(std::memory_order_acquire)) / 1e3);
                            }
                        }
                        seen[f] = applied;
                    }
                    if (work == 0 && spin == 0) ::usleep(1000);  // Daemon::run's idle back-off
                    if (done && !send_error.empty()) break;
                }
                t.join();
                if (!send_error.empty()) error = send_error;
                if (follower[d]->applied_lsn() != last) error = "follower stopped at LSN " + std::to_string(follower[d]->applied_lsn());
                const client::FollowerStats st = follower[d]->stats(now_ns());
                if (st.lsns_recovered != 0 || st.queue_overflows != 0) error = "a loss: the follower recovered LSNs";
                round_p50[d][spin].push_back(quantile(lat, 0.5));
                samples[d][spin].insert(samples[d][spin].end(), lat.begin(), lat.end());
            }
        }
    }
    for (int d = 0; d < 2; ++d) follower[d]->stop(now_ns());
    if (!error.empty()) return state.SkipWithError(error.c_str());
    const char* dn[2] = {"nometasync", "nosync"};
    const char* sn[2] = {"daemon_backoff", "spin"};
    for (int d = 0; d < 2; ++d) {
        for (int p = 0; p < 2; ++p) {
            const std::string n = std::string(dn[d]) + "_" + sn[p];
            state.counters[n + "_p50_us"] = quantile(samples[d][p], 0.5);
            state.counters[n + "_p99_us"] = quantile(samples[d][p], 0.99);
            state.counters[n + "_round_p50_min_us"] = quantile(round_p50[d][p], 0.0);
            state.counters[n + "_round_p50_max_us"] = quantile(round_p50[d][p], 1.0);
        }
    }
    state.counters["probes_per_variant"] = static_cast<double>(samples[0][0].size());
    follower = {};
    replica = {};
}
BENCHMARK(BM_SendToApplyLatency)->UseRealTime()->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
