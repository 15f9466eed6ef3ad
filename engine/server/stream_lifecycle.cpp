// Streams that start and stop while the server runs (PROTOCOL.md 2.1, 2.2).
//
// The loop is the only writer of stream state, so every step happens here, on
// the control core: a Subscribe for a database that is not streaming posts a
// start_stream command (control_backend.cpp) and waits for its answer; the
// loop allocates a slot in a tx worker's fixed stream table, a group from
// streams.group_range, a fresh key epoch, and posts a stream_start message
// ahead of the stream's first chain. A stream nobody has subscribed to for
// streams.idle_stop_seconds (never one of streams.databases) is fed no more;
// once nothing of it is in flight, a stream_stop goes to its worker, which
// sends a final heartbeat and frees the slot; when that message is back the
// loop persists the exact next packet_seq, wipes the keys and frees the group.
// A later Subscribe starts it again: same stream_id (the database's id), a new
// key epoch, the packet sequence continuing; a replica that heard nothing
// subscribes again on its own (engine/client follower.cpp, silence).
#include <rte_ring.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "engine/chain/segment.hpp"
#include "engine/server/server.hpp"
#include "engine/server/steady_clock.hpp"
#include "engine/wire/frame.hpp"

namespace replicast::server {

namespace {

constexpr std::uint64_t kIdleCheckNs = 100'000'000;                  // idle streams looked for this often
constexpr std::size_t kMaxWaiting = 1024;                            // Subscribes parked on one stopping stream

}  // namespace

Stream& Server::add_stream(const std::string& db, std::uint32_t stream_id) {
    auto s = std::make_unique<Stream>();
    s->db = db;
    s->stream_id = stream_id;
    s->keys = std::make_unique<crypto::KeyRing>(control_gcm_);
    s->bundle = BundleController({.max_updates = config_.max_updates,
                                  .max_bytes = config_.max_bytes,
                                  .min_updates = config_.min_updates});
    s->stats.chain_updates.store(s->bundle.current(), std::memory_order_relaxed);
    s->stats.rate_bps.store(config_.pace.rate_bps, std::memory_order_relaxed);
    // Readers of the registry (Stats, telemetry, Databases) read the view: a
    // stream whose first start fails (streams.max_streams) is listed too.
    publish_view(*s);
    Stream& ref = *s;
    std::lock_guard lock(registry_mutex_);
    streams_.push_back(std::move(s));
    return ref;
}

Stream* Server::find_stream(std::string_view db) noexcept {
    for (auto& s : streams_) {
        if (s->db == db) return s.get();
    }
    return nullptr;
}

bool Server::pick_slot(unsigned& worker, std::uint32_t& slot) const {
    // The worker with the most free slots: streams spread over the lcores.
    std::size_t best_free = 0;
    for (unsigned wi = 0; wi < workers_.size(); ++wi) {
        const std::size_t free = workers_[wi]->slots.size() - workers_[wi]->used;
        if (free > best_free) {
            best_free = free;
            worker = wi;
        }
    }
    if (best_free == 0) return false;
    const auto& slots = workers_[worker]->slots;
    for (std::uint32_t i = 0; i < slots.size(); ++i) {
        if (slots[i].owner == nullptr) {
            slot = i;
            return true;
        }
    }
    return false;
}

bool Server::pick_group(const Stream& s, std::optional<std::size_t> configured, std::uint32_t& group) const {
    if (configured) {
        group = config_.group_of(*configured);  // the i-th listed database keeps the i-th group
        return true;
    }
    auto taken = [&](std::uint32_t g) {
        return std::any_of(streams_.begin(), streams_.end(),
                           [&](const auto& o) { return o.get() != &s && o->run != Stream::Run::stopped && o->group == g; });
    };
    // Its group of last time when free: a replica still joined there keeps its socket.
    if (s.group != 0 && !taken(s.group)) {
        group = s.group;
        return true;
    }
    for (std::uint32_t i = static_cast<std::uint32_t>(config_.databases.size()); i < config_.group_count(); ++i) {
        if (!taken(config_.group_of(i))) {
            group = config_.group_of(i);
            return true;
        }
    }
    return false;
}

control::Result Server::start_stream(Stream& s, std::optional<std::size_t> configured) {
    using control::Code;
    if (s.run != Stream::Run::stopped) return control::Result::ok();
    if (running_ >= config_.max_streams) {
        return {Code::resource_exhausted, "database " + s.db + ": " + std::to_string(running_) +
                                              " streams run already (streams.max_streams)"};
    }
    unsigned wi = 0;
    std::uint32_t slot = 0;
    if (configured) {
        wi = static_cast<unsigned>(*configured % workers_.size());
        const auto& slots = workers_[wi]->slots;
        slot = static_cast<std::uint32_t>(std::find_if(slots.begin(), slots.end(), [](const auto& x) { return x.owner == nullptr; }) -
                                          slots.begin());
        if (slot == slots.size()) return {Code::internal, "database " + s.db + ": no free slot on its tx worker"};
    } else if (!pick_slot(wi, slot)) {
        return {Code::resource_exhausted, "database " + s.db + ": every tx worker's stream table is full"};
    }
    std::uint32_t group = 0;
    if (!pick_group(s, configured, group)) {
        return {Code::resource_exhausted, "database " + s.db + ": every group of streams.group_range is taken"};
    }
    auto store_error = [&](const store::Status& st) { return control::Result{Code::internal, s.db + ": " + st.message()}; };
    store::StreamState st;
    if (const store::Status e = store_.stream_state(s.db, st); !e) return store_error(e);
    std::uint64_t oldest = 0, last = 0;
    if (const store::Status e = store_.lsn_range(s.db, oldest, last); !e) return store_error(e);

    s.last_lsn = last;
    s.multicast_lsn = st.multicast_lsn;
    if (!configured || (st.multicast_lsn == 0 && config_.start == StartAt::next)) {
        // Started by a Subscribe: from the next write. The subscriber was told
        // the log's last LSN and recovers what it lacks over the control plane;
        // multicasting what was written while nobody listened helps no one.
        s.multicast_lsn = last;
    }
    s.next_lsn = s.multicast_lsn + 1;
    s.target_lsn = last;
    s.first_seq = std::max<std::uint64_t>(st.packet_seq_watermark, 1);
    s.highest_seq = std::max(s.highest_seq, s.first_seq - 1);
    s.key_change_pending = false;
    s.rotate_after_switch = false;
    s.stalled = false;
    // Every start sends at the configured cap (the slot's config) and adapts from there.
    s.rate = RateController({.ceiling_bps = config_.pace.rate_bps, .floor_bps = config_.min_rate_bps});
    s.stats.rate_bps.store(config_.pace.rate_bps, std::memory_order_relaxed);
    s.epoch = 0;
    if (config_.sealed) {
        // A new epoch every start: even if a crash lost the exact packet_seq,
        // no (key, IV) pair can repeat.
        const std::uint32_t last_epoch = std::max(st.key_epoch, s.newest_made);
        if (last_epoch == UINT32_MAX) return {Code::internal, s.db + ": key epochs exhausted"};
        s.epoch = make_key(s, last_epoch + 1);
    }
    Worker& w = *workers_[wi];
    const crypto::GcmKey* key = s.epoch != 0 ? s.keys->find(s.epoch) : nullptr;
    if (key != nullptr && key->path() != w.tx->crypto_path()) {
        // Its tags would be wrong on every packet (tx::TxWorker checks this for the streams it is built with).
        s.keys->retire_older_than(UINT32_MAX);
        drop_raw_keys_not_in_ring(s);
        return {Code::internal, s.db + ": the key was expanded for the " + std::string(key->path()) +
                                    " code path, the worker seals with " + std::string(w.tx->crypto_path())};
    }
    s.watermark = s.first_seq + kSeqReserve;
    if (const store::Status e = store_.put_stream_state(
            s.db, {.packet_seq_watermark = s.watermark, .key_epoch = s.epoch != 0 ? s.epoch : st.key_epoch,
                   .multicast_lsn = s.multicast_lsn});
        !e) {
        s.keys->retire_older_than(UINT32_MAX);
        drop_raw_keys_not_in_ring(s);
        return store_error(e);
    }

    Worker::Slot& sl = w.slots[slot];
    sl.config = tx::TxStreamConfig{};
    sl.config.stream_id = s.stream_id;
    sl.config.addressing = {.source_mac = profile_.dataplane.source_mac_set ? profile_.dataplane.source_mac : port_->mac(),
                            .source_ip = profile_.dataplane.source_ip,
                            .group = group,
                            .source_port = profile_.dataplane.source_port,
                            .group_port = config_.port,
                            .vlan_id = profile_.dataplane.vlan_id,
                            .vlan_pcp = profile_.dataplane.vlan_pcp,
                            .ttl = profile_.dataplane.ttl,
                            .dscp = profile_.dataplane.dscp};
    sl.config.next_seq = s.first_seq;
    sl.config.key_epoch = s.epoch;
    sl.config.key = key;
    sl.config.pace = config_.pace;
    sl.config.max_payload = static_cast<std::uint32_t>(chain::max_payload_for_mtu(port_->caps().mtu));
    sl.config.last_lsn = s.multicast_lsn;
    sl.start = tx::TxMessage{};
    sl.start.kind = tx::TxMessage::Kind::stream_start;
    sl.start.stream = slot;
    sl.start.start = &sl.config;
    w.tx->set_pace_rate(slot, 0);  // the config's cap: adaptive rate starts from the ceiling again
    // Posted before any chain of the stream (the codec lcore, if any, gets
    // those later), so the worker has the slot set up when they arrive.
    if (rte_ring_enqueue(w.inbox, &sl.start) != 0) {  // cannot happen: the ring holds every message of every slot
        s.keys->retire_older_than(UINT32_MAX);
        drop_raw_keys_not_in_ring(s);
        return {Code::unavailable, s.db + ": the tx worker's inbox is full; try again"};
    }
    sl.owner = &s;
    ++w.used;
    ++running_;
    s.worker = wi;
    s.slot = slot;
    s.group = group;
    s.port = config_.port;
    s.run = Stream::Run::running;
    s.stop_posted = false;
    s.restart = false;
    s.stats.multicast_lsn = s.multicast_lsn;
    s.stats.last_lsn = last;
    s.stats.key_epoch = s.epoch;
    s.idle_from_ns = steady_ns();  // idle from now at the earliest (its Subscribe takes a lease just after)
    s.stats.starts.fetch_add(1, std::memory_order_relaxed);
    publish_view(s);
    spdlog::info("stream {} db={} group={}:{} worker lcore {} epoch {} first packet_seq {} from LSN {} (log holds {}..{}){}",
                 s.stream_id, s.db, wire::ipv4_text(s.group), s.port, w.lcore, s.epoch, s.first_seq, s.next_lsn, oldest,
                 last, s.always_on ? "" : ", started on Subscribe");
    return control::Result::ok();
}

void Server::start_on_request(Command& c) {
    CommandReply reply;
    Stream* s = find_stream(c.database);
    if (s == nullptr) {
        std::uint32_t id = 0;
        if (const store::Status st = store_.database_id(c.database, false, id); !st) {
            reply.result = {control::Code::failed_precondition,
                            "database " + c.database + " is not in the master store: " + st.message()};
            c.reply.set_value(std::move(reply));
            return;
        }
        s = &add_stream(c.database, id);
    }
    switch (s->run) {
    case Stream::Run::running: break;  // started meanwhile (by an earlier Subscribe)
    case Stream::Run::stopping:
        if (!s->stop_posted) {
            // Its worker has not heard of the stop yet: it simply goes on.
            s->run = Stream::Run::running;
            s->idle_from_ns = steady_ns();
            publish_view(*s);
            spdlog::info("stream {} ({}): a Subscribe came while it was stopping; it goes on", s->stream_id, s->db);
            break;
        }
        if (s->waiting.size() >= kMaxWaiting) {
            reply.result = {control::Code::unavailable, "stream " + s->db + " is stopping; try again"};
            break;
        }
        s->restart = true;  // answered once its stop is back and it has started again
        s->waiting.push_back(std::move(c.reply));
        return;
    case Stream::Run::stopped: reply.result = start_stream(*s, std::nullopt); break;
    }
    c.reply.set_value(std::move(reply));
}

void Server::answer_waiting(Stream& s, const control::Result& r) {
    for (auto& p : s.waiting) p.set_value(CommandReply{.result = r, .epoch = 0});
    s.waiting.clear();
}

void Server::stop_idle_streams() {
    const std::uint64_t now = steady_ns();
    if (now < next_idle_check_ns_) return;
    next_idle_check_ns_ = now + kIdleCheckNs;
    const std::uint64_t idle_ns = std::uint64_t{config_.idle_stop_seconds} * 1'000'000'000;
    for (auto& sp : streams_) {
        Stream& s = *sp;
        // Idle from when its last lease ran out or ended (the control
        // service's horizon: no sweep of expired leases needed here), and
        // never before it started.
        const std::uint64_t from = std::max(s.idle_from_ns, s.stats.lease_until_ns.load(std::memory_order_relaxed));
        if (s.run == Stream::Run::running && !s.always_on && now >= from && now - from >= idle_ns) {
            s.run = Stream::Run::stopping;
            publish_view(s);  // not streaming: a Subscribe from here on starts it (again)
            spdlog::info("stream {} ({}): no subscriber lease for {} ms (streams.idle_stop_seconds {}): stopping",
                         s.stream_id, s.db, (now - from) / 1'000'000, config_.idle_stop_seconds);
        }
        // Once nothing of it is in flight: its chains all back, no key switch announced.
        if (s.run == Stream::Run::stopping && !s.stop_posted && s.multicast_lsn + 1 >= s.next_lsn &&
            !s.key_change_pending) {
            (void)post_stop(s);
        }
    }
}

bool Server::post_stop(Stream& s) {
    Worker& w = *workers_[s.worker];
    tx::TxMessage& m = w.slots[s.slot].stop;
    m = tx::TxMessage{};
    m.kind = tx::TxMessage::Kind::stream_stop;
    m.stream = s.slot;
    if (rte_ring_enqueue(w.inbox, &m) != 0) return false;  // cannot happen (ring sizing); tried again next check
    s.stop_posted = true;
    return true;
}

void Server::stopped(Stream& s, const tx::TxMessage& m) {
    Worker& w = *workers_[s.worker];
    if (m.first_seq == 0) {
        // Handed back untaken by a worker stopping (the server stops): it has
        // returned, so its counter is safe to read.
        const std::uint64_t next = w.tx->next_seq(s.slot);
        if (next > 0) s.highest_seq = std::max(s.highest_seq, next - 1);
    }
    (void)persist(s, true);  // the exact next packet_seq, and the newest epoch: the next start goes past both
    s.keys->retire_older_than(UINT32_MAX);  // wiped: the worker no longer holds them
    drop_raw_keys_not_in_ring(s);
    w.slots[s.slot].owner = nullptr;
    --w.used;
    --running_;
    s.run = Stream::Run::stopped;
    s.stop_posted = false;
    publish_view(s);
    spdlog::info("stream {} ({}): stopped at LSN {} (next packet_seq {}); a Subscribe starts it again", s.stream_id,
                 s.db, s.multicast_lsn, s.highest_seq + 1);
    if (!s.restart) return;
    s.restart = false;
    if (!w.launched) {
        answer_waiting(s, {control::Code::unavailable, "the server is stopping"});
        return;
    }
    answer_waiting(s, start_stream(s, std::nullopt));
}

}  // namespace replicast::server
