// `replicast`: one command line, one subcommand per job, and no DPDK in this
// executable (replica hosts run it without DPDK or hugepages). The commands
// that drive a DPDK port are handed over whole to `replicast-dpdk` beside it
// (tools/dpdk_exec.hpp). Only main() exits.
#include <CLI/CLI.hpp>

#include "tools/commands.hpp"
#include "tools/dpdk_exec.hpp"
#include "tools/lab_bench_exec.hpp"

int main(int argc, char** argv) {
    namespace t = replicast::tools;
    if (t::is_dpdk_command(argc, argv)) return t::exec_dpdk(argc, argv);  // returns only on failure
    if (t::is_lab_bench_command(argc, argv)) return t::exec_lab_bench(argc, argv);  // likewise (python3)

    CLI::App app{"replicast: multicast database replication (server, client, and tools)", "replicast"};
    app.require_subcommand(1);
    app.set_help_all_flag("--help-all", "Show help for every subcommand");
    t::add_version_command(app);
    t::add_decode_command(app);
    t::add_store_commands(app);
    t::add_control_commands(app);
    t::add_probe_command(app);
    t::add_client_command(app);  // client, client-stats
    // Commands without DPDK register here (the control CLI, the client, ...);
    // benchmarks without DPDK join the `bench` subcommand returned below.
    t::add_lab_bench_stubs(t::add_dpdk_command_stubs(app));
    return t::run_app(app, argc, argv);
}
