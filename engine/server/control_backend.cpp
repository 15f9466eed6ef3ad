#include "engine/server/control_backend.hpp"

#include <string>

#include "engine/control/replicast.pb.h"
#include "engine/server/steady_clock.hpp"
#include "engine/wire/frame.hpp"

namespace replicast::server {

namespace {

std::uint64_t wall_ms() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

}  // namespace

std::shared_ptr<const control::StreamView> ServerBackend::stream(std::string_view database, bool start,
                                                                 control::Result& why) {
    auto v = server_.view_of(database);
    if ((v && v->streaming) || !start) {
        if (!v) why = {control::Code::failed_precondition, "database " + std::string(database) + " is not multicast now"};
        return v;  // possibly a stopped stream's view (streaming = false): Databases says so
    }
    // Not streaming: the loop starts it (stream_lifecycle.cpp) and answers once
    // the view says it runs; this thread waits for that, bounded.
    Command c{.kind = Command::Kind::start_stream, .database = std::string(database), .reply = {}};
    std::future<CommandReply> reply = c.reply.get_future();
    if (!server_.commands().post(std::move(c))) {
        why = {control::Code::unavailable, "the server's command queue is full; try again"};
        return nullptr;
    }
    if (reply.wait_for(options_.command_timeout) != std::future_status::ready) {
        // The command stays queued and is still carried out: a retry finds the stream running.
        why = {control::Code::unavailable, "the server did not start the stream of " + std::string(database) + " within " +
                                               std::to_string(options_.command_timeout.count()) + " ms; try again"};
        return nullptr;
    }
    if (const CommandReply r = reply.get(); !r.result) {
        why = r.result;
        return nullptr;
    }
    v = server_.view_of(database);
    if (!v || !v->streaming) {
        // Started and stopped again already (idle_stop_seconds passed with no subscriber): rare, a retry starts it.
        why = {control::Code::unavailable, "the stream of " + std::string(database) + " stopped again; try again"};
        return nullptr;
    }
    return v;
}

std::shared_ptr<const control::StreamView> ServerBackend::stream(std::uint32_t stream_id) {
    return server_.view_of(stream_id);
}

control::Result ServerBackend::publish(std::string_view database, std::span<const wire::UpdateView> ops,
                                       std::span<const std::uint8_t> request_id, std::uint64_t& first_lsn,
                                       bool& duplicate) {
    duplicate = false;
    store::Status s;
    {
        std::lock_guard lock(publish_mutex_);
        if (request_id.empty()) {
            s = server_.store().write(database, ops, &first_lsn);
        } else {
            s = server_.store().write_once(
                database, ops, {.id = request_id, .now_ms = wall_ms(), .window_ms = options_.publish_window_ms}, first_lsn,
                duplicate);
        }
    }
    if (s) return control::Result::ok();
    switch (s.code()) {
    case store::kBadName:
    case store::kBadUpdate: return {control::Code::invalid_argument, s.message()};
    case ENOSPC:
    case MDB_MAP_FULL: return {control::Code::resource_exhausted, s.message()};
    default: return {control::Code::internal, s.message()};
    }
}

control::Result ServerBackend::rotate_key(std::string_view database, std::uint32_t& next_epoch) {
    Command c{.kind = Command::Kind::rotate_key, .database = std::string(database), .reply = {}};
    std::future<CommandReply> reply = c.reply.get_future();
    if (!server_.commands().post(std::move(c))) {
        return {control::Code::unavailable, "the server's command queue is full; try again"};
    }
    if (reply.wait_for(options_.command_timeout) != std::future_status::ready) {
        // The command stays queued and is still carried out; only the answer is lost.
        return {control::Code::unavailable, "the server's loop did not take the rotation within " +
                                                std::to_string(options_.command_timeout.count()) + " ms"};
    }
    CommandReply r = reply.get();
    next_epoch = r.epoch;
    return r.result;
}

void ServerBackend::lease_horizon(std::uint32_t stream_id, std::uint64_t until_ns) {
    (void)server_.set_lease_horizon(stream_id, until_ns);
}

void ServerBackend::server_stats(v1::StatsReply& out) {
    out.set_uptime_ms((steady_ns() - server_.started_ns()) / 1'000'000);
    std::uint64_t packets = 0, bytes = 0;
    for (unsigned w = 0; w < server_.worker_count(); ++w) {
        const tx::TxCounters& c = server_.worker_counters(w);
        packets += c.packets.load(std::memory_order_relaxed);
        bytes += c.bytes.load(std::memory_order_relaxed);
    }
    out.set_packets(packets);
    out.set_bytes(bytes);
    for (const Stream* s : server_.streams()) {
        const auto view = s->view.get();  // addressing as published (the loop's own fields change at a restart)
        v1::StreamStatistics* row = out.add_streams();
        row->set_database(s->db);
        row->set_stream_id(s->stream_id);
        row->set_group(wire::ipv4_text(view->group));
        row->set_port(view->port);
        row->set_key_epoch(static_cast<std::uint32_t>(s->stats.key_epoch.load(std::memory_order_relaxed)));
        row->set_multicast_lsn(s->stats.multicast_lsn.load(std::memory_order_relaxed));
        row->set_last_lsn(s->stats.last_lsn.load(std::memory_order_relaxed));
        row->set_chains(s->stats.chains.load(std::memory_order_relaxed));
        row->set_updates(s->stats.updates.load(std::memory_order_relaxed));
        row->set_body_bytes(s->stats.body_bytes.load(std::memory_order_relaxed));
        row->set_record_bytes(s->stats.record_bytes.load(std::memory_order_relaxed));
        row->set_key_switches(s->stats.key_switches.load(std::memory_order_relaxed));
        row->set_epochs_not_recorded(s->stats.epochs_not_recorded.load(std::memory_order_relaxed));
        // subscribers and leases: the control service fills them from its lease table.
        row->set_chain_updates(s->stats.chain_updates.load(std::memory_order_relaxed));
        row->set_lossy_receivers(s->stats.lossy_receivers.load(std::memory_order_relaxed));
        row->set_loss_ppm(s->stats.loss_ppm.load(std::memory_order_relaxed));
        row->set_bundle_changes(s->stats.bundle_changes.load(std::memory_order_relaxed));
        row->set_rate_bps(s->stats.rate_bps.load(std::memory_order_relaxed));
        row->set_rate_changes(s->stats.rate_changes.load(std::memory_order_relaxed));
        row->set_overrun_reports(s->stats.overrun_reports.load(std::memory_order_relaxed));
    }
}

}  // namespace replicast::server
