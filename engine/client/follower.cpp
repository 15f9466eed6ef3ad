#include "engine/client/follower.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>

#include "engine/logging/log.hpp"
#include "engine/wire/control.hpp"
#include "store/bootstrap_policy.hpp"
#include "store/checksum.hpp"

namespace replicast::client {

namespace {

std::shared_ptr<spdlog::logger> log() {
    static const auto l = logging::get("client");
    return l;
}

std::string dotted(std::uint32_t host_order) {
    in_addr a{.s_addr = htonl(host_order)};
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &a, text, sizeof text);
    return text;
}

std::string result_text(const Result& r) { return r.text(); }  // "UNAVAILABLE: ..."

constexpr std::uint64_t kAll = std::numeric_limits<std::uint64_t>::max();
// After a report that failed, no early report for this long (sample_buffers).
constexpr std::uint64_t kEarlyReportBackoffNs = 1'000'000'000;

std::uint64_t clock_ns() noexcept {  // the daemon's clock (steady), read after a call that may have blocked
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

}  // namespace

const char* state_name(Follower::State s) noexcept {
    switch (s) {
    case Follower::State::idle: return "idle";
    case Follower::State::following: return "following";
    case Follower::State::unicast: return "unicast";
    case Follower::State::denied: return "denied";
    case Follower::State::failed: return "failed";
    case Follower::State::stopped: return "stopped";
    }
    return "unknown";
}

Follower::Follower(const FollowerConfig& config, store::ReplicaStore& replica, ControlPort& control)
    : config_(config), replica_(replica), control_(control), error_rate_(config.error_rate) {
    stats_.database = config.database;
}

Follower::~Follower() { leave(); }

bool Follower::keys_wanted(std::uint64_t now_ns) noexcept {
    // The request is taken only when a fetch may run now, so that none is lost to the interval.
    return receiver_ && now_ns >= next_keys_at_ && receiver_->take_key_wanted() != 0;
}

std::uint64_t Follower::steady_now() noexcept {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

bool Follower::cancelled() const noexcept {
    return config_.cancel != nullptr && config_.cancel->load(std::memory_order_relaxed);
}

void Follower::set_filter() {
    groups_ = sub_.reader_groups;
    filter_ = {.all = sub_.all_groups, .groups = groups_};
}

bool Follower::on_denied(const Result& r, const char* call) {
    if (r.code() != Code::permission_denied) return false;
    log()->error("database {}: {} refused (PERMISSION_DENIED: {}): no longer following it; the replica stays readable "
                 "at LSN {}",
                 config_.database, call, r.message(), applied_lsn());
    leave();
    state_ = State::denied;
    return true;
}

Result Follower::install_keys(const KeySet& keys) {
    stats_.key_epoch = keys.key_epoch;
    if (!receiver_) return Result::ok();
    receiver_->collect_retired();
    for (const StreamKey& k : keys.keys) {
        const auto have = receiver_->epochs();
        bool known = false;
        for (std::uint32_t e : have) known = known || e == k.epoch;
        if (known || k.epoch == 0) continue;
        auto expanded = receiver_->make_key(k.key);
        if (!receiver_->post_key(k.epoch, expanded)) {
            return {Code::resource_exhausted, "key command ring full"};
        }
    }
    // Keep the overlap: epochs older than the oldest one the server still lists go.
    std::uint32_t oldest = 0;
    for (const StreamKey& k : keys.keys) oldest = oldest == 0 || k.epoch < oldest ? k.epoch : oldest;
    if (oldest > 1) (void)receiver_->retire_older_than(oldest);
    return Result::ok();
}

Result Follower::fetch_keys(std::uint64_t now_ns) {
    next_keys_at_ = now_ns + config_.keys_interval_ns;
    KeySet keys;
    const Result r = control_.keys(sub_.stream_id, keys, stats(now_ns).receive_stats(now_ns));
    ++stats_.key_fetches;
    if (!r) {
        if (!on_denied(r, "Keys")) {
            static logging::RateLimit limit{std::chrono::seconds(1), 3};
            if (auto a = limit.admit(now_ns)) {
                log()->warn("database {}: Keys failed: {} ({} like it suppressed)", config_.database, result_text(r),
                            a->suppressed);
            }
        }
        return r;
    }
    return install_keys(keys);
}

std::uint64_t Follower::report_interval_ns() const noexcept {
    // A third of the lease at most: two reports may be lost before it runs out.
    const std::uint64_t third = std::uint64_t{sub_.lease_ms} * 1'000'000 / 3;
    return sub_.lease_ms == 0 ? config_.report_interval_ns : std::min(config_.report_interval_ns, std::max<std::uint64_t>(third, 1));
}

void Follower::report(std::uint64_t now_ns) {
    next_report_at_ = now_ns + report_interval_ns();
    last_report_ns_ = now_ns;
    KeySet keys;
    const FollowerStats now = stats(now_ns);
    // The next report speaks of what happens from here.
    fill_peak_pct_ = 0;
    reported_drops_ = now.socket_drops;
    reported_overflows_ = now.queue_overflows;
    const Result r = control_.keys(sub_.stream_id, keys, now.receive_stats(now_ns));
    ++stats_.reports;
    // The call blocks this loop, which drains the queue: while the server does
    // not answer, overrun must not keep calling it every 50 ms.
    if (!r) early_reports_from_ = clock_ns() + kEarlyReportBackoffNs;
    if (r && receiver_) (void)install_keys(keys);  // whatever changed meanwhile, at no extra cost
    if (!r && on_denied(r, "Keys")) return;
    // The stream stopped, or this lease ran out (the server was out of reach
    // longer than the lease, or restarted): subscribe again at once rather
    // than wait for the stream to go silent.
    const bool lapsed = r && keys.lease_ms == 0 && sub_.lease_ms != 0;
    if (!lapsed && !(!r && r.code() == Code::failed_precondition)) return;
    if (state_ != State::following) return;  // off multicast: the rejoin subscribes
    ++stats_.resubscribes;
    static logging::RateLimit limit{std::chrono::seconds(10), 3};
    if (auto a = limit.admit(now_ns)) {
        log()->warn("database {}: {}: subscribing again ({} like it suppressed)", config_.database,
                    lapsed ? "the subscription's lease ran out" : "the stream stopped", a->suppressed);
    }
    const Result s = subscribe_and_join(now_ns);
    if (!s) on_denied(s, "Subscribe");
}

// Every kBufferSampleNs while following: how full the socket's receive buffer
// and the receive queue are, and what the socket dropped. A receiver that
// cannot keep up (drops or overflows grew, or a buffer is half full) reports
// at once, at most every kPressureReportGapNs, so that a server with adaptive
// rate slows the stream before more is lost, not at the next lease renewal.
// One getsockopt per sample on the processing thread, nothing on the receive
// thread.
void Follower::sample_buffers(std::uint64_t now_ns) {
    constexpr std::uint64_t kBufferSampleNs = 10'000'000;
    constexpr std::uint64_t kPressureReportGapNs = 50'000'000;
    constexpr std::uint32_t kFullPct = 50;
    next_buffer_sample_ = now_ns + kBufferSampleNs;
    rx::RxSocket::BufferState b;
    if (socket_ && socket_->buffer_state(b)) {
        socket_drops_now_ = b.drops;
        fill_peak_pct_ = std::max(fill_peak_pct_, b.fill_pct);
    }
    auto& ring = receiver_->queue().ring();
    fill_peak_pct_ = std::max(fill_peak_pct_, static_cast<std::uint32_t>(ring.readable() * 100 / ring.capacity()));
    const std::uint64_t drops = stats_.socket_drops + socket_drops_now_;
    const std::uint64_t overflows = stats_.queue_overflows + receiver_->counters().drop(rx::RxDrop::queue_overflow);
    const bool overrun = drops > reported_drops_ || overflows > reported_overflows_ || fill_peak_pct_ >= kFullPct;
    if (overrun && state_ == State::following && now_ns >= last_report_ns_ + kPressureReportGapNs &&
        now_ns >= early_reports_from_) {
        report(now_ns);
    }
}

Result Follower::subscribe_and_join(std::uint64_t now_ns) {
    // Joining can throw (an interface gone, a socket refused): a Result here,
    // so that no step() ever throws out of the processing loop.
    try {
        return join(now_ns);
    } catch (const std::exception& e) {
        leave();
        return {Code::internal, std::string("joining the stream: ") + e.what()};
    }
}

Result Follower::join(std::uint64_t now_ns) {
    Subscription sub;
    const Result r = control_.subscribe(config_.database, sub, stats(now_ns).receive_stats(now_ns));
    if (!r) return r;
    const bool same_stream = socket_ && sub.stream_id == sub_.stream_id && sub.group == sub_.group &&
                             sub.port == sub_.port && sub.source == sub_.source;
    sub_ = std::move(sub);
    stats_.stream_id = sub_.stream_id;
    next_report_at_ = now_ns + report_interval_ns();
    set_filter();
    if (!same_stream) {
        leave();
        socket_ = std::make_unique<rx::RxSocket>(rx::SocketConfig{.interface = config_.receive.interface,
                                                                  .group = sub_.group,
                                                                  .port = sub_.port,
                                                                  .source = sub_.source,
                                                                  .rcvbuf_bytes = config_.receive.rcvbuf_bytes});
        if (socket_->rcvbuf_capped()) {
            log()->warn("database {}: the kernel granted {} bytes of receive buffer of the {} asked for "
                        "(raise net.core.rmem_max, or run as root for SO_RCVBUFFORCE)",
                        config_.database, socket_->rcvbuf_granted(), config_.receive.rcvbuf_bytes);
        }
        // A queue slot per packet, as large as the largest datagram: the
        // interface's MTU decides it unless the config does (a 9 216-byte slot
        // for a 1 472-byte datagram is six times the memory, and its first lap
        // six times the page faults: bench/RESULTS.md, "bulk").
        std::size_t slot_bytes = config_.receive.max_datagram;
        if (slot_bytes == 0) {
            slot_bytes = rx::interface_max_datagram(config_.receive.interface);
            if (slot_bytes == 0) slot_bytes = rx::kMaxDatagramDefault;
        }
        stats_.slot_bytes = slot_bytes;
        receiver_ = std::make_unique<rx::Receiver>(rx::ReceiverConfig{.stream_id = sub_.stream_id,
                                                                      .source = sub_.source,
                                                                      .sealed = sub_.keys.key_epoch != 0,
                                                                      .batch = config_.receive.batch,
                                                                      .max_datagram = slot_bytes,
                                                                      .queue_slots = config_.receive.queue_slots,
                                                                      .prefault_queue = config_.receive.prefault_queue,
                                                                      .wakeup = config_.wakeup},
                                                   socket_->fd());
        reassembler_ = std::make_unique<chain::Reassembler>();
        reassembler_drops_seen_ = 0;
        seq_seen_ = false;
    }
    if (Result k = install_keys(sub_.keys); !k) return k;
    if (gap_) {
        // A subscription again (silence, the error rate): whatever the master
        // has beyond the replica is fetched, whether or not the stream moved.
        gap_->on_known_last(sub_.last_lsn);
        gap_->missing_through(sub_.last_lsn);
    }
    if (!same_stream) {
        stop_rx_ = false;
        rx::Receiver* rxp = receiver_.get();
        rx_thread_ = std::thread([this, rxp] { rxp->run(stop_rx_); });
        log()->info("database {}: stream {} on {}:{} from {} via {}, key epoch {}, master at LSN {} (log from {})",
                    config_.database, sub_.stream_id, dotted(sub_.group), sub_.port, dotted(sub_.source),
                    config_.receive.interface, sub_.keys.key_epoch, sub_.last_lsn, sub_.oldest_lsn);
    }
    return Result::ok();
}

void Follower::leave() {
    if (rx_thread_.joinable()) {
        stop_rx_ = true;
        rx_thread_.join();
    }
    if (receiver_) {
        // Keep the totals: a new receiver starts its counters at zero.
        const rx::RxCounters& c = receiver_->counters();
        stats_.datagrams += c.datagrams.get();
        stats_.packets += c.packets.get();
        stats_.bytes += c.bytes.get();
        stats_.malformed += c.drop(rx::RxDrop::malformed);
        stats_.truncated += c.drop(rx::RxDrop::truncated);
        stats_.bad_length += c.drop(rx::RxDrop::bad_length);
        stats_.wrong_source += c.drop(rx::RxDrop::wrong_source);
        stats_.wrong_stream += c.drop(rx::RxDrop::wrong_stream);
        stats_.replays += c.drop(rx::RxDrop::replay);
        stats_.too_old += c.drop(rx::RxDrop::too_old);
        stats_.unknown_epoch += c.drop(rx::RxDrop::unknown_epoch);
        stats_.open_failures += c.drop(rx::RxDrop::open_failure);
        stats_.queue_overflows += c.drop(rx::RxDrop::queue_overflow);
    }
    if (rx::RxSocket::BufferState b; socket_ && socket_->buffer_state(b)) socket_drops_now_ = b.drops;  // to the last one
    stats_.socket_drops += socket_drops_now_;  // a new socket counts from zero
    socket_drops_now_ = 0;
    receiver_.reset();
    socket_.reset();
}

Result Follower::start(std::uint64_t now_ns) {
    stats_.started_ns = now_ns;
    const Result r = subscribe_and_join(now_ns);
    if (!r) {
        if (!on_denied(r, "Subscribe")) {
            // The daemon retries every retry_ms: a server down for an hour must not write a line each time.
            static logging::RateLimit limit{std::chrono::seconds(10), 3};
            if (auto a = limit.admit(now_ns)) {
                log()->error("database {}: cannot follow: {} (retrying; {} like it suppressed)", config_.database,
                             result_text(r), a->suppressed);
            }
            state_ = State::failed;
        }
        return r;
    }
    store::ReplicaState st;
    if (store::Status s = replica_.state(config_.database, st); !s && s.code() != MDB_NOTFOUND) {
        state_ = State::failed;
        return {Code::internal, s.message()};
    }
    gap_ = std::make_unique<GapPolicy>(config_.gap, st.applied_lsn);
    const store::BootstrapReason why = store::bootstrap_reason(
        st, {.uuid = sub_.store_uuid, .oldest_lsn = sub_.oldest_lsn, .last_lsn = sub_.last_lsn});
    state_ = State::following;
    if (why != store::BootstrapReason::none) {
        if (Result b = bootstrap(now_ns, std::string(store::describe(why)).c_str()); !b) {
            if (state_ != State::denied) state_ = State::failed;
            return b;
        }
    } else {
        log()->info("database {}: resuming from LSN {}", config_.database, st.applied_lsn + 1);
    }
    gap_->on_known_last(sub_.last_lsn);
    gap_->missing_through(sub_.last_lsn);  // whatever the master has beyond the replica
    return Result::ok();
}

Result Follower::bootstrap(std::uint64_t now_ns, const char* why) {
    log()->info("database {}: snapshot bootstrap ({})", config_.database, why);
    std::uint64_t lsn = 0, records = 0, expected = 0;
    std::string sha;
    bool began = false;
    std::uint64_t pages = 0;
    const bool tty = ::isatty(STDERR_FILENO) == 1;
    store::Status store_status;
    const Result r = control_.snapshot(
        config_.database,
        [&](const SnapshotPage& p) {
            if (cancelled()) return false;  // the mark stays: the next start bootstraps again
            if (config_.between_batches) config_.between_batches();
            if (p.first) {
                lsn = p.lsn;
                store_status = replica_.begin_bootstrap(config_.database, p.store_uuid);
                began = store_status.is_ok();
                if (!began) return false;
            }
            if (!began) return false;  // a page before the first: not the protocol
            if (!p.records.empty()) {
                store_status = replica_.bootstrap_page(config_.database, p.records);
                if (!store_status) return false;
                records += p.records.size();
                stats_.snapshot_records += p.records.size();  // progress, readable between pages
            }
            // Progress: a line redrawn in place on a terminal, a log line every 64 pages otherwise.
            ++pages;
            if (tty) {
                std::fprintf(stderr, "\r%s: snapshot at LSN %llu: %llu records%s", config_.database.c_str(),
                             static_cast<unsigned long long>(lsn), static_cast<unsigned long long>(records),
                             p.last ? "\n" : "");
            } else if (pages % 64 == 0) {
                log()->info("database {}: snapshot at LSN {}: {} records so far", config_.database, lsn, records);
            }
            if (p.last) {
                expected = p.record_count;
                sha = p.sha256;
            }
            return true;
        },
        stats(now_ns).receive_stats(now_ns));
    if (!r) {
        if (on_denied(r, "Snapshot")) return r;
        log()->error("database {}: snapshot failed: {}{}", config_.database, result_text(r),
                     store_status ? "" : " (store: " + store_status.message() + ")");
        return r;
    }
    if (records != expected) {
        log()->error("database {}: snapshot sent {} records, its last page says {}", config_.database, records, expected);
        return {Code::data_loss, "snapshot record count mismatch"};
    }
    if (store::Status s = replica_.finish_bootstrap(config_.database, lsn); !s) {
        return {Code::internal, s.message()};
    }
    store::Checksum sum;
    if (store::Status s = store::checksum(replica_, config_.database, sum); !s) return {Code::internal, s.message()};
    if (sum.sha256 != sha) {
        // Mark it incomplete again so that no one trusts it and the next start rebuilds.
        (void)replica_.begin_bootstrap(config_.database, sub_.store_uuid);
        log()->error("database {}: snapshot checksum mismatch: built {}, the server sent {}", config_.database, sum.sha256, sha);
        return {Code::data_loss, "snapshot checksum mismatch"};
    }
    ++stats_.snapshots;
    gap_->reset(lsn);
    // Buffered chains the snapshot covers are duplicates now.
    drain_buffer(now_ns);
    log()->info("database {}: snapshot applied: {} records at LSN {}, checksum verified; continuing from LSN {}",
                config_.database, records, lsn, lsn + 1);
    return Result::ok();
}

bool Follower::apply_chain(std::uint64_t first, std::uint32_t count, std::span<const std::uint8_t> body,
                           bool validated, std::uint64_t now_ns) {
    const auto t0 = std::chrono::steady_clock::now();
    store::ApplyResult ar;
    const store::Status s = replica_.apply(config_.database, first, count, body, filter_, &ar,
                                           validated ? store::BodyCheck::validated : store::BodyCheck::validate);
    if (!s) {
        ++stats_.store_errors;
        static logging::RateLimit limit{std::chrono::seconds(1), 3};
        if (auto a = limit.admit(now_ns)) {
            log()->error("database {}: {} ({} like it suppressed); will fetch it again", config_.database, s.message(),
                         a->suppressed);
        }
        gap_->missing_through(first + count - 1);
        return false;
    }
    stats_.apply_latency.add(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count()));
    stats_.updates_applied += ar.applied + ar.filtered;
    gap_->applied(first + count - 1);
    return true;
}

void Follower::drain_buffer(std::uint64_t now_ns) {
    // Behind (a gap just closed): the chains that are now in order go into the
    // replica together, up to kBatchChains or kBatchBytes per transaction, so
    // catching up costs one commit per batch rather than one per chain.
    constexpr std::size_t kBatchChains = 64;
    constexpr std::size_t kBatchBytes = std::size_t{8} << 20;
    while (!buffer_.empty()) {
        if (buffer_.begin()->first > gap_->next()) return;  // still a gap before it
        std::uint64_t first = 0, last = 0;
        std::uint32_t count = 0;
        std::size_t chains = 0;
        batch_body_.clear();
        while (!buffer_.empty() && chains < kBatchChains && batch_body_.size() < kBatchBytes) {
            auto it = buffer_.begin();
            const std::uint64_t f = it->first;
            const std::uint64_t l = f + it->second.count - 1;
            if (chains == 0 ? f > gap_->next() : f != last + 1) break;  // the next one must follow on
            Buffered b = std::move(it->second);
            buffer_.erase(it);
            gap_->unbuffered(b.body.size());
            if (l < gap_->next()) {
                ++stats_.chains_duplicate;  // a recovery covered it already
                continue;
            }
            if (chains == 0) first = f;
            last = l;
            count += b.count;
            ++chains;
            batch_body_.insert(batch_body_.end(), b.body.begin(), b.body.end());
        }
        if (chains == 0) continue;
        if (apply_chain(first, count, batch_body_, true, now_ns)) {
            stats_.chains_applied += chains;
            error_rate_.on_applied(chains, now_ns);
        }
    }
}

void Follower::stage(std::uint64_t first, std::uint32_t count, std::span<const std::uint8_t> body, std::uint64_t now_ns) {
    constexpr std::size_t kStagedChains = 256;
    constexpr std::size_t kStagedBytes = std::size_t{8} << 20;
    if (staged_.chains == 0) {
        staged_.first = first;
        staged_.count = 0;
        staged_.body.clear();
    }
    staged_.body.insert(staged_.body.end(), body.begin(), body.end());
    staged_.last = first + count - 1;
    staged_.count += count;
    ++staged_.chains;
    gap_->applied(staged_.last);  // the next chain of this pass follows on; undone if the commit fails
    if (staged_.chains >= kStagedChains || staged_.body.size() >= kStagedBytes) flush_staged(now_ns);
}

void Follower::flush_staged(std::uint64_t now_ns) {
    if (staged_.chains == 0) return;
    const std::size_t chains = staged_.chains;
    staged_.chains = 0;
    if (apply_chain(staged_.first, staged_.count, staged_.body, true, now_ns)) {
        stats_.chains_applied += chains;
        error_rate_.on_applied(chains, now_ns);
    } else {
        gap_->unapplied(staged_.first, staged_.last);  // recovered like any gap
    }
}

void Follower::handle_chain(const chain::CompleteChain& c, std::uint64_t now_ns) {
    const std::uint64_t first = c.head.first_lsn;
    const std::uint32_t count = c.head.update_count;
    switch (gap_->on_chain(first, count, c.body.size())) {
    case GapPolicy::Verdict::duplicate: ++stats_.chains_duplicate; return;
    case GapPolicy::Verdict::apply:
        if (first == gap_->next()) {
            stage(first, count, c.body, now_ns);
        } else {
            // It overlaps what is applied: the store skips the old LSNs, alone.
            flush_staged(now_ns);
            if (apply_chain(first, count, c.body, true, now_ns)) {
                ++stats_.chains_applied;
                error_rate_.on_applied(1, now_ns);
            }
        }
        if (!buffer_.empty()) {
            flush_staged(now_ns);  // the buffered chains apply on top of what is committed
            drain_buffer(now_ns);
        }
        return;
    case GapPolicy::Verdict::buffer: {
        ++stats_.chains_buffered;
        Buffered& b = buffer_[first];
        if (!b.body.empty()) gap_->unbuffered(b.body.size());  // the same chain again (a repeat from the server)
        b.count = count;
        b.body.assign(c.body.begin(), c.body.end());
        return;
    }
    case GapPolicy::Verdict::drop: ++stats_.chains_dropped_buffer_full; error_rate_.on_lost(1, now_ns); return;
    }
}

std::size_t Follower::drain_queue(std::uint64_t now_ns) {
    if (!receiver_) return 0;
    auto& queue = receiver_->queue();
    auto& ring = queue.ring();
    std::size_t n = ring.readable();
    if (n > config_.drain_limit) n = config_.drain_limit;
    const std::uint64_t gaps_before = gap_->gaps();
    for (std::size_t i = 0; i < n; ++i) {
        const rx::RxPacket& p = ring.peek(i);
        if (!p.valid) continue;
        count_missed(p.header);
        const auto payload = queue.payload(i);
        chain::Reassembler::Event ev = chain::Reassembler::Event::none;
        if (p.kind == wire::PacketKind::data) {
            ev = reassembler_->on_data(p.header, p.position, payload);
        } else {
            ev = reassembler_->on_control(p.header.packet_seq);
            if (p.kind == wire::PacketKind::heartbeat) {
                wire::Heartbeat hb;
                if (wire::parse_heartbeat(payload, hb) == wire::WireError::ok) {
                    gap_->on_heartbeat(hb.last_lsn, reassembler_->in_progress());
                }
            }
            // KEYCHANGE: the receive thread raised key_wanted when the epoch is new.
        }
        if (ev == chain::Reassembler::Event::chain) handle_chain(reassembler_->chain(), now_ns);
    }
    flush_staged(now_ns);  // what this pass staged is committed before anything else looks at the store
    ring.release(n);
    // Whole chains lost leave no broken chain behind, only a gap: each counts as a loss too.
    if (gap_->gaps() > gaps_before) error_rate_.on_lost(gap_->gaps() - gaps_before, now_ns);
    const std::uint64_t drops = reassembler_->counters().dropped_total();
    if (drops > reassembler_drops_seen_) {
        stats_.chains_dropped_broken += drops - reassembler_drops_seen_;
        error_rate_.on_lost(drops - reassembler_drops_seen_, now_ns);
        reassembler_drops_seen_ = drops;
    }
    return n;
}

void Follower::count_missed(const wire::PacketHeader& h) noexcept {
    // packet_seq goes up by one per packet within an epoch; it jumps at a key
    // switch (a new epoch) and after a crash restart (2^40 ahead): neither is loss.
    constexpr std::uint64_t kDiscontinuity = std::uint64_t{1} << 20;
    if (seq_seen_ && h.key_epoch == seq_epoch_ && h.packet_seq > last_seq_) {
        const std::uint64_t skipped = h.packet_seq - last_seq_ - 1;
        if (skipped < kDiscontinuity) stats_.packets_missed += skipped;
    } else if (seq_seen_ && h.key_epoch == seq_epoch_) {
        return;  // reordered or repeated: the highest stays the reference
    }
    seq_seen_ = true;
    seq_epoch_ = h.key_epoch;
    last_seq_ = h.packet_seq;
}

Result Follower::recover(const LsnRange& range, std::uint64_t now_ns) {
    ++stats_.recoveries;
    std::uint64_t got = 0, bytes = 0;
    bool store_failed = false;
    const Result r = control_.recover(
        sub_.stream_id, range.from, range.to,
        [&](const RecoveredBatch& b) {
            if (cancelled()) return false;  // what was applied stays applied: the next start resumes after it
            if (config_.between_batches) config_.between_batches();
            // A long catch-up must not make the stream wait for its next key: a
            // key change announced meanwhile is fetched between two batches.
            if (const std::uint64_t t = steady_now(); keys_wanted(t)) {
                (void)fetch_keys(t);
                if (state_ == State::denied) return false;
            }
            if (b.update_count == 0) return true;
            const std::uint64_t last = b.first_lsn + b.update_count - 1;
            if (b.first_lsn > gap_->next()) {
                store_failed = true;  // the server skipped LSNs: never apply past a hole
                return false;
            }
            if (last < gap_->next()) return true;
            if (b.placeholder) {
                if (store::Status s = replica_.skip(config_.database, b.first_lsn, last); !s) {
                    ++stats_.store_errors;
                    store_failed = true;
                    return false;
                }
                gap_->applied(last);
            } else if (!apply_chain(b.first_lsn, b.update_count, b.body, false, now_ns)) {
                store_failed = true;
                return false;
            }
            got += b.update_count;
            bytes += b.body.size();
            return true;
        },
        stats(now_ns).receive_stats(now_ns));
    stats_.lsns_recovered += got;
    stats_.bytes_recovered += bytes;  // chain-body bytes fetched by unicast (the demo's "repaired" figure)
    const bool ok = r.is_ok() && !store_failed;
    gap_->recover_done(ok, now_ns);
    if (!ok) ++stats_.recover_failures;
    if (r.code() == Code::out_of_range) {
        if (Result b = bootstrap(now_ns, "Recover OUT_OF_RANGE: behind the log's retention"); !b) {
            gap_->recover_done(false, now_ns);
            return b;
        }
        return Result::ok();
    }
    if (on_denied(r, "Recover")) return r;
    if (!ok) {
        static logging::RateLimit limit{std::chrono::seconds(1), 3};
        if (auto a = limit.admit(now_ns)) {
            log()->warn("database {}: Recover [{}, {}] failed: {} ({} like it suppressed)", config_.database, range.from,
                        range.to, store_failed ? std::string("the replica store refused a batch (above)") : result_text(r),
                        a->suppressed);
        }
    }
    drain_buffer(now_ns);
    return r;
}

std::size_t Follower::step(std::uint64_t now_ns) {
    if (state_ != State::following && state_ != State::unicast) return 0;
    std::size_t work = 0;
    if (receiver_) {
        const std::uint64_t packets = receiver_->counters().packets.get();
        if (packets != last_packets_ || last_activity_ns_ == 0) {
            last_packets_ = packets;
            last_activity_ns_ = now_ns;
        } else if (now_ns - last_activity_ns_ >
                   std::max<std::uint64_t>(config_.silence_ns, std::uint64_t{sub_.heartbeat_interval_ms} * 10'000'000)) {
            last_activity_ns_ = now_ns;
            ++stats_.resubscribes;
            static logging::RateLimit limit{std::chrono::seconds(10), 3};
            if (auto a = limit.admit(now_ns)) {
                log()->warn("database {}: nothing received for {} ms (heartbeats stopped): subscribing again ({} like "
                            "it suppressed)",
                            config_.database, config_.silence_ns / 1'000'000, a->suppressed);
            }
            const Result r = subscribe_and_join(now_ns);
            if (!r && on_denied(r, "Subscribe")) return 0;
            last_packets_ = receiver_ ? receiver_->counters().packets.get() : 0;
        }
    }
    if (receiver_ && now_ns >= next_buffer_sample_) {
        sample_buffers(now_ns);
        if (state_ == State::denied) return 0;  // an early report was refused
    }
    if (now_ns >= next_report_at_) {
        report(now_ns);
        if (state_ == State::denied) return 0;
    }
    if (receiver_) {
        receiver_->collect_retired();
        if (keys_wanted(now_ns)) {
            (void)fetch_keys(now_ns);
            if (state_ == State::denied) return 0;
        }
        work += drain_queue(now_ns);
    }
    if (state_ == State::unicast && now_ns >= next_unicast_poll_) {
        next_unicast_poll_ = now_ns + config_.error_rate.unicast_poll_ns;
        // Off multicast, ask for everything past next: the server answers up to its log's end.
        const std::uint64_t before = gap_->next();
        (void)recover({.from = before, .to = kAll}, now_ns);
        work += gap_->next() - before;
    } else if (auto range = gap_->recover_due(now_ns, buffer_.empty() ? UINT64_MAX : buffer_.begin()->first)) {
        const std::uint64_t before = gap_->next();
        (void)recover(*range, now_ns);
        work += gap_->next() - before;
    }
    if (state_ == State::denied) return work;
    switch (error_rate_.evaluate(now_ns)) {
    case ErrorRatePolicy::Action::none: break;
    case ErrorRatePolicy::Action::resubscribe: {
        ++stats_.resubscribes;
        log()->warn("database {}: lost-chain rate over {:.0f} % in the last window: subscribing again",
                    config_.database, config_.error_rate.threshold * 100);
        const Result r = subscribe_and_join(now_ns);
        if (!r) on_denied(r, "Subscribe");
        break;
    }
    case ErrorRatePolicy::Action::leave_multicast:
        ++stats_.unicast_periods;
        log()->warn("database {}: the lost-chain rate stays high: leaving the group for {} s, following by Recover",
                    config_.database, config_.error_rate.unicast_ns / 1'000'000'000);
        leave();
        state_ = State::unicast;
        break;
    case ErrorRatePolicy::Action::rejoin_multicast: {
        log()->info("database {}: trying multicast again", config_.database);
        const Result r = subscribe_and_join(now_ns);
        if (r) {
            state_ = State::following;
        } else if (!on_denied(r, "Subscribe")) {
            log()->warn("database {}: rejoin failed: {}; staying on Recover", config_.database, result_text(r));
        }
        break;
    }
    }
    if (gap_->lag() == 0) {
        behind_since_ns_ = 0;
    } else if (behind_since_ns_ == 0) {
        behind_since_ns_ = now_ns;
    }
    return work;
}

void Follower::stop(std::uint64_t now_ns) {
    if (state_ == State::stopped) return;
    const bool subscribed = socket_ != nullptr || state_ == State::unicast;
    leave();
    if (subscribed && state_ != State::denied) {
        const Result r = control_.unsubscribe(sub_.stream_id, stats(now_ns).receive_stats(now_ns));
        if (!r) log()->warn("database {}: Unsubscribe failed: {}", config_.database, result_text(r));
    }
    if (state_ != State::denied) state_ = State::stopped;
}

FollowerStats Follower::stats(std::uint64_t now_ns) const {
    FollowerStats s = stats_;
    s.state = state_name(state_);
    if (receiver_) {
        const rx::RxCounters& c = receiver_->counters();
        s.datagrams += c.datagrams.get();
        s.packets += c.packets.get();
        s.bytes += c.bytes.get();
        s.malformed += c.drop(rx::RxDrop::malformed);
        s.truncated += c.drop(rx::RxDrop::truncated);
        s.bad_length += c.drop(rx::RxDrop::bad_length);
        s.wrong_source += c.drop(rx::RxDrop::wrong_source);
        s.wrong_stream += c.drop(rx::RxDrop::wrong_stream);
        s.replays += c.drop(rx::RxDrop::replay);
        s.too_old += c.drop(rx::RxDrop::too_old);
        s.unknown_epoch += c.drop(rx::RxDrop::unknown_epoch);
        s.open_failures += c.drop(rx::RxDrop::open_failure);
        s.queue_overflows += c.drop(rx::RxDrop::queue_overflow);
    }
    s.socket_drops += socket_drops_now_;
    s.buffer_fill_pct = fill_peak_pct_;
    if (gap_) {
        s.applied_lsn = gap_->next() - 1;
        s.known_last_lsn = gap_->known_last();
        s.lag_lsns = gap_->lag();
        s.gaps = gap_->gaps();
    }
    s.lag_seconds = behind_since_ns_ == 0 || now_ns < behind_since_ns_
                        ? 0.0
                        : static_cast<double>(now_ns - behind_since_ns_) / 1e9;
    return s;
}

}  // namespace replicast::client
