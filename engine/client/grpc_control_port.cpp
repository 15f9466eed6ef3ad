#include "engine/client/grpc_control_port.hpp"

#include <cstring>

#include "engine/config/strict_toml.hpp"

namespace replicast::client {

namespace {

v1::ReceiveStats to_proto(const ReceiveStats& s) {
    v1::ReceiveStats p;
    p.set_packets(s.packets);
    p.set_bytes(s.bytes);
    p.set_chains_applied(s.chains_applied);
    p.set_chains_dropped(s.chains_dropped);
    p.set_gaps(s.gaps);
    p.set_lsns_recovered(s.lsns_recovered);
    p.set_decrypt_failures(s.decrypt_failures);
    p.set_window_ms(s.window_ms);
    p.set_applied_lsn(s.applied_lsn);
    p.set_lag_lsns(s.lag_lsns);
    p.set_replays(s.replays);
    p.set_wrong_source(s.wrong_source);
    p.set_queue_overflows(s.queue_overflows);
    p.set_snapshots(s.snapshots);
    p.set_packets_missed(s.packets_missed);
    p.set_socket_drops(s.socket_drops);
    p.set_buffer_fill_pct(s.buffer_fill_pct);
    return p;
}

Result bad(const std::string& what) { return {Code::invalid_argument, "from the server: " + what}; }


Result keys_from(std::uint32_t epoch, const google::protobuf::RepeatedPtrField<v1::StreamKey>& keys, KeySet& out) {
    out.key_epoch = epoch;
    out.keys.clear();
    for (const v1::StreamKey& k : keys) {
        if (k.key().size() != crypto::kKeySize) {
            return bad("key of epoch " + std::to_string(k.epoch()) + " has " + std::to_string(k.key().size()) + " bytes");
        }
        StreamKey sk{.epoch = k.epoch()};
        std::memcpy(sk.key.data(), k.key().data(), crypto::kKeySize);
        out.keys.push_back(sk);
    }
    return Result::ok();
}

}  // namespace

GrpcControlPort::GrpcControlPort(const std::string& target, const control::ClientTls& tls,
                                 const control::ClientOptions& options)
    : client_(target, tls, options) {}

Result GrpcControlPort::subscribe(const std::string& database, Subscription& out, const ReceiveStats& stats) {
    const v1::ReceiveStats ps = to_proto(stats);
    v1::Subscription s;
    if (Result r = client_.subscribe(database, s, &ps); !r) return r;
    out = {};
    out.database = s.database();
    out.stream_id = s.stream_id();
    if (!config::parse_ipv4(s.group(), out.group) || (out.group >> 28) != 0xe) return bad("group \"" + s.group() + "\"");
    if (!config::parse_ipv4(s.source(), out.source)) return bad("source \"" + s.source() + "\"");
    if (s.port() == 0 || s.port() > 65535) return bad("port " + std::to_string(s.port()));
    out.port = static_cast<std::uint16_t>(s.port());
    if (s.store_uuid().size() != 16) return bad("store_uuid of " + std::to_string(s.store_uuid().size()) + " bytes");
    std::memcpy(out.store_uuid.data(), s.store_uuid().data(), 16);
    if (Result r = keys_from(s.key_epoch(), s.keys(), out.keys); !r) return r;
    out.all_groups = s.all_groups();
    for (std::uint32_t g : s.reader_groups()) {
        if (g > 65535) return bad("reader group " + std::to_string(g));
        out.reader_groups.push_back(static_cast<std::uint16_t>(g));
    }
    out.last_lsn = s.last_lsn();
    out.oldest_lsn = s.oldest_lsn();
    out.heartbeat_interval_ms = s.heartbeat_interval_ms();
    out.lease_ms = s.lease_ms();
    return Result::ok();
}

Result GrpcControlPort::unsubscribe(std::uint32_t stream_id, const ReceiveStats& stats) {
    const v1::ReceiveStats ps = to_proto(stats);
    return client_.unsubscribe(stream_id, &ps);
}

Result GrpcControlPort::keys(std::uint32_t stream_id, KeySet& out, const ReceiveStats& stats) {
    const v1::ReceiveStats ps = to_proto(stats);
    v1::KeysReply reply;
    if (Result r = client_.keys(stream_id, reply, &ps); !r) return r;
    out.lease_ms = reply.lease_ms();
    return keys_from(reply.key_epoch(), reply.keys(), out);
}

Result GrpcControlPort::recover(std::uint32_t stream_id, std::uint64_t from, std::uint64_t to,
                                const std::function<bool(const RecoveredBatch&)>& on_batch, const ReceiveStats& stats) {
    const v1::ReceiveStats ps = to_proto(stats);
    return client_.recover(
        stream_id, from, to,
        [&](const v1::RecoverBatch& b) {
            return on_batch({.first_lsn = b.first_lsn(),
                             .update_count = b.update_count(),
                             .body = {reinterpret_cast<const std::uint8_t*>(b.body().data()), b.body().size()},
                             .placeholder = b.placeholder()});
        },
        &ps);
}

Result GrpcControlPort::snapshot(const std::string& database, const std::function<bool(const SnapshotPage&)>& on_page,
                                 const ReceiveStats& stats) {
    const v1::ReceiveStats ps = to_proto(stats);
    bool first = true;
    bool malformed = false;
    std::vector<store::Record> records;
    const Result r = client_.snapshot(
        database,
        [&](const v1::SnapshotPage& p) {
            SnapshotPage page;
            page.first = first;
            if (first) {
                if (p.store_uuid().size() != 16) {
                    malformed = true;
                    return false;
                }
                page.lsn = p.lsn();
                std::memcpy(page.store_uuid.data(), p.store_uuid().data(), 16);
                first = false;
            }
            records.clear();
            for (const v1::SnapshotRecord& rec : p.records()) {
                if (rec.reader_group() > 65535 || rec.key().empty()) {
                    malformed = true;
                    return false;
                }
                records.push_back({.key = {reinterpret_cast<const std::uint8_t*>(rec.key().data()), rec.key().size()},
                                   .group = static_cast<std::uint16_t>(rec.reader_group()),
                                   .value = {reinterpret_cast<const std::uint8_t*>(rec.value().data()), rec.value().size()}});
            }
            page.records = records;
            page.last = p.last();
            page.record_count = p.record_count();
            page.sha256 = p.sha256();
            return on_page(page);
        },
        &ps);
    if (malformed) return bad("a malformed snapshot page");
    return r;
}

Result GrpcControlPort::databases(std::vector<DatabaseEntry>& out, const ReceiveStats& stats) {
    const v1::ReceiveStats ps = to_proto(stats);
    v1::DatabasesReply reply;
    if (Result r = client_.databases(reply, &ps); !r) return r;
    out.clear();
    for (const v1::DatabaseInfo& d : reply.databases()) {
        out.push_back({.name = d.name(), .streaming = d.streaming(), .last_lsn = d.last_lsn()});
    }
    return Result::ok();
}

}  // namespace replicast::client
