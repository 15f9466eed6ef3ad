// `replicast-dpdk`: the DPDK half of the command line (server, bench tx, and
// its own libraries' versions). Users run it through `replicast`, which execs
// it with the same arguments (tools/dpdk_exec.hpp); it also runs on its own.
#include <CLI/CLI.hpp>

#include "tools/commands.hpp"

int main(int argc, char** argv) {
    namespace t = replicast::tools;
    // Named "replicast": its help and errors read as the command line users typed.
    CLI::App app{"replicast (DPDK half, replicast-dpdk): the multicaster and the sender benchmark", "replicast"};
    app.require_subcommand(1);
    app.set_help_all_flag("--help-all", "Show help for every subcommand");
    t::add_dpdk_version_command(app);
    t::add_server_command(app);
    t::add_bench_command(app);
    return t::run_app(app, argc, argv);
}
