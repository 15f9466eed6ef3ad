// `replicast`: one binary, one subcommand per job. Only main() exits.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <string_view>

#include "tools/commands.hpp"

int main(int argc, char** argv) {
    CLI::App app{"replicast: multicast database replication (server, client, and tools)", "replicast"};
    app.require_subcommand(1);
    app.set_help_all_flag("--help-all", "Show help for every subcommand");
    replicast::tools::add_version_command(app);
    replicast::tools::add_decode_command(app);
    replicast::tools::add_store_commands(app);
    replicast::tools::add_server_command(app);
    replicast::tools::add_bench_command(app);
    replicast::tools::add_client_command(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::RuntimeError& e) {
        // A subcommand's own failure: CLI11 would swallow its message, so print it here.
        if (*e.what() != '\0' && std::string_view(e.what()) != "Runtime error") {
            std::fprintf(stderr, "%s\n", e.what());
        }
        return e.get_exit_code();
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? replicast::tools::kExitOk : replicast::tools::kExitUsage;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "replicast: %s\n", e.what());
        return replicast::tools::kExitUsage;
    }
    return replicast::tools::kExitOk;
}
