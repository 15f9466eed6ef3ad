// `replicast bench pace`: how well the tx worker keeps a requested rate, and
// how evenly it spaces packets, on each profile from 100 Mbit/s up to what the
// profile can carry unpaced.
//
// Per profile, one child process (one EAL each; an af_packet profile's child
// first moves into a network namespace of its own with a veth pair, sends on
// one end and captures the other). In it, rounds of short slices: one slice
// per (rate, burst credit) and one unpaced slice (the profile's limit), the
// order reversed every other round, so that the drift of a shared machine
// lands on every rate alike. Per slice a fresh TxWorker, sealed 1400-byte
// payloads in 32-packet chains, as `bench tx`.
//
// Achieved: frames the worker handed to the port over the slice's TSC time
// (tx::tsc_hz, the kernel's rate for the TSC), on-wire bytes (frame + 24).
// Gaps: on net_af_packet, the kernel's receive timestamps of consecutive
// packet_seqs at the far veth end (CLOCK_REALTIME, independent of the sender's
// TSC; the rate seen there is reported too); on net_null nothing reaches a
// wire, so the TSC read by a tx callback when each burst is handed to the
// port. Pairs whose packet_seqs are not consecutive (a capture drop) are no gap.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace replicast::tools {

struct BenchPaceArgs {
    std::vector<std::string> profiles = {"pmd-config/null.toml", "pmd-config/lab-af_packet.toml"};
    // Rates up to the profile's limit (its unpaced rate in the same run) are run.
    std::vector<std::uint64_t> rates_mbps = {100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000};
    // Burst credit as time at the rate (bytes = rate / 8 * us); 0 = strict pacing.
    std::vector<std::uint64_t> burst_us = {0, 20000};
    std::uint32_t payload = 1400;
    std::uint32_t chain_packets = 32;
    double slice_ms = 250;
    unsigned rounds = 3;
    bool quick = false;  // rates 100 and 1000, strict only, one round of 100 ms slices
    std::string csv = "bench/results/pace.csv";
    bool no_huge = false;
};

struct PaceRow {
    std::string profile;              // the profile file's stem ("null", "lab-af_packet")
    std::uint64_t requested_mbps = 0; // 0: unpaced, the profile's limit
    std::uint64_t burst_us = 0;
    std::uint64_t burst_bytes = 0;
    unsigned slices = 0;
    double achieved_mbps = 0;         // median slice
    double achieved_min_mbps = 0, achieved_max_mbps = 0;
    double worker_cpu_share = 0;      // the worker thread's CPU time / wall time, median slice
    std::string gap_source;           // "capture" (far veth end, kernel timestamps) or "tsc" (tx burst time)
    double ideal_gap_ns = 0;          // one data frame's time on the wire at the requested rate
    std::uint64_t gaps = 0;
    double gap_p50_ns = 0, gap_p99_ns = 0, gap_max_ns = 0;
    double capture_mbps = 0;          // af_packet: the rate at the far end on its own clock, median slice
    double capture_coverage = 0;      // af_packet: frames captured / frames sent, in the slices' windows
    double load1 = 0;                 // /proc/loadavg when the profile started
};

/// Runs every profile. `progress` gets one line per slice. Throws std::runtime_error.
std::vector<PaceRow> run_bench_pace(const BenchPaceArgs& args, const std::function<void(const std::string&)>& progress);

}  // namespace replicast::tools
