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
#pragma once

#include <cstdint>
#include <string>

#include "crypto/gcm.hpp"

namespace replicast::tools {

struct BenchTxArgs {
    std::string profile = "pmd-config/null.toml";
    std::uint32_t payload = 1400;         // replicast payload bytes per packet
    double seconds = 10;                  // the DPDK sender's run
    double compare_seconds = 3;           // each reference's run
    bool sealed = true;
    bool compress = false;                // build (and deflate) every chain on the control core ...
    int codec_lcore = -1;                 // ... or deflate on this lcore (the server's compression_lcore)
    std::uint32_t chain_packets = 32;
    std::uint64_t rate_mbps = 0;          // 0: as fast as possible
    std::uint64_t packet_gap_ns = 0;
    bool kernel = true;
    std::string kernel_group = "239.255.0.1";
    std::string kernel_interface = "127.0.0.1";  // IP_MULTICAST_IF: loopback by default, stays on this machine
    crypto::GcmArch crypto_arch = crypto::GcmArch::best;  // a narrower ipsec-mb path for every sealer in the run
    bool assume_offload = false;          // leave IPv4/UDP checksums to the port, as on a NIC that offloads them
    bool no_huge = false;
    bool json = false;
};

struct BenchTxResult {
    // ours
    double packets_per_s = 0;
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
    // references
    double seal_only_packets_per_s = 0;     // crypto/ sealing one hot buffer: the limit
    double seal_records_packets_per_s = 0;  // crypto/ sealing the chain records the worker is fed
    double kernel_packets_per_s = 0;
    std::string kernel_error;       // why the kernel sender did not run, if it did not
    // pacing (rate_mbps or packet_gap_ns set)
    double achieved_mbps = 0;
    double gap_p50_ns = 0, gap_p99_ns = 0, gap_max_ns = 0, gap_mean_ns = 0;
};

/// Runs every phase. Throws (ConfigError, EalError, PortError, std::runtime_error).
BenchTxResult run_bench_tx(const BenchTxArgs& args);

}  // namespace replicast::tools
