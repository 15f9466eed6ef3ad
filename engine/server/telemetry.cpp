#include "engine/server/telemetry.hpp"

#include "engine/wire/frame.hpp"

#include <rte_telemetry.h>

#include <atomic>
#include <mutex>
#include <string>

#include "engine/server/server.hpp"

namespace replicast::server {

namespace {

// The telemetry thread's callbacks hold the lock while they read the server,
// so unregister_telemetry() returns only when none is still reading it.
std::mutex g_mutex;
const Server* g_server = nullptr;

void add(rte_tel_data* d, const char* name, const std::atomic<std::uint64_t>& v) {
    rte_tel_data_add_dict_u64(d, name, v.load(std::memory_order_relaxed));
}

int streams_cmd(const char*, const char*, rte_tel_data* d) {
    const std::lock_guard<std::mutex> lock(g_mutex);
    const Server* server = g_server;
    if (server == nullptr) return -1;
    rte_tel_data_start_dict(d);
    for (const Stream* s : server->streams()) {
        const auto view = s->view.get();  // addressing as published (the loop's own fields change at a restart)
        rte_tel_data* e = rte_tel_data_alloc();
        if (e == nullptr) return -1;
        rte_tel_data_start_dict(e);
        rte_tel_data_add_dict_string(e, "db", s->db.c_str());
        rte_tel_data_add_dict_string(e, "group", (wire::ipv4_text(view->group) + ":" + std::to_string(view->port)).c_str());
        rte_tel_data_add_dict_u64(e, "stream_id", s->stream_id);
        rte_tel_data_add_dict_u64(e, "streaming", view->streaming ? 1 : 0);
        add(e, "starts", s->stats.starts);
        add(e, "multicast_lsn", s->stats.multicast_lsn);
        add(e, "last_lsn", s->stats.last_lsn);
        add(e, "chains", s->stats.chains);
        add(e, "updates", s->stats.updates);
        rte_tel_data_add_dict_u64(e, "chain_updates", s->stats.chain_updates.load(std::memory_order_relaxed));
        rte_tel_data_add_dict_u64(e, "rate_bps", s->stats.rate_bps.load(std::memory_order_relaxed));
        rte_tel_data_add_dict_u64(e, "rate_changes", s->stats.rate_changes.load(std::memory_order_relaxed));
        rte_tel_data_add_dict_u64(e, "overrun_reports", s->stats.overrun_reports.load(std::memory_order_relaxed));
        add(e, "body_bytes", s->stats.body_bytes);
        add(e, "record_bytes", s->stats.record_bytes);
        add(e, "skipped_lsns", s->stats.skipped_lsns);
        add(e, "key_epoch", s->stats.key_epoch);
        add(e, "key_switches", s->stats.key_switches);
        add(e, "epochs_not_recorded", s->stats.epochs_not_recorded);
        add(e, "trimmed", s->stats.trimmed);
        rte_tel_data_add_dict_container(d, std::to_string(s->stream_id).c_str(), e, 0);
    }
    return 0;
}

int lcores_cmd(const char*, const char*, rte_tel_data* d) {
    const std::lock_guard<std::mutex> lock(g_mutex);
    const Server* server = g_server;
    if (server == nullptr) return -1;
    rte_tel_data_start_dict(d);
    for (unsigned w = 0; w < server->worker_count(); ++w) {
        const tx::TxCounters& c = server->worker_counters(w);
        rte_tel_data* e = rte_tel_data_alloc();
        if (e == nullptr) return -1;
        rte_tel_data_start_dict(e);
        add(e, "packets", c.packets);
        add(e, "bytes", c.bytes);
        add(e, "chains", c.chains);
        add(e, "updates", c.updates);
        add(e, "heartbeats", c.heartbeats);
        add(e, "key_announcements", c.key_announcements);
        add(e, "key_switches", c.key_switches);
        add(e, "tx_ring_full", c.tx_ring_full);
        add(e, "mbuf_exhausted", c.mbuf_exhausted);
        add(e, "seal_errors", c.seal_errors);
        add(e, "pacing_waits", c.pacing_waits);
        add(e, "dropped_at_stop", c.dropped_at_stop);
        add(e, "idle_sleeps", c.idle_sleeps);
        rte_tel_data_add_dict_container(d, std::to_string(server->worker_lcore(w)).c_str(), e, 0);
    }
    return 0;
}

}  // namespace

void register_telemetry(const Server& server) {
    const std::lock_guard<std::mutex> lock(g_mutex);
    g_server = &server;
    static bool registered = false;
    if (!registered) {
        rte_telemetry_register_cmd("/replicast/streams", streams_cmd, "Per stream: LSNs, chains, bytes, key epoch.");
        rte_telemetry_register_cmd("/replicast/lcores", lcores_cmd, "Per tx worker lcore: packets, bytes, drops.");
        registered = true;
    }
}

void unregister_telemetry() {
    const std::lock_guard<std::mutex> lock(g_mutex);
    g_server = nullptr;
}

}  // namespace replicast::server
