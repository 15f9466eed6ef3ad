// `replicast probe`: publish-to-apply latency, measured from outside the
// product as an application sees it. Over one TLS channel it publishes a
// probe key, then watches a replica store on this host (read transactions,
// as any reader does) until the key is there: the time from just before the
// Publish call to the first read that finds it. One probe at a time, paced by
// --interval-ms, so that it measures latency, not a queue.
//
// With --local-store the probe is written straight into the master store on
// this host (MasterStore::write, as `replicast put` or any local application
// writes; the server's update detector finds it) instead of published: the
// local-write-to-apply latency, from just before the write.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "store/env.hpp"
#include "store/master.hpp"
#include "tools/commands.hpp"
#include "tools/control_connection.hpp"

namespace replicast::tools {

namespace {

struct ProbeOptions {
    Connection c;
    std::string db, replica, prefix = "probe/";
    std::string local_store;  // write the probes here instead of Publish
    std::uint32_t count = 100;
    std::uint32_t interval_ms = 20;
    std::uint32_t timeout_ms = 10'000;
    std::uint32_t group = 0;
};

/// Whether `key` is in `db` of the store at `env` (a master or a replica: same record layout).
bool present(store::Env& env, const std::string& db, const std::string& key) {
    bool found = false;
    (void)env.read("probe", [&](MDB_txn* txn) {
        MDB_dbi dbi;
        if (int rc = env.dbi(txn, db, false, dbi); rc != 0) return rc == MDB_NOTFOUND ? 0 : rc;
        MDB_val k = store::as_val(key), v{};
        found = mdb_get(txn, dbi, &k, &v) == 0;
        return 0;
    });
    return found;
}

double quantile(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

void run_probe(const ProbeOptions& o) {
    std::unique_ptr<control::ControlClient> client;
    std::unique_ptr<store::MasterStore> master;
    if (o.local_store.empty()) {
        client = connect(o.c, "probe");
    } else {
        try {
            master = std::make_unique<store::MasterStore>(o.local_store, store::EnvOptions{.create = false});
        } catch (const store::StoreError& e) {
            throw CLI::RuntimeError(std::string("replicast probe: ") + e.what(), kExitUsage);
        }
    }
    std::unique_ptr<store::Env> env;
    try {
        env = std::make_unique<store::Env>(o.replica, store::EnvOptions{.read_only = true, .create = false});
    } catch (const store::StoreError& e) {
        throw CLI::RuntimeError(std::string("replicast probe: ") + e.what(), kExitUsage);
    }
    const auto run_tag = std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
    std::vector<double> ms;
    std::vector<double> write_ms;  // the write (or Publish) alone: its commit and fsync, the writer lock
    std::uint32_t lost = 0;
    for (std::uint32_t i = 0; i < o.count; ++i) {
        const std::string key = o.prefix + run_tag + "/" + std::to_string(i);
        v1::PublishRequest req;
        req.set_database(o.db);
        v1::Update* u = req.add_updates();
        u->set_op(v1::OP_PUT);
        u->set_reader_group(o.group);
        u->set_key(key);
        u->set_value("probe");
        v1::PublishReply reply;
        const auto t0 = std::chrono::steady_clock::now();
        if (master) {
            const std::string value = "probe";
            const wire::UpdateView op{.op = wire::Op::put, .reader_group = static_cast<std::uint16_t>(o.group),
                                      .key = {reinterpret_cast<const std::uint8_t*>(key.data()), key.size()},
                                      .value = {reinterpret_cast<const std::uint8_t*>(value.data()), value.size()}};
            if (const store::Status s = master->write(o.db, std::span(&op, 1)); !s) {
                throw CLI::RuntimeError("replicast probe: local write: " + s.message(), kExitFindings);
            }
        } else {
            check(client->publish(req, reply), "probe");
        }
        write_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        const auto deadline = t0 + std::chrono::milliseconds(o.timeout_ms);
        bool seen = false;
        while (!(seen = present(*env, o.db, key)) && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::microseconds(20));
        }
        if (seen) {
            ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        } else {
            ++lost;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(o.interval_ms));
    }
    if (ms.empty()) throw CLI::RuntimeError("replicast probe: no probe reached the replica within the timeout", kExitFindings);
    const double p50 = quantile(ms, 0.50), p99 = quantile(ms, 0.99), max = quantile(ms, 1.0);
    const double w50 = quantile(write_ms, 0.50), w99 = quantile(write_ms, 0.99), wmax = quantile(write_ms, 1.0);
    if (o.c.json) {
        std::printf("%s\n", nlohmann::json{{"probes", ms.size()}, {"timed_out", lost}, {"p50_ms", p50}, {"p99_ms", p99},
                                           {"max_ms", max}, {"samples_ms", ms},
                                           {"write_p50_ms", w50}, {"write_p99_ms", w99}, {"write_max_ms", wmax}}
                                .dump()
                                .c_str());
    } else {
        std::printf("probes=%zu timed_out=%u p50_ms=%.3f p99_ms=%.3f max_ms=%.3f write_p50_ms=%.3f write_p99_ms=%.3f write_max_ms=%.3f\n",
                    ms.size(), lost, p50, p99, max, w50, w99, wmax);
    }
    if (lost != 0) throw CLI::RuntimeError(kExitFindings);
}

}  // namespace

void add_probe_command(CLI::App& app) {
    auto o = std::make_shared<ProbeOptions>();
    CLI::App* cmd = app.add_subcommand("probe", "Publish-to-apply latency: publish probe keys one at a time and time "
                                                "each until a replica on this host holds it");
    add_connection(cmd, o->c);
    cmd->add_option("--db", o->db, "database to publish the probes to")->required();
    cmd->add_option("--replica", o->replica, "replica store directory to watch (a client's [replica] store)")->required();
    cmd->add_option("--count", o->count, "probes")->check(CLI::Range(1, 1'000'000));
    cmd->add_option("--interval-ms", o->interval_ms, "pause between probes")->check(CLI::Range(0, 60'000));
    cmd->add_option("--timeout-ms", o->timeout_ms, "give a probe up after this long")->check(CLI::Range(1, 600'000));
    cmd->add_option("--group", o->group, "reader group of the probe keys (the replica must keep it)")->check(CLI::Range(0, 65535));
    cmd->add_option("--prefix", o->prefix, "key prefix of the probes");
    cmd->add_option("--local-store", o->local_store,
                    "write the probes into this master store on this host instead of Publish (local-write-to-apply)");
    cmd->callback([o] { run_probe(*o); });
}

}  // namespace replicast::tools
