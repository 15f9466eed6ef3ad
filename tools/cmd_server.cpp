// `replicast server --config FILE`: the multicaster. Runs until SIGINT or
// SIGTERM (drain the rings, final heartbeat, persist, exit 0), or with --once
// until what the log held at start has been multicast.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>

#include "engine/server/config.hpp"
#include "engine/server/control_plane.hpp"
#include "engine/server/server.hpp"
#include "engine/server/telemetry.hpp"
#include "tools/commands.hpp"

namespace replicast::tools {

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) { g_stop.store(true); }

struct ServerArgs {
    std::string config;
    bool once = false;
    bool no_huge = false;
};

int run_server(const ServerArgs& a) {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);

    const server::ServerConfig config = server::load_server_config(a.config);
    // Before the EAL makes threads: SIGHUP goes to the control plane's watcher only.
    if (config.control) server::block_sighup();
    server::Server srv(config, {.once = a.once, .force_no_huge = a.no_huge});
    server::RunSummary sum;
    {
        const server::TelemetryRegistration telemetry(srv);  // gone before srv, whatever run() does
        std::unique_ptr<server::ControlPlane> control;  // stops before the server it serves
        if (config.control) control = std::make_unique<server::ControlPlane>(srv, *config.control);
        spdlog::info("serving {} database(s) from {}{}", config.databases.size(), config.store,
                     a.once ? " (--once: until caught up)" : "; SIGINT or SIGTERM stops");
        sum = srv.run(g_stop);
    }
    spdlog::info("stopped: {} chains, {} updates, {} packets", sum.chains, sum.updates, sum.packets);
    if (sum.stalled != 0) {
        spdlog::error("{} stream(s) stopped at a log entry that does not decode (see above)", sum.stalled);
        return kExitFindings;
    }
    return kExitOk;
}

}  // namespace

void add_server_command(CLI::App& app) {
    auto args = std::make_shared<ServerArgs>();
    CLI::App* cmd = app.add_subcommand("server", "Run the multicaster: stream the configured databases of the master store");
    cmd->add_option("--config", args->config, "server config (config/README.md)")->required()->check(CLI::ExistingFile);
    cmd->add_flag("--once", args->once, "multicast what the log holds at start, then stop");
    cmd->add_flag("--no-huge", args->no_huge, "run DPDK without hugepages even when some are reserved");
    cmd->callback([args] {
        try {
            const int rc = run_server(*args);
            if (rc != kExitOk) throw CLI::RuntimeError(rc);
        } catch (const CLI::RuntimeError&) {
            throw;
        } catch (const std::exception& e) {
            throw CLI::RuntimeError(std::string("replicast server: ") + e.what(), kExitUsage);
        }
    });
}

}  // namespace replicast::tools
