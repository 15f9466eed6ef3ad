// `replicast bench tx`: see bench_tx.hpp. Prints a pktgen-style report, or
// one JSON object with --json (for bench/RESULTS.md and scripts).
#include <CLI/CLI.hpp>

#include <cstdio>

#include "tools/bench_tx.hpp"
#include "tools/commands.hpp"
#include "tools/json_line.hpp"

namespace replicast::tools {

namespace {

void print_text(const BenchTxArgs& a, const BenchTxResult& r) {
    std::printf("replicast bench tx: profile %s, payload %u B, %s (ipsec-mb %s), %s, %u packets per chain, %s checksums\n",
                a.profile.c_str(), a.payload, a.sealed ? "sealed" : "unsealed", r.crypto.c_str(),
                !a.compress ? "prebuilt chains"
                : a.codec_lcore >= 0 ? "chains built on the control core, deflated on the codec lcore"
                                     : "chains built and deflated on the control core", a.chain_packets,
                r.checksums.c_str());
    std::printf("  ours (tx worker)   %10.0f packets/s  %7.2f Gbit/s frames  %7.2f Gbit/s on the wire  %10.0f updates/s\n",
                r.packets_per_s, r.gbit_per_s, r.wire_gbit_per_s, r.updates_per_s);
    if (r.compression_ratio > 0) std::printf("                     deflate ratio %.2f (chain bodies in / records sent)\n", r.compression_ratio);
    std::printf("                     %llu packets, tx ring full %llu times, mbuf pool empty %llu times\n",
                static_cast<unsigned long long>(r.packets), static_cast<unsigned long long>(r.ring_full),
                static_cast<unsigned long long>(r.mbuf_exhausted));
    if (r.seal_only_packets_per_s > 0) {
        std::printf("  seal-only (crypto) %10.0f packets/s  -> ours at %.1f %% of it\n", r.seal_only_packets_per_s,
                    100.0 * r.packets_per_s / r.seal_only_packets_per_s);
        // What the ratio hides: the sender's own cost per packet beyond the
        // seal, which stays put whatever ipsec-mb path seals (bench/RESULTS.md).
        std::printf("                     ours beyond the seal: %.1f ns per packet (%.1f ns ours, %.1f ns the seal)\n",
                    1e9 / r.packets_per_s - 1e9 / r.seal_only_packets_per_s, 1e9 / r.packets_per_s,
                    1e9 / r.seal_only_packets_per_s);
    }
    if (r.seal_records_packets_per_s > 0) {
        std::printf("  seal the records  %10.0f packets/s  -> ours at %.1f %% of it (the worker's chain records, from memory)\n",
                    r.seal_records_packets_per_s, 100.0 * r.packets_per_s / r.seal_records_packets_per_s);
    }
    if (r.kernel_packets_per_s > 0) {
        std::printf("  kernel sendmmsg    %10.0f packets/s  -> ours %.1fx it\n", r.kernel_packets_per_s,
                    r.packets_per_s / r.kernel_packets_per_s);
    } else if (!r.kernel_error.empty()) {
        std::printf("  kernel sendmmsg    not run: %s\n", r.kernel_error.c_str());
    }
    if (r.achieved_mbps > 0) {
        std::printf("  pacing: requested %llu Mbit/s gap %llu ns, achieved %.1f Mbit/s; gap p50 %.0f ns p99 %.0f ns max %.0f ns mean %.0f ns\n",
                    static_cast<unsigned long long>(a.rate_mbps), static_cast<unsigned long long>(a.packet_gap_ns),
                    r.achieved_mbps, r.gap_p50_ns, r.gap_p99_ns, r.gap_max_ns, r.gap_mean_ns);
    }
}

void print_json(const BenchTxArgs& a, const BenchTxResult& r) {
    const double beyond_seal_ns = r.seal_only_packets_per_s > 0 && r.packets_per_s > 0
                                      ? 1e9 / r.packets_per_s - 1e9 / r.seal_only_packets_per_s
                                      : 0;
    Json j;
    j["payload"] = a.payload;
    j["sealed"] = a.sealed;
    j["compress"] = a.compress;
    j["packets_per_s"] = r.packets_per_s;
    j["gbit_per_s"] = r.gbit_per_s;
    j["wire_gbit_per_s"] = r.wire_gbit_per_s;
    j["updates_per_s"] = r.updates_per_s;
    j["packets"] = r.packets;
    j["seal_only_packets_per_s"] = r.seal_only_packets_per_s;
    j["seal_records_packets_per_s"] = r.seal_records_packets_per_s;
    j["kernel_packets_per_s"] = r.kernel_packets_per_s;
    j["rate_mbps"] = a.rate_mbps;
    j["achieved_mbps"] = r.achieved_mbps;
    j["gap_p50_ns"] = r.gap_p50_ns;
    j["gap_p99_ns"] = r.gap_p99_ns;
    j["gap_max_ns"] = r.gap_max_ns;
    j["ring_full"] = r.ring_full;
    j["mbuf_exhausted"] = r.mbuf_exhausted;
    j["checksums"] = r.checksums;
    j["crypto"] = r.crypto;
    j["beyond_seal_ns"] = beyond_seal_ns;
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
    tx->add_option("--seconds", a->seconds, "length of the DPDK sender's run")->check(CLI::Range(0.1, 600.0));
    tx->add_option("--compare-seconds", a->compare_seconds, "length of each reference's run")->check(CLI::Range(0.1, 600.0));
    tx->add_option("--chain-packets", a->chain_packets, "packets per chain")->check(CLI::Range(1, 4096));
    tx->add_flag("!--no-seal", a->sealed, "send unsealed (key_epoch 0)");
    tx->add_flag("--compress", a->compress, "build and deflate every chain on the control core (updates/s)");
    tx->add_option("--codec-lcore", a->codec_lcore, "with --compress: deflate on this lcore instead (the server's compression_lcore)");
    tx->add_option("--rate-mbps", a->rate_mbps, "pace to this rate (on-wire Mbit/s) and report accuracy")->check(CLI::Range(0, 400000));
    tx->add_option("--packet-gap-ns", a->packet_gap_ns, "pace with this minimum gap and report accuracy")->check(CLI::Range(0, 10000000));
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
