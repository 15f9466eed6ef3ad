// The server's statistics through DPDK telemetry, readable with
// `dpdk-telemetry.py` (or any client of the telemetry socket):
//   /replicast/streams  one dict per stream: db, group, LSNs, chains, bytes, epoch
//   /replicast/lcores   one dict per tx worker lcore: its counters
// DPDK's callbacks carry no user pointer, so one server per process registers.
#pragma once

namespace replicast::server {

class Server;

/// Registers the commands for `server` (which must outlive the process's
/// telemetry use; unregister() before destroying it).
void register_telemetry(const Server& server);
/// Returns once no callback reads the server any more.
void unregister_telemetry();

/// Registered for its lifetime: unregisters on every way out, exceptions too.
class TelemetryRegistration {
public:
    explicit TelemetryRegistration(const Server& server) { register_telemetry(server); }
    ~TelemetryRegistration() { unregister_telemetry(); }
    TelemetryRegistration(const TelemetryRegistration&) = delete;
    TelemetryRegistration& operator=(const TelemetryRegistration&) = delete;
};

}  // namespace replicast::server
