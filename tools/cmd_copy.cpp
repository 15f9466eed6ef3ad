// `replicast copy`: bring a local replica store up to date with a local master,
// the way the client daemon does over the network: a snapshot bootstrap when
// the replica is new, behind the log's retention, or of another master; then
// the log from applied + 1, in chains. For seeding replicas and for tests.
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "store/bootstrap_policy.hpp"
#include "store/master.hpp"
#include "store/replica.hpp"
#include "tools/commands.hpp"
#include "tools/store_open.hpp"

namespace replicast::tools {

namespace {

struct CopyOptions {
    std::string from, to, db;
    std::vector<int> groups;
    std::uint32_t chain = 1000;
};

[[noreturn]] void fail(const store::Status& s) { throw CLI::RuntimeError("replicast copy: " + s.message(), kExitFindings); }

}  // namespace

void add_copy_command(CLI::App& app) {
    auto o = std::make_shared<CopyOptions>();
    CLI::App* cmd = app.add_subcommand("copy", "Bring a local replica store up to date with a local master store");
    cmd->add_option("--from", o->from, "master store directory")->required();
    cmd->add_option("--to", o->to, "replica store directory (created if missing)")->required();
    cmd->add_option("--db", o->db, "database name")->required();
    cmd->add_option("--groups", o->groups, "reader groups the replica keeps (default: all)")->delimiter(',')
        ->check(CLI::Range(0, 65535));
    cmd->add_option("--chain", o->chain, "updates per applied chain")->check(CLI::Range(1, 1000000));
    cmd->callback([o] {
        store::MasterStore master = open_master(o->from, /*must_exist=*/true);
        std::unique_ptr<store::ReplicaStore> replica;
        try {
            replica = std::make_unique<store::ReplicaStore>(o->to);
        } catch (const store::StoreError& e) {
            throw CLI::RuntimeError(std::string("replicast copy: ") + e.what(), kExitUsage);
        }
        const std::vector<std::uint16_t> groups(o->groups.begin(), o->groups.end());
        const store::GroupFilter filter{.all = groups.empty(), .groups = groups};
        std::uint64_t oldest = 0, last = 0;
        if (store::Status s = master.lsn_range(o->db, oldest, last); !s) fail(s);
        store::ReplicaState st;
        if (store::Status s = replica->state(o->db, st); !s && s.code() != MDB_NOTFOUND) fail(s);
        const bool stale = store::bootstrap_reason(st, {.uuid = master.uuid(), .oldest_lsn = oldest, .last_lsn = last}) !=
                           store::BootstrapReason::none;
        std::uint64_t bootstrapped = 0;
        if (stale) {
            if (store::Status s = replica->begin_bootstrap(o->db, master.uuid()); !s) fail(s);
            std::vector<std::vector<std::uint8_t>> keys, values;
            std::vector<store::Record> page;
            std::uint64_t snap_lsn = 0;
            store::Status page_status;
            auto flush = [&] {
                if (page.empty()) return;
                if (store::Status s = replica->bootstrap_page(o->db, page); !s) page_status = s;
                bootstrapped += page.size();
                page.clear();
                keys.clear();
                values.clear();
            };
            const store::Status s = master.snapshot(o->db, [&](std::uint64_t l) { snap_lsn = l; }, [&](const store::Record& r) {
                if (!filter.allows(r.group)) return true;
                // r views the master's read transaction, which ends before the
                // last page is flushed: the page holds copies. (Moving a vector
                // keeps its buffer, so the views below survive keys' growth.)
                keys.emplace_back(r.key.begin(), r.key.end());
                values.emplace_back(r.value.begin(), r.value.end());
                page.push_back({.key = keys.back(), .group = r.group, .value = values.back()});
                if (page.size() == 4096) flush();
                return page_status.is_ok();
            });
            flush();
            if (!s) fail(s);
            if (!page_status) fail(page_status);
            if (store::Status f = replica->finish_bootstrap(o->db, snap_lsn); !f) fail(f);
            st.applied_lsn = snap_lsn;
        }
        std::uint64_t applied = 0;
        std::vector<std::uint8_t> body;
        std::uint64_t first = st.applied_lsn + 1;
        std::uint32_t n = 0;
        store::Status apply_status;
        auto apply = [&] {
            if (n == 0) return;
            if (store::Status s = replica->apply(o->db, first, n, body, filter); !s) apply_status = s;
            applied += n;
            first += n;
            n = 0;
            body.clear();
        };
        // The log is read from applied + 1 and must continue from there without
        // a gap: a trim between lsn_range() and here would make read_log start
        // further on, and applying those entries under the wrong LSNs loses the
        // ones between.
        std::uint64_t gap_at = 0;
        const store::Status s = master.read_log(o->db, st.applied_lsn + 1, last, [&](std::uint64_t lsn, std::span<const std::uint8_t> u) {
            if (lsn != first + n) {
                gap_at = lsn;
                return false;
            }
            body.insert(body.end(), u.begin(), u.end());
            if (++n == o->chain) apply();
            return apply_status.is_ok();
        });
        apply();
        if (!s) fail(s);
        if (!apply_status) fail(apply_status);
        if (gap_at != 0) {
            throw CLI::RuntimeError("replicast copy: " + o->db + ": the master's log now starts at LSN " +
                                        std::to_string(gap_at) + ", after the replica's next LSN " +
                                        std::to_string(first) + " (trimmed meanwhile): run copy again to bootstrap",
                                    kExitFindings);
        }
        std::printf("bootstrapped=%" PRIu64 " applied=%" PRIu64 " lsn=%" PRIu64 "\n", bootstrapped, applied, last);
    });
}

}  // namespace replicast::tools
