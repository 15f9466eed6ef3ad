// The control plane end to end over loopback TLS 1.3: Recover of N updates
// of 100 encoded bytes from a master's log into a replica store (the client's
// repair path: gRPC stream -> ReplicaStore::apply per batch), the latency
// of Subscribe calls (p50/p99), and Snapshot into a replica against mdb_copy
// (BM_SnapshotVsMdbCopy, below). Server and client run in this process on real
// sockets with real certificates (scripts/mkcerts); the backend is the test
// one (tests/unit/control/test_backend.hpp) over a real MasterStore, so the
// figures are the control plane's, not the server's loop. Replica durability
// is nosync: the figure is the pipeline's.
//
//   REPLICAST_BENCH_CONTROL_UPDATES=1000000 build/bench/bench_control --benchmark_filter=Recover --benchmark_min_time=1
//   REPLICAST_BENCH_CONTROL_SNAPSHOT_MB=1024 REPLICAST_BENCH_CONTROL_SNAPSHOT_ROUNDS=3 build/bench/bench_control --benchmark_filter=Snapshot
//   (REPLICAST_BENCH_CONTROL_BATCH_BYTES sets recover_batch_bytes; REPLICAST_BENCH_DIR where stores go)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "bench/bench_env.hpp"
#include "bench/control_rig.hpp"
#include "engine/control/client.hpp"
#include "engine/control/control_server.hpp"
#include "engine/control/heap.hpp"
#include "replicast_config.h"
#include "store/checksum.hpp"
#include "store/replica.hpp"

using namespace replicast;
using namespace replicast::bench;

namespace {

struct Rig {
    ControlRig base{bench_dir("control")};
    std::unique_ptr<control::ControlClient> client;
    std::uint32_t stream = 0;
    std::uint64_t updates = env_u64("REPLICAST_BENCH_CONTROL_UPDATES", 200'000);
    std::string error = base.error;

    Rig() {
        if (!error.empty()) return;
        // 100 encoded bytes per update: 9 of head, a 12-byte key, 79 of value.
        if (error = base.write_numbered("bench", updates, 79); !error.empty()) return;
        base.serve(static_cast<std::uint32_t>(env_u64("REPLICAST_BENCH_CONTROL_BATCH_BYTES", 0)));
        client = base.client();
        v1::Subscription sub;
        if (const control::Result r = client->subscribe("bench", sub); !r) {
            error = r.text();
            return;
        }
        stream = sub.stream_id();
    }
    ~Rig() { client.reset(); }  // before the server
};

Rig& rig() {
    static Rig r;
    return r;
}

void BM_RecoverIntoReplica(benchmark::State& state) {
    Rig& r = rig();
    if (!r.error.empty()) return state.SkipWithError(r.error.c_str());
    int round = 0;
    std::uint64_t lsns = 0, bytes = 0;
    for (auto _ : state) {
        state.PauseTiming();
        const std::string path = (r.base.dir / ("replica-" + std::to_string(round++))).string();
        store::EnvOptions fast;
        fast.durability = store::Durability::nosync;
        auto replica = std::make_unique<store::ReplicaStore>(path, fast);
        if (!replica->bind("bench", r.base.master->uuid())) return state.SkipWithError("bind failed");
        state.ResumeTiming();
        store::Status applied;
        const control::Result res = r.client->recover(r.stream, 1, r.updates, [&](const v1::RecoverBatch& b) {
            bytes += b.body().size();
            lsns += b.update_count();
            applied = replica->apply("bench", b.first_lsn(), b.update_count(),
                                     {reinterpret_cast<const std::uint8_t*>(b.body().data()), b.body().size()}, {});
            return applied.is_ok();
        });
        if (!applied) return state.SkipWithError(applied.message().c_str());
        if (!res) return state.SkipWithError(res.text().c_str());
        state.PauseTiming();
        store::ReplicaState st;
        if (!replica->state("bench", st) || st.applied_lsn != r.updates) return state.SkipWithError("replica incomplete");
        replica.reset();
        std::filesystem::remove_all(path);
        state.ResumeTiming();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(lsns));
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
    state.counters["updates"] = static_cast<double>(r.updates);
}
BENCHMARK(BM_RecoverIntoReplica)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();

// The same stream without the replica: what the server, TLS and gRPC cost alone.
void BM_RecoverReceiveOnly(benchmark::State& state) {
    Rig& r = rig();
    if (!r.error.empty()) return state.SkipWithError(r.error.c_str());
    std::uint64_t lsns = 0, bytes = 0;
    for (auto _ : state) {
        const control::Result res = r.client->recover(r.stream, 1, r.updates, [&](const v1::RecoverBatch& b) {
            bytes += b.body().size();
            lsns += b.update_count();
            return true;
        });
        if (!res) return state.SkipWithError(res.text().c_str());
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(lsns));
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_RecoverReceiveOnly)->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime();

void BM_SubscribeLatency(benchmark::State& state) {
    Rig& r = rig();
    if (!r.error.empty()) return state.SkipWithError(r.error.c_str());
    std::vector<double> us;
    for (auto _ : state) {
        const auto t0 = std::chrono::steady_clock::now();
        v1::Subscription sub;
        if (const control::Result res = r.client->subscribe("bench", sub); !res) return state.SkipWithError(res.text().c_str());
        us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(us.begin(), us.end());
    state.counters["p50_us"] = us[us.size() / 2];
    state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
}
BENCHMARK(BM_SubscribeLatency)->UseRealTime();

// Snapshot of a database of REPLICAST_BENCH_CONTROL_SNAPSHOT_MB MiB of key +
// value (12-byte keys, 1000-byte values; default 8 for bench-smoke) into a
// fresh replica (begin_bootstrap, bootstrap_page per page, finish_bootstrap),
// against `mdb_copy` and `mdb_copy -c` of the same master store, interleaved:
// each round runs all three, the order rotated every round
// (REPLICAST_BENCH_CONTROL_SNAPSHOT_ROUNDS, default 1). The master's log is
// trimmed first, so the store is the database plus free pages: plain mdb_copy
// copies those too (file_mb), `-c` does not. Rates are MiB of key + value per
// wall second; each copy is removed after its round, so the disk holds the
// master and one copy at a time.
struct SnapRig {
    ControlRig base{bench_dir("snapshot")};
    std::unique_ptr<control::ControlClient> client;
    std::uint64_t records = 0;
    double data_mib = 0;
    std::string error = base.error;

    SnapRig() {
        if (!error.empty()) return;
        constexpr std::size_t value_bytes = 1000;
        const std::uint64_t mib = env_u64("REPLICAST_BENCH_CONTROL_SNAPSHOT_MB", 8);
        records = (mib << 20) / (12 + value_bytes);
        data_mib = static_cast<double>(records * (12 + value_bytes)) / (1 << 20);
        if (error = base.write_numbered("snap", records, value_bytes); !error.empty()) return;
        std::uint64_t removed = 0;
        if (const store::Status s = base.master->trim("snap", {.keep_updates = 1}, removed, 65536); !s) {
            error = s.message();
            return;
        }
        base.serve();
        client = base.client();
    }
    ~SnapRig() { client.reset(); }  // before the server

    // One snapshot into a fresh replica; verifies the count (and, when asked, the checksum).
    // `seconds` is the time to the finished bootstrap, the checksum excluded.
    std::string snapshot_once(const std::string& path, bool verify, double& seconds) {
        const auto t0 = std::chrono::steady_clock::now();
        store::EnvOptions fast;
        fast.durability = store::Durability::nosync;
        std::filesystem::create_directories(path);
        store::ReplicaStore replica(path, fast);
        std::uint64_t lsn = 0, got = 0, expected = 0;
        std::string sha;
        bool first = true;
        std::vector<store::Record> recs;
        store::Status st;
        const control::Result r = client->snapshot("snap", [&](const v1::SnapshotPage& p) {
            if (first) {
                first = false;
                lsn = p.lsn();
                std::array<std::uint8_t, 16> uuid{};
                if (p.store_uuid().size() != uuid.size()) return false;
                std::copy(p.store_uuid().begin(), p.store_uuid().end(), uuid.begin());
                if (st = replica.begin_bootstrap("snap", uuid); !st) return false;
            }
            recs.clear();
            for (const v1::SnapshotRecord& x : p.records()) {
                recs.push_back({.key = {reinterpret_cast<const std::uint8_t*>(x.key().data()), x.key().size()},
                                .group = static_cast<std::uint16_t>(x.reader_group()),
                                .value = {reinterpret_cast<const std::uint8_t*>(x.value().data()), x.value().size()}});
            }
            if (!recs.empty()) {
                if (st = replica.bootstrap_page("snap", recs); !st) return false;
                got += recs.size();
            }
            if (p.last()) {
                expected = p.record_count();
                sha = p.sha256();
            }
            return true;
        });
        if (!st) return st.message();
        if (!r) return r.text();
        if (got != records || expected != records) return "snapshot delivered the wrong number of records";
        if (st = replica.finish_bootstrap("snap", lsn); !st) return st.message();
        seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (verify) {
            store::Checksum sum;
            if (st = store::checksum(replica, "snap", sum); !st) return st.message();
            if (sum.sha256 != sha || sum.records != records) return "the replica's checksum is not the snapshot's";
        }
        return {};
    }
};

SnapRig& snap_rig() {
    static SnapRig r;
    return r;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void BM_SnapshotVsMdbCopy(benchmark::State& state) {
    SnapRig& r = snap_rig();
    if (!r.error.empty()) return state.SkipWithError(r.error.c_str());
    const char* env = std::getenv("REPLICAST_BENCH_CONTROL_SNAPSHOT_ROUNDS");
    const int rounds = std::max(1, env != nullptr ? std::atoi(env) : 1);
    std::vector<double> ours, copy, compact, ratio;
    const std::string master_dir = (r.base.dir / "master").string();
    for (auto _ : state) {
        for (int round = 0; round < rounds; ++round) {
            double t[3] = {};
            for (int k = 0; k < 3; ++k) {
                const int which = (round + k) % 3;  // rotate who goes first
                const std::string out = (r.base.dir / ("copy-" + std::to_string(which))).string();
                std::filesystem::remove_all(out);
                if (which == 0) {
                    if (const std::string e = r.snapshot_once(out, round == 0, t[0]); !e.empty()) {
                        return state.SkipWithError(e.c_str());
                    }
                } else {
                    const auto t0 = std::chrono::steady_clock::now();
                    std::filesystem::create_directories(out);
                    const std::string cmd = std::string("mdb_copy ") + (which == 2 ? "-c " : "") + master_dir + " " + out;
                    if (std::system(cmd.c_str()) != 0) return state.SkipWithError(("failed: " + cmd).c_str());
                    t[which] = seconds_since(t0);
                }
                std::filesystem::remove_all(out);
            }
            ours.push_back(r.data_mib / t[0]);
            copy.push_back(r.data_mib / t[1]);
            compact.push_back(r.data_mib / t[2]);
            ratio.push_back(t[1] / t[0]);
        }
    }
    auto put = [&](const char* name, std::vector<double>& v) {
        std::sort(v.begin(), v.end());
        state.counters[std::string(name) + "_median"] = v[v.size() / 2];
        state.counters[std::string(name) + "_min"] = v.front();
        state.counters[std::string(name) + "_max"] = v.back();
    };
    put("ours_MiBps", ours);
    put("mdb_copy_MiBps", copy);
    put("mdb_copy_c_MiBps", compact);
    put("ours_over_mdb_copy", ratio);
    state.counters["data_MiB"] = r.data_mib;
    state.counters["file_MiB"] =
        static_cast<double>(std::filesystem::file_size(std::filesystem::path(master_dir) / "data.mdb")) / (1 << 20);
}
BENCHMARK(BM_SnapshotVsMdbCopy)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
