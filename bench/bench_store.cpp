// The store's costs, side by side in one run (issue: store benchmarks):
//   append:   MasterStore::write (data + log entry + LSN bookkeeping in one
//             transaction) vs a bare LMDB put of the same records, at batches
//             of 1, 64 and 4096 records, in each durability mode. The hook's
//             budget is 2x the bare append.
//   log read: read_log ranges of 4096 entries (entries/s).
//   snapshot: a full snapshot scan (MB/s of key + value bytes).
//   apply:    ReplicaStore::apply of 64-update chains (updates/s).
// 8-byte keys and 100-byte values. Stores live under REPLICAST_BENCH_DIR (or
// ./bench-store.tmp) on the disk being measured: tmpfs would make fsync free.
#include <benchmark/benchmark.h>
#include <lmdb.h>
#include <sys/stat.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/wire/update.hpp"
#include "store/master.hpp"
#include "store/replica.hpp"

namespace {

using namespace replicast;
namespace fs = std::filesystem;

constexpr std::size_t kValueSize = 100;

std::string bench_dir(const std::string& name) {
    const char* root = std::getenv("REPLICAST_BENCH_DIR");
    const fs::path dir = fs::path(root != nullptr ? root : "bench-store.tmp") / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir.string();
}

store::Durability durability_of(std::int64_t i) {
    return i == 0 ? store::Durability::full : i == 1 ? store::Durability::nometasync : store::Durability::nosync;
}

const char* durability_name(std::int64_t i) { return i == 0 ? "full" : i == 1 ? "nometasync" : "nosync"; }

// Records with big-endian counter keys, so every run appends fresh keys.
struct RecordMaker {
    std::uint64_t next = 0;
    std::vector<std::array<std::uint8_t, 8>> keys;
    std::vector<std::uint8_t> value = std::vector<std::uint8_t>(kValueSize, 0x5a);
    std::vector<wire::UpdateView> ops;

    explicit RecordMaker(std::size_t batch) : keys(batch), ops(batch) {}

    std::span<const wire::UpdateView> batch() {
        for (std::size_t i = 0; i < keys.size(); ++i, ++next) {
            for (int b = 0; b < 8; ++b) keys[i][static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(next >> (56 - 8 * b));
            ops[i] = {.op = wire::Op::put, .reader_group = 0, .key = keys[i], .value = value};
        }
        return ops;
    }
};

void BM_MasterAppend(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    store::EnvOptions options;
    options.durability = durability_of(state.range(1));
    store::MasterStore master(bench_dir("master-append"), options);
    RecordMaker maker(batch);
    for (auto _ : state) {
        const store::Status s = master.write("bench", maker.batch());
        if (!s.ok()) {
            state.SkipWithError(s.message().c_str());
            break;
        }
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
    state.SetLabel(durability_name(state.range(1)));
}

// The reference: the same records put into one LMDB database, nothing else.
void BM_BareLmdbAppend(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    const std::string dir = bench_dir("bare-append");
    MDB_env* env = nullptr;
    unsigned flags = 0;
    if (state.range(1) == 1) flags |= MDB_NOMETASYNC;
    if (state.range(1) == 2) flags |= MDB_NOSYNC;
    if (mdb_env_create(&env) != 0 || mdb_env_set_mapsize(env, std::size_t{1} << 32) != 0 ||
        mdb_env_set_maxdbs(env, 4) != 0 || mdb_env_open(env, dir.c_str(), flags, 0600) != 0) {
        state.SkipWithError("cannot open the bare LMDB environment");
        return;
    }
    MDB_dbi dbi = 0;
    {
        MDB_txn* txn = nullptr;
        mdb_txn_begin(env, nullptr, 0, &txn);
        mdb_dbi_open(txn, "bench", MDB_CREATE, &dbi);
        mdb_txn_commit(txn);
    }
    RecordMaker maker(batch);
    for (auto _ : state) {
        MDB_txn* txn = nullptr;
        int rc = mdb_txn_begin(env, nullptr, 0, &txn);
        for (const wire::UpdateView& u : maker.batch()) {
            if (rc != 0) break;
            MDB_val k = store::as_val(u.key);
            MDB_val v = store::as_val(u.value);
            rc = mdb_put(txn, dbi, &k, &v, 0);
        }
        rc = rc == 0 ? mdb_txn_commit(txn) : (mdb_txn_abort(txn), rc);
        if (rc != 0) {
            state.SkipWithError(mdb_strerror(rc));
            break;
        }
    }
    mdb_env_close(env);
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
    state.SetLabel(durability_name(state.range(1)));
}

void append_args(benchmark::internal::Benchmark* b) {
    for (std::int64_t mode : {0, 1, 2}) {
        for (std::int64_t batch : {1, 64, 4096}) b->Args({batch, mode});
    }
    b->ArgNames({"batch", "mode"})->UseRealTime();
}
BENCHMARK(BM_MasterAppend)->Apply(append_args);
BENCHMARK(BM_BareLmdbAppend)->Apply(append_args);

// A master with 200k records, shared by the read benchmarks.
constexpr std::size_t kFilled = 200'000;
store::MasterStore& filled_master() {
    static store::MasterStore* master = [] {
        store::EnvOptions options;
        options.durability = store::Durability::nosync;
        auto* m = new store::MasterStore(bench_dir("master-filled"), options);
        RecordMaker maker(4096);
        for (std::size_t n = 0; n < kFilled; n += 4096) {
            if (!m->write("bench", maker.batch()).ok()) throw std::runtime_error("cannot fill the bench store");
        }
        return m;
    }();
    return *master;
}

void BM_LogRangeRead(benchmark::State& state) {
    store::MasterStore& master = filled_master();
    constexpr std::uint64_t kRange = 4096;
    std::uint64_t from = 1, bytes = 0, entries = 0;
    for (auto _ : state) {
        const store::Status s = master.read_log("bench", from, from + kRange - 1, [&](std::uint64_t, std::span<const std::uint8_t> u) {
            bytes += u.size();
            ++entries;
            return true;
        });
        if (!s.ok()) {
            state.SkipWithError(s.message().c_str());
            break;
        }
        from = from + kRange > kFilled ? 1 : from + kRange;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(entries));
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_LogRangeRead)->UseRealTime();

void BM_Snapshot(benchmark::State& state) {
    store::MasterStore& master = filled_master();
    std::uint64_t bytes = 0, records = 0;
    for (auto _ : state) {
        const store::Status s = master.snapshot(
            "bench", [](std::uint64_t) {},
            [&](const store::Record& r) {
                bytes += r.key.size() + r.value.size();
                ++records;
                return true;
            });
        if (!s.ok()) {
            state.SkipWithError(s.message().c_str());
            break;
        }
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(records));
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_Snapshot)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_ReplicaApply(benchmark::State& state) {
    constexpr std::uint32_t kChain = 64;
    store::EnvOptions options;
    options.durability = durability_of(state.range(0));
    store::ReplicaStore replica(bench_dir("replica-apply"), options);
    std::array<std::uint8_t, 16> uuid{};
    uuid[0] = 1;
    if (!replica.bind("bench", uuid).ok()) {
        state.SkipWithError("bind failed");
        return;
    }
    RecordMaker maker(kChain);
    std::vector<std::uint8_t> body;
    std::uint64_t next_lsn = 1;
    for (auto _ : state) {
        state.PauseTiming();
        body.clear();
        for (const wire::UpdateView& u : maker.batch()) {
            const std::size_t at = body.size();
            body.resize(at + wire::encoded_update_size(u));
            std::size_t written = 0;
            (void)wire::encode_update(u, std::span(body).subspan(at), written);
        }
        state.ResumeTiming();
        const store::Status s = replica.apply("bench", next_lsn, kChain, body, store::GroupFilter{});
        if (!s.ok()) {
            state.SkipWithError(s.message().c_str());
            break;
        }
        next_lsn += kChain;
    }
    state.SetItemsProcessed(state.iterations() * kChain);
    state.SetLabel(durability_name(state.range(0)));
}
BENCHMARK(BM_ReplicaApply)->Arg(0)->Arg(2)->ArgName("mode")->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
