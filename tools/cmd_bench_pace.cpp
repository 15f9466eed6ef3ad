// `replicast bench pace`: see bench_pace.hpp. Prints a line per slice while it
// runs, then the table; writes every row to a CSV.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tools/bench_pace.hpp"
#include "tools/cmd_bench_pace.hpp"
#include "tools/commands.hpp"

namespace replicast::tools {

namespace {

void write_csv(const std::string& path, const std::vector<PaceRow>& rows) {
    const std::filesystem::path p(path);
    if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
    std::ofstream out(path);
    if (!out) throw std::runtime_error("cannot write " + path);
    out << "profile,requested_mbps,burst_us,burst_bytes,slices,achieved_mbps,achieved_min_mbps,achieved_max_mbps,"
           "achieved_ratio,worker_cpu_share,gap_source,ideal_gap_ns,gaps,gap_p50_ns,gap_p99_ns,gap_max_ns,"
           "capture_mbps,capture_coverage,load1\n";
    char line[512];
    for (const PaceRow& r : rows) {
        const double ratio = r.requested_mbps ? r.achieved_mbps / static_cast<double>(r.requested_mbps) : 0;
        std::snprintf(line, sizeof line, "%s,%llu,%llu,%llu,%u,%.2f,%.2f,%.2f,%.4f,%.3f,%s,%.0f,%llu,%.0f,%.0f,%.0f,%.2f,%.4f,%.2f\n",
                      r.profile.c_str(), static_cast<unsigned long long>(r.requested_mbps),
                      static_cast<unsigned long long>(r.burst_us), static_cast<unsigned long long>(r.burst_bytes), r.slices,
                      r.achieved_mbps, r.achieved_min_mbps, r.achieved_max_mbps, ratio, r.worker_cpu_share,
                      r.gap_source.c_str(), r.ideal_gap_ns, static_cast<unsigned long long>(r.gaps), r.gap_p50_ns,
                      r.gap_p99_ns, r.gap_max_ns, r.capture_mbps, r.capture_coverage, r.load1);
        out << line;
    }
    if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

void print_table(const std::vector<PaceRow>& rows) {
    std::printf("%-14s %9s %8s %10s %7s %7s %6s %9s %9s %9s %11s %10s %8s\n", "profile", "requested", "burst", "achieved",
                "ratio", "on CPU", "gaps", "ideal", "gap p50", "gap p99", "gap max", "far end", "captured");
    for (const PaceRow& r : rows) {
        const std::string requested = r.requested_mbps ? std::to_string(r.requested_mbps) : "unpaced";
        const std::string burst = r.burst_us ? std::to_string(r.burst_us / 1000) + " ms" : "strict";
        char ratio[16] = "", far[24] = "", covered[16] = "";
        if (r.requested_mbps) std::snprintf(ratio, sizeof ratio, "%.3f", r.achieved_mbps / static_cast<double>(r.requested_mbps));
        if (r.gap_source == "capture") {
            std::snprintf(far, sizeof far, "%.1f", r.capture_mbps);
            std::snprintf(covered, sizeof covered, "%.1f %%", 100 * r.capture_coverage);
        }
        std::printf("%-14s %9s %8s %10.1f %7s %6.0f%% %6s %7.2fus %7.2fus %7.2fus %9.2fms %10s %8s\n", r.profile.c_str(),
                    requested.c_str(), burst.c_str(), r.achieved_mbps, ratio, 100 * r.worker_cpu_share,
                    r.gap_source.c_str(), r.ideal_gap_ns / 1e3, r.gap_p50_ns / 1e3, r.gap_p99_ns / 1e3, r.gap_max_ns / 1e6,
                    far, covered);
    }
    std::printf("(Mbit/s on the wire; achieved: the sender's count over its TSC time, median slice; on CPU: the worker\n"
                " thread's CPU time over the slice; gaps: tsc = at tx burst time in the worker, capture = kernel receive\n"
                " time at the far veth end, whose own rate is 'far end'; tx worker idle policy: poll, whatever the profile)\n");
}

}  // namespace

void add_bench_pace_command(CLI::App& bench) {
    auto a = std::make_shared<BenchPaceArgs>();
    CLI::App* pace = bench.add_subcommand(
        "pace", "Pacing accuracy: achieved vs requested rate and gap jitter per profile, 100 Mbit/s up to its limit");
    pace->add_option("--profile", a->profiles, "pmd-config profiles, each in a process of its own (af_packet: on a private veth pair)")
        ->check(CLI::ExistingFile)
        ->capture_default_str();
    pace->add_option("--rates-mbps", a->rates_mbps, "requested rates (on-wire Mbit/s); those above the profile's unpaced rate are skipped")
        ->delimiter(',')
        ->capture_default_str();
    pace->add_option("--burst-us", a->burst_us, "burst credit as time at the rate, each a row; 0 = strict pacing")
        ->delimiter(',')
        ->capture_default_str();
    pace->add_option("--payload", a->payload, "replicast payload bytes per packet")->check(CLI::Range(64, 1400));
    pace->add_option("--slice-ms", a->slice_ms, "one slice per rate per round")->check(CLI::Range(20.0, 10000.0));
    pace->add_option("--rounds", a->rounds, "rounds over every rate, the order reversed every other round")->check(CLI::Range(1, 100));
    pace->add_flag("--quick", a->quick, "rates 100 and 1000 Mbit/s, strict, one round of 100 ms slices (the test suite's smoke run)");
    pace->add_option("--csv", a->csv, "where to write every row")->capture_default_str();
    pace->add_flag("--no-huge", a->no_huge, "run DPDK without hugepages");
    pace->callback([a] {
        try {
            const std::vector<PaceRow> rows = run_bench_pace(*a, [](const std::string& line) {
                std::printf("%s\n", line.c_str());
                std::fflush(stdout);
            });
            print_table(rows);
            write_csv(a->csv, rows);
            std::printf("wrote %s\n", a->csv.c_str());
        } catch (const std::exception& e) {
            throw CLI::RuntimeError(std::string("replicast bench pace: ") + e.what(), kExitUsage);
        }
    });
}

}  // namespace replicast::tools
