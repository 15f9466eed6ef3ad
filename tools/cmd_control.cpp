// The control-plane commands: a client of a running server's gRPC service
// (PROTOCOL.md section 2) over mutual TLS 1.3. Every command takes
// --server HOST:PORT --cert --key --ca [--server-name]; --json prints one JSON
// object (nlohmann-json) instead of text. A call the server refuses exits 1
// with "replicast CMD: CODE: reason"; unusable arguments or files exit 2.
#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include <openssl/rand.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <thread>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "engine/control/client.hpp"
#include "store/checksum.hpp"
#include "store/replica.hpp"
#include "tools/commands.hpp"
#include "tools/control_connection.hpp"
#include "tools/line_reader.hpp"
#include "tools/load_line.hpp"
#include "tools/rate_pacer.hpp"

namespace replicast::tools {

namespace {

[[noreturn]] void fail(const store::Status& s, const char* cmd) {
    throw CLI::RuntimeError(std::string("replicast ") + cmd + ": " + s.message(), kExitFindings);
}

// A protobuf message as JSON (field names as in the .proto), through nlohmann.
nlohmann::json to_json(const google::protobuf::Message& m) {
    std::string text;
    google::protobuf::util::JsonPrintOptions o;
    o.preserve_proto_field_names = true;
    o.always_print_primitive_fields = true;
    (void)google::protobuf::util::MessageToJsonString(m, &text, o);
    return nlohmann::json::parse(text, nullptr, false);
}

void print_json(const nlohmann::json& j) { std::printf("%s\n", j.dump().c_str()); }

std::string hex(const std::string& bytes) {
    static constexpr char d[] = "0123456789abcdef";
    std::string s;
    for (unsigned char c : bytes) {
        s += d[c >> 4];
        s += d[c & 15];
    }
    return s;
}

std::array<std::uint8_t, 16> uuid_of(const std::string& bytes, const char* cmd) {
    std::array<std::uint8_t, 16> u{};
    if (bytes.size() != u.size()) throw CLI::RuntimeError(std::string("replicast ") + cmd + ": the server sent a store UUID of " +
                                                          std::to_string(bytes.size()) + " bytes", kExitFindings);
    std::memcpy(u.data(), bytes.data(), u.size());
    return u;
}

std::unique_ptr<store::ReplicaStore> open_replica(const std::string& dir, const char* cmd) {
    try {
        return std::make_unique<store::ReplicaStore>(dir);
    } catch (const store::StoreError& e) {
        throw CLI::RuntimeError(std::string("replicast ") + cmd + ": " + e.what(), kExitUsage);
    }
}

void add_databases(CLI::App& app) {
    auto c = std::make_shared<Connection>();
    CLI::App* cmd = app.add_subcommand("databases", "The databases this identity may use, whether each is multicast, LSNs");
    add_connection(cmd, *c);
    cmd->callback([c] {
        v1::DatabasesReply out;
        check(connect(*c, "databases")->databases(out), "databases");
        if (c->json) return print_json(to_json(out));
        for (const v1::DatabaseInfo& d : out.databases()) {
            std::printf("db=%s streaming=%s stream_id=%u oldest_lsn=%llu last_lsn=%llu subscribers=%u\n", d.name().c_str(),
                        d.streaming() ? "yes" : "no", d.stream_id(), static_cast<unsigned long long>(d.oldest_lsn()),
                        static_cast<unsigned long long>(d.last_lsn()), d.subscribers());
        }
    });
}

void add_subscribe(CLI::App& app) {
    auto c = std::make_shared<Connection>();
    auto db = std::make_shared<std::string>();
    auto show_keys = std::make_shared<bool>(false);
    CLI::App* cmd = app.add_subcommand("subscribe", "Register for a database's stream (starting it) and print the subscription");
    add_connection(cmd, *c);
    cmd->add_option("DB", *db, "database")->required();
    cmd->add_flag("--show-keys", *show_keys, "also print the stream keys (hex): secrets, for debugging only");
    cmd->callback([c, db, show_keys] {
        v1::Subscription s;
        check(connect(*c, "subscribe")->subscribe(*db, s), "subscribe");
        if (!*show_keys) {
            for (v1::StreamKey& k : *s.mutable_keys()) k.clear_key();
        }
        if (c->json) {
            nlohmann::json j = to_json(s);
            j["store_uuid"] = hex(s.store_uuid());
            if (*show_keys) {
                for (std::size_t i = 0; i < j["keys"].size(); ++i) j["keys"][i]["key"] = hex(s.keys(static_cast<int>(i)).key());
            }
            return print_json(j);
        }
        std::printf("db=%s stream_id=%u group=%s port=%u source=%s key_epoch=%u last_lsn=%llu oldest_lsn=%llu store_uuid=%s "
                    "lease_ms=%u\n",
                    s.database().c_str(), s.stream_id(), s.group().c_str(), s.port(), s.source().c_str(), s.key_epoch(),
                    static_cast<unsigned long long>(s.last_lsn()), static_cast<unsigned long long>(s.oldest_lsn()),
                    hex(s.store_uuid()).c_str(), s.lease_ms());
        for (const v1::StreamKey& k : s.keys()) {
            std::printf("key epoch=%u%s%s\n", k.epoch(), *show_keys ? " key=" : "", *show_keys ? hex(k.key()).c_str() : "");
        }
    });
}

void add_unsubscribe(CLI::App& app) {
    auto c = std::make_shared<Connection>();
    auto stream_id = std::make_shared<std::uint32_t>(0);
    CLI::App* cmd = app.add_subcommand("unsubscribe", "Leave a stream (Subscribe's stream_id): a stream started by "
                                                      "Subscribe stops once nobody has subscribed for streams.idle_stop_seconds");
    add_connection(cmd, *c);
    cmd->add_option("STREAM_ID", *stream_id, "stream_id from subscribe or databases")->required()->check(
        CLI::Range(std::uint32_t{1}, UINT32_MAX));
    cmd->callback([c, stream_id] {
        check(connect(*c, "unsubscribe")->unsubscribe(*stream_id), "unsubscribe");
        if (c->json) return print_json({{"stream_id", *stream_id}, {"unsubscribed", true}});
        std::printf("unsubscribed from stream %u\n", *stream_id);
    });
}

struct RecoverOptions {
    Connection c;
    std::string db, replica;
    std::uint64_t from = 1, to = UINT64_MAX;
};

void add_recover(CLI::App& app) {
    auto o = std::make_shared<RecoverOptions>();
    CLI::App* cmd = app.add_subcommand("recover", "Fetch log range [--from, --to] of DB: print the batches, or apply them to a replica");
    add_connection(cmd, o->c);
    cmd->add_option("DB", o->db, "database")->required();
    cmd->add_option("--from", o->from, "first LSN")->required()->check(CLI::Range(std::uint64_t{1}, UINT64_MAX));
    cmd->add_option("--to", o->to, "last LSN (default: the log's end)");
    cmd->add_option("--to-replica", o->replica, "apply to this replica store (its applied LSN + 1 must be --from)");
    cmd->callback([o] {
        auto client = connect(o->c, "recover");
        v1::Subscription s;
        check(client->subscribe(o->db, s), "recover");
        std::unique_ptr<store::ReplicaStore> replica;
        const std::vector<std::uint16_t> groups(s.reader_groups().begin(), s.reader_groups().end());
        const store::GroupFilter filter{.all = s.all_groups(), .groups = groups};
        if (!o->replica.empty()) {
            replica = open_replica(o->replica, "recover");
            if (const store::Status st = replica->bind(o->db, uuid_of(s.store_uuid(), "recover")); !st) fail(st, "recover");
        }
        std::uint64_t batches = 0, lsns = 0, placeholders = 0, last = 0;
        store::Status apply_error;
        const control::Result r = client->recover(s.stream_id(), o->from, o->to, [&](const v1::RecoverBatch& b) {
            ++batches;
            lsns += b.update_count();
            last = b.first_lsn() + b.update_count() - 1;
            if (b.placeholder()) placeholders += b.update_count();
            if (replica) {
                apply_error = b.placeholder()
                    ? replica->skip(o->db, b.first_lsn(), last)
                    : replica->apply(o->db, b.first_lsn(), b.update_count(),
                                     {reinterpret_cast<const std::uint8_t*>(b.body().data()), b.body().size()}, filter);
                return apply_error.is_ok();
            }
            if (o->c.json) {
                nlohmann::json j{{"first_lsn", b.first_lsn()}, {"update_count", b.update_count()},
                                 {"placeholder", b.placeholder()}, {"body_bytes", b.body().size()}};
                print_json(j);
            } else {
                std::printf("batch first_lsn=%llu count=%u %s bytes=%zu\n", static_cast<unsigned long long>(b.first_lsn()),
                            b.update_count(), b.placeholder() ? "placeholder" : "updates", b.body().size());
            }
            return true;
        });
        (void)client->unsubscribe(s.stream_id());
        if (!apply_error) fail(apply_error, "recover");
        check(r, "recover");
        if (o->c.json) {
            print_json({{"batches", batches}, {"lsns", lsns}, {"placeholders", placeholders}, {"last_lsn", last}});
        } else {
            std::printf("recovered batches=%llu lsns=%llu placeholders=%llu last_lsn=%llu\n",
                        static_cast<unsigned long long>(batches), static_cast<unsigned long long>(lsns),
                        static_cast<unsigned long long>(placeholders), static_cast<unsigned long long>(last));
        }
    });
}

void add_snapshot(CLI::App& app) {
    auto c = std::make_shared<Connection>();
    auto db = std::make_shared<std::string>();
    auto dir = std::make_shared<std::string>();
    CLI::App* cmd = app.add_subcommand("snapshot", "Build (or rebuild) a replica of DB in --to from a snapshot, and verify its checksum");
    add_connection(cmd, *c);
    cmd->add_option("DB", *db, "database")->required();
    cmd->add_option("--to", *dir, "replica store directory (created if missing)")->required();
    cmd->callback([c, db, dir] {
        auto client = connect(*c, "snapshot");
        const auto replica_store = open_replica(*dir, "snapshot");
        store::ReplicaStore& replica = *replica_store;
        std::uint64_t lsn = 0, records = 0, pages = 0;
        std::string sha;
        bool last = false;
        store::Status st;
        std::vector<store::Record> recs;
        const control::Result r = client->snapshot(*db, [&](const v1::SnapshotPage& p) {
            if (pages++ == 0) {
                lsn = p.lsn();
                st = replica.begin_bootstrap(*db, uuid_of(p.store_uuid(), "snapshot"));
                if (!st) return false;
            }
            recs.clear();
            for (const v1::SnapshotRecord& x : p.records()) {
                if (x.reader_group() > 65535) {
                    st = {store::kCorrupt, "the server sent reader group " + std::to_string(x.reader_group())};
                    return false;
                }
                recs.push_back({.key = {reinterpret_cast<const std::uint8_t*>(x.key().data()), x.key().size()},
                                .group = static_cast<std::uint16_t>(x.reader_group()),
                                .value = {reinterpret_cast<const std::uint8_t*>(x.value().data()), x.value().size()}});
            }
            st = replica.bootstrap_page(*db, recs);
            if (p.last()) {
                last = true;
                records = p.record_count();
                sha = p.sha256();
            }
            return st.is_ok();
        });
        if (!st) fail(st, "snapshot");
        check(r, "snapshot");
        if (!last) throw CLI::RuntimeError("replicast snapshot: the stream ended without its last page", kExitFindings);
        if (const store::Status f = replica.finish_bootstrap(*db, lsn); !f) fail(f, "snapshot");
        store::Checksum mine;
        if (const store::Status f = store::checksum(replica, *db, mine); !f) fail(f, "snapshot");
        const bool verified = mine.sha256 == sha && mine.records == records;
        if (c->json) {
            print_json({{"db", *db}, {"records", mine.records}, {"lsn", lsn}, {"sha256", mine.sha256}, {"pages", pages},
                        {"verified", verified}, {"server_sha256", sha}, {"server_records", records}});
        } else {
            std::printf("%s pages=%llu %s\n", mine.line(*db).c_str(), static_cast<unsigned long long>(pages),
                        verified ? "verified" : "MISMATCH");
        }
        if (!verified) {
            throw CLI::RuntimeError("replicast snapshot: the replica's checksum " + mine.sha256 + " (" +
                                    std::to_string(mine.records) + " records) is not the server's " + sha + " (" +
                                    std::to_string(records) + ")", kExitFindings);
        }
    });
}

struct PublishOptions {
    Connection c;
    std::string db, key, value, file, request_id, format = "auto";
    std::uint32_t retry_seconds = 30;
    int group = 0;
    bool del = false;
    std::size_t batch = 1000;
    double rate = 0;  // updates per second at most (--file; 0: as fast as the server answers)
};

void add_publish(CLI::App& app) {
    auto o = std::make_shared<PublishOptions>();
    CLI::App* cmd = app.add_subcommand("publish", "Write to the master through the server: KEY VALUE, or --file F (JSON lines or TSV, as load)");
    add_connection(cmd, o->c);
    cmd->add_option("DB", o->db, "database")->required();
    cmd->add_option("KEY", o->key, "key");
    cmd->add_option("VALUE", o->value, "value (none with --delete)");
    cmd->add_option("--group", o->group, "reader group of KEY")->check(CLI::Range(0, 65535));
    cmd->add_flag("--delete", o->del, "delete KEY");
    cmd->add_option("--file", o->file, "records to publish, as `replicast load` reads them ('-' = stdin)");
    cmd->add_option("--format", o->format, "auto, json or tsv")->check(CLI::IsMember({"auto", "json", "tsv"}));
    cmd->add_option("--batch", o->batch, "updates per Publish call (--file)")->check(CLI::Range(1, 100000));
    cmd->add_option("--rate", o->rate, "--file: at most this many updates per second, on a schedule from the first "
                                       "(each call goes when its last update is due; prints seconds= too)")
        ->check(CLI::Range(0.0, 1e9));
    cmd->add_option("--request-id", o->request_id, "makes a retry exactly-once (at most 64 bytes; batch N of a file gets ID/N; "
                                                    "default: a random id for this run)");
    cmd->add_option("--retry-seconds", o->retry_seconds, "retry a call refused as UNAVAILABLE or RESOURCE_EXHAUSTED for this "
                                                        "long (0: never)")->check(CLI::Range(0, 3600));
    cmd->callback([o] {
        std::vector<v1::PublishRequest> requests;
        auto add = [&](const LoadOp& op) {
            if (requests.empty() || requests.back().updates_size() >= static_cast<int>(o->batch)) {
                requests.emplace_back().set_database(o->db);
            }
            v1::Update* u = requests.back().add_updates();
            u->set_op(op.op == wire::Op::put ? v1::OP_PUT : v1::OP_DELETE);
            u->set_reader_group(op.group);
            u->set_key(op.key);
            u->set_value(op.value);
        };
        if (!o->file.empty()) {
            if (!o->key.empty()) throw CLI::RuntimeError("replicast publish: give KEY VALUE or --file, not both", kExitUsage);
            std::unique_ptr<LineReader> in;
            try {
                in = std::make_unique<LineReader>(o->file);
            } catch (const std::runtime_error& e) {
                throw CLI::RuntimeError(std::string("replicast publish: ") + e.what(), kExitUsage);
            }
            bool known = o->format != "auto";
            LoadFormat format = o->format == "json" ? LoadFormat::json : LoadFormat::tsv;
            std::string_view line;
            for (std::uint64_t n = 1; in->next(line); ++n) {
                if (!known && line.find_first_not_of(" \t\r") != std::string::npos) {
                    format = guess_format(line);
                    known = true;
                }
                LoadOp op;
                const std::string why = parse_load_line(line, format, op);
                if (why == "skip") continue;
                if (!why.empty()) throw CLI::RuntimeError("replicast publish: " + o->file + ":" + std::to_string(n) + ": " + why, kExitUsage);
                add(op);
            }
        } else {
            if (o->key.empty()) throw CLI::RuntimeError("replicast publish: give KEY VALUE, or --file", kExitUsage);
            add({.op = o->del ? wire::Op::del : wire::Op::put, .group = static_cast<std::uint16_t>(o->group), .key = o->key,
                 .value = o->value});
        }
        if (requests.empty()) throw CLI::RuntimeError("replicast publish: nothing to publish", kExitUsage);
        // Every call carries a request id (the given one, or a random one for
        // this run), so that a call refused for load or lost on the way can be
        // sent again without writing twice: the server remembers the id.
        std::string base = o->request_id;
        if (base.empty()) {
            std::array<std::uint8_t, 12> r{};
            if (RAND_bytes(r.data(), static_cast<int>(r.size())) != 1) {
                throw CLI::RuntimeError("replicast publish: no random bytes for a request id", kExitUsage);
            }
            base = "cli-" + hex(std::string(r.begin(), r.end()));
        }
        for (std::size_t i = 0; i < requests.size(); ++i) {
            requests[i].set_request_id(requests.size() == 1 ? base : base + "/" + std::to_string(i));
        }
        auto client = connect(o->c, "publish");
        std::uint64_t updates = 0, first = 0, duplicates = 0;
        RatePacer pacer(o->rate);
        const auto started = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < requests.size(); ++i) {
            pacer.wait_due(updates + static_cast<std::uint64_t>(requests[i].updates_size()) - 1);
            v1::PublishReply reply;
            control::Result r = client->publish(requests[i], reply);
            // UNAVAILABLE and RESOURCE_EXHAUSTED say "try again later": back
            // off (10 ms doubling to 1 s) for at most --retry-seconds.
            const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(o->retry_seconds);
            for (auto pause = std::chrono::milliseconds(10);
                 !r && (r.code() == control::Code::unavailable || r.code() == control::Code::resource_exhausted) &&
                 std::chrono::steady_clock::now() + pause < give_up;
                 pause = std::min(pause * 2, std::chrono::milliseconds(1000))) {
                std::this_thread::sleep_for(pause);
                r = client->publish(requests[i], reply);
            }
            if (!r) {
                throw CLI::RuntimeError("replicast publish: " + r.text() + " (" + std::to_string(updates) +
                                        " updates committed before this call)", kExitFindings);
            }
            if (i == 0) first = reply.first_lsn();
            updates += reply.update_count();
            if (reply.duplicate()) ++duplicates;
        }
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        if (o->c.json) {
            nlohmann::json j{{"first_lsn", first}, {"updates", updates}, {"calls", requests.size()},
                                            {"duplicates", duplicates}};
            if (o->rate > 0) j["seconds"] = secs;
            print_json(j);
        } else {
            std::printf("first_lsn=%llu updates=%llu%s", static_cast<unsigned long long>(first),
                        static_cast<unsigned long long>(updates), duplicates != 0 ? " duplicate" : "");
            if (o->rate > 0) std::printf(" seconds=%.6f", secs);
            std::printf("\n");
        }
    });
}

void add_stats(CLI::App& app) {
    auto c = std::make_shared<Connection>();
    CLI::App* cmd = app.add_subcommand("stats", "The server's statistics, its streams, its control counters and what each identity reported (admin)");
    add_connection(cmd, *c);
    cmd->callback([c] {
        v1::StatsReply s;
        check(connect(*c, "stats")->stats(s), "stats");
        if (c->json) return print_json(to_json(s));
        std::printf("uptime_ms=%llu packets=%llu bytes=%llu\n", static_cast<unsigned long long>(s.uptime_ms()),
                    static_cast<unsigned long long>(s.packets()), static_cast<unsigned long long>(s.bytes()));
        for (const v1::StreamStatistics& x : s.streams()) {
            std::printf("stream db=%s id=%u group=%s port=%u epoch=%u multicast_lsn=%llu last_lsn=%llu chains=%llu subscribers=%u "
                        "chain_updates=%u lossy_receivers=%u loss_ppm=%u rate_bps=%llu rate_changes=%llu overrun_reports=%llu\n",
                        x.database().c_str(), x.stream_id(), x.group().c_str(), x.port(), x.key_epoch(),
                        static_cast<unsigned long long>(x.multicast_lsn()), static_cast<unsigned long long>(x.last_lsn()),
                        static_cast<unsigned long long>(x.chains()), x.subscribers(), x.chain_updates(), x.lossy_receivers(),
                        x.loss_ppm(), static_cast<unsigned long long>(x.rate_bps()),
                        static_cast<unsigned long long>(x.rate_changes()),
                        static_cast<unsigned long long>(x.overrun_reports()));
            for (const v1::Lease& l : x.leases()) {
                std::printf("lease db=%s identity=%s expires_in_ms=%llu\n", x.database().c_str(), l.identity().c_str(),
                            static_cast<unsigned long long>(l.expires_in_ms()));
            }
        }
        for (const v1::IdentityReport& x : s.identities()) {
            std::printf("identity %s age_ms=%llu packets=%llu gaps=%llu applied_lsn=%llu\n", x.identity().c_str(),
                        static_cast<unsigned long long>(x.age_ms()), static_cast<unsigned long long>(x.stats().packets()),
                        static_cast<unsigned long long>(x.stats().gaps()), static_cast<unsigned long long>(x.stats().applied_lsn()));
        }
        const v1::ControlCounters& k = s.control();
        std::printf("control calls=%llu denied=%llu invalid=%llu exhausted=%llu oversize=%llu recoveries=%llu snapshots=%llu publishes=%llu duplicates=%llu\n",
                    static_cast<unsigned long long>(k.calls()), static_cast<unsigned long long>(k.denied()),
                    static_cast<unsigned long long>(k.invalid()), static_cast<unsigned long long>(k.exhausted()),
                    static_cast<unsigned long long>(k.oversize()),
                    static_cast<unsigned long long>(k.recoveries()), static_cast<unsigned long long>(k.snapshots()),
                    static_cast<unsigned long long>(k.publishes()), static_cast<unsigned long long>(k.duplicate_publishes()));
    });
}

void add_keys(CLI::App& app) {
    CLI::App* keys = app.add_subcommand("keys", "Stream keys: show them (subscriber), rotate them (admin)");
    keys->require_subcommand(1);
    auto c = std::make_shared<Connection>();
    auto db = std::make_shared<std::string>();

    auto sc = std::make_shared<Connection>();
    auto sdb = std::make_shared<std::string>();
    auto show_keys = std::make_shared<bool>(false);
    CLI::App* show = keys->add_subcommand("show", "The key epochs of DB's stream as Keys hands them out (the current, "
                                                  "an announced next one, the previous one in its overlap)");
    add_connection(show, *sc);
    show->add_option("DB", *sdb, "database")->required();
    show->add_flag("--show-keys", *show_keys, "also print the keys (hex): secrets, for debugging only");
    show->callback([sc, sdb, show_keys] {
        auto client = connect(*sc, "keys show");
        v1::DatabasesReply dbs;
        check(client->databases(dbs), "keys show");
        std::uint32_t stream_id = 0;
        for (const v1::DatabaseInfo& d : dbs.databases()) {
            if (d.name() == *sdb && d.streaming()) stream_id = d.stream_id();
        }
        if (stream_id == 0) {
            throw CLI::RuntimeError("replicast keys show: " + *sdb + " is not multicast (or not readable by this identity)",
                                    kExitFindings);
        }
        v1::KeysReply k;
        check(client->keys(stream_id, k), "keys show");
        if (sc->json) {
            nlohmann::json j{{"db", *sdb}, {"stream_id", stream_id}, {"key_epoch", k.key_epoch()}, {"keys", nlohmann::json::array()}};
            for (const v1::StreamKey& e : k.keys()) {
                nlohmann::json one{{"epoch", e.epoch()}};
                if (*show_keys) one["key"] = hex(e.key());
                j["keys"].push_back(one);
            }
            return print_json(j);
        }
        std::printf("db=%s stream_id=%u key_epoch=%u\n", sdb->c_str(), stream_id, k.key_epoch());
        for (const v1::StreamKey& e : k.keys()) {
            std::printf("key epoch=%u%s%s\n", e.epoch(), *show_keys ? " key=" : "", *show_keys ? hex(e.key()).c_str() : "");
        }
    });

    CLI::App* rotate = keys->add_subcommand("rotate", "Start a new key epoch for DB's stream now (announced in-band)");
    add_connection(rotate, *c);
    rotate->add_option("DB", *db, "database")->required();
    rotate->callback([c, db] {
        std::uint32_t epoch = 0;
        check(connect(*c, "keys rotate")->rotate_key(*db, epoch), "keys rotate");
        if (c->json) return print_json({{"db", *db}, {"next_epoch", epoch}});
        std::printf("db=%s next_epoch=%u\n", db->c_str(), epoch);
    });
}

}  // namespace

void add_control_commands(CLI::App& app) {
    add_databases(app);
    add_subscribe(app);
    add_unsubscribe(app);
    add_recover(app);
    add_snapshot(app);
    add_publish(app);
    add_stats(app);
    add_keys(app);
}

}  // namespace replicast::tools
