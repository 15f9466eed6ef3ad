// An in-process stand-in for the server, for the follower tests: a real
// MasterStore behind the ControlPort interface (Subscribe, Keys, Recover from
// the master's log, Snapshot with its checksum), and a multicaster that cuts
// the log into sealed chains and sends them on real sockets, skipping the
// chains a test wants lost.
//
// A fixture, not the product: the real control service (engine/control, the
// `control` branch) was not merged into this branch when these tests were
// written; the end-to-end test (tests/integration/client) runs the real server.
#pragma once

#include <limits>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/client/control_port.hpp"
#include "store/checksum.hpp"
#include "store/master.hpp"
#include "tests/unit/rx/rx_net.hpp"

namespace replicast::testing {

inline constexpr std::uint32_t kStream = 11;

inline crypto::Key key_of(std::uint32_t epoch) {
    crypto::Key k{};
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(epoch * 31 + i);
    return k;
}

class MasterControl : public client::ControlPort {
public:
    MasterControl(store::MasterStore& master, std::string db, std::uint16_t p)
        : port(p), master_(master), db_(std::move(db)) {}

    std::uint32_t epoch = 3;
    std::uint16_t port;         // where Subscribe says the stream is (a test may move it)
    bool deny = false;          // every call: PERMISSION_DENIED
    std::uint32_t lease_ms = 0; // the lease Subscribe names (0: a server without leases)
    bool lapsed = false;        // Keys: the caller's lease ran out (lease_ms 0 in the reply)
    std::uint32_t batch = 64;   // updates per Recover batch
    int subscribes = 0, keys_calls = 0, recovers = 0, snapshots = 0, unsubscribes = 0;
    client::ReceiveStats last_stats;

    client::Result subscribe(const std::string& database, client::Subscription& out, const client::ReceiveStats& s) override {
        last_stats = s;
        ++subscribes;
        if (deny) return {client::Code::permission_denied, "identity may not read " + database};
        std::uint64_t oldest = 0, last = 0;
        if (!master_.lsn_range(db_, oldest, last)) return {client::Code::not_found, "no database"};
        out = {};
        out.database = database;
        out.stream_id = kStream;
        out.group = kGroup;
        out.port = port;
        out.source = kSource;
        out.store_uuid = master_.uuid();
        out.keys = keyset();
        out.lease_ms = lease_ms;
        lapsed = false;  // taken again
        out.last_lsn = last;
        out.oldest_lsn = oldest;
        return client::Result::ok();
    }
    client::Result unsubscribe(std::uint32_t, const client::ReceiveStats& s) override {
        last_stats = s;
        ++unsubscribes;
        return client::Result::ok();
    }
    client::Result keys(std::uint32_t, client::KeySet& out, const client::ReceiveStats& s) override {
        last_stats = s;
        ++keys_calls;
        if (deny) return {client::Code::permission_denied, "revoked"};
        out = keyset();
        out.lease_ms = lapsed ? 0 : lease_ms;
        return client::Result::ok();
    }
    client::Result recover(std::uint32_t, std::uint64_t from, std::uint64_t to,
                           const std::function<bool(const client::RecoveredBatch&)>& on_batch,
                           const client::ReceiveStats& s) override {
        last_stats = s;
        ++recovers;
        if (deny) return {client::Code::permission_denied, "revoked"};
        std::uint64_t oldest = 0, last = 0;
        if (!master_.lsn_range(db_, oldest, last)) return {client::Code::not_found, "no database"};
        if (from < oldest) return {client::Code::out_of_range, "LSN " + std::to_string(from) + " trimmed"};
        std::vector<std::uint8_t> body;
        std::uint64_t first = from;
        std::uint32_t n = 0;
        bool go = true;
        auto flush = [&] {
            if (n == 0) return;
            go = on_batch({.first_lsn = first, .update_count = n, .body = body, .placeholder = false});
            first += n;
            n = 0;
            body.clear();
        };
        if (!master_.read_log(db_, from, std::min(to, last), [&](std::uint64_t, std::span<const std::uint8_t> u) {
                body.insert(body.end(), u.begin(), u.end());
                if (++n == batch) flush();
                return go;
            })) {
            return {client::Code::internal, "read_log"};
        }
        if (go) flush();
        return go ? client::Result::ok() : client::Result{client::Code::cancelled, "cancelled"};
    }
    client::Result snapshot(const std::string&, const std::function<bool(const client::SnapshotPage&)>& on_page,
                            const client::ReceiveStats& s) override {
        last_stats = s;
        ++snapshots;
        if (deny) return {client::Code::permission_denied, "revoked"};
        std::uint64_t lsn = 0, count = 0;
        std::vector<std::vector<std::uint8_t>> keys, values;
        std::vector<std::uint16_t> groups;
        if (!master_.snapshot(db_, [&](std::uint64_t l) { lsn = l; }, [&](const store::Record& r) {
                keys.emplace_back(r.key.begin(), r.key.end());
                values.emplace_back(r.value.begin(), r.value.end());
                groups.push_back(r.group);
                return true;
            })) {
            return {client::Code::internal, "snapshot"};
        }
        std::vector<store::Record> recs;
        for (std::size_t i = 0; i < keys.size(); ++i) recs.push_back({.key = keys[i], .group = groups[i], .value = values[i]});
        store::Checksum sum;
        if (!store::checksum(master_, db_, {}, sum)) return {client::Code::internal, "checksum"};
        // Two pages: the first with half the records, the last with the rest and the checksum.
        const std::size_t half = recs.size() / 2;
        client::SnapshotPage p1;
        p1.first = true;
        p1.lsn = lsn;
        p1.store_uuid = master_.uuid();
        p1.records = std::span(recs).first(half);
        if (!on_page(p1)) return {client::Code::cancelled, "cancelled"};
        count = recs.size();
        client::SnapshotPage p2;
        p2.records = std::span(recs).subspan(half);
        p2.last = true;
        p2.record_count = count;
        p2.sha256 = sum.sha256;
        if (!on_page(p2)) return {client::Code::cancelled, "cancelled"};
        return client::Result::ok();
    }
    client::Result databases(std::vector<client::DatabaseEntry>& out, const client::ReceiveStats&) override {
        out = {{.name = db_, .streaming = true, .last_lsn = 0}};
        return client::Result::ok();
    }

    client::KeySet keyset() const {
        return {.key_epoch = epoch, .keys = {{.epoch = epoch, .key = key_of(epoch)}}};
    }

private:
    store::MasterStore& master_;
    std::string db_;
};

/// Cuts the master's log into chains of `per_chain` LSNs and multicasts them sealed.
class Multicaster {
public:
    Multicaster(store::MasterStore& master, std::string db, std::uint16_t port)
        : master_(master), db_(std::move(db)), sender_(kSource, port) {}

    std::uint64_t seq = 1;
    std::uint32_t epoch = 3;
    std::uint64_t sent = 0;  // datagrams actually sent (the lost ones are not)

    /// Sends LSNs [from, to] as chains; chains whose index (0-based, from `from`) is in `lose` are skipped
    /// (their packet_seqs still advance, as on a lossy network). @return chains cut.
    std::size_t send(std::uint64_t from, std::uint64_t to, std::uint32_t per_chain, const std::set<std::size_t>& lose = {}) {
        crypto::GcmKey key(engine_, key_of(epoch));
        chain::ChainBuilder b({.compress = true});
        std::size_t index = 0;
        std::uint32_t n = 0;
        std::uint64_t first = from;
        std::vector<std::uint8_t> body;
        auto cut = [&] {
            if (n == 0) return;
            b.begin(first);
            if (b.add_encoded(body, n) != wire::WireError::ok) throw std::runtime_error("add_encoded");
            const chain::BuiltChain c = b.finish();
            const std::size_t count = chain::segment_count(c.record.size(), 1432);
            for (std::size_t i = 0; i < count; ++i) {
                const chain::Segment s = chain::segment(c.record, 1432, i, count);
                const Datagram d = seal(engine_, key,
                                        {.flags = wire::position_flags(s.position), .stream_id = kStream,
                                         .packet_seq = seq++, .key_epoch = epoch, .comp_alg = c.comp_alg},
                                        s.payload);
                if (!lose.contains(index)) {
                    sender_.send(d);
                    ++sent;
                }
            }
            ++index;
            first += n;
            n = 0;
            body.clear();
        };
        master_.read_log(db_, from, to, [&](std::uint64_t, std::span<const std::uint8_t> u) {
            body.insert(body.end(), u.begin(), u.end());
            if (++n == per_chain) cut();
            return true;
        });
        cut();
        return index;
    }
    void heartbeat(std::uint64_t last_lsn) {
        crypto::GcmKey key(engine_, key_of(epoch));
        sender_.send(sealed_heartbeat(engine_, key, kStream, epoch, seq++, last_lsn));
    }

private:
    store::MasterStore& master_;
    std::string db_;
    Sender sender_;
    crypto::GcmEngine engine_;
};

}  // namespace replicast::testing
