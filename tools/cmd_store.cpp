// Data commands on a store directory: put, del, get, dump, log, checksum.
// Writes go through the master's hook (logged, multicast like any write).
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "store/checksum.hpp"
#include "store/master.hpp"
#include "store/replica.hpp"
#include "tools/commands.hpp"
#include "tools/store_open.hpp"

namespace replicast::tools {

namespace {

std::span<const std::uint8_t> bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

bool read_whole_file(const std::string& path, std::string& out) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return false;
    char buf[65536];
    std::size_t n = 0;
    out.clear();
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    const bool ok = std::ferror(f) == 0;
    std::fclose(f);
    return ok;
}

[[noreturn]] void fail(const store::Status& s) { throw CLI::RuntimeError("replicast: " + s.message(), kExitFindings); }

void print_escaped(std::span<const std::uint8_t> b) {
    for (std::uint8_t c : b) {
        if (c == '\\') std::fputs("\\\\", stdout);
        else if (c >= 0x20 && c < 0x7f && c != '\t') std::fputc(c, stdout);
        else std::printf("\\x%02x", c);
    }
}

struct WriteOptions {
    std::string store, db, key, value, file;
    int group = 0;
};

void add_put(CLI::App& app) {
    auto o = std::make_shared<WriteOptions>();
    CLI::App* cmd = app.add_subcommand("put", "Write KEY = VALUE to database --db of the master store (created if missing)");
    cmd->add_option("--store", o->store, "master store directory")->required();
    cmd->add_option("--db", o->db, "database name")->required();
    cmd->add_option("--group", o->group, "reader group (0 = everyone)")->check(CLI::Range(0, 65535));
    cmd->add_option("KEY", o->key, "key (1..511 bytes)")->required();
    cmd->add_option("VALUE", o->value, "value");
    cmd->add_option("--file", o->file, "read the value from this file")->check(CLI::ExistingFile)->excludes("VALUE");
    cmd->callback([o] {
        std::string value = o->value;
        if (!o->file.empty() && !read_whole_file(o->file, value)) {
            throw CLI::RuntimeError("replicast put: cannot read " + o->file, kExitUsage);
        }
        store::MasterStore master = open_master(o->store);
        const wire::UpdateView u{.op = wire::Op::put, .reader_group = static_cast<std::uint16_t>(o->group),
                                 .key = bytes(o->key), .value = bytes(value)};
        std::uint64_t lsn = 0;
        if (const store::Status s = master.write(o->db, std::span(&u, 1), &lsn); !s) fail(s);
        std::printf("lsn=%" PRIu64 "\n", lsn);
    });
}

void add_del(CLI::App& app) {
    auto o = std::make_shared<WriteOptions>();
    CLI::App* cmd = app.add_subcommand("del", "Delete KEY from database --db of the master store");
    cmd->add_option("--store", o->store, "master store directory")->required();
    cmd->add_option("--db", o->db, "database name")->required();
    cmd->add_option("--group", o->group, "reader group of the delete (0 = everyone)")->check(CLI::Range(0, 65535));
    cmd->add_option("KEY", o->key, "key")->required();
    cmd->callback([o] {
        store::MasterStore master = open_master(o->store);
        const wire::UpdateView u{.op = wire::Op::del, .reader_group = static_cast<std::uint16_t>(o->group),
                                 .key = bytes(o->key), .value = {}};
        std::uint64_t lsn = 0;
        if (const store::Status s = master.write(o->db, std::span(&u, 1), &lsn); !s) fail(s);
        std::printf("lsn=%" PRIu64 "\n", lsn);
    });
}

struct ReadOptions {
    std::string store, db, key;
    std::vector<int> groups;
    std::uint64_t from = 1, to = ~std::uint64_t{0};
};

void add_get(CLI::App& app) {
    auto o = std::make_shared<ReadOptions>();
    CLI::App* cmd = app.add_subcommand("get", "Print the value of KEY (exit 1 when absent)");
    cmd->add_option("--store", o->store, "store directory (master or replica)")->required();
    cmd->add_option("--db", o->db, "database name")->required();
    cmd->add_option("KEY", o->key, "key")->required();
    cmd->callback([o] {
        bool found = false;
        store::Status s;
        with_store(o->store, [&](store::MasterStore& m) {
            std::vector<std::uint8_t> v;
            std::uint16_t g = 0;
            s = m.get(o->db, bytes(o->key), found, v, g);
            if (s && found) std::fwrite(v.data(), 1, v.size(), stdout);
        }, [&](store::ReplicaStore& r) {
            std::uint64_t lsn = 0;
            s = r.scan(o->db, lsn, [&](const store::Record& rec) {
                if (std::string_view(reinterpret_cast<const char*>(rec.key.data()), rec.key.size()) != o->key) return true;
                std::fwrite(rec.value.data(), 1, rec.value.size(), stdout);
                found = true;
                return false;
            });
        });
        if (!s) fail(s);
        if (!found) throw CLI::RuntimeError("replicast get: no key \"" + o->key + "\" in " + o->db, kExitFindings);
    });
}

void add_dump(CLI::App& app) {
    auto o = std::make_shared<ReadOptions>();
    CLI::App* cmd = app.add_subcommand("dump", "Print every record as KEY<TAB>GROUP<TAB>VALUE (non-printable bytes as \\xNN)");
    cmd->add_option("--store", o->store, "store directory (master or replica)")->required();
    cmd->add_option("--db", o->db, "database name")->required();
    cmd->callback([o] {
        auto print = [](const store::Record& r) {
            print_escaped(r.key);
            std::printf("\t%u\t", r.group);
            print_escaped(r.value);
            std::fputc('\n', stdout);
            return true;
        };
        store::Status s;
        with_store(o->store, [&](store::MasterStore& m) { s = m.snapshot(o->db, [](std::uint64_t) {}, print); },
                   [&](store::ReplicaStore& r) {
                       std::uint64_t lsn = 0;
                       s = r.scan(o->db, lsn, print);
                   });
        if (!s) fail(s);
    });
}

// Retention by hand (the server runs the same policy on a schedule, never
// past what it has multicast; a store without a server has no such bound).
void add_trim(CLI::App& app) {
    struct TrimOptions {
        std::string store, db;
        std::uint64_t keep_updates = 0, keep_bytes = 0;
        bool force = false;
    };
    auto o = std::make_shared<TrimOptions>();
    CLI::App* cmd = app.add_subcommand("trim", "Drop the oldest log entries of a master beyond a retention policy");
    cmd->add_option("--store", o->store, "master store directory")->required();
    cmd->add_option("--db", o->db, "database name")->required();
    cmd->add_option("--keep-updates", o->keep_updates, "keep at least this many newest entries");
    cmd->add_option("--keep-bytes", o->keep_bytes, "keep at least this many bytes of newest entries");
    cmd->add_flag("--force", o->force,
                  "also drop entries a server has not multicast yet (its replicas then need them from a snapshot)");
    cmd->callback([o] {
        if (o->keep_updates == 0 && o->keep_bytes == 0) {
            throw CLI::RuntimeError("replicast trim: give --keep-updates and/or --keep-bytes", kExitUsage);
        }
        store::MasterStore master = open_master(o->store, /*must_exist=*/true);
        // A database a server streams (stopped or lagging) keeps every entry
        // it has not multicast yet, as the server's own retention does.
        store::StreamState stream;
        if (const store::Status s = master.stream_state(o->db, stream); !s) fail(s);
        const bool streamed = stream.packet_seq_watermark != 0;
        const std::uint64_t keep_from = streamed && !o->force ? stream.multicast_lsn + 1 : 0;
        std::uint64_t removed = 0, oldest = 0, last = 0;
        if (const store::Status s = master.trim(
                o->db, {.keep_updates = o->keep_updates, .keep_bytes = o->keep_bytes, .keep_from = keep_from}, removed);
            !s) {
            fail(s);
        }
        if (const store::Status s = master.lsn_range(o->db, oldest, last); !s) fail(s);
        std::printf("removed=%" PRIu64 " oldest_lsn=%" PRIu64 " last_lsn=%" PRIu64 "\n", removed, oldest, last);
        if (keep_from != 0 && oldest == keep_from && keep_from <= last) {
            std::fprintf(stderr, "replicast trim: kept LSN %" PRIu64 " and later: not multicast yet (--force drops them)\n",
                         keep_from);
        }
    });
}

void add_log(CLI::App& app) {
    auto o = std::make_shared<ReadOptions>();
    CLI::App* cmd = app.add_subcommand("log", "Print the update log of a master: LSN<TAB>op<TAB>GROUP<TAB>KEY[<TAB>VALUE]");
    cmd->add_option("--store", o->store, "master store directory")->required();
    cmd->add_option("--db", o->db, "database name")->required();
    cmd->add_option("--from", o->from, "first LSN")->check(CLI::PositiveNumber);
    cmd->add_option("--to", o->to, "last LSN");
    cmd->callback([o] {
        store::MasterStore master = open_master(o->store, /*must_exist=*/true);
        bool bad = false;
        const store::Status s = master.read_log(o->db, o->from, o->to, [&](std::uint64_t lsn, std::span<const std::uint8_t> enc) {
            wire::UpdateView u;
            std::size_t used = 0;
            if (wire::parse_update(enc, u, used) != wire::WireError::ok || used != enc.size()) {
                std::printf("%" PRIu64 "\tCORRUPT\n", lsn);
                bad = true;
                return true;
            }
            std::printf("%" PRIu64 "\t%s\t%u\t", lsn, u.op == wire::Op::put ? "put" : "del", u.reader_group);
            print_escaped(u.key);
            if (u.op == wire::Op::put) {
                std::fputc('\t', stdout);
                print_escaped(u.value);
            }
            std::fputc('\n', stdout);
            return true;
        });
        if (!s) fail(s);
        if (bad) throw CLI::RuntimeError("replicast log: corrupt log entries (see CORRUPT lines)", kExitFindings);
    });
}

void add_checksum(CLI::App& app) {
    auto o = std::make_shared<ReadOptions>();
    CLI::App* cmd = app.add_subcommand("checksum",
        "Print db=NAME records=N lsn=L sha256=HEX over the records in key order; a replica in sync prints the\n"
        "same line as its master (use --groups on the master to match a replica that keeps only some groups)");
    cmd->add_option("--store", o->store, "store directory (master or replica)")->required();
    cmd->add_option("--db", o->db, "database name")->required();
    cmd->add_option("--groups", o->groups, "master only: count only these reader groups (0 is always counted)")
        ->delimiter(',')->check(CLI::Range(0, 65535));
    cmd->callback([o] {
        store::Checksum c;
        store::Status s;
        std::vector<std::uint16_t> groups(o->groups.begin(), o->groups.end());
        with_store(o->store, [&](store::MasterStore& m) {
            s = store::checksum(m, o->db, store::GroupFilter{.all = groups.empty(), .groups = groups}, c);
        }, [&](store::ReplicaStore& r) { s = store::checksum(r, o->db, c); });
        if (!s) fail(s);
        std::printf("%s\n", c.line(o->db).c_str());
    });
}

}  // namespace

void add_store_commands(CLI::App& app) {
    add_put(app);
    add_del(app);
    add_get(app);
    add_dump(app);
    add_log(app);
    add_trim(app);
    add_checksum(app);
    add_load_command(app);
    add_copy_command(app);
}

}  // namespace replicast::tools
