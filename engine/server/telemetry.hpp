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
void unregister_telemetry();

}  // namespace replicast::server
