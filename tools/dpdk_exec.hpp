// The DPDK half of the command line, git style. Replica hosts run `replicast`
// without DPDK (no librte_ library, no hugepages); the commands that drive a
// DPDK port (`server`, `bench tx`) live in the executable `replicast-dpdk`
// installed beside it, and `replicast` hands such a command line over to it
// whole with execv, so that users keep one command line:
//
//   replicast server --config F     ->  replicast-dpdk server --config F
//   replicast bench tx --json       ->  replicast-dpdk bench tx --json
//
// "Beside it" is the directory of /proc/self/exe (symlinks resolved), so a
// build tree (build/tools/) and an installation (bin/) both work and PATH is
// never searched: the DPDK half is always the one built with this binary.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace replicast::tools {

/// The file name of the DPDK executable.
inline constexpr const char* kDpdkExecutable = "replicast-dpdk";

/// The path where the DPDK executable belongs: beside this process's own
/// executable. Throws std::runtime_error when /proc/self/exe cannot be read.
std::string dpdk_executable_path();

/// True when argv names a command of the DPDK half (`server`, `bench tx`).
/// Only the words right after the program name count: no global option
/// precedes a subcommand on this command line.
bool is_dpdk_command(int argc, char** argv) noexcept;

/// Replaces this process with the DPDK executable, argv passed through (argv[0]
/// becomes its path). Returns only on failure, with the exit code to use after
/// printing to stderr why (missing, not executable) and what to do.
int exec_dpdk(int argc, char** argv);

/// Registers the DPDK half's commands on `app` for `--help` listings only:
/// is_dpdk_command()/exec_dpdk() run before parsing, so these never parse
/// anything. Returns the `bench` subcommand, for benchmarks without DPDK to join.
CLI::App* add_dpdk_command_stubs(CLI::App& app);

struct DpdkHalfVersion {
    bool found = false;          // the executable exists beside this one
    bool ran = false;            // it ran and answered `version`
    std::string path;
    std::string output;          // what it printed (ran), or why it did not (found, !ran)
};

/// Asks the DPDK executable for its `version` (its stdout; at most 64 KiB and
/// 10 s, then it is killed). Never throws.
DpdkHalfVersion ask_dpdk_version();

}  // namespace replicast::tools
