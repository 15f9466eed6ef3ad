#include "engine/control/service.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "engine/logging/log.hpp"
#include "engine/wire/endian.hpp"
#include "engine/wire/update.hpp"
#include "store/checksum.hpp"
#include "store/log_bundle.hpp"

namespace replicast::control {

namespace {

// An update of a reader group the caller may not read, as Recover sends it: a
// delete of its key in its own group, without the value. The replica's group
// filter turns it into what a filtered copy must do at that LSN (drop the key
// if it had it: the master's record left the groups it keeps), which an empty
// LSN placeholder could not; the value never leaves. The key is no secret from
// this identity: the multicast it may open carries every group's updates.
void append_redacted(std::string& body, std::span<const std::uint8_t> update) {
    const std::uint16_t key_len = wire::load_be<std::uint16_t>(update.data() + 3);
    char head[wire::kUpdateHeadSize];
    head[0] = static_cast<char>(wire::Op::del);
    head[1] = static_cast<char>(update[1]);  // reader_group, as logged
    head[2] = static_cast<char>(update[2]);
    head[3] = static_cast<char>(update[3]);  // key_len
    head[4] = static_cast<char>(update[4]);
    head[5] = head[6] = head[7] = head[8] = 0;  // value_len 0
    body.append(head, sizeof head);
    body.append(reinterpret_cast<const char*>(update.data() + wire::kUpdateHeadSize), key_len);
}

std::string dotted(std::uint32_t host_order) {
    in_addr a{htonl(host_order)};
    char buf[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &a, buf, sizeof buf);
    return buf;
}

bool valid_database(std::string_view db) {
    return !db.empty() && db.size() <= 200 && db[0] != '_' && db.find('\0') == std::string_view::npos;
}

Result bad(std::string message) { return {Code::invalid_argument, std::move(message)}; }

void fill_keys(const StreamView& v, google::protobuf::RepeatedPtrField<v1::StreamKey>& out) {
    for (const EpochKey& k : v.keys) {
        v1::StreamKey* sk = out.Add();
        sk->set_epoch(k.epoch);
        sk->set_key(k.key.data(), k.key.size());
    }
}

std::uint64_t steady_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

std::uint64_t ms_since(std::chrono::steady_clock::time_point t) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t).count());
}


}  // namespace

Result from_store(const store::Status& s) {
    if (s) return Result::ok();
    switch (s.code()) {
    case store::kNoSuchDatabase: return {Code::not_found, s.message()};
    case store::kBadName:
    case store::kBadUpdate:
    case store::kBadRequestId: return {Code::invalid_argument, s.message()};
    default: return {Code::internal, s.message()};
    }
}

// Holds one of the identity's concurrent Recover or Snapshot slots.
class Service::Slot {
public:
    Slot(Service& s, std::string_view identity, bool snapshot) : service_(s), identity_(identity), snapshot_(snapshot) {}
    ~Slot() {
        if (!held_) return;
        std::lock_guard lock(service_.mutex_);
        auto it = service_.in_flight_.find(identity_);
        if (it == service_.in_flight_.end()) return;
        (snapshot_ ? it->second.snapshots : it->second.recoveries)--;
        if (it->second.snapshots == 0 && it->second.recoveries == 0) service_.in_flight_.erase(it);
    }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

    bool take() {
        std::lock_guard lock(service_.mutex_);
        InFlight& f = service_.in_flight_[identity_];
        std::uint32_t& n = snapshot_ ? f.snapshots : f.recoveries;
        const std::uint32_t limit =
            snapshot_ ? service_.config_.max_snapshots_per_identity : service_.config_.max_recoveries_per_identity;
        if (n >= limit) return false;
        ++n;
        held_ = true;
        return true;
    }

private:
    Service& service_;
    std::string identity_;
    bool snapshot_;
    bool held_ = false;
};

Service::Service(const ControlConfig& config, ControlBackend& backend, std::shared_ptr<const AccessList> access)
    : config_(config),
      backend_(backend),
      access_(std::move(access)),
      leases_(std::uint64_t{config.lease_ms} * 1'000'000) {}

void Service::take_lease(std::string_view identity, std::uint32_t stream_id) {
    std::lock_guard lock(lease_mutex_);
    backend_.lease_horizon(stream_id, leases_.take(identity, stream_id, steady_ns()));
}

void Service::renew_lease(std::string_view identity, std::uint32_t stream_id, bool has_stats) {
    // A call with the caller's ReceiveStats is a receiver reporting in: it
    // holds its lease. One without (a CLI, a tool) says nothing about that.
    if (!has_stats || stream_id == 0) return;
    std::lock_guard lock(lease_mutex_);
    std::uint64_t horizon = 0;
    if (leases_.renew(identity, stream_id, steady_ns(), horizon)) backend_.lease_horizon(stream_id, horizon);
}

void Service::renew_lease(std::string_view identity, const std::string& database, bool has_stats) {
    if (!has_stats) return;
    Result why;
    if (const auto v = backend_.stream(database, false, why)) renew_lease(identity, v->stream_id, true);
}

bool Service::end_lease(std::string_view identity, std::uint32_t stream_id) {
    std::lock_guard lock(lease_mutex_);
    std::uint64_t horizon = 0;
    if (!leases_.end(identity, stream_id, steady_ns(), horizon)) return false;
    backend_.lease_horizon(stream_id, horizon);
    return true;
}

void Service::fill_leases(v1::StatsReply& out) {
    const std::uint64_t now = steady_ns();
    std::lock_guard lock(lease_mutex_);
    for (v1::StreamStatistics& row : *out.mutable_streams()) {
        const auto holders = leases_.holders(row.stream_id(), now);
        row.set_subscribers(static_cast<std::uint32_t>(holders.size()));
        row.clear_leases();
        for (const LeaseTable::Holder& h : holders) {
            v1::Lease* l = row.add_leases();
            l->set_identity(h.identity);
            l->set_expires_in_ms((h.expires_ns - now) / 1'000'000);
        }
    }
}

void Service::count(const Result& r) noexcept {
    counters_.calls.fetch_add(1, std::memory_order_relaxed);
    switch (r.code()) {
    case Code::permission_denied: counters_.denied.fetch_add(1, std::memory_order_relaxed); break;
    case Code::invalid_argument: counters_.invalid.fetch_add(1, std::memory_order_relaxed); break;
    case Code::resource_exhausted: counters_.exhausted.fetch_add(1, std::memory_order_relaxed); break;
    default: break;
    }
}

void Service::count_oversize(const Result& r) noexcept {
    counters_.oversize.fetch_add(1, std::memory_order_relaxed);
    count(r);
}

v1::ControlCounters Service::counters() const {
    v1::ControlCounters c;
    c.set_calls(counters_.calls.load(std::memory_order_relaxed));
    c.set_denied(counters_.denied.load(std::memory_order_relaxed));
    c.set_invalid(counters_.invalid.load(std::memory_order_relaxed));
    c.set_exhausted(counters_.exhausted.load(std::memory_order_relaxed));
    c.set_oversize(counters_.oversize.load(std::memory_order_relaxed));
    c.set_recoveries(counters_.recoveries.load(std::memory_order_relaxed));
    c.set_recovered_lsns(counters_.recovered_lsns.load(std::memory_order_relaxed));
    c.set_snapshots(counters_.snapshots.load(std::memory_order_relaxed));
    c.set_snapshot_records(counters_.snapshot_records.load(std::memory_order_relaxed));
    c.set_publishes(counters_.publishes.load(std::memory_order_relaxed));
    c.set_published_updates(counters_.published_updates.load(std::memory_order_relaxed));
    c.set_duplicate_publishes(counters_.duplicate_publishes.load(std::memory_order_relaxed));
    return c;
}

Result Service::admit(std::string_view identity, Role role, const std::string* db,
                      std::shared_ptr<const AccessList>& list, const AccessEntry*& entry) {
    list = access_list();
    entry = list->find(identity);
    static const char* const names[] = {"", "subscriber", "publisher", "", "admin"};
    if (entry == nullptr) {
        return {Code::permission_denied, "identity \"" + std::string(identity) + "\" is not in the access list"};
    }
    if (!entry->has(role)) {
        return {Code::permission_denied, "identity \"" + std::string(identity) + "\" lacks the " + names[role] + " role"};
    }
    if (db != nullptr && !entry->may_use(*db)) {
        return {Code::permission_denied, "identity \"" + std::string(identity) + "\" may not use database \"" + *db + "\""};
    }
    return Result::ok();
}

void Service::remember(std::string_view identity, bool has, const v1::ReceiveStats& stats) {
    if (!has) return;
    // Only listed identities get here, so the map is bounded by the access list.
    std::lock_guard lock(mutex_);
    auto it = reported_.find(identity);
    if (it == reported_.end()) it = reported_.emplace(std::string(identity), Reported{}).first;
    it->second.stats = stats;
    it->second.at = std::chrono::steady_clock::now();
}

void Service::report(std::string_view identity, std::uint32_t stream_id, bool has, const v1::ReceiveStats& stats) {
    if (!has) return;
    backend_.receiver_report(identity, stream_id,
                             {.packets = stats.packets(),
                              .packets_missed = stats.packets_missed(),
                              .chains_applied = stats.chains_applied(),
                              .chains_dropped = stats.chains_dropped(),
                              .socket_drops = stats.socket_drops(),
                              .queue_overflows = stats.queue_overflows(),
                              .buffer_fill_pct = static_cast<std::uint32_t>(std::min<std::uint64_t>(stats.buffer_fill_pct(), 100))});
}

Result Service::stream_database(std::uint32_t stream_id, std::shared_ptr<const StreamView>& view) {
    if (stream_id == 0) return bad("stream_id 0 names no stream");
    view = backend_.stream(stream_id);
    if (!view) return {Code::not_found, "no stream " + std::to_string(stream_id)};
    return Result::ok();
}

Result Service::replace_access_list(std::shared_ptr<const AccessList> next) {
    const std::shared_ptr<const AccessList> before = access_list();
    std::atomic_store(&access_, next);  // Keys sees the new list from here on
    {
        // Reports of identities no longer listed go (the map stays bounded by the list).
        std::lock_guard lock(mutex_);
        for (auto it = reported_.begin(); it != reported_.end();) {
            it = next->find(it->first) == nullptr ? reported_.erase(it) : std::next(it);
        }
    }
    std::vector<std::string> all;
    if (const store::Status s = backend_.store().databases(all); !s) return from_store(s);
    std::vector<std::string> rotate;
    for (const auto& [identity, entry] : before->entries()) {
        for (std::string& db : lost_databases(*before, *next, identity, all)) {
            // Its subscription ends with its right to read: it no longer holds the stream on.
            Result why;
            if (const auto v = backend_.stream(db, false, why)) (void)end_lease(identity, v->stream_id);
            if (std::find(rotate.begin(), rotate.end(), db) == rotate.end()) rotate.push_back(std::move(db));
        }
    }
    Result first_failure;
    auto log = logging::get("control");
    for (const std::string& db : rotate) {
        Result why;
        // Not multicast now: no key to change (its next start makes a new one).
        if (const auto v = backend_.stream(db, false, why); !v || !v->streaming) continue;
        std::uint32_t epoch = 0;
        const Result r = backend_.rotate_key(db, epoch);
        if (r) {
            log->info("access list: a reader of {} was revoked; key epoch {} announced", db, epoch);
        } else {
            log->error("access list: a reader of {} was revoked but its key did not change: {}", db, r.text());
            if (first_failure) first_failure = r;
        }
    }
    return first_failure;
}

Result Service::subscribe(std::string_view identity, const v1::SubscribeRequest& req, v1::Subscription& out) {
    out.Clear();
    if (!valid_database(req.database())) return finish(bad("database name must be 1..200 bytes, not starting with '_'"));
    std::shared_ptr<const AccessList> list;
    const AccessEntry* e = nullptr;
    if (Result r = admit(identity, kSubscriber, &req.database(), list, e); !r) return finish(r);
    remember(identity, req.has_stats(), req.stats());
    std::uint64_t oldest = 0, last = 0;
    if (const store::Status s = backend_.store().lsn_range(req.database(), oldest, last); !s) return finish(from_store(s));
    Result why;
    // A stream known already: the lease first, so that the loop cannot find
    // it idle between the answer below and the lease.
    std::uint32_t leased = 0;
    if (const auto known = backend_.stream(req.database(), false, why)) {
        leased = known->stream_id;
        take_lease(identity, leased);
    }
    why = Result::ok();
    const std::shared_ptr<const StreamView> v = backend_.stream(req.database(), true, why);
    if (!v || !v->streaming) {
        if (leased != 0) (void)end_lease(identity, leased);  // a failed Subscribe holds nothing
        // The backend's reason keeps its code (UNAVAILABLE: try again; RESOURCE_EXHAUSTED: max_streams).
        return finish({why ? Code::failed_precondition : why.code(),
                       "database \"" + req.database() + "\" is not multicast" + (why ? "" : ": " + why.message())});
    }
    out.set_database(req.database());
    out.set_stream_id(v->stream_id);
    out.set_group(dotted(v->group));
    out.set_port(v->port);
    out.set_source(dotted(v->source));
    const auto& uuid = backend_.store().uuid();
    out.set_store_uuid(uuid.data(), uuid.size());
    out.set_key_epoch(v->key_epoch);
    fill_keys(*v, *out.mutable_keys());
    out.set_all_groups(e->all_groups);
    for (std::uint16_t g : e->groups) out.add_reader_groups(g);
    out.set_last_lsn(last);
    out.set_oldest_lsn(oldest);
    out.set_heartbeat_interval_ms(v->heartbeat_interval_ms);
    report(identity, v->stream_id, req.has_stats(), req.stats());
    take_lease(identity, v->stream_id);  // (again: the lease runs from the answer)
    out.set_lease_ms(config_.lease_ms);
    return finish(Result::ok());
}

Result Service::unsubscribe(std::string_view identity, const v1::UnsubscribeRequest& req, v1::UnsubscribeReply& out) {
    out.Clear();
    std::shared_ptr<const StreamView> v;
    if (Result r = stream_database(req.stream_id(), v); !r) {
        // An unknown identity learns nothing about which streams exist.
        std::shared_ptr<const AccessList> list;
        const AccessEntry* e = nullptr;
        if (Result a = admit(identity, kSubscriber, nullptr, list, e); !a) return finish(a);
        return finish(r);
    }
    std::shared_ptr<const AccessList> list;
    const AccessEntry* e = nullptr;
    if (Result r = admit(identity, kSubscriber, &v->database, list, e); !r) return finish(r);
    remember(identity, req.has_stats(), req.stats());
    report(identity, v->stream_id, req.has_stats(), req.stats());
    // Only the caller's own lease ends: nobody can end another identity's subscription.
    (void)end_lease(identity, v->stream_id);
    return finish(Result::ok());
}

Result Service::keys(std::string_view identity, const v1::KeysRequest& req, v1::KeysReply& out) {
    out.Clear();
    std::shared_ptr<const AccessList> list;
    const AccessEntry* e = nullptr;
    if (Result r = admit(identity, kSubscriber, nullptr, list, e); !r) return finish(r);
    std::shared_ptr<const StreamView> v;
    if (Result r = stream_database(req.stream_id(), v); !r) return finish(r);
    // Checked on every call against the list current now: a revoked reader fails at once.
    if (!e->may_use(v->database)) {
        return finish({Code::permission_denied,
                       "identity \"" + std::string(identity) + "\" may not use database \"" + v->database + "\""});
    }
    remember(identity, req.has_stats(), req.stats());
    report(identity, v->stream_id, req.has_stats(), req.stats());
    if (!v->streaming) return finish({Code::failed_precondition, "stream " + std::to_string(v->stream_id) + " is stopped"});
    renew_lease(identity, v->stream_id, req.has_stats());
    out.set_key_epoch(v->key_epoch);
    fill_keys(*v, *out.mutable_keys());
    {
        std::lock_guard lock(lease_mutex_);
        out.set_lease_ms(static_cast<std::uint32_t>(
            std::min<std::uint64_t>(leases_.remaining_ns(identity, v->stream_id, steady_ns()) / 1'000'000, UINT32_MAX)));
    }
    return finish(Result::ok());
}

Result Service::recover(std::string_view identity, const v1::RecoverRequest& req, const RecoverWriter& write) {
    std::shared_ptr<const AccessList> list;
    const AccessEntry* e = nullptr;
    if (Result r = admit(identity, kSubscriber, nullptr, list, e); !r) return finish(r);
    if (req.from_lsn() == 0 || req.to_lsn() < req.from_lsn()) {
        return finish(bad("LSN range [" + std::to_string(req.from_lsn()) + ", " + std::to_string(req.to_lsn()) +
                          "] is empty or starts at 0"));
    }
    std::shared_ptr<const StreamView> v;
    if (Result r = stream_database(req.stream_id(), v); !r) return finish(r);
    if (!e->may_use(v->database)) {
        return finish({Code::permission_denied,
                       "identity \"" + std::string(identity) + "\" may not use database \"" + v->database + "\""});
    }
    remember(identity, req.has_stats(), req.stats());
    report(identity, v->stream_id, req.has_stats(), req.stats());
    renew_lease(identity, v->stream_id, req.has_stats());  // a replica off multicast follows by Recover
    Slot slot(*this, identity, false);
    if (!slot.take()) {
        return finish({Code::resource_exhausted, "identity \"" + std::string(identity) + "\" already runs " +
                                                     std::to_string(config_.max_recoveries_per_identity) + " recoveries"});
    }
    store::MasterStore& store = backend_.store();
    std::uint64_t oldest = 0, last = 0;
    if (const store::Status s = store.lsn_range(v->database, oldest, last); !s) return finish(from_store(s));
    if (req.from_lsn() < oldest) {
        return finish({Code::out_of_range, "LSN " + std::to_string(req.from_lsn()) + " is no longer in the log (oldest " +
                                               std::to_string(oldest) + "): take a snapshot"});
    }
    counters_.recoveries.fetch_add(1, std::memory_order_relaxed);
    const std::uint64_t to = std::min(req.to_lsn(), last);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.stream_deadline_ms);
    const store::BundleLimits limits{.max_updates = 1u << 20, .max_bytes = config_.recover_batch_bytes};
    v1::RecoverBatch batch;
    std::uint64_t next = req.from_lsn();
    while (next <= to) {
        if (std::chrono::steady_clock::now() > deadline) {
            return finish({Code::deadline_exceeded, "recovery ran past the stream deadline of " +
                                                        std::to_string(config_.stream_deadline_ms) + " ms"});
        }
        batch.Clear();
        std::string* body = batch.mutable_body();
        store::Bundle b;
        const store::Status s = store::read_bundle(store, v->database, next, to, limits,
            [&](std::uint64_t, std::span<const std::uint8_t> u) {
                if (e->may_read_group(wire::load_be<std::uint16_t>(u.data() + 1))) {
                    body->append(reinterpret_cast<const char*>(u.data()), u.size());
                } else {
                    append_redacted(*body, u);
                }
                return store::Take::take;
            }, b);
        if (!s) return finish(from_store(s));
        if (b.skipped != 0) {
            return finish({Code::out_of_range, "LSN " + std::to_string(next) +
                                                   " was trimmed from the log during the recovery: take a snapshot"});
        }
        if (b.count == 0) return finish({Code::internal, "the log has no LSN " + std::to_string(next)});
        batch.set_first_lsn(b.first_lsn);
        batch.set_update_count(b.count);
        if (!write(batch)) return finish({Code::cancelled, "the caller went away"});
        counters_.recovered_lsns.fetch_add(b.count, std::memory_order_relaxed);
        next = b.first_lsn + b.count;
    }
    return finish(Result::ok());
}

Result Service::snapshot(std::string_view identity, const v1::SnapshotRequest& req, const SnapshotWriter& write) {
    if (!valid_database(req.database())) return finish(bad("database name must be 1..200 bytes, not starting with '_'"));
    std::shared_ptr<const AccessList> list;
    const AccessEntry* e = nullptr;
    if (Result r = admit(identity, kSubscriber, &req.database(), list, e); !r) return finish(r);
    remember(identity, req.has_stats(), req.stats());
    renew_lease(identity, req.database(), req.has_stats());
    Slot slot(*this, identity, true);
    if (!slot.take()) {
        return finish({Code::resource_exhausted, "identity \"" + std::string(identity) + "\" already runs " +
                                                     std::to_string(config_.max_snapshots_per_identity) + " snapshots"});
    }
    Result why;
    const std::shared_ptr<const StreamView> v = backend_.stream(req.database(), false, why);
    counters_.snapshots.fetch_add(1, std::memory_order_relaxed);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.stream_deadline_ms);
    store::RecordDigest digest;
    v1::SnapshotPage page;
    std::size_t page_bytes = 0;
    std::uint64_t records = 0;
    bool first = true;
    Result stop;
    auto flush = [&](bool last) {
        if (first) {
            const auto& uuid = backend_.store().uuid();
            page.set_store_uuid(uuid.data(), uuid.size());
            page.set_stream_id(v ? v->stream_id : 0);
            first = false;
        }
        if (last) {
            page.set_last(true);
            page.set_record_count(records);
            page.set_sha256(digest.hex());
        }
        const bool ok = write(page);
        page.Clear();
        page_bytes = 0;
        return ok;
    };
    std::uint64_t lsn = 0;
    // One read transaction for the whole copy: the records are exactly the state at `lsn`.
    const store::Status s = backend_.store().snapshot(
        req.database(), [&](std::uint64_t at) { lsn = at; page.set_lsn(at); },
        [&](const store::Record& r) {
            if (!e->may_read_group(r.group)) return true;
            digest.add(r);
            ++records;
            v1::SnapshotRecord* out = page.add_records();
            out->set_key(r.key.data(), r.key.size());
            out->set_reader_group(r.group);
            out->set_value(r.value.data(), r.value.size());
            page_bytes += r.key.size() + r.value.size() + 16;
            if (page_bytes < config_.snapshot_page_bytes) return true;
            if (std::chrono::steady_clock::now() > deadline) {
                stop = {Code::deadline_exceeded,
                        "snapshot ran past the stream deadline of " + std::to_string(config_.stream_deadline_ms) + " ms"};
                return false;
            }
            if (!flush(false)) {
                stop = {Code::cancelled, "the caller went away"};
                return false;
            }
            page.set_lsn(lsn);
            return true;
        });
    if (!s) return finish(from_store(s));
    if (!stop) return finish(stop);
    if (!flush(true)) return finish({Code::cancelled, "the caller went away"});
    counters_.snapshot_records.fetch_add(records, std::memory_order_relaxed);
    return finish(Result::ok());
}

Result Service::publish(std::string_view identity, const v1::PublishRequest& req, v1::PublishReply& out) {
    out.Clear();
    if (!valid_database(req.database())) return finish(bad("database name must be 1..200 bytes, not starting with '_'"));
    std::shared_ptr<const AccessList> list;
    const AccessEntry* e = nullptr;
    if (Result r = admit(identity, kPublisher, &req.database(), list, e); !r) return finish(r);
    remember(identity, req.has_stats(), req.stats());
    renew_lease(identity, req.database(), req.has_stats());
    if (req.updates_size() == 0) return finish(bad("a publish needs at least one update"));
    if (req.request_id().size() > store::MasterStore::kMaxRequestId) {
        return finish(bad("request_id is " + std::to_string(req.request_id().size()) + " bytes, at most 64"));
    }
    std::vector<wire::UpdateView> ops;
    ops.reserve(static_cast<std::size_t>(req.updates_size()));
    for (int i = 0; i < req.updates_size(); ++i) {
        const v1::Update& u = req.updates(i);
        const std::string at = "update " + std::to_string(i) + ": ";
        if (u.op() != v1::OP_PUT && u.op() != v1::OP_DELETE) return finish(bad(at + "op must be OP_PUT or OP_DELETE"));
        if (u.key().empty() || u.key().size() > wire::kMaxKeyLen) {
            return finish(bad(at + "key is " + std::to_string(u.key().size()) + " bytes, must be 1..511"));
        }
        if (u.value().size() > wire::kMaxValueLen) {
            return finish(bad(at + "value is " + std::to_string(u.value().size()) + " bytes, at most 16 MiB"));
        }
        if (u.op() == v1::OP_DELETE && !u.value().empty()) return finish(bad(at + "a delete carries no value"));
        if (u.reader_group() > 65535) {
            return finish(bad(at + "reader_group " + std::to_string(u.reader_group()) + " is not in 0..65535"));
        }
        ops.push_back({.op = u.op() == v1::OP_PUT ? wire::Op::put : wire::Op::del,
                       .reader_group = static_cast<std::uint16_t>(u.reader_group()),
                       .key = {reinterpret_cast<const std::uint8_t*>(u.key().data()), u.key().size()},
                       .value = {reinterpret_cast<const std::uint8_t*>(u.value().data()), u.value().size()}});
    }
    std::uint64_t first = 0;
    bool duplicate = false;
    const Result r = backend_.publish(
        req.database(), ops,
        {reinterpret_cast<const std::uint8_t*>(req.request_id().data()), req.request_id().size()}, first, duplicate);
    if (!r) return finish(r);
    out.set_first_lsn(first);
    out.set_update_count(static_cast<std::uint32_t>(ops.size()));
    out.set_duplicate(duplicate);
    counters_.publishes.fetch_add(1, std::memory_order_relaxed);
    if (duplicate) {
        counters_.duplicate_publishes.fetch_add(1, std::memory_order_relaxed);
    } else {
        counters_.published_updates.fetch_add(ops.size(), std::memory_order_relaxed);
    }
    return finish(Result::ok());
}

Result Service::databases(std::string_view identity, const v1::DatabasesRequest& req, v1::DatabasesReply& out) {
    out.Clear();
    std::shared_ptr<const AccessList> list;
    const AccessEntry* e = nullptr;
    Result r = admit(identity, kSubscriber, nullptr, list, e);
    if (!r && e != nullptr) r = admit(identity, kPublisher, nullptr, list, e);
    if (!r) return finish(r);
    remember(identity, req.has_stats(), req.stats());
    std::vector<std::string> all;
    if (const store::Status s = backend_.store().databases(all); !s) return finish(from_store(s));
    for (const std::string& db : all) {
        if (!e->may_use(db)) continue;
        v1::DatabaseInfo* info = out.add_databases();
        info->set_name(db);
        Result why;
        if (const auto v = backend_.stream(db, false, why); v && v->streaming) {
            info->set_streaming(true);
            info->set_stream_id(v->stream_id);
            std::lock_guard lock(lease_mutex_);
            info->set_subscribers(static_cast<std::uint32_t>(leases_.holders(v->stream_id, steady_ns()).size()));
        }
        std::uint64_t oldest = 0, last = 0;
        if (const store::Status s = backend_.store().lsn_range(db, oldest, last); !s) return finish(from_store(s));
        info->set_last_lsn(last);
        info->set_oldest_lsn(oldest);
    }
    return finish(Result::ok());
}

Result Service::stats(std::string_view identity, const v1::StatsRequest& req, v1::StatsReply& out) {
    out.Clear();
    std::shared_ptr<const AccessList> list;
    const AccessEntry* e = nullptr;
    if (Result r = admit(identity, kAdmin, nullptr, list, e); !r) return finish(r);
    remember(identity, req.has_stats(), req.stats());
    backend_.server_stats(out);
    fill_leases(out);
    if (out.uptime_ms() == 0) out.set_uptime_ms(ms_since(started_));
    {
        std::lock_guard lock(mutex_);
        for (const auto& [who, rep] : reported_) {
            v1::IdentityReport* ir = out.add_identities();
            ir->set_identity(who);
            *ir->mutable_stats() = rep.stats;
            ir->set_age_ms(ms_since(rep.at));
        }
    }
    const Result ok = Result::ok();
    count(ok);  // counted before the copy so that the reply includes this call
    *out.mutable_control() = counters();
    return ok;
}

Result Service::rotate_key(std::string_view identity, const v1::RotateKeyRequest& req, v1::RotateKeyReply& out) {
    out.Clear();
    if (!valid_database(req.database())) return finish(bad("database name must be 1..200 bytes, not starting with '_'"));
    std::shared_ptr<const AccessList> list;
    const AccessEntry* e = nullptr;
    if (Result r = admit(identity, kAdmin, &req.database(), list, e); !r) return finish(r);
    remember(identity, req.has_stats(), req.stats());
    renew_lease(identity, req.database(), req.has_stats());
    Result why;
    if (!backend_.stream(req.database(), false, why)) {
        return finish({Code::failed_precondition, "database \"" + req.database() + "\" is not multicast"});
    }
    std::uint32_t epoch = 0;
    if (Result r = backend_.rotate_key(req.database(), epoch); !r) return finish(r);
    out.set_next_epoch(epoch);
    return finish(Result::ok());
}

}  // namespace replicast::control
