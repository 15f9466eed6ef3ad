// `replicast bench tx`: see bench_tx.hpp. Prints a pktgen-style report, or
// one JSON object with --json (for bench/RESULTS.md and scripts).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "tools/bench_tx.hpp"
#include "tools/cmd_bench_pace.hpp"
#include "tools/commands.hpp"
#include "tools/json_line.hpp"

namespace replicast::tools {

namespace {

// "86.1 % (IQR 84.0..88.2, range 70.1..91.0 over 30 rounds)"
std::string percent_spread(const Spread& sp) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%.1f %% (IQR %.1f..%.1f, range %.1f..%.1f over %zu rounds)", 100 * sp.median,
                  100 * sp.p25, 100 * sp.p75, 100 * sp.min, 100 * sp.max, sp.samples);
    return buf;
}

void print_text(const BenchTxArgs& a, const BenchTxResult& r) {
    std::printf("replicast bench tx: profile %s, payload %u B, %s (ipsec-mb %s), %s, %u packets per chain, %s checksums\n",
                a.profile.c_str(), a.payload, a.sealed ? "sealed" : "unsealed", r.crypto.c_str(),
                !a.compress ? "prebuilt chains"
                : a.codec_lcore >= 0 ? "chains built on the control core, deflated on the codec lcore"
                                     : "chains built and deflated on the control core", a.chain_packets,
                r.checksums.c_str());
    std::printf("  %s\n", r.memory.c_str());
    std::printf("  tx worker idle policy: %s (passes with nothing to send only; a loaded worker never idles)\n", r.idle.c_str());
    std::printf("  %zu rounds on one core, each a %.0f ms slice of ours and a %.0f ms slice of each reference; rates are the median slice's\n",
                r.rounds, r.slice_ms, r.reference_slice_ms);
    std::printf("  ours (tx worker)   %10.0f packets/s  %7.2f Gbit/s frames  %7.2f Gbit/s on the wire  %10.0f updates/s\n",
                r.packets_per_s, r.gbit_per_s, r.wire_gbit_per_s, r.updates_per_s);
    std::printf("                     slices %.0f..%.0f packets/s\n", r.ours.min, r.ours.max);
    if (r.compression_ratio > 0) std::printf("                     deflate ratio %.2f (chain bodies in / records sent)\n", r.compression_ratio);
    std::printf("                     %llu packets, tx ring full %llu times, mbuf pool empty %llu times\n",
                static_cast<unsigned long long>(r.packets), static_cast<unsigned long long>(r.ring_full),
                static_cast<unsigned long long>(r.mbuf_exhausted));
    if (r.vs_seal_only.samples > 0) {
        std::printf("  seal-only (crypto) %10.0f packets/s  -> ours at %s\n", r.seal_only_packets_per_s,
                    percent_spread(r.vs_seal_only).c_str());
        // What the ratio hides: the sender's own cost per packet beyond the
        // seal, which stays put whatever ipsec-mb path seals (bench/RESULTS.md).
        std::printf("                     ours beyond the seal: %.1f ns per packet (IQR %.1f..%.1f ns; %.1f ns ours, %.1f ns the seal)\n",
                    r.beyond_seal.median, r.beyond_seal.p25, r.beyond_seal.p75, 1e9 / r.packets_per_s,
                    1e9 / r.seal_only_packets_per_s);
    }
    if (r.vs_seal_records.samples > 0) {
        std::printf("  seal the records  %10.0f packets/s  -> ours at %s (the worker's chain records, from memory)\n",
                    r.seal_records_packets_per_s, percent_spread(r.vs_seal_records).c_str());
    }
    if (r.vs_kernel.samples > 0) {
        std::printf("  kernel sendmmsg    %10.0f packets/s  -> ours %.2fx it (IQR %.2f..%.2f, range %.2f..%.2f)\n",
                    r.kernel_packets_per_s, r.vs_kernel.median, r.vs_kernel.p25, r.vs_kernel.p75, r.vs_kernel.min,
                    r.vs_kernel.max);
    } else if (!r.kernel_error.empty()) {
        std::printf("  kernel sendmmsg    not run: %s\n", r.kernel_error.c_str());
    }
    if (r.cpu_vs_seal_only.samples > 0) {
        std::printf("  per CPU second of the core (what other processes cannot take from a slice):\n");
        std::printf("                     ours at %s of seal-only\n", percent_spread(r.cpu_vs_seal_only).c_str());
        std::printf("                     ours beyond the seal: %.1f ns per packet (IQR %.1f..%.1f ns)\n",
                    r.cpu_beyond_seal.median, r.cpu_beyond_seal.p25, r.cpu_beyond_seal.p75);
    }
    if (r.cpu_vs_seal_records.samples > 0) {
        std::printf("                     ours at %s of sealing the records\n", percent_spread(r.cpu_vs_seal_records).c_str());
    }
    if (r.cpu_vs_kernel.samples > 0) {
        std::printf("                     ours %.2fx the kernel sender (IQR %.2f..%.2f)\n", r.cpu_vs_kernel.median,
                    r.cpu_vs_kernel.p25, r.cpu_vs_kernel.p75);
    }
    if (r.achieved_mbps > 0) {
        std::printf("  pacing: requested %llu Mbit/s gap %llu ns burst %llu B, achieved %.1f Mbit/s; gap p50 %.0f ns p99 %.0f ns max %.0f ns mean %.0f ns\n",
                    static_cast<unsigned long long>(a.rate_mbps), static_cast<unsigned long long>(a.packet_gap_ns),
                    static_cast<unsigned long long>(a.burst_bytes), r.achieved_mbps, r.gap_p50_ns, r.gap_p99_ns,
                    r.gap_max_ns, r.gap_mean_ns);
        std::printf("          the worker was on its CPU %.0f %% of the time (median slice)%s\n", 100 * r.worker_cpu_share,
                    a.burst_bytes == 0 ? "; strict pacing never makes up the rest (--burst-bytes does)" : "");
    }
}

Json spread_json(const Spread& sp) {
    Json j;
    j["median"] = sp.median;
    j["p25"] = sp.p25;
    j["p75"] = sp.p75;
    j["min"] = sp.min;
    j["max"] = sp.max;
    j["rounds"] = sp.samples;
    return j;
}

void print_json(const BenchTxArgs& a, const BenchTxResult& r) {
    Json j;
    j["payload"] = a.payload;
    j["sealed"] = a.sealed;
    j["compress"] = a.compress;
    j["rounds"] = r.rounds;
    j["slice_ms"] = r.slice_ms;
    j["reference_slice_ms"] = r.reference_slice_ms;
    j["packets_per_s"] = r.packets_per_s;
    j["gbit_per_s"] = r.gbit_per_s;
    j["wire_gbit_per_s"] = r.wire_gbit_per_s;
    j["updates_per_s"] = r.updates_per_s;
    j["packets"] = r.packets;
    j["seal_only_packets_per_s"] = r.seal_only_packets_per_s;
    j["seal_records_packets_per_s"] = r.seal_records_packets_per_s;
    j["kernel_packets_per_s"] = r.kernel_packets_per_s;
    // ours / each reference: the median of the rounds' ratios and its spread
    // (absent for a reference that did not run)
    if (r.vs_seal_only.samples > 0) j["vs_seal_only"] = spread_json(r.vs_seal_only);
    if (r.vs_seal_records.samples > 0) j["vs_seal_records"] = spread_json(r.vs_seal_records);
    if (r.vs_kernel.samples > 0) j["vs_kernel"] = spread_json(r.vs_kernel);
    j["beyond_seal_ns"] = r.beyond_seal.median;
    if (r.beyond_seal.samples > 0) j["beyond_seal"] = spread_json(r.beyond_seal);
    if (r.cpu_vs_seal_only.samples > 0) j["cpu_vs_seal_only"] = spread_json(r.cpu_vs_seal_only);
    if (r.cpu_vs_seal_records.samples > 0) j["cpu_vs_seal_records"] = spread_json(r.cpu_vs_seal_records);
    if (r.cpu_vs_kernel.samples > 0) j["cpu_vs_kernel"] = spread_json(r.cpu_vs_kernel);
    if (r.cpu_beyond_seal.samples > 0) {
        j["cpu_beyond_seal_ns"] = r.cpu_beyond_seal.median;
        j["cpu_beyond_seal"] = spread_json(r.cpu_beyond_seal);
    }
    j["rate_mbps"] = a.rate_mbps;
    j["achieved_mbps"] = r.achieved_mbps;
    j["gap_p50_ns"] = r.gap_p50_ns;
    j["gap_p99_ns"] = r.gap_p99_ns;
    j["gap_max_ns"] = r.gap_max_ns;
    j["burst_bytes"] = a.burst_bytes;
    j["worker_cpu_share"] = r.worker_cpu_share;
    j["ring_full"] = r.ring_full;
    j["mbuf_exhausted"] = r.mbuf_exhausted;
    j["checksums"] = r.checksums;
    j["crypto"] = r.crypto;
    j["hugepages"] = r.hugepages;
    j["page_kib"] = r.page_kib;
    j["memory"] = r.memory;
    j["idle_policy"] = r.idle;
    if (!r.kernel_error.empty()) j["kernel_error"] = r.kernel_error;
    Json slices = Json::array();
    for (const BenchTxRound& x : r.slices) {
        slices.push_back({{"ours", x.ours}, {"seal_only", x.seal_only}, {"seal_records", x.seal_records},
                          {"kernel", x.kernel},
                          {"cpu", {{"ours", x.cpu.ours}, {"seal_only", x.cpu.seal_only},
                                   {"seal_records", x.cpu.seal_records}, {"kernel", x.cpu.kernel}}}});
    }
    j["slices"] = slices;  // packets/s of every round, for scripts that want their own statistics
    print_json_line(j);
}

}  // namespace

void add_bench_command(CLI::App& app) {
    CLI::App* bench = app.add_subcommand("bench", "Measure the data path (pktgen style)");
    bench->require_subcommand(1);
    auto a = std::make_shared<BenchTxArgs>();
    CLI::App* tx = bench->add_subcommand("tx", "The DPDK sender against seal-only and a kernel sendmmsg sender, same core");
    tx->add_option("--profile", a->profile, "pmd-config profile (net_null measures pure CPU cost)")->check(CLI::ExistingFile);
    tx->add_option("--payload", a->payload, "replicast payload bytes per packet")->check(CLI::Range(64, 8192));
    tx->add_option("--seconds", a->seconds, "the DPDK sender's measured time, over every round")->check(CLI::Range(0.1, 600.0));
    tx->add_option("--compare-seconds", a->compare_seconds, "each reference's measured time, over every round")
        ->check(CLI::Range(0.1, 600.0));
    tx->add_option("--slice-ms", a->slice_ms,
                   "the DPDK sender's slice in each round (rounds: seconds / slice, at least 3); ours and the references "
                   "alternate slice by slice, and each ratio is the median of the rounds'")
        ->check(CLI::Range(20.0, 10000.0));
    tx->add_option("--chain-packets", a->chain_packets, "packets per chain")->check(CLI::Range(1, 4096));
    tx->add_flag("!--no-seal", a->sealed, "send unsealed (key_epoch 0)");
    tx->add_flag("--compress", a->compress, "build and deflate every chain on the control core (updates/s)");
    tx->add_option("--codec-lcore", a->codec_lcore, "with --compress: deflate on this lcore instead (the server's compression_lcore)");
    tx->add_option("--rate-mbps", a->rate_mbps, "pace to this rate (on-wire Mbit/s) and report accuracy")->check(CLI::Range(0, 400000));
    tx->add_option("--packet-gap-ns", a->packet_gap_ns, "pace with this minimum gap and report accuracy")->check(CLI::Range(0, 10000000));
    tx->add_option("--burst-bytes", a->burst_bytes,
                   "with a rate: the pacer's burst credit (0 = strict: time the worker is descheduled is lost for good)")
        ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 30));
    tx->add_flag("!--no-kernel", a->kernel, "skip the kernel sendmmsg reference");
    tx->add_option("--kernel-group", a->kernel_group, "multicast group of the kernel reference");
    tx->add_option("--kernel-interface", a->kernel_interface, "IPv4 address of the interface it sends from (loopback by default)");
    tx->add_flag("--assume-offload", a->assume_offload,
                 "flag checksums for the port to fill, as a NIC with IPv4/UDP offload would (net_null leaves them unset)");
    tx->add_option_function<std::string>(
          "--crypto-arch",
          [a](const std::string& name) {
              if (!crypto::parse_gcm_arch(name, a->crypto_arch)) {
                  throw CLI::ValidationError("--crypto-arch", "'" + name + "' is not one of best, avx512, avx2, avx, sse");
              }
          },
          "ipsec-mb code path for every sealer in the run (best, avx512, avx2, avx, sse): the sender against a slower seal");
    tx->add_flag("--no-huge", a->no_huge, "run DPDK without hugepages");
    tx->add_flag("--json", a->json, "one JSON object instead of the report");
    add_bench_pace_command(*bench);
    tx->callback([a] {
        try {
            const BenchTxResult r = run_bench_tx(*a);
            a->json ? print_json(*a, r) : print_text(*a, r);
        } catch (const std::exception& e) {
            throw CLI::RuntimeError(std::string("replicast bench tx: ") + e.what(), kExitUsage);
        }
    });
}

}  // namespace replicast::tools
