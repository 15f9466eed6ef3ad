// The replica daemon's configuration (a TOML file; every key, default and
// range in config/README.md, "client"). Parsed strictly: an unknown key or a
// bad value fails at start with "FILE:LINE: KEY: reason".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/client/error_rate.hpp"
#include "engine/client/follower.hpp"
#include "engine/client/gap_policy.hpp"
#include "engine/config/strict_toml.hpp"
#include "store/env.hpp"

namespace replicast::client {

struct ClientConfig {
    std::string path;  // the file it came from, for messages

    // [control]
    std::string server;       // "host:port" (required)
    std::string certificate;  // this host's PEM certificate (required)
    std::string private_key;  // its key (required)
    std::string ca;           // the CA that signed the server's certificate (required)
    std::string server_name;  // the name the server certificate must carry; empty = the host of `server`
    std::uint32_t deadline_ms = 10'000;
    std::uint32_t retry_ms = 1000;  // a database that could not start is tried again this often

    // [replica]
    std::string store;                   // replica store directory (required)
    std::vector<std::string> databases;  // or {"*"}: every database the identity may read
    store::Durability durability = store::Durability::nometasync;

    // [receive]
    ReceiveConfig receive;

    // [policy]
    GapConfig gap;
    ErrorRateConfig error_rate;
    std::uint64_t keys_interval_ns = 100'000'000;
    std::uint64_t silence_ns = 3'000'000'000;

    // [stats]
    std::string stats_socket;  // unix socket `replicast client-stats` asks; empty = none
    std::uint32_t log_interval_ms = 10'000;  // 0 = no periodic line
    std::uint64_t report_interval_ns = 10'000'000'000;  // ReceiveStats to the server (renewing the lease) this often

    [[nodiscard]] bool every_database() const { return databases.size() == 1 && databases[0] == "*"; }
};

/// Throws config::ConfigError("FILE:LINE: KEY: reason"). Relative paths are
/// taken from `base_dir` (the config file's directory).
ClientConfig parse_client_config(std::string_view text, const std::string& path, const std::string& base_dir);
/// Reads and parses `path`.
ClientConfig load_client_config(const std::string& path);

}  // namespace replicast::client
