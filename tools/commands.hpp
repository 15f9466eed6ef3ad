// Each subcommand of `replicast` (and of `replicast-dpdk`) registers itself on the CLI11 app and returns
// the callback state it needs; main() only parses and maps errors to exit codes.
#pragma once

#include <CLI/CLI.hpp>

namespace replicast::tools {

/// Exit codes shared by every subcommand.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFindings = 1;  // the command ran, and what it read was bad (decode: malformed packets)
inline constexpr int kExitUsage = 2;     // bad arguments, unreadable input

void add_version_command(CLI::App& app);
void add_decode_command(CLI::App& app);
void add_store_commands(CLI::App& app);  // put, del, get, dump, log, checksum, load, copy
void add_load_command(CLI::App& app);
void add_copy_command(CLI::App& app);

// The DPDK half (replicast-dpdk, main_dpdk.cpp); `replicast` execs it for these.
void add_dpdk_version_command(CLI::App& app);
void add_server_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_control_commands(CLI::App& app);  // databases, subscribe, recover, snapshot, publish, stats, keys
void add_probe_command(CLI::App& app);     // publish-to-apply latency
void add_client_command(CLI::App& app);  // client, client-stats

/// Parses argv on `app` and runs the chosen subcommand: CLI11's errors and any
/// exception become a message on stderr and an exit code above. Both mains use it.
int run_app(CLI::App& app, int argc, char** argv);

}  // namespace replicast::tools
