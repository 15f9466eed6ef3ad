#include "tools/lab_bench_exec.hpp"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "replicast_config.h"
#include "tools/commands.hpp"

namespace replicast::tools {

namespace {

struct LabBench {
    const char* name;
    const char* summary;  // one line, for the subcommand list
    const char* knobs;    // the footer paragraph: what it measures and its options
};

// One row per bench/lab/NAME.py. The knobs repeat the script's own --help in
// short; tests/cli/test_bench_lab.py checks that every option named here is
// one the script accepts, so the two cannot drift apart unnoticed.
constexpr std::array kLabBenches{
    LabBench{
        "fanout",
        "Server egress bytes per applied update vs N clients and loss, beside Redis replication (lab, root)",
        "fanout: for N clients (1, 2, 4, 8, 16, 32) at each loss (0, 1, 5 %), the same workload (SETs of\n"
        "  --value-bytes random bytes) replicated by replicast (one multicast copy, repairs over the control\n"
        "  plane) and by Redis (Debian's redis-server: a primary in the server namespace, a replica per client\n"
        "  namespace), one after the other per grid cell: bytes sent by the server's veth per applied update\n"
        "  and in copies of the N = 1, 0 % figure, and the sustained rate. Completion is checked for both\n"
        "  (checksums; Redis: replication offsets, key counts and DEBUG DIGEST).\n"
        "  Knobs: --clients 1,2,4 --loss 0,1,5 --updates N --value-bytes B --repeat R --rate-mbps R\n"
        "  --chain-updates N --chain-bytes B (replicast's chains: shorter ones repair less under loss)\n"
        "  --systems replicast,replicast-fixed,redis (replicast: adaptive bundling; -fixed: every chain at\n"
        "  --chain-updates) --quick (N = 1, 2 at 0 and 5 %, 2000 updates: the test suite's smoke run)\n"
        "  --csv FILE (default bench/results/fanout.csv) --keep; `replicast bench fanout --help` for all.",
    },
    LabBench{
        "e2e",
        "Highest sustained update rate with every replica keeping up, beside Redis; publish-to-apply latency (lab, root)",
        "e2e: for N clients (1, 4, 8) and value sizes (100, 1024 B), a writer offers updates at a rate R for\n"
        "  a step; R is ramped (doubling) and bisected to the highest rate at which the last replica applies a\n"
        "  step's last update within --drain-ms of its schedule: replicast by the local store path (`load\n"
        "  --rate`) and by Publish, Redis (a primary in the server namespace, a replica per client\n"
        "  namespace) by paced SETs, cell by cell; egress bytes per update at that rate. Then `replicast\n"
        "  probe` latency p50/p99/p999, local write and Publish to apply, at --fractions of the rate.\n"
        "  Knobs: --clients 1,4,8 --values 100,1024 --paths local,publish --systems replicast,redis\n"
        "  --step-seconds S --max-step-updates N --start-rate R --max-rate R --bisect K --drain-ms MS\n"
        "  --settle-seconds S --fractions 10,50,90 --probes N --probe-interval-ms MS --latency-paths local,publish\n"
        "  --no-latency --latency-at R (no search: latency at --fractions of R)\n"
        "  --poll-ms MS (the server's update detector) --rate-mbps R --burst-bytes B --chain-gap-ns NS\n"
        "  --compression isal|off --chain-updates N --chain-bytes B --publish-batch N --workdir DIR\n"
        "  --quick (N = 1, 100 B, two steps, 20 probes: the test suite's smoke run)\n"
        "  --csv FILE (default bench/results/e2e.csv) --keep; `replicast bench e2e --help` for all.",
    },
    LabBench{
        "bulk",
        "Goodput of 256 MiB of 64 KiB updates to N clients vs loss, beside uftp sending the same bytes (lab, root)",
        "bulk: for N clients (1, 4, 8) at each loss (0, 1, 5 %), --megabytes of --value-bytes values sent by\n"
        "  replicast (written with `replicast load`, one multicast copy, repairs over the control plane) and the\n"
        "  same bytes as one file by uftp (Debian's uftp/uftpd: AES-256-GCM, a closed group of the receivers),\n"
        "  one after the other per grid cell: goodput until the last receiver has everything (checksums; cmp)\n"
        "  and the server veth's egress bytes per payload byte. Stores and files on tmpfs (--workdir).\n"
        "  Knobs: --clients 1,4,8 --loss 0,1,5 --megabytes M --value-bytes B --repeat R --rate-mbps R\n"
        "  --burst-bytes B (replicast's pacing cap and credit) --chain-updates N --compression off|isal\n"
        "  --queue-slots N --rcvbuf-mb M --load-batch N --uftp-rate tfmcc|KBPS --uftp-block B\n"
        "  --systems replicast,uftp --workdir DIR --timeout S --quick (8 MiB, N = 1 at 0 and 5 %: the test\n"
        "  suite's smoke run)\n"
        "  --csv FILE (default bench/results/bulk.csv) --keep; `replicast bench bulk --help` for all.",
    },
    LabBench{
        "scale",
        "100 replica daemons on one stream: convergence, egress per update, RSS, server CPU (lab, root)",
        "scale: --clients daemons (default 100) over --namespaces client namespaces (default 10), one stream,\n"
        "  --updates updates of --value-bytes at --rate updates/s per phase; each repeat measures one daemon\n"
        "  alone, then all of them: server veth bytes per update and in copies of the one-daemon figure, every\n"
        "  replica's checksum against the master's, each daemon's VmRSS (median, max) and its idle CPU over\n"
        "  --idle-seconds, the server's CPU apart from its tx worker thread (the control plane).\n"
        "  Knobs: --clients N --namespaces K --updates N --rate R --value-bytes B --repeat R --idle-seconds S\n"
        "  --rate-mbps R --timeout S --quick (10 daemons in 2 namespaces, 1000 updates: the smoke run)\n"
        "  --csv FILE (default bench/results/scale.csv) --keep; `replicast bench scale --help` for all.",
    },
    LabBench{
        "recovery",
        "Catch-up of a replica 1 M updates behind, and a new replica's Snapshot MB/s (lab, root)",
        "recovery: a daemon started on a replica --updates updates behind the master (default 1 M of 100 B)\n"
        "  catches up by Recover: updates/s until its applied LSN equals the master's (and a timeline of it);\n"
        "  a daemon on an empty replica of a --snapshot-mb database bootstraps by Snapshot: MB/s on the\n"
        "  server's veth. Runs alternate, --repeat times; each replica's checksum must equal the master's.\n"
        "  Knobs: --updates N --value-bytes B --snapshot-mb M --snapshot-value-bytes B --repeat R\n"
        "  --kinds catchup,snapshot --durability nosync --timeout S --quick (50 000 updates, 10 MB: the smoke\n"
        "  run) --csv FILE (default bench/results/recovery.csv) --keep; `replicast bench recovery --help`.",
    },
};

const LabBench* find(std::string_view name) {
    for (const LabBench& b : kLabBenches) {
        if (name == b.name) return &b;
    }
    return nullptr;
}

std::string self_path() {
    std::vector<char> self(PATH_MAX + 1);
    const ssize_t n = readlink("/proc/self/exe", self.data(), self.size() - 1);
    return n > 0 ? std::string(self.data(), static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

std::string lab_bench_script(const std::string& name) {
    return std::string(REPLICAST_SOURCE_ROOT) + "/bench/lab/" + name + ".py";
}

bool is_lab_bench_command(int argc, char** argv) noexcept {
    return argc >= 3 && std::string_view(argv[1]) == "bench" && find(argv[2]) != nullptr;
}

int exec_lab_bench(int argc, char** argv) {
    const std::string script = lab_bench_script(argv[2]);
    if (access(script.c_str(), R_OK) != 0) {
        std::fprintf(stderr,
                     "replicast: `bench %s` runs the lab script %s, which cannot be read (%s); lab benchmarks run\n"
                     "from the source tree this binary was built from.\n",
                     argv[2], script.c_str(), std::strerror(errno));
        return kExitUsage;
    }
    const std::string self = self_path();
    if (!self.empty()) setenv("REPLICAST_BIN", self.c_str(), 1);
    std::string python = "python3";
    std::vector<char*> args{python.data(), const_cast<char*>(script.c_str())};
    for (int i = 3; i < argc; ++i) args.push_back(argv[i]);
    args.push_back(nullptr);
    execvp(python.c_str(), args.data());
    std::fprintf(stderr, "replicast: `bench %s` needs python3, which cannot be run: %s\n", argv[2],
                 std::strerror(errno));
    return kExitUsage;
}

void add_lab_bench_stubs(CLI::App* bench) {
    std::string footer =
        "\nLab benchmarks build their own netns lab (scripts/lab; root), print progress, write CSV\n"
        "(bench/results/NAME.csv), remove the lab and their processes on every exit, and take --quick\n"
        "(a reduced grid the test suite runs). `scripts/bench-report` draws the CSVs.\n";
    for (const LabBench& b : kLabBenches) {
        bench->add_subcommand(b.name, b.summary);
        footer += std::string("\n") + b.knobs + "\n";
    }
    bench->footer(footer);
}

}  // namespace replicast::tools
