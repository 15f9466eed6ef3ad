// The control service inside `replicast server`: the backend over the running
// Server, the gRPC ControlServer, and a thread that turns SIGHUP into an
// access-list reload. Construct it on the control core after the Server (its
// threads, gRPC's included, inherit the control core's CPU set, never a tx
// lcore's), destroy it before the Server.
//
// SIGHUP must be blocked in every thread for the watcher's sigtimedwait to get
// it: call block_sighup() in main() before the Server (and so the EAL) makes
// any thread.
#pragma once

#include <atomic>
#include <memory>
#include <thread>

#include "engine/control/control_server.hpp"
#include "engine/server/control_backend.hpp"

namespace replicast::server {

/// Blocks SIGHUP in the calling thread and every thread it creates afterwards.
void block_sighup();

class ControlPlane {
public:
    /// Starts listening; throws control::ControlError or config::ConfigError (certificates, access list).
    ControlPlane(Server& server, const control::ControlConfig& config);
    ~ControlPlane();
    ControlPlane(const ControlPlane&) = delete;
    ControlPlane& operator=(const ControlPlane&) = delete;

    [[nodiscard]] int port() const noexcept { return service_->port(); }

private:
    void watch_sighup();

    ServerBackend backend_;
    std::unique_ptr<control::ControlServer> service_;
    std::atomic<bool> stop_{false};
    std::thread sighup_;
};

}  // namespace replicast::server
