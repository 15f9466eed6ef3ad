// `replicast bench tx`: pktgen-style measurement of the sender, with its
// references measured in the same run on the same core:
//   ours        TxWorker on the profile's port (net_null: pure CPU cost):
//               frame, seal, checksum, pace, rte_eth_tx_burst
//   seal-only   crypto/'s burst sealing of the same payloads, nothing else:
//               the ceiling for the full sender (the 80 % rule)
//   kernel      the same framing and sealing through a UDP socket and
//               sendmmsg (batch 32) to a multicast group: what DPDK buys
// plus pacing accuracy (requested vs achieved rate, gap jitter from TSC
// stamps taken by a tx callback on the queue) when a rate is set.
//
// On a shared machine the core's speed drifts over seconds (five runs of the
// old back-to-back measurement gave 58.9 % to 94.5 % of seal-only), so the
// measurements are interleaved: rounds of short slices (ours, then each
// reference, the order flipped every other round), a ratio per round from
// slices a fraction of a second apart, and the median ratio reported with its
// spread (quartiles, min..max). Rates are the median slice's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "crypto/gcm.hpp"

namespace replicast::tools {

struct BenchTxArgs {
    std::string profile = "pmd-config/null.toml";
    std::uint32_t payload = 1400;         // replicast payload bytes per packet
    double seconds = 6;                   // the DPDK sender's measured time, over every round
    double compare_seconds = 3;           // each reference's measured time, over every round
    double slice_ms = 200;                // the DPDK sender's slice per round (rounds = seconds / slice, at least 3)
    bool sealed = true;
    bool compress = false;                // build (and deflate) every chain on the control core ...
    int codec_lcore = -1;                 // ... or deflate on this lcore (the server's compression_lcore)
    std::uint32_t chain_packets = 32;
    std::uint64_t rate_mbps = 0;          // 0: as fast as possible
    std::uint64_t packet_gap_ns = 0;
    std::uint64_t burst_bytes = 0;        // the pacer's burst credit; 0: strict (time the worker loses is lost)
    bool kernel = true;
    std::string kernel_group = "239.255.0.1";
    std::string kernel_interface = "127.0.0.1";  // IP_MULTICAST_IF: loopback by default, stays on this machine
    crypto::GcmArch crypto_arch = crypto::GcmArch::best;  // a narrower ipsec-mb path for every sealer in the run
    bool assume_offload = false;          // leave IPv4/UDP checksums to the port, as on a NIC that offloads them
    bool no_huge = false;
    bool json = false;
};

/// A distribution's median, quartiles and range (over rounds or slices).
struct Spread {
    double median = 0, p25 = 0, p75 = 0, min = 0, max = 0;
    std::size_t samples = 0;
};

/// The spread of `values` (quartiles by linear interpolation, as numpy's default).
Spread spread_of(std::vector<double> values);

/// One round's rates, packets/s; 0 for a reference that did not run.
struct BenchTxRound {
    double ours = 0, seal_only = 0, seal_records = 0, kernel = 0;  // per second of wall time
    // Per second of the measuring thread's own CPU time: what other processes
    // on a shared core take from a slice is wall time, not this.
    struct Cpu {
        double ours = 0, seal_only = 0, seal_records = 0, kernel = 0;
    } cpu;
};

struct BenchTxResult {
    std::size_t rounds = 0;
    double slice_ms = 0;            // ours, per round
    double reference_slice_ms = 0;  // each reference, per round
    std::vector<BenchTxRound> slices;
    // ours (rates: the median slice)
    double packets_per_s = 0;
    Spread ours;                    // packets/s over the slices
    double gbit_per_s = 0;          // frame bytes handed to the port
    double wire_gbit_per_s = 0;     // plus preamble, FCS and inter-frame gap
    double updates_per_s = 0;
    double compression_ratio = 0;   // body bytes in / record bytes out, with --compress
    std::uint64_t packets = 0;
    std::uint64_t ring_full = 0;
    std::uint64_t mbuf_exhausted = 0;
    std::string crypto;             // the ipsec-mb code path every sealer ran
    std::string checksums;          // who computed them: the port, assumed offload, or software and its path
    bool hugepages = false;         // the EAL's memory is on hugepages (else 4 KiB pages: slower, see memory)
    std::size_t page_kib = 0;       // the EAL's page size
    std::string memory;             // tx::describe(): the pages, and when not hugepages why and what it costs
    std::string idle;               // the profile's workers.idle policy (tx::describe)
    // references
    double seal_only_packets_per_s = 0;     // crypto/ sealing one hot buffer: the limit
    double seal_records_packets_per_s = 0;  // crypto/ sealing the chain records the worker is fed
    double kernel_packets_per_s = 0;
    std::string kernel_error;       // why the kernel sender did not run, if it did not
    // ours / reference, per round; and ours' cost per packet beyond the seal,
    // 1e9/ours - 1e9/seal-only per round, in ns
    Spread vs_seal_only, vs_seal_records, vs_kernel, beyond_seal;
    // The same from the rates per CPU second (BenchTxRound::cpu): steadier on
    // a shared machine; ours counts the worker's idle polls when the control
    // core, itself preempted, lets its inbox run dry, so it is a floor.
    Spread cpu_vs_seal_only, cpu_vs_seal_records, cpu_vs_kernel, cpu_beyond_seal;
    // pacing (rate_mbps or packet_gap_ns set)
    double achieved_mbps = 0;
    double gap_p50_ns = 0, gap_p99_ns = 0, gap_max_ns = 0, gap_mean_ns = 0;
    // The worker's CPU time over wall time, median slice: with strict pacing a
    // worker on the CPU this share of the time sends at most this share of the
    // cap (time it is descheduled is never made up), whatever the pacer does.
    double worker_cpu_share = 0;
};

/// Runs every phase. Throws (ConfigError, EalError, PortError, std::runtime_error).
BenchTxResult run_bench_tx(const BenchTxArgs& args);

}  // namespace replicast::tools
