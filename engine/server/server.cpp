#include "engine/server/server.hpp"
#include "engine/server/steady_clock.hpp"

#include "engine/wire/frame.hpp"

#include "engine/chain/segment.hpp"
#include "engine/logging/log.hpp"

#include <openssl/crypto.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_errno.h>
#include <rte_ring.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace replicast::server {

namespace {

unsigned ring_size_for(std::size_t entries) {
    unsigned n = 2;
    while (n - 1 < entries) n <<= 1;  // an rte_ring of size n holds n - 1
    return n;
}

void check(const store::Status& s) {
    if (!s) throw store::StoreError(s);
}

}  // namespace

Server::Server(ServerConfig config, ServerOptions options)
    : config_(std::move(config)),
      options_(options),
      profile_(tx::load_profile(config_.profile)),
      store_(config_.store, store::EnvOptions{.initial_map_bytes = config_.initial_map_bytes}),
      cutter_({.max_updates = config_.max_updates, .max_bytes = config_.max_bytes},
              // With a codec lcore the control core cuts plain chains and that lcore deflates them.
              {.compress = config_.compress && config_.compression_lcore < 0, .level = config_.compression_level}),
      loss_(std::chrono::milliseconds(config_.adaptive_window_ms)) {
    if (!config_.key_log.empty()) {
        key_log_.emplace(config_.key_log);
        spdlog::warn("key log {} is on: anyone who reads it can open the multicast (PROTOCOL.md section 3)",
                     config_.key_log);
    }
    notify_ = std::make_unique<store::NotifyListener>(store_.notify_path());
    // (tx::Eal refuses tx lcores the EAL did not make worker lcores.)
    eal_ = std::make_unique<tx::Eal>(profile_, tx::EalOverrides{.force_no_huge = options_.force_no_huge});
    // Said once at start in our words: the EAL's own notices leave an operator
    // guessing whether the sender runs on hugepages.
    if (eal_->memory().hugepages()) {
        logging::get("server")->info("{}", tx::describe(eal_->memory()));
    } else {
        logging::get("server")->warn("{}", tx::describe(eal_->memory()));
    }
    if (const int c = config_.compression_lcore; c >= 0) {
        const auto lcore = static_cast<unsigned>(c);
        const bool taken = std::find(profile_.tx_lcores.begin(), profile_.tx_lcores.end(), lcore) != profile_.tx_lcores.end();
        if (lcore == rte_get_main_lcore() || !rte_lcore_is_enabled(lcore) || taken) {
            throw config::ConfigError(config_.path + ": bundle.compression_lcore: lcore " + std::to_string(lcore) +
                                  " must be an EAL lcore of " + profile_.path + " that is neither the main lcore nor a tx lcore");
        }
    }
    port_ = std::make_unique<tx::Port>(profile_, static_cast<std::uint16_t>(profile_.tx_lcores.size()));
    if (!port_->link_up()) {
        spdlog::warn("port {} reports its link down: frames may not leave until it comes up", profile_.port.name);
    }
    for (unsigned lcore : profile_.tx_lcores) {
        auto w = std::make_unique<Worker>();
        w->lcore = lcore;
        workers_.push_back(std::move(w));
    }
    try {
        start_workers();
        open_streams();  // the configured streams: stream_start messages the workers take first
    } catch (...) {
        // A constructor that throws gets no destructor: stop the lcores already
        // launched before the members they use (port, EAL) are destroyed.
        release_workers();
        throw;
    }
}

Server::~Server() { release_workers(); }

void Server::release_workers() noexcept {
    stop_workers();
    for (auto& w : workers_) {
        rte_ring_free(w->inbox);
        rte_ring_free(w->outbox);
        w->inbox = w->outbox = nullptr;
    }
    rte_ring_free(codec_ring_);
    codec_ring_ = nullptr;
}

std::uint32_t Server::make_key(Stream& s, std::uint32_t epoch) {
    crypto::Key key = crypto::generate_key();
    s.keys->add(epoch, key);
    s.raw_keys.emplace_back(epoch, key);
    OPENSSL_cleanse(key.data(), key.size());
    drop_raw_keys_not_in_ring(s);  // the ring may have dropped its oldest epoch
    s.newest_made = std::max(s.newest_made, epoch);
    if (key_log_) key_log_->append({.stream_id = s.stream_id, .epoch = epoch, .key = s.raw_keys.back().key});
    return epoch;
}

void Server::drop_raw_keys_not_in_ring(Stream& s) {
    // EpochKey wipes itself when destroyed; erase moves the survivors down and
    // destroys the tail, so no copy of a retired key stays behind.
    std::erase_if(s.raw_keys, [&](const control::EpochKey& k) { return s.keys->find(k.epoch) == nullptr; });
}

// The control service reads streams through these views only; a new one is
// published whenever the keys change (made, switched, retired).
void Server::publish_view(Stream& s) {
    auto v = std::make_shared<control::StreamView>();
    v->database = s.db;
    v->stream_id = s.stream_id;
    v->streaming = !s.stalled && s.run == Stream::Run::running;
    v->group = s.group;
    v->port = s.port;
    v->source = profile_.dataplane.source_ip;
    if (s.run != Stream::Run::stopped) {  // a stopped stream has no keys (they were wiped)
        v->key_epoch = s.epoch;
        v->keys = s.raw_keys;
    }
    v->heartbeat_interval_ms = static_cast<std::uint32_t>(tx::TxStreamConfig{}.heartbeat_interval_ns / 1'000'000);
    s.view.publish(std::move(v));
}

std::vector<const Stream*> Server::streams() const {
    std::lock_guard lock(registry_mutex_);
    std::vector<const Stream*> out;
    out.reserve(streams_.size());
    for (const auto& s : streams_) out.push_back(s.get());
    return out;
}

std::shared_ptr<const control::StreamView> Server::view_of(std::string_view db) const {
    std::lock_guard lock(registry_mutex_);
    for (const auto& s : streams_) {
        if (s->db == db) return s->view.get();
    }
    return nullptr;
}

std::shared_ptr<const control::StreamView> Server::view_of(std::uint32_t stream_id) const {
    std::lock_guard lock(registry_mutex_);
    for (const auto& s : streams_) {
        if (s->stream_id == stream_id) return s->view.get();
    }
    return nullptr;
}

bool Server::set_lease_horizon(std::uint32_t stream_id, std::uint64_t until_ns) noexcept {
    // The registry lock only finds the stream (the loop takes it to append a
    // new one, never on its feeding path); the horizon is one atomic the loop
    // reads when it looks for idle streams (stream_lifecycle.cpp).
    std::lock_guard lock(registry_mutex_);
    for (const auto& s : streams_) {
        if (s->stream_id != stream_id) continue;
        s->stats.lease_until_ns.store(until_ns, std::memory_order_relaxed);
        return true;
    }
    return false;
}

void Server::open_streams() {
    // Always on: never stopped for idleness (streams.databases).
    for (std::size_t i = 0; i < config_.databases.size(); ++i) {
        std::uint32_t id = 0;
        check(store_.database_id(config_.databases[i], true, id));
        Stream& s = add_stream(config_.databases[i], id);
        s.always_on = true;
        if (const control::Result r = start_stream(s, i); !r) throw std::runtime_error(r.message());
    }
}

void Server::start_workers() {
    const std::size_t record_bytes = cutter_.max_record_bytes();
    for (std::size_t wi = 0; wi < workers_.size(); ++wi) {
        Worker& w = *workers_[wi];
        tx::TxWorkerConfig wc;
        wc.port = port_->id();
        wc.queue = static_cast<std::uint16_t>(wi);
        wc.pool = port_->pool();
        wc.checksum_offload = port_->caps().udp_checksum_offload && port_->caps().ipv4_checksum_offload;
        wc.idle = profile_.idle;
        // Every stream, the configured ones included, arrives as a stream_start
        // message (stream_lifecycle.cpp); the table's size is fixed here.
        const auto workers = static_cast<std::uint32_t>(workers_.size());
        const std::uint32_t slots = (config_.max_streams + workers - 1) / workers;
        wc.max_streams = slots;
        w.slots = std::vector<Worker::Slot>(slots);
        w.jobs.resize(config_.jobs_per_worker);
        for (std::uint32_t j = 0; j < w.jobs.size(); ++j) {
            w.jobs[j].record.reserve(record_bytes);
            if (config_.compression_lcore >= 0) w.jobs[j].packed.resize(record_bytes);
            w.free_jobs.push_back(config_.jobs_per_worker - 1 - j);
        }
        // Every message that can be in flight (jobs; per slot a start, a stop
        // and a key change) fits in either ring, so neither side ever waits on the other.
        const unsigned size = ring_size_for(w.jobs.size() + 3 * w.slots.size());
        const std::string in_name = "rc_in_" + std::to_string(wi), out_name = "rc_out_" + std::to_string(wi);
        // With a codec lcore two threads post to the inbox (chains from it, key
        // changes from the control core): multi-producer then.
        const unsigned in_flags = config_.compression_lcore >= 0 ? RING_F_SC_DEQ : RING_F_SP_ENQ | RING_F_SC_DEQ;
        w.inbox = rte_ring_create(in_name.c_str(), size, static_cast<int>(rte_socket_id()), in_flags);
        w.outbox = rte_ring_create(out_name.c_str(), size, static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (w.inbox == nullptr || w.outbox == nullptr) {
            throw std::runtime_error("cannot create the rings of tx worker " + std::to_string(wi) + ": " +
                                     rte_strerror(rte_errno));
        }
        wc.inbox = w.inbox;
        wc.outbox = w.outbox;
        w.tx = std::make_unique<tx::TxWorker>(std::move(wc));
        if (rte_eal_remote_launch(&tx::TxWorker::launch, w.tx.get(), w.lcore) != 0) {
            throw std::runtime_error("cannot launch the tx worker on lcore " + std::to_string(w.lcore));
        }
        w.launched = true;
        logging::get("server")->info("tx worker on lcore {}: idle policy {}", w.lcore, tx::describe(profile_.idle));
    }
    if (config_.compression_lcore >= 0) {
        std::size_t jobs = 0;
        for (const auto& w : workers_) jobs += w->jobs.size();
        codec_ring_ = rte_ring_create("rc_codec", ring_size_for(jobs), static_cast<int>(rte_socket_id()),
                                      RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (codec_ring_ == nullptr) throw std::runtime_error(std::string("cannot create the codec ring: ") + rte_strerror(rte_errno));
        codec_ = std::make_unique<CodecStage>(codec_ring_, config_.compression_level, profile_.idle);
        if (rte_eal_remote_launch(&CodecStage::launch, codec_.get(), static_cast<unsigned>(config_.compression_lcore)) != 0) {
            throw std::runtime_error("cannot launch the codec stage on lcore " + std::to_string(config_.compression_lcore));
        }
        codec_launched_ = true;
    }
    if (config_.rotate_seconds != 0) next_rotation_ns_ = steady_ns() + std::uint64_t{config_.rotate_seconds} * 1'000'000'000;
    started_ns_ = steady_ns();
}

const tx::TxCounters& Server::worker_counters(unsigned worker) const noexcept { return workers_[worker]->tx->counters(); }

void Server::refresh_last_lsns() {
    for (auto& s : streams_) {
        std::uint64_t oldest = 0, last = 0;
        const store::Status st = store_.lsn_range(s->db, oldest, last);
        if (!st) {
            spdlog::error("{}", st.message());
            continue;
        }
        s->last_lsn = last;
        s->stats.last_lsn.store(last, std::memory_order_relaxed);
    }
}

// Takes finished messages back. A worker sends its streams' chains in the
// order they were posted, so multicast_lsn advances contiguously.
bool Server::reap() {
    bool any = false;
    for (auto& wp : workers_) {
        Worker& w = *wp;
        std::array<void*, 64> done;
        unsigned n;
        while ((n = rte_ring_sc_dequeue_burst(w.outbox, done.data(), done.size(), nullptr)) > 0) {
            any = true;
            for (unsigned i = 0; i < n; ++i) {
                auto* m = static_cast<tx::TxMessage*>(done[i]);
                Stream* s = m->stream < w.slots.size() ? w.slots[m->stream].owner : nullptr;
                if (s == nullptr) continue;  // cannot happen: a slot is freed only once its stop is back
                if (m->last_seq > s->highest_seq) s->highest_seq = m->last_seq;
                if (m->kind == tx::TxMessage::Kind::stream_start) continue;  // taken: the slot's config may change again
                if (m->kind == tx::TxMessage::Kind::stream_stop) {
                    stopped(*s, *m);
                    continue;
                }
                if (m->kind == tx::TxMessage::Kind::key_change) {
                    if (!m->switched) {  // superseded, or handed back unsent at stop: the old key still seals
                        s->key_change_pending = false;
                        if (s->rotate_after_switch && s->run == Stream::Run::running) {
                            s->rotate_after_switch = false;
                            std::uint32_t next = 0;
                            (void)rotate_stream(*s, next);
                        }
                        continue;
                    }
                    // Switched: the worker jumped its sequence to first_seq, and
                    // packets no message reports (heartbeats, announcements) go
                    // on from there, so the persisted watermark must count from it.
                    s->highest_seq = std::max(s->highest_seq, m->first_seq);
                    // The old epochs' packets are all out.
                    s->epoch = m->next_epoch;
                    s->keys->retire_older_than(m->next_epoch);
                    drop_raw_keys_not_in_ring(*s);
                    s->key_change_pending = false;
                    s->stats.key_epoch.store(s->epoch, std::memory_order_relaxed);
                    s->stats.key_switches.fetch_add(1, std::memory_order_relaxed);
                    publish_view(*s);
                    if (s->rotate_after_switch && s->run == Stream::Run::running) {
                        // Asked for while this switch was announced (a revocation:
                        // the revoked identity may hold the key that now seals).
                        s->rotate_after_switch = false;
                        std::uint32_t next = 0;
                        if (const control::Result r = rotate_stream(*s, next); !r) {
                            spdlog::error("stream {} ({}): the rotation asked for during a switch failed: {}", s->stream_id,
                                          s->db, r.text());
                        }
                    }
                    continue;
                }
                if (m->dropped) {
                    // Stopped while the port did not drain: not multicast, so
                    // multicast_lsn stays and the next start sends it again.
                    spdlog::warn("stream {} ({}): LSNs {}..{} not sent: the port stopped taking frames while stopping",
                                 s->stream_id, s->db, m->first_lsn, m->first_lsn + m->update_count - 1);
                    // Counted when posted: take them back, the summary and telemetry say what left.
                    s->stats.chains.fetch_sub(1, std::memory_order_relaxed);
                    s->stats.updates.fetch_sub(m->update_count, std::memory_order_relaxed);
                    s->stats.body_bytes.fetch_sub(w.jobs[m->tag].uncompressed_bytes, std::memory_order_relaxed);
                    w.free_jobs.push_back(m->tag);
                    continue;
                }
                s->multicast_lsn = m->first_lsn + m->update_count - 1;
                s->stats.record_bytes.fetch_add(m->record.size(), std::memory_order_relaxed);  // as sent
                s->stats.multicast_lsn.store(s->multicast_lsn, std::memory_order_relaxed);
                w.free_jobs.push_back(m->tag);
            }
        }
    }
    return any;
}

bool Server::feed() {
    // Round robin, one chain per stream per turn: a stream with a long backlog
    // (a catch-up from its oldest entry) must not take every free job of its
    // worker, and every job freed after, while the other streams wait.
    bool any = false;
    for (bool posted = true; posted;) {
        posted = false;
        for (auto& sp : streams_) posted |= feed_one(*sp);
        any |= posted;
    }
    return any;
}

bool Server::feed_one(Stream& s) {
    if (s.run != Stream::Run::running) return false;  // stopping: fed no more, so it drains
    Worker& w = *workers_[s.worker];
    if (s.stalled || s.next_lsn > s.last_lsn || w.free_jobs.empty()) return false;
    const std::uint32_t j = w.free_jobs.back();
    ChainJob& job = w.jobs[j];
    CutResult r;
    // The chain size is read here, at a chain boundary: the tx worker sees only whole chains.
    const store::Status st = cutter_.cut(store_, s.db, s.next_lsn, s.last_lsn, s.bundle.current(), job, r);
    if (!st) {
        // A log entry that does not decode is never written by the store:
        // stop this stream rather than skip data silently.
        spdlog::error("stream {} ({}): {}; this stream stops here (the others go on) until the operator "
                      "repairs the log and restarts the server",
                      s.stream_id, s.db, st.message());
        s.stalled = true;
        return false;
    }
    if (r.skipped != 0) {
        spdlog::warn("stream {} ({}): LSNs {}..{} were trimmed by retention before they were multicast; "
                     "receivers recover them from a snapshot",
                     s.stream_id, s.db, s.next_lsn, s.next_lsn + r.skipped - 1);
        s.stats.skipped_lsns.fetch_add(r.skipped, std::memory_order_relaxed);
    }
    if (!r.made) return false;
    job.make_message(s.slot, j);
    job.inbox = w.inbox;
    if (codec_ring_ != nullptr) {
        // The codec lcore writes the deflated record into `packed`; an
        // oversized chain grew `record`, so `packed` follows it here.
        if (job.packed.size() < job.record.size()) job.packed.resize(job.record.size());
        if (rte_ring_sp_enqueue(codec_ring_, &job) != 0) return false;  // cannot happen: it holds every job
    } else if (rte_ring_enqueue(w.inbox, &job.message) != 0) {
        return false;  // cannot happen: the ring holds every job
    }
    w.free_jobs.pop_back();
    s.next_lsn = job.message.first_lsn + job.message.update_count;
    s.stats.chains.fetch_add(1, std::memory_order_relaxed);
    s.stats.updates.fetch_add(job.message.update_count, std::memory_order_relaxed);
    s.stats.body_bytes.fetch_add(job.uncompressed_bytes, std::memory_order_relaxed);
    return true;
}

bool Server::caught_up() const noexcept {
    for (const auto& s : streams_) {
        if (s->run == Stream::Run::stopped) continue;
        if (s->stalled ? s->multicast_lsn + 1 < s->next_lsn : s->multicast_lsn < s->target_lsn) return false;
    }
    return true;
}

// Every rotate_seconds each running stream gets a new key; a stream whose last
// rotation the store could not record gets it again at its retry time.
void Server::rotate_keys() {
    const std::uint64_t now = steady_ns();
    const bool due = next_rotation_ns_ != 0 && now >= next_rotation_ns_;
    if (due) next_rotation_ns_ = now + std::uint64_t{config_.rotate_seconds} * 1'000'000'000;
    for (auto& sp : streams_) {
        Stream& s = *sp;
        const bool retry = s.rotation_retry_ns != 0 && now >= s.rotation_retry_ns;
        if (!due && !retry) continue;
        if (s.run != Stream::Run::running) {
            s.rotation_retry_ns = 0;  // its next start makes a new key anyway
            continue;
        }
        if (s.key_change_pending) continue;  // the last switch has not happened yet
        std::uint32_t next = 0;
        (void)rotate_stream(s, next);
    }
}

control::Result Server::rotate_stream(Stream& s, std::uint32_t& next) {
    if (s.run != Stream::Run::running) {
        return {control::Code::failed_precondition, "stream " + s.db + " is not multicast now (its next start makes a new key)"};
    }
    if (s.epoch == 0) return {control::Code::failed_precondition, "stream " + s.db + " is not sealed (keys.sealed = false)"};
    if (s.key_change_pending) {
        // One switch at a time: the next rotation follows this one's switch.
        s.rotate_after_switch = true;
        next = std::max(s.keys->newest_epoch(), s.newest_made) + 1;
        return control::Result::ok();
    }
    next = std::max(s.keys->newest_epoch(), s.newest_made) + 1;
    // The epoch is on disk before a key is made for it, or it is not used: a
    // restart starts past the recorded epoch, and one that is not recorded
    // would be made again there, with another key, under the same number.
    // (The number is spent either way: newest_made.)
    s.newest_made = next;
    if (const store::Status st = persist(s, false); !st) {
        s.stats.epochs_not_recorded.fetch_add(1, std::memory_order_relaxed);
        s.rotation_retry_ns = steady_ns() + kRotationRetryNs;
        if (const auto a = rotation_log_.admit()) {
            logging::get("server")->error(
                "stream {} ({}): key epoch {} not used: the store could not record it; epoch {} keeps sealing and the "
                "rotation is tried again every {} ms ({} like it suppressed)",
                s.stream_id, s.db, next, s.epoch, kRotationRetryNs / 1'000'000, a->suppressed);
        }
        return {control::Code::unavailable, "stream " + s.db + ": key epoch " + std::to_string(next) +
                                                " could not be recorded, the current key stays and the server tries again: " +
                                                st.message()};
    }
    s.rotation_retry_ns = 0;
    make_key(s, next);
    Worker& w = *workers_[s.worker];
    tx::TxMessage& m = w.slots[s.slot].key;
    m = tx::TxMessage{};
    m.kind = tx::TxMessage::Kind::key_change;
    m.stream = s.slot;
    m.next_epoch = next;
    m.next_key = s.keys->find(next);
    if (rte_ring_enqueue(w.inbox, &m) != 0) {
        // Not posted: the worker never learns this key. Take it out again,
        // or failed rotations would fill the ring and evict the key the
        // worker still seals with. (The epoch number is skipped: newest_made.)
        s.keys->remove(next);
        drop_raw_keys_not_in_ring(s);
        return {control::Code::unavailable, "stream " + s.db + ": the tx worker's inbox is full; try again"};
    }
    s.key_change_pending = true;
    // Subscribers fetch the announced key before its switch (PROTOCOL.md 1.5).
    publish_view(s);
    return control::Result::ok();
}

void Server::run_commands() {
    // A bounded number per pass, so the detector keeps its pace under a flood.
    for (int i = 0; i < 16; ++i) {
        std::optional<Command> c = commands_.take();
        if (!c) return;
        if (c->kind == Command::Kind::start_stream) {
            start_on_request(*c);  // answers now, or once a stream still stopping has started again
            continue;
        }
        CommandReply reply;
        Stream* s = find_stream(c->database);
        if (s == nullptr) {
            reply.result = {control::Code::failed_precondition, "database " + c->database + " is not multicast by this server"};
        } else {
            switch (c->kind) {
            case Command::Kind::rotate_key:
                reply.result = rotate_stream(*s, reply.epoch);
                if (reply.result) {
                    spdlog::info("stream {} ({}): key epoch {} announced on request", s->stream_id, s->db, reply.epoch);
                }
                break;
            case Command::Kind::start_stream: break;  // handled above
            }
        }
        c->reply.set_value(std::move(reply));
    }
}

// Retention: each database keeps at least keep_updates entries and/or
// keep_bytes of log, never trims what has not been multicast, and trims a
// bounded amount per run (in LMDB transactions of 1000 entries) so that the
// control core gets back to the update detector quickly; the workers meanwhile
// run from the jobs already in their rings.
void Server::trim_logs() {
    if (config_.trim_interval_ms == 0 || (config_.keep_updates == 0 && config_.keep_bytes == 0)) return;
    if (steady_ns() < next_trim_ns_) return;
    next_trim_ns_ = steady_ns() + std::uint64_t{config_.trim_interval_ms} * 1'000'000;
    for (auto& sp : streams_) {
        Stream& s = *sp;
        std::uint64_t oldest = 0, last = 0;
        if (!store_.lsn_range(s.db, oldest, last)) continue;
        // A stopped stream holds nothing back: its next start begins with the
        // next write (subscribers recover the rest over the control plane).
        const std::uint64_t kept = s.run == Stream::Run::stopped ? last + 1 : s.multicast_lsn + 1;
        const std::uint64_t floor = std::min(kept, oldest + config_.trim_max_per_run);
        std::uint64_t removed = 0;
        const store::Status st = store_.trim(
            s.db, {.keep_updates = config_.keep_updates, .keep_bytes = config_.keep_bytes, .keep_from = floor}, removed);
        if (!st) {
            spdlog::error("stream {} ({}): retention: {}", s.stream_id, s.db, st.message());
            continue;
        }
        s.stats.trimmed.fetch_add(removed, std::memory_order_relaxed);
    }
}

store::Status Server::persist(Stream& s, bool exact) {
    std::uint64_t watermark = s.watermark;
    if (exact) {
        watermark = s.highest_seq + 1;
    } else if (s.highest_seq + kSeqReserve / 2 > s.watermark) {
        watermark = s.highest_seq + kSeqReserve;  // keep the reserve ahead of the sequence
    }
    const std::uint32_t epoch = std::max({s.epoch, s.keys->newest_epoch(), s.newest_made});
    const store::Status st = store_.put_stream_state(
        s.db, {.packet_seq_watermark = watermark, .key_epoch = epoch, .multicast_lsn = s.multicast_lsn});
    if (!st) {
        if (const auto a = persist_log_.admit()) {
            logging::get("server")->error("stream {} ({}): cannot persist its state: {} ({} like it suppressed)", s.stream_id,
                                          s.db, st.message(), a->suppressed);
        }
        return st;
    }
    s.watermark = watermark;
    return st;
}

void Server::log_stats() {
    // The map grows when a write of this process finds it full, or is adopted
    // from a writer in another process (`replicast load`) that grew it: each
    // change is said once, so that an operator sees the store growing.
    if (const std::size_t map = store_.env().map_bytes(); map != map_bytes_) {
        if (map_bytes_ == 0) {
            spdlog::info("store {}: map {} bytes", config_.store, map);
        } else {
            spdlog::info("store {}: map grew from {} to {} bytes", config_.store, map_bytes_, map);
        }
        map_bytes_ = map;
    }
    for (std::size_t wi = 0; wi < workers_.size(); ++wi) {
        const tx::TxCounters& c = workers_[wi]->tx->counters();
        spdlog::info("lcore {}: packets={} bytes={} chains={} updates={} heartbeats={} ring_full={} mbuf_exhausted={} seal_errors={} "
                     "dropped_at_stop={} idle_sleeps={}",
                     workers_[wi]->lcore, c.packets.load(), c.bytes.load(), c.chains.load(), c.updates.load(),
                     c.heartbeats.load(), c.tx_ring_full.load(), c.mbuf_exhausted.load(), c.seal_errors.load(),
                     c.dropped_at_stop.load(), c.idle_sleeps.load());
    }
    for (const auto& s : streams_) {
        spdlog::info("stream {} ({}): multicast_lsn={} last_lsn={} chains={} updates={} body_bytes={} record_bytes={} epoch={} "
                     "chain_updates={}",
                     s->stream_id, s->db, s->multicast_lsn, s->last_lsn, s->stats.chains.load(), s->stats.updates.load(),
                     s->stats.body_bytes.load(), s->stats.record_bytes.load(), s->epoch, s->bundle.current());
    }
}

void Server::stop_workers() {
    // The codec lcore first: it drains its ring into the workers' inboxes.
    if (codec_launched_) {
        codec_->stop();
        rte_eal_wait_lcore(static_cast<unsigned>(config_.compression_lcore));
        codec_launched_ = false;
    }
    for (auto& w : workers_) {
        if (w->launched) w->tx->stop();
    }
    for (auto& w : workers_) {
        if (w->launched) {
            rte_eal_wait_lcore(w->lcore);
            w->launched = false;
        }
    }
}

RunSummary Server::run(const std::atomic<bool>& stop) {
    const std::uint64_t stats_ns = std::uint64_t{config_.stats_interval_ms} * 1'000'000;
    std::uint64_t next_stats = steady_ns() + stats_ns;
    bool refresh = true;
    while (!stop.load(std::memory_order_relaxed)) {
        bool progressed = reap();
        if (refresh) {
            refresh_last_lsns();
            refresh = false;
        }
        progressed |= feed();
        if (options_.once && caught_up()) break;
        rotate_keys();
        run_commands();
        adapt_bundles();
        adapt_rates();
        stop_idle_streams();
        trim_logs();
        if (steady_ns() >= next_stats) {
            next_stats = steady_ns() + stats_ns;
            for (auto& s : streams_) {
                if (s->run != Stream::Run::stopped) (void)persist(*s, false);  // a stopped one was persisted exactly
            }
            log_stats();
            refresh = true;
        }
        if (progressed) continue;
        bool backlog = false;
        for (const auto& s : streams_) {
            if (s->run == Stream::Run::stopped) continue;
            backlog |= (s->run == Stream::Run::running && !s->stalled && s->next_lsn <= s->last_lsn) ||
                       s->multicast_lsn < s->next_lsn - 1;
        }
        if (backlog) {
            // Jobs are in flight or every job is: the workers hand them back
            // within microseconds. New writes are noticed meanwhile too (a
            // look at the notify socket that does not wait), not only once idle.
            if (notify_->wait(std::chrono::milliseconds(0)) > 0) refresh = true;
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        } else {
            // Idle: a notification (or the poll timeout) means the log may have grown.
            notify_->wait(std::chrono::milliseconds(config_.poll_interval_ms));
            refresh = true;
        }
    }
    stop_workers();
    reap();  // a stop handed back now marks its stream stopped (persisted exactly)
    for (auto& s : streams_) {
        if (s->run == Stream::Run::stopped) continue;
        // The workers have returned: their sequence counters are safe to read,
        // and include the heartbeats no message reported.
        const std::uint64_t next = workers_[s->worker]->tx->next_seq(s->slot);
        if (next > 0 && next - 1 > s->highest_seq) s->highest_seq = next - 1;
    }
    RunSummary sum;
    for (auto& s : streams_) {
        if (s->run != Stream::Run::stopped) (void)persist(*s, true);
        answer_waiting(*s, {control::Code::unavailable, "the server is stopping"});
        sum.stalled += s->stalled ? 1 : 0;
        sum.chains += s->stats.chains.load();
        sum.updates += s->stats.updates.load();
    }
    for (auto& w : workers_) sum.packets += w->tx->counters().packets.load();
    log_stats();
    return sum;
}

}  // namespace replicast::server
