// `replicast client --config FILE`: the replica daemon (engine/client). Runs
// until SIGINT or SIGTERM: the chain in hand is finished, each database is
// unsubscribed, exit 0. Exit 1 when no database could be followed (every one
// refused); 2 for a bad config or a store that cannot open.
// `replicast client-stats --socket PATH`: prints a running daemon's statistics (JSON).
#include <CLI/CLI.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>

#include "engine/client/config.hpp"
#include "engine/client/daemon.hpp"
#include "engine/client/grpc_control_port.hpp"
#include "engine/client/stats_socket.hpp"
#include "engine/logging/log.hpp"
#include "tools/commands.hpp"

namespace replicast::tools {

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_client_stop(int) { g_stop.store(true); }

int run_client(const std::string& path) {
    const client::ClientConfig config = client::load_client_config(path);
    struct sigaction sa {};
    sa.sa_handler = on_client_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);

    store::EnvOptions options;
    options.durability = config.durability;
    store::ReplicaStore replica(config.store, options);
    client::GrpcControlPort control(config.server,
                                    {.certificate = config.certificate,
                                     .private_key = config.private_key,
                                     .ca = config.ca,
                                     .server_name = config.server_name},
                                    {.deadline_ms = config.deadline_ms});
    client::Daemon daemon(config, control, replica);
    logging::get("client")->info("replica {} following {} from {}; SIGINT or SIGTERM stops", config.store,
                                 config.every_database() ? std::string("every readable database")
                                                         : std::to_string(config.databases.size()) + " database(s)",
                                 config.server);
    return daemon.run(g_stop);
}

}  // namespace

void add_client_command(CLI::App& app) {
    auto config = std::make_shared<std::string>();
    CLI::App* cmd = app.add_subcommand("client", "Run the replica daemon: follow databases into a local replica store");
    cmd->add_option("--config", *config, "client config (config/README.md, \"client\")")->required()->check(CLI::ExistingFile);
    cmd->callback([config] {
        int rc = kExitOk;
        try {
            rc = run_client(*config);
        } catch (const std::exception& e) {
            throw CLI::RuntimeError(std::string("replicast client: ") + e.what(), kExitUsage);
        }
        if (rc != kExitOk) throw CLI::RuntimeError(rc);
    });

    auto socket = std::make_shared<std::string>();
    CLI::App* stats = app.add_subcommand("client-stats", "Print a running replica daemon's statistics (JSON)");
    stats->add_option("--socket", *socket, "the daemon's [stats] socket")->required();
    stats->callback([socket] {
        try {
            std::fputs(client::query_stats(*socket).c_str(), stdout);
        } catch (const std::exception& e) {
            throw CLI::RuntimeError(std::string("replicast client-stats: ") + e.what(), kExitUsage);
        }
    });
}

}  // namespace replicast::tools
