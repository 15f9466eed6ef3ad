#include "engine/server/config.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>

#include "engine/tx/profile.hpp"
#include "store/layout.hpp"

namespace replicast::server {

namespace {

constexpr const char* kDocs = "config/README.md";

std::string resolve(const std::string& p, const std::string& base_dir) {
    if (p.empty() || std::filesystem::path(p).is_absolute()) return p;
    return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

// "239.192.0.0/24": an administratively scoped (or any IPv4 multicast) range.
void parse_group_range(config::TableReader& r, const std::string& text, ServerConfig& c) {
    const auto slash = text.find('/');
    std::uint32_t base = 0;
    unsigned len = 0;
    if (slash == std::string::npos || !config::parse_ipv4(text.substr(0, slash), base)) {
        r.fail("group_range", "\"" + text + "\" is not an IPv4 range like 239.192.0.0/24");
    }
    // One or two decimal digits, nothing else: stoul would take " 24", "+24"
    // and wrap 4294967320 to 24.
    const std::string digits = slash == std::string::npos ? std::string() : text.substr(slash + 1);
    if (digits.empty() || digits.size() > 2 ||
        std::from_chars(digits.data(), digits.data() + digits.size(), len).ptr != digits.data() + digits.size()) {
        r.fail("group_range", "\"" + text + "\": the prefix length is not a number of 1 or 2 digits");
    }
    if (len < 4 || len > 32) r.fail("group_range", "prefix length " + std::to_string(len) + " must be in 4..32");
    if ((base >> 28) != 0xE) r.fail("group_range", "\"" + text + "\" is not in 224.0.0.0/4 (IPv4 multicast)");
    if ((base >> 24) == 0xE0) r.fail("group_range", "\"" + text + "\" is in 224.0.0.0/8, reserved for link-local control");
    const std::uint32_t mask = len == 32 ? ~0u : ~((1u << (32 - len)) - 1);
    if ((base & ~mask) != 0) r.fail("group_range", "\"" + text + "\" has host bits set below the prefix");
    c.group_base = base;
    c.group_prefix_len = len;
}

}  // namespace

ServerConfig parse_server_config(std::string_view text, const std::string& path, const std::string& base_dir) {
    const toml::table root = config::parse_toml(text, path);
    ServerConfig c;
    c.path = path;

    config::TableReader top(root, path, "", kDocs);
    for (std::string_view s : {"server", "streams", "bundle", "pacing", "retention", "keys", "control"}) top.get(s);
    top.reject_unknown();

    config::TableReader sv(config::section(root, "server", path), path, "server.", kDocs);
    sv.string("store", c.store);
    sv.string("profile", c.profile);
    sv.string("key_log", c.key_log);
    sv.integer("stats_interval_ms", c.stats_interval_ms, 100, 3'600'000);
    sv.integer("poll_interval_ms", c.poll_interval_ms, 1, 10'000);
    sv.integer("initial_map_bytes", c.initial_map_bytes, std::int64_t{1} << 20, std::int64_t{1} << 40);
    sv.reject_unknown();
    if (c.store.empty()) sv.fail("store", "missing (the master store directory)");
    if (c.profile.empty()) sv.fail("profile", "missing (a pmd-config profile, e.g. \"../pmd-config/null.toml\")");
    c.store = resolve(c.store, base_dir);
    c.profile = resolve(c.profile, base_dir);
    c.key_log = resolve(c.key_log, base_dir);

    config::TableReader st(config::section(root, "streams", path), path, "streams.", kDocs);
    st.strings("databases", c.databases);
    std::string range;
    st.string("group_range", range);
    if (!range.empty()) parse_group_range(st, range, c);
    st.integer("port", c.port, 1, 65535);
    st.choice("start", c.start, {{"oldest", StartAt::oldest}, {"next", StartAt::next}});
    const bool max_set = st.get("max_streams") != nullptr;
    st.integer("max_streams", c.max_streams, 1, 4096);
    st.integer("idle_stop_seconds", c.idle_stop_seconds, 1, 30 * 86400);
    st.integer("lease_seconds", c.lease_seconds, 1, 86400);
    st.reject_unknown();
    // Without a control service nothing could start a stream later.
    if (c.databases.empty() && root.get("control") == nullptr) {
        st.fail("databases", "missing or empty (the databases to multicast; with no [control], no Subscribe can start one)");
    }
    for (std::size_t i = 0; i < c.databases.size(); ++i) {
        if (!store::layout::valid_name(c.databases[i])) {
            st.fail("databases", "\"" + c.databases[i] + "\" is not a database name (1..200 bytes, not starting with '_')");
        }
        for (std::size_t j = 0; j < i; ++j) {
            if (c.databases[j] == c.databases[i]) st.fail("databases", "\"" + c.databases[i] + "\" is listed twice");
        }
    }
    if (c.databases.size() > c.group_count()) {
        st.fail("group_range", "holds " + std::to_string(c.group_count()) + " groups for " +
                                   std::to_string(c.databases.size()) + " databases");
    }
    if (!max_set) {
        // The default fits whatever range and list the operator wrote.
        c.max_streams = std::max<std::uint32_t>(static_cast<std::uint32_t>(c.databases.size()),
                                                std::min<std::uint32_t>(c.max_streams, c.group_count()));
    } else if (c.max_streams < c.databases.size()) {
        st.fail("max_streams", "is " + std::to_string(c.max_streams) + ", less than the " +
                                   std::to_string(c.databases.size()) + " databases listed");
    } else if (c.max_streams > c.group_count()) {
        st.fail("max_streams", "is " + std::to_string(c.max_streams) + ", but group_range holds " +
                                   std::to_string(c.group_count()) + " groups");
    }

    config::TableReader bu(config::section(root, "bundle", path), path, "bundle.", kDocs);
    bu.integer("max_updates", c.max_updates, 1, 65535);
    bu.integer("max_bytes", c.max_bytes, 64, 16u << 20);
    bu.boolean("adaptive", c.adaptive);
    bu.integer("min_updates", c.min_updates, 1, 65535);
    bu.integer("adaptive_window_ms", c.adaptive_window_ms, 500, 600'000);
    bu.choice("compression", c.compress, {{"isal", true}, {"off", false}});
    bu.integer("compression_level", c.compression_level, 0, 3);
    bu.integer("jobs_per_worker", c.jobs_per_worker, 2, 4096);
    bu.integer("compression_lcore", c.compression_lcore, -1, 1023);
    bu.reject_unknown();
    if (!c.compress && c.compression_lcore >= 0) bu.fail("compression_lcore", "set, but compression is off");
    // The default floor under a smaller ceiling is the ceiling; a floor written above it is a mistake.
    if (c.min_updates > c.max_updates && bu.get("min_updates") == nullptr) c.min_updates = c.max_updates;
    if (c.min_updates > c.max_updates) {
        bu.fail("min_updates", "is " + std::to_string(c.min_updates) + ", above max_updates (" + std::to_string(c.max_updates) + ")");
    }

    config::TableReader pa(config::section(root, "pacing", path), path, "pacing.", kDocs);
    std::uint64_t rate_mbps = 0;
    pa.integer("rate_mbps", rate_mbps, 0, 400'000);
    c.pace.rate_bps = rate_mbps * 1'000'000;
    pa.integer("packet_gap_ns", c.pace.min_packet_gap_ns, 0, 10'000'000'000);
    pa.integer("chain_gap_ns", c.pace.chain_gap_base_ns, 0, 10'000'000'000);
    pa.integer("chain_gap_ns_per_kib", c.pace.chain_gap_ns_per_kib, 0, 1'000'000);
    pa.integer("burst_bytes", c.pace.max_burst_bytes, 0, 1 << 30);
    pa.boolean("adaptive", c.adaptive_rate);
    std::uint64_t min_rate_mbps = std::max<std::uint64_t>(1, rate_mbps / 20);
    pa.integer("min_rate_mbps", min_rate_mbps, 1, 400'000);
    c.min_rate_bps = min_rate_mbps * 1'000'000;
    if (!c.adaptive_rate && pa.get("min_rate_mbps") != nullptr) {
        pa.fail("min_rate_mbps", "set, but adaptive is off (it is adaptive rate's floor)");
    } else if (c.adaptive_rate && rate_mbps == 0) {
        pa.fail("adaptive", "needs a cap to adapt: set rate_mbps (the most the stream may send)");
    } else if (c.adaptive_rate && min_rate_mbps > rate_mbps) {
        pa.fail("min_rate_mbps", "is " + std::to_string(min_rate_mbps) + ", above rate_mbps (" + std::to_string(rate_mbps) + ")");
    }
    if (const std::string why = pace::validate(c.pace); !why.empty()) {
        // validate() names PaceConfig's fields; the operator wrote config keys.
        const std::string field = why.substr(0, why.find(':'));
        const std::string key = field == "rate_bps"            ? "rate_mbps"
                                : field == "min_packet_gap_ns" ? "packet_gap_ns"
                                : field == "chain_gap_base_ns" ? "chain_gap_ns"
                                : field == "max_burst_bytes"   ? "burst_bytes"
                                                               : field;
        pa.fail(key, why.substr(why.find(':') + 2));
    }
    pa.reject_unknown();

    config::TableReader re(config::section(root, "retention", path), path, "retention.", kDocs);
    re.integer("keep_updates", c.keep_updates, 0, std::int64_t{1} << 48);
    re.integer("keep_bytes", c.keep_bytes, 0, std::int64_t{1} << 50);
    re.integer("trim_interval_ms", c.trim_interval_ms, 0, 86'400'000);
    re.integer("trim_max_per_run", c.trim_max_per_run, 1000, 100'000'000);
    re.reject_unknown();

    config::TableReader ke(config::section(root, "keys", path), path, "keys.", kDocs);
    ke.boolean("sealed", c.sealed);
    ke.integer("rotate_seconds", c.rotate_seconds, 0, 30 * 86400);
    ke.reject_unknown();
    if (c.rotate_seconds != 0 && c.rotate_seconds < 3) {
        ke.fail("rotate_seconds", "is " + std::to_string(c.rotate_seconds) +
                                      ": a switch is announced for 2 s (PROTOCOL.md 1.5), so at least 3");
    }
    if (!c.sealed && c.rotate_seconds != 0) ke.fail("rotate_seconds", "set, but keys.sealed is false");

    if (root.get("control") != nullptr) {
        config::TableReader co(config::section(root, "control", path), path, "control.", kDocs);
        c.control.emplace();
        control::read_control_config(co, *c.control, base_dir);
        co.reject_unknown();
        c.control->lease_ms = c.lease_seconds * 1000;  // the service keeps the leases (engine/control/leases.hpp)
    }
    return c;
}

ServerConfig load_server_config(const std::string& path) {
    const std::string base = std::filesystem::path(path).parent_path().string();
    return parse_server_config(config::read_config_file(path, "server config"), path, base.empty() ? "." : base);
}

}  // namespace replicast::server
