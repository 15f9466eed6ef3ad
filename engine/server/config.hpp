// The server's configuration (a TOML file; every key, default and range in
// config/README.md): which store and DPDK profile, which databases become
// streams and on which multicast groups, how updates are bundled and
// compressed, how streams are paced and keyed. Parsed strictly like the
// profiles: an unknown key or a bad value fails at start with
// "FILE:LINE: KEY: reason".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/control/control_server.hpp"
#include "engine/pace/pacer.hpp"
#include "engine/config/strict_toml.hpp"

namespace replicast::server {

enum class StartAt : std::uint8_t {
    oldest,  // a database never multicast before starts at its oldest kept LSN
    next,    // ... or with the next write (receivers bootstrap from a snapshot)
};

struct ServerConfig {
    std::string path;  // the file it came from, for messages

    // [server]
    std::string store;    // master store directory (required)
    std::string profile;  // pmd-config profile (required), relative to this file's directory
    std::string key_log;  // PROTOCOL.md section 3; empty = off (the default)
    std::uint32_t stats_interval_ms = 1000;
    std::uint32_t poll_interval_ms = 20;  // the detector polls the log this often without notifications
    std::uint64_t initial_map_bytes = std::uint64_t{1} << 30;  // the store's first LMDB map; it doubles when full

    // [streams]
    std::vector<std::string> databases;  // each becomes one stream, always on (required without [control])
    std::uint32_t group_base = 0xEFC00000;  // 239.192.0.0, host order
    std::uint32_t group_prefix_len = 24;
    std::uint16_t port = 5000;
    StartAt start = StartAt::oldest;
    std::uint32_t max_streams = 16;         // streams at once (configured + started by Subscribe); tx slots
    std::uint32_t idle_stop_seconds = 300;  // a stream Subscribe started stops after this long with no subscriber
    std::uint32_t lease_seconds = 30;       // a subscription lasts this long unless renewed (the control service's)

    // [bundle]
    std::uint32_t max_updates = 256;    // updates per chain
    std::uint32_t max_bytes = 65536;    // uncompressed chain body bytes
    bool adaptive = true;               // size chains from the receivers' loss reports, max_* the ceiling
    std::uint32_t min_updates = 4;      // adaptive: the floor
    std::uint32_t adaptive_window_ms = 5000;  // adaptive: loss is judged over this window
    bool compress = true;
    int compression_level = 1;          // ISA-L 0..3
    std::uint32_t jobs_per_worker = 64; // chain jobs in flight per tx worker
    int compression_lcore = -1;         // -1: deflate on the control core; else on this EAL lcore

    // [pacing]
    pace::PaceConfig pace;
    bool adaptive_rate = false;          // lower the cap while a receiver reports overrun (rate_controller.hpp)
    std::uint64_t min_rate_bps = 0;      // adaptive: the floor (default: a twentieth of the cap)

    // [retention]: trims each database's log, never past what has been multicast
    std::uint64_t keep_updates = 1'000'000;  // 0 = no count bound
    std::uint64_t keep_bytes = 0;            // 0 = no size bound
    std::uint32_t trim_interval_ms = 10'000; // 0 = never trim
    std::uint32_t trim_max_per_run = 100'000; // log entries removed per database per run, at most

    // [keys]
    bool sealed = true;
    std::uint32_t rotate_seconds = 0;  // 0 = one key per run

    // [control]: the gRPC control service (PROTOCOL.md section 2); absent = none
    std::optional<control::ControlConfig> control;

    /// The number of groups the range gives out: all but its first address
    /// (x.y.z.0 confuses people and some tools), or the one address of a /32.
    [[nodiscard]] std::uint32_t group_count() const noexcept {
        return group_prefix_len >= 32 ? 1u : (1u << (32 - group_prefix_len)) - 1;
    }
    /// The group of the i-th database.
    [[nodiscard]] std::uint32_t group_of(std::size_t i) const noexcept {
        return group_base + (group_prefix_len >= 32 ? 0u : 1u) + static_cast<std::uint32_t>(i);
    }
};

/// Reads and validates a server config. Throws config::ConfigError.
ServerConfig load_server_config(const std::string& path);

/// Parses a config from text; relative paths resolve against `base_dir`. Throws config::ConfigError.
ServerConfig parse_server_config(std::string_view text, const std::string& path, const std::string& base_dir);

}  // namespace replicast::server
