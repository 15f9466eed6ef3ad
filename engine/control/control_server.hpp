// The control service in a process: a gRPC server on kernel TCP sockets with
// TLS 1.3 and mutual authentication (PROTOCOL.md section 2), its access list,
// and its limits. The server process builds one from the `[control]` table of
// its config and a ControlBackend; gRPC's threads inherit the creating
// thread's CPU set, so create it on the control core (never on a tx lcore).
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "engine/config/strict_toml.hpp"
#include "engine/control/backend.hpp"
#include "engine/control/result.hpp"

namespace replicast::control {

/// Where the caller's identity comes from in its certificate.
enum class IdentitySource : std::uint8_t { common_name, uri_san };

/// The `[control]` table of the server config (config/README.md).
struct ControlConfig {
    std::string listen = "0.0.0.0:7400";  // host:port; port 0 picks a free one (tests)
    std::string certificate;              // PEM: the server's certificate chain (required)
    std::string private_key;              // PEM (required)
    std::string ca;                       // PEM: the CA that signs client certificates (required)
    std::string access_list;              // TOML (required; engine/control/README.md)
    IdentitySource identity = IdentitySource::common_name;
    std::uint32_t max_message_bytes = 16u << 20;   // one request or reply message
    std::uint32_t recover_batch_bytes = 256u << 10;  // body bytes per RecoverBatch
    std::uint32_t snapshot_page_bytes = 1u << 20;    // record bytes per SnapshotPage
    std::uint32_t max_recoveries_per_identity = 4;   // concurrent Recover calls
    std::uint32_t max_snapshots_per_identity = 1;    // concurrent Snapshot calls
    std::uint32_t stream_deadline_ms = 600'000;      // a Recover or Snapshot longer than this is ended
    std::uint32_t publish_window_seconds = 86'400;   // how long a request_id is remembered
    std::uint32_t threads = 64;                      // gRPC server threads at most (a streaming call holds one)
    std::uint32_t threads_nice = 0;                  // 0..19: gRPC's threads run at this nice value
    // Not a key of [control]: the server sets it from [streams] lease_seconds,
    // next to idle_stop_seconds, which it works with (engine/control/leases.hpp).
    std::uint32_t lease_ms = 30'000;                 // a subscription lasts this long unless renewed
};

/// Reads the keys of a `[control]` table (paths relative to `base_dir`).
/// Throws config::ConfigError naming file, line and key. Unknown keys are left
/// to the caller's `table.reject_unknown()` (after it reads any keys of its own).
void read_control_config(config::TableReader& table, ControlConfig& out, const std::string& base_dir);

class ControlServer {
public:
    /// Loads the certificates and the access list and starts listening.
    /// Throws ControlError (or config::ConfigError for the access list) with the reason.
    ControlServer(const ControlConfig& config, ControlBackend& backend);
    ~ControlServer();  // stops: in-flight calls are cancelled, then joined
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    /// The TCP port it listens on (the one picked, with port 0).
    [[nodiscard]] int port() const noexcept;

    /// Reads the access list again (SIGHUP). A bad file keeps the old list and
    /// returns why. Identities removed, or that lost a database, fail Keys at
    /// once, and every stream they could read gets a new key (rotate_key), so
    /// they lose the stream at the next key change.
    Result reload_access_list();

    /// Stops accepting calls and ends those in flight (a bounded wait).
    void shutdown();

private:
    void start(const ControlConfig& config);  // builds and starts the gRPC server on the calling thread

    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace replicast::control
