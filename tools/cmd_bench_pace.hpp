// `replicast bench pace`, registered under `bench` by add_bench_command
// (cmd_bench_tx.cpp). Apart from commands.hpp so that adding it did not
// rebuild every command.
#pragma once

#include <CLI/CLI.hpp>

namespace replicast::tools {

void add_bench_pace_command(CLI::App& bench);

}  // namespace replicast::tools
