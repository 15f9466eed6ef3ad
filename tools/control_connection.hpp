// The connection options every control-plane command takes (--server --cert
// --key --ca [--server-name] [--deadline-ms] [--json]), the typed client they
// make, and how a refused call becomes the command's exit.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "engine/control/client.hpp"

namespace replicast::tools {

struct Connection {
    std::string server, cert, key, ca, server_name;
    bool json = false;
    std::uint32_t deadline_ms = 10'000;
};

/// Adds the connection options to `cmd`, filling `c`.
void add_connection(CLI::App* cmd, Connection& c);

/// The client for `c`; unreadable PEM files exit 2 naming `cmd`.
std::unique_ptr<control::ControlClient> connect(const Connection& c, const char* cmd);

/// A refused call exits 1 with "replicast CMD: CODE: reason".
void check(const control::Result& r, const char* cmd);

}  // namespace replicast::tools
