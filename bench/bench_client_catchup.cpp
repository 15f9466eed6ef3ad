// Catch-up from Recover for a client N updates behind (issue 11: "catch-up
// from Recover for a client 1 M updates behind (>= 1 M updates/s)").
//
// A real control server (control_rig.hpp: ControlServer, TLS 1.3 on
// 127.0.0.1, the test backend over a real MasterStore holding N updates of
// 100 encoded bytes, client_rig.hpp's records) and, each round, in an order
// rotated every round:
//   follower:  the daemon's client::Follower through client::GrpcControlPort,
//              into a fresh replica bound to the master (applied LSN 0, so it
//              resumes by Recover, no snapshot): start() (Subscribe, join the
//              group on lo in a private netns), then step() as Daemon::run
//              does until the replica holds LSN N. Wall time from start() to
//              the last commit, process CPU (both ends: server, TLS, gRPC,
//              follower, LMDB).
//   raw:       the same stream through control::ControlClient::recover with
//              one ReplicaStore::apply per batch (bench_control's
//              BM_RecoverIntoReplica): the floor the follower stands on.
//   recv_only: the stream alone, nothing applied.
// Replica durability: REPLICAST_BENCH_DURABILITY (nometasync by default, the
// daemon's default; nosync shows the pipeline without fdatasync).
//
//   REPLICAST_BENCH_CLIENT_CATCHUP_UPDATES=1000000 REPLICAST_BENCH_CLIENT_ROUNDS=5 build/bench/bench_client_catchup
// Root: it makes a private network namespace (unshare) for the follower's join.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "bench/client_rig.hpp"
#include "bench/control_rig.hpp"
#include "engine/client/follower.hpp"
#include "engine/control/client.hpp"
#include "store/replica.hpp"

using namespace replicast;
using namespace replicast::bench;

namespace {

void BM_CatchUpFromRecover(benchmark::State& state) {
    if (const std::string e = testing::enter_private_netns(); !e.empty()) return state.SkipWithError(e.c_str());
    const std::uint64_t updates = env_u64("REPLICAST_BENCH_CLIENT_CATCHUP_UPDATES", 20'000);
    const int rounds = static_cast<int>(env_u64("REPLICAST_BENCH_CLIENT_ROUNDS", 1));
    const auto dir = bench_dir("catchup");
    ControlRig rig(dir);
    if (!rig.error.empty()) return state.SkipWithError(rig.error.c_str());
    const std::string db = "bench";
    {
        std::vector<UpdateText> text;
        std::vector<wire::UpdateView> ops;
        for (std::uint64_t done = 0; done < updates;) {
            const std::uint64_t n = std::min<std::uint64_t>(4096, updates - done);
            text.clear();
            ops.clear();
            for (std::uint64_t i = 0; i < n; ++i) text.emplace_back(done + 1 + i);
            for (const UpdateText& t : text) ops.push_back(t.view());
            if (const store::Status s = rig.master->write(db, ops); !s) return state.SkipWithError(s.message().c_str());
            done += n;
        }
    }
    rig.serve();
    client::GrpcControlPort port(rig.target(), rig.tls());
    control::ControlClient raw_client(rig.target(), rig.tls());
    v1::Subscription sub;
    if (const control::Result r = raw_client.subscribe(db, sub); !r) return state.SkipWithError(r.text().c_str());
    const std::uint32_t stream = sub.stream_id();
    const double body_mb = static_cast<double>(updates) * 100 / 1e6;

    Spread rate[3], cpu_us[3], ratio, start_ms;
    std::string error;
    int replica_no = 0;
    for (auto _ : state) {
        for (int round = 0; round < rounds && error.empty(); ++round) {
            double t[3] = {0, 0, 0};
            for (int k = 0; k < 3 && error.empty(); ++k) {
                const int which = (round + k) % 3;  // 0 follower, 1 raw, 2 received only
                const std::string path = (dir / ("replica-" + std::to_string(replica_no++))).string();
                std::unique_ptr<store::ReplicaStore> replica;
                if (which != 2) {
                    replica = std::make_unique<store::ReplicaStore>(path, store::EnvOptions{.durability = durability()});
                    if (!replica->bind(db, rig.master->uuid())) error = "bind failed";
                }
                const double c0 = process_cpu_s();
                const std::uint64_t t0 = now_ns();
                if (which == 0) {
                    client::FollowerConfig fc;
                    fc.database = db;
                    fc.receive.interface = "lo";
                    fc.silence_ns = 600'000'000'000;
                    client::Follower f(fc, *replica, port);
                    if (const client::Result r = f.start(now_ns()); !r) {
                        error = "follower start: " + r.text();
                        break;
                    }
                    start_ms.add(static_cast<double>(now_ns() - t0) / 1e6);
                    const std::uint64_t deadline = now_ns() + 300'000'000'000;
                    while (f.applied_lsn() < updates && now_ns() < deadline &&
                           f.state() == client::Follower::State::following) {
                        if (f.step(now_ns()) == 0) ::usleep(1000);  // Daemon::run's idle back-off
                    }
                    if (f.applied_lsn() != updates) error = "follower stopped at LSN " + std::to_string(f.applied_lsn());
                    t[0] = static_cast<double>(now_ns() - t0) / 1e9;
                    const double c1 = process_cpu_s();
                    f.stop(now_ns());
                    cpu_us[0].add((c1 - c0) * 1e6 / static_cast<double>(updates));
                } else {
                    store::Status applied;
                    std::uint64_t got = 0;
                    const control::Result r = raw_client.recover(stream, 1, updates, [&](const v1::RecoverBatch& b) {
                        got += b.update_count();
                        if (which == 2) return true;
                        applied = replica->apply(db, b.first_lsn(), b.update_count(),
                                                 {reinterpret_cast<const std::uint8_t*>(b.body().data()), b.body().size()},
                                                 {});
                        return applied.is_ok();
                    });
                    t[which] = static_cast<double>(now_ns() - t0) / 1e9;
                    cpu_us[which].add((process_cpu_s() - c0) * 1e6 / static_cast<double>(updates));
                    if (!r) error = r.text();
                    if (!applied) error = applied.message();
                    if (got != updates) error = "recover delivered " + std::to_string(got);
                }
                if (replica) {
                    store::ReplicaState st;
                    if (!replica->state(db, st) || st.applied_lsn != updates) error = "replica incomplete";
                    replica.reset();
                    std::filesystem::remove_all(path);
                }
                rate[which].add(static_cast<double>(updates) / t[which]);
            }
            if (error.empty()) ratio.add(t[1] / t[0]);
        }
    }
    if (!error.empty()) return state.SkipWithError(error.c_str());
    rate[0].put(state, "follower_updates_per_s");
    rate[1].put(state, "raw_updates_per_s");
    rate[2].put(state, "recv_only_updates_per_s");
    cpu_us[0].put(state, "follower_cpu_us_per_update");
    cpu_us[1].put(state, "raw_cpu_us_per_update");
    cpu_us[2].put(state, "recv_only_cpu_us_per_update");
    ratio.put(state, "follower_over_raw");
    start_ms.put(state, "follower_start_ms");
    std::sort(rate[0].v.begin(), rate[0].v.end());
    state.counters["follower_MBps_median"] = rate[0].v[rate[0].v.size() / 2] * 100 / 1e6;
    state.counters["updates"] = static_cast<double>(updates);
    state.counters["body_MB"] = body_mb;
}
BENCHMARK(BM_CatchUpFromRecover)->UseRealTime()->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
