#include "engine/tx/profile.hpp"

#include "engine/tx/lcores.hpp"
#include "engine/config/strict_toml.hpp"

#include <algorithm>
#include <arpa/inet.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

namespace replicast::tx {

using config::parse_toml;
using config::section;
using config::TableReader;
using config::read_config_file;

namespace {

constexpr const char* kDocs = "pmd-config/README.md";

bool parse_mac(std::string_view text, std::array<std::uint8_t, 6>& out) {
    if (text.size() != 17) return false;
    for (std::size_t i = 0; i < 6; ++i) {
        if (i > 0 && text[i * 3 - 1] != ':') return false;
        unsigned v = 0;
        const auto r = std::from_chars(text.data() + i * 3, text.data() + i * 3 + 2, v, 16);
        if (r.ec != std::errc{} || r.ptr != text.data() + i * 3 + 2) return false;
        out[i] = static_cast<std::uint8_t>(v);
    }
    return true;
}

}  // namespace

PmdProfile parse_profile(std::string_view text, const std::string& path) {
    const toml::table root = parse_toml(text, path);
    PmdProfile p;
    p.path = path;

    TableReader top(root, path, "", kDocs);
    top.string("description", p.description);
    for (std::string_view s : {"eal", "port", "dataplane", "workers"}) top.get(s);
    top.reject_unknown();

    TableReader eal(section(root, "eal", path), path, "eal.", kDocs);
    eal.string("lcores", p.eal.lcores);
    eal.choice("memory", p.eal.memory, {{"auto", MemoryMode::automatic}, {"in-memory", MemoryMode::in_memory},
                                        {"no-huge", MemoryMode::no_huge}});
    eal.integer("memory_mb", p.eal.memory_mb, 64, 1 << 20);
    eal.string("file_prefix", p.eal.file_prefix);
    eal.strings("vdevs", p.eal.vdevs);
    eal.strings("pci_allow", p.eal.pci_allow);
    eal.strings("extra_args", p.eal.extra_args);
    eal.string("log_level", p.eal.log_level);
    eal.reject_unknown();
    {
        // Checked here: rte_eal_init would only say "Invalid argument".
        // EAL takes a level as a number, or as any prefix of a name ("warn", "err").
        static constexpr std::string_view kLevels[] = {"emergency", "alert", "critical", "error", "warning",
                                                       "notice", "info", "debug"};
        const std::string& level = p.eal.log_level;
        // "LEVEL", "TYPE:LEVEL" or "REGEX,LEVEL" (rte_eal's --log-level forms)
        const std::size_t sep = level.find_last_of(":,");
        const std::string_view bare = std::string_view(level).substr(sep == std::string::npos ? 0 : sep + 1);
        const bool number = !bare.empty() && bare.size() <= 2 && bare.find_first_not_of("0123456789") == std::string_view::npos;
        const bool name = !bare.empty() && std::any_of(std::begin(kLevels), std::end(kLevels), [&](std::string_view l) {
            return l.substr(0, bare.size()) == bare;
        });
        if (!number && !name) {
            eal.fail(section(root, "eal", path).get("log_level"), "log_level",
                     "\"" + level + "\" is not a DPDK log level (emergency, alert, critical, error, warning, notice, info, debug or 1..8)");
        }
    }

    TableReader port(section(root, "port", path), path, "port.", kDocs);
    port.string("name", p.port.name);
    port.integer("tx_descriptors", p.port.tx_descriptors, 64, 32768);
    port.integer("mtu", p.port.mtu, 576, 9216);
    port.choice("checksum_offload", p.port.checksum_offload,
                {{"auto", ChecksumOffload::automatic}, {"on", ChecksumOffload::on}, {"off", ChecksumOffload::off}});
    port.integer("mbufs", p.port.mbufs, 511, 1 << 22);
    port.integer("mbuf_cache", p.port.mbuf_cache, 0, 512);
    port.reject_unknown();
    if (p.port.name.empty()) {
        throw ProfileError(path + ": port.name: missing (the ethdev to send on, e.g. \"net_null0\" or a PCI address)");
    }
    if (p.port.mbuf_cache > p.port.mbufs / 1.5) {
        throw ProfileError(path + ": port.mbuf_cache: " + std::to_string(p.port.mbuf_cache) +
                           " is too large for port.mbufs " + std::to_string(p.port.mbufs) + " (DPDK needs cache <= mbufs / 1.5)");
    }

    TableReader dp(section(root, "dataplane", path), path, "dataplane.", kDocs);
    std::string ip, mac;
    dp.string("source_ip", ip);
    if (ip.empty() || !parse_ipv4(ip, p.dataplane.source_ip)) {
        dp.fail(section(root, "dataplane", path).get("source_ip"), "source_ip",
                ip.empty() ? "missing (the IPv4 source of every multicast packet)" : "\"" + ip + "\" is not an IPv4 address");
    }
    // Receivers join (source, group) with SSM: the source must be a unicast
    // address a host can have, or no join ever matches.
    const std::uint32_t sip = p.dataplane.source_ip;
    if (sip == 0 || sip == 0xFFFFFFFFu || (sip >> 28) == 0xE || (sip >> 28) == 0xF || (sip >> 24) == 127) {
        dp.fail(section(root, "dataplane", path).get("source_ip"), "source_ip",
                "\"" + ip + "\" is not a unicast host address (receivers join this source with SSM)");
    }
    dp.string("source_mac", mac);
    if (!mac.empty()) {
        if (!parse_mac(mac, p.dataplane.source_mac)) {
            dp.fail(section(root, "dataplane", path).get("source_mac"), "source_mac", "\"" + mac + "\" is not a MAC like 02:00:00:00:00:01");
        }
        const auto& m = p.dataplane.source_mac;
        if ((m[0] & 1) != 0 || (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0) {
            dp.fail(section(root, "dataplane", path).get("source_mac"), "source_mac",
                    "\"" + mac + "\" is a multicast or all-zero MAC: a frame's source must be a unicast address");
        }
        p.dataplane.source_mac_set = true;
    }
    dp.integer("vlan_id", p.dataplane.vlan_id, 0, 4094);
    dp.integer("vlan_pcp", p.dataplane.vlan_pcp, 0, 7);
    dp.integer("ttl", p.dataplane.ttl, 1, 255);
    dp.integer("dscp", p.dataplane.dscp, 0, 63);
    dp.integer("source_port", p.dataplane.source_port, 1, 65535);
    dp.reject_unknown();

    const toml::table& workers = section(root, "workers", path);
    TableReader wr(workers, path, "workers.", kDocs);
    if (const toml::node* n = wr.get("tx_lcores")) {
        const toml::array* a = n->as_array();
        if (a == nullptr || a->empty()) wr.fail(n, "tx_lcores", "must be a non-empty array of lcore ids");
        for (const toml::node& e : *a) {
            const toml::value<std::int64_t>* v = e.as_integer();  // not value<>: a float converts with UB
            if (v == nullptr || v->get() < 0 || v->get() > 1023) wr.fail(&e, "tx_lcores", "lcore ids are integers 0..1023");
            const auto lcore = static_cast<unsigned>(v->get());
            if (std::find(p.tx_lcores.begin(), p.tx_lcores.end(), lcore) != p.tx_lcores.end()) {
                wr.fail(&e, "tx_lcores", "lcore " + std::to_string(lcore) + " is listed twice (one tx worker per lcore)");
            }
            p.tx_lcores.push_back(lcore);
        }
    } else {
        p.tx_lcores = {1};
    }
    wr.choice("idle", p.idle.mode, {{"poll", IdleMode::poll}, {"pause", IdleMode::pause}, {"sleep", IdleMode::sleep}});
    // Kept when another policy is chosen: a profile can pick it from the
    // environment (lab-af_packet.toml) without editing the bound.
    wr.integer("idle_sleep_max_us", p.idle.sleep_max_us, 1, 100'000);
    wr.reject_unknown();

    // The lcore list, and every tx lcore in it, before the EAL sees them.
    std::vector<unsigned> lcores;
    if (const std::string why = parse_lcores(p.eal.lcores, lcores); !why.empty()) {
        eal.fail(section(root, "eal", path).get("lcores"), "lcores", why);
    }
    for (unsigned lcore : p.tx_lcores) {
        if (std::find(lcores.begin(), lcores.end(), lcore) == lcores.end()) {
            wr.fail(workers.get("tx_lcores"), "tx_lcores",
                    "lcore " + std::to_string(lcore) + " is not in eal.lcores \"" + p.eal.lcores + "\"");
        }
    }
    return p;
}

PmdProfile load_profile(const std::string& path) {
    return parse_profile(read_config_file(path, "profile"), path);
}

}  // namespace replicast::tx
