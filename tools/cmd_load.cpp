// `replicast load`: bulk writes from JSON lines or TSV, in batched transactions
// through the master's hook. A bad line stops the load after committing every
// line before it, and names the file and line so the load can resume there.
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "tools/commands.hpp"
#include "tools/line_reader.hpp"
#include "tools/load_line.hpp"
#include "tools/rate_pacer.hpp"
#include "tools/store_open.hpp"

namespace replicast::tools {

namespace {

struct LoadOptions {
    std::string store, db, file, format = "auto";
    std::size_t batch = 4096;
    double rate = 0;  // records per second at most (0: as fast as the store takes them)
    std::size_t initial_map_bytes = 0;  // 0: the store's default
};

class Progress {
public:
    Progress() : tty_(::isatty(STDERR_FILENO) == 1), start_(std::chrono::steady_clock::now()), last_(start_) {}

    void update(std::uint64_t records, bool final = false) {
        const auto now = std::chrono::steady_clock::now();
        if (!final && now - last_ < (tty_ ? std::chrono::milliseconds(200) : std::chrono::seconds(5))) return;
        last_ = now;
        const double secs = std::chrono::duration<double>(now - start_).count();
        const double rate = secs > 0 ? static_cast<double>(records) / secs : 0;
        if (tty_) {
            std::fprintf(stderr, "\r  %12" PRIu64 " records  %10.0f records/s  %6.1f s%s", records, rate, secs, final ? "\n" : "");
        } else {
            std::fprintf(stderr, "load: %" PRIu64 " records, %.0f records/s, %.1f s\n", records, rate, secs);
        }
    }

private:
    bool tty_;
    std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace

void add_load_command(CLI::App& app) {
    auto o = std::make_shared<LoadOptions>();
    CLI::App* cmd = app.add_subcommand("load",
        "Load records into database --db of the master store from FILE: JSON lines\n"
        "({\"key\":..,\"value\":..,\"group\":..,\"op\":\"put|del\"}, or value_base64) or TSV (KEY<TAB>VALUE[<TAB>GROUP])");
    cmd->add_option("--store", o->store, "master store directory (created if missing)")->required();
    cmd->add_option("--db", o->db, "database name")->required();
    cmd->add_option("--format", o->format, "auto (by the first line), json or tsv")->check(CLI::IsMember({"auto", "json", "tsv"}));
    cmd->add_option("--batch", o->batch, "records per transaction")->check(CLI::Range(1, 1 << 20));
    cmd->add_option("--rate", o->rate,
                    "write at most this many records per second, on a schedule from the first one (a transaction "
                    "takes what is due, up to --batch); prints seconds= too. 0: as fast as possible")
        ->check(CLI::Range(0.0, 1e9));
    cmd->add_option("--initial-map-bytes", o->initial_map_bytes,
                    "the store's first LMDB map (default 1 GiB; it doubles when full): small only to exercise growth")
        ->check(CLI::Range(std::size_t{1} << 20, std::size_t{1} << 40));
    cmd->add_option("FILE", o->file, "input file ('-' = stdin)")->required();
    cmd->callback([o] {
        std::unique_ptr<LineReader> in;
        try {
            in = std::make_unique<LineReader>(o->file);
        } catch (const std::runtime_error& e) {
            throw CLI::RuntimeError(std::string("replicast load: ") + e.what(), kExitUsage);
        }
        store::MasterStore master = open_master(o->store, false, o->initial_map_bytes);
        std::vector<LoadOp> ops;
        ops.reserve(o->batch);
        std::vector<wire::UpdateView> views;
        views.reserve(o->batch);
        std::uint64_t loaded = 0, line_no = 0, last_lsn = 0;
        bool format_known = o->format != "auto";
        LoadFormat format = o->format == "json" ? LoadFormat::json : LoadFormat::tsv;
        Progress progress;
        RatePacer pacer(o->rate);
        std::size_t want = 0;  // records in the transaction being filled (0: not decided yet)
        std::chrono::steady_clock::time_point first_at{};
        auto commit = [&] {
            if (ops.empty()) return;
            views.clear();
            for (const LoadOp& op : ops) views.push_back(op.view());
            std::uint64_t first = 0;
            if (const store::Status s = master.write(o->db, views, &first); !s) {
                throw CLI::RuntimeError("replicast load: " + s.message() + " (" + std::to_string(loaded) +
                                            " records were committed before this batch)",
                                        kExitFindings);
            }
            loaded += ops.size();
            last_lsn = first + ops.size() - 1;
            ops.clear();
            want = 0;
            progress.update(loaded);
        };
        std::string_view line;
        while (in->next(line)) {
            ++line_no;
            // The first line that holds a record decides (blank lines and
            // '#' comments say nothing about the format).
            if (const auto at = line.find_first_not_of(" \t\r");
                !format_known && at != std::string::npos && line[0] != '#') {
                format = guess_format(line);
                format_known = true;
            }
            LoadOp op;
            const std::string why = parse_load_line(line, format, op);
            if (why == "skip") continue;
            if (!why.empty()) {
                commit();
                progress.update(loaded, true);
                throw CLI::RuntimeError("replicast load: " + o->file + ":" + std::to_string(line_no) + ": " + why +
                                            " (the " + std::to_string(loaded) + " records before it are committed)",
                                        kExitUsage);
            }
            if (want == 0) {
                want = pacer.take(loaded, o->batch);
                if (loaded == 0) first_at = std::chrono::steady_clock::now();
            }
            ops.push_back(std::move(op));
            if (ops.size() == want) commit();
        }
        commit();
        progress.update(loaded, true);
        if (o->rate > 0) {
            const double secs = loaded == 0 ? 0.0 : std::chrono::duration<double>(std::chrono::steady_clock::now() - first_at).count();
            std::printf("loaded=%" PRIu64 " last_lsn=%" PRIu64 " seconds=%.6f\n", loaded, last_lsn, secs);
        } else {
            std::printf("loaded=%" PRIu64 " last_lsn=%" PRIu64 "\n", loaded, last_lsn);
        }
    });
}

}  // namespace replicast::tools
