// The lab benchmarks of `replicast bench` (bench/lab/README.md): `fanout` and
// the ones to come are orchestration over the netns lab (namespaces, a server,
// clients, a reference system such as Redis), written in Python on
// scripts/lib/labrun.py like the demo and the e2e suite. `replicast bench NAME`
// replaces itself (execvp, as for the DPDK half) with
//
//   python3 SOURCE_ROOT/bench/lab/NAME.py ARGS...
//
// with REPLICAST_BIN set to this executable, so the script drives the very
// binary the user typed. SOURCE_ROOT is the tree this binary was built from
// (REPLICAST_SOURCE_ROOT), which is where the demo finds its scripts too: the
// lab benchmarks need the lab (scripts/lab) and root, so they run from a
// checkout, never from an installation without one.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace replicast::tools {

/// True when argv is `replicast bench NAME ...` for a lab benchmark NAME.
bool is_lab_bench_command(int argc, char** argv) noexcept;

/// Replaces this process with the benchmark's script, argv after NAME passed
/// through (so `--help` and exit codes are the script's own). Returns only on
/// failure, with the exit code to use after saying why on stderr.
int exec_lab_bench(int argc, char** argv);

/// Registers the lab benchmarks on `bench` for `--help` listings only, and
/// adds a footer explaining each benchmark and its knobs to `bench`'s help.
void add_lab_bench_stubs(CLI::App* bench);

/// The script a lab benchmark runs (it may not exist).
std::string lab_bench_script(const std::string& name);

}  // namespace replicast::tools
