#include "engine/client/config.hpp"

#include <filesystem>

#include "store/layout.hpp"

namespace replicast::client {

namespace {

constexpr const char* kDocs = "config/README.md";
constexpr std::uint64_t kMs = 1'000'000;

std::string resolve(const std::string& p, const std::string& base_dir) {
    if (p.empty() || std::filesystem::path(p).is_absolute()) return p;
    return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

}  // namespace

ClientConfig parse_client_config(std::string_view text, const std::string& path, const std::string& base_dir) {
    const toml::table root = config::parse_toml(text, path);
    ClientConfig c;
    c.path = path;

    config::TableReader top(root, path, "", kDocs);
    for (std::string_view s : {"control", "replica", "receive", "policy", "stats"}) top.get(s);
    top.reject_unknown();

    config::TableReader ct(config::section(root, "control", path), path, "control.", kDocs);
    ct.string("server", c.server);
    ct.string("certificate", c.certificate);
    ct.string("private_key", c.private_key);
    ct.string("ca", c.ca);
    ct.string("server_name", c.server_name);
    ct.integer("deadline_ms", c.deadline_ms, 100, 600'000);
    ct.integer("retry_ms", c.retry_ms, 10, 600'000);
    ct.reject_unknown();
    if (c.server.empty()) ct.fail("server", "missing (the server's control address, \"host:port\")");
    if (c.server.find(':') == std::string::npos) ct.fail("server", "\"" + c.server + "\" has no port (\"host:port\")");
    for (auto [key, value] : {std::pair<const char*, std::string*>{"certificate", &c.certificate},
                              {"private_key", &c.private_key},
                              {"ca", &c.ca}}) {
        if (value->empty()) ct.fail(key, "missing (PEM file path; scripts/mkcerts makes lab ones)");
        *value = resolve(*value, base_dir);
    }

    config::TableReader rp(config::section(root, "replica", path), path, "replica.", kDocs);
    rp.string("store", c.store);
    rp.strings("databases", c.databases);
    rp.choice("durability", c.durability,
              {{"full", store::Durability::full}, {"nometasync", store::Durability::nometasync},
               {"nosync", store::Durability::nosync}});
    rp.reject_unknown();
    if (c.store.empty()) rp.fail("store", "missing (the replica store directory)");
    c.store = resolve(c.store, base_dir);
    if (c.databases.empty()) rp.fail("databases", "missing or empty (database names, or [\"*\"] for every one you may read)");
    if (!c.every_database()) {
        for (const std::string& d : c.databases) {
            if (!store::layout::valid_name(d)) {
                rp.fail("databases", "\"" + d + "\" is not a database name (1..200 bytes, not starting with '_'; "
                                     "\"*\" alone means every one)");
            }
        }
    }

    config::TableReader rx(config::section(root, "receive", path), path, "receive.", kDocs);
    rx.string("interface", c.receive.interface);
    rx.integer("rcvbuf_bytes", c.receive.rcvbuf_bytes, 65536, std::int64_t{1} << 30);
    rx.integer("batch", c.receive.batch, 1, 1024);
    rx.integer("queue_slots", c.receive.queue_slots, 2, 1 << 20);
    rx.integer("max_datagram", c.receive.max_datagram, 0, 65535);
    if (c.receive.max_datagram != 0 && c.receive.max_datagram < 576) {
        rx.fail("max_datagram", "is " + std::to_string(c.receive.max_datagram) +
                                    ", below IPv4's minimum datagram of 576 (0: the interface's MTU less 28)");
    }
    rx.boolean("prefault_queue", c.receive.prefault_queue);
    rx.reject_unknown();
    if (c.receive.interface.empty()) rx.fail("interface", "missing (the interface to join the multicast groups on)");
    if ((c.receive.queue_slots & (c.receive.queue_slots - 1)) != 0) {
        rx.fail("queue_slots", "is " + std::to_string(c.receive.queue_slots) + ", must be a power of two");
    }

    config::TableReader po(config::section(root, "policy", path), path, "policy.", kDocs);
    po.integer("buffer_chains", c.gap.max_buffered_chains, 1, 1 << 20);
    std::uint64_t buffer_mb = c.gap.max_buffered_bytes >> 20;
    po.integer("buffer_mb", buffer_mb, 1, 65536);
    c.gap.max_buffered_bytes = static_cast<std::size_t>(buffer_mb) << 20;
    std::uint64_t retry_ms = c.gap.retry_ns / kMs, keys_ms = c.keys_interval_ns / kMs;
    po.integer("recover_retry_ms", retry_ms, 1, 60'000);
    po.integer("keys_interval_ms", keys_ms, 1, 60'000);
    std::uint64_t silence_ms = c.silence_ns / kMs;
    po.integer("silence_ms", silence_ms, 100, 3'600'000);
    c.silence_ns = silence_ms * kMs;
    std::uint64_t window_ms = c.error_rate.window_ns / kMs, unicast_s = c.error_rate.unicast_ns / 1'000'000'000,
                  poll_ms = c.error_rate.unicast_poll_ns / kMs;
    std::uint32_t threshold_pct = static_cast<std::uint32_t>(c.error_rate.threshold * 100);
    po.integer("error_window_ms", window_ms, 100, 3'600'000);
    po.integer("error_threshold_percent", threshold_pct, 1, 100);
    po.integer("error_min_chains", c.error_rate.min_chains, 1, 1'000'000'000);
    po.integer("unicast_seconds", unicast_s, 1, 86'400);
    po.integer("unicast_poll_ms", poll_ms, 10, 60'000);
    po.reject_unknown();
    c.gap.retry_ns = retry_ms * kMs;
    c.keys_interval_ns = keys_ms * kMs;
    c.error_rate.window_ns = window_ms * kMs;
    c.error_rate.threshold = threshold_pct / 100.0;
    c.error_rate.unicast_ns = unicast_s * 1'000'000'000;
    c.error_rate.unicast_poll_ns = poll_ms * kMs;

    config::TableReader sr(config::section(root, "stats", path), path, "stats.", kDocs);
    sr.string("socket", c.stats_socket);
    sr.integer("log_interval_ms", c.log_interval_ms, 0, 3'600'000);
    std::uint64_t report_ms = c.report_interval_ns / kMs;
    sr.integer("report_interval_ms", report_ms, 100, 3'600'000);
    c.report_interval_ns = report_ms * kMs;
    sr.reject_unknown();
    c.stats_socket = resolve(c.stats_socket, base_dir);
    if (c.stats_socket.size() >= 108) sr.fail("socket", "path longer than a unix socket address takes (107 bytes)");
    return c;
}

ClientConfig load_client_config(const std::string& path) {
    const std::string text = config::read_config_file(path, "client config");
    const std::string dir = std::filesystem::path(path).parent_path().string();
    return parse_client_config(text, path, dir.empty() ? "." : dir);
}

}  // namespace replicast::client
