#include "engine/tx/profile.hpp"

#include <toml++/toml.h>

#include <arpa/inet.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

namespace replicast::tx {

namespace {

// Expands ${NAME} and ${NAME:-default} from the environment, so one profile
// serves many runs (a capture file per test, the lab's interface name).
std::string expand_env(const std::string& text, std::string& error) {
    std::string out;
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t open = text.find("${", at);
        if (open == std::string::npos) {
            out += text.substr(at);
            break;
        }
        out += text.substr(at, open - at);
        const std::size_t close = text.find('}', open);
        if (close == std::string::npos) {
            error = "unterminated ${ in \"" + text + "\"";
            return {};
        }
        std::string name = text.substr(open + 2, close - open - 2);
        std::string fallback;
        bool has_fallback = false;
        if (const std::size_t dash = name.find(":-"); dash != std::string::npos) {
            fallback = name.substr(dash + 2);
            name = name.substr(0, dash);
            has_fallback = true;
        }
        const char* value = std::getenv(name.c_str());
        if (value != nullptr && *value != '\0') {
            out += value;
        } else if (has_fallback) {
            out += fallback;
        } else {
            error = "uses ${" + name + "}, which is not set in the environment";
            return {};
        }
        at = close + 1;
    }
    return out;
}

// Walks one table, remembering which keys were read, so that whatever is left
// over can be reported as unknown (typos must not fall back to defaults).
class TableReader {
public:
    TableReader(const toml::table& table, std::string path, std::string prefix)
        : table_(table), path_(std::move(path)), prefix_(std::move(prefix)) {}

    [[noreturn]] void fail(const toml::node* node, std::string_view key, const std::string& why) const {
        std::ostringstream s;
        s << path_;
        if (node != nullptr && node->source().begin.line != 0) {
            s << ':' << node->source().begin.line;
        }
        s << ": " << prefix_ << key << ": " << why;
        throw ProfileError(s.str());
    }

    const toml::node* get(std::string_view key) {
        seen_.insert(std::string(key));
        return table_.get(key);
    }

    template <typename T>
    void integer(std::string_view key, T& out, std::int64_t lo, std::int64_t hi) {
        const toml::node* n = get(key);
        if (n == nullptr) return;
        const auto v = n->value<std::int64_t>();
        if (!n->is_integer() || !v) fail(n, key, "must be an integer");
        if (*v < lo || *v > hi) {
            fail(n, key, "is " + std::to_string(*v) + ", must be in " + std::to_string(lo) + ".." + std::to_string(hi));
        }
        out = static_cast<T>(*v);
    }

    void string(std::string_view key, std::string& out) {
        const toml::node* n = get(key);
        if (n == nullptr) return;
        if (!n->is_string()) fail(n, key, "must be a string");
        std::string error;
        out = expand_env(*n->value<std::string>(), error);
        if (!error.empty()) fail(n, key, error);
    }

    void strings(std::string_view key, std::vector<std::string>& out) {
        const toml::node* n = get(key);
        if (n == nullptr) return;
        const toml::array* a = n->as_array();
        if (a == nullptr) fail(n, key, "must be an array of strings");
        out.clear();
        for (const toml::node& e : *a) {
            if (!e.is_string()) fail(&e, key, "must be an array of strings");
            std::string error;
            out.push_back(expand_env(*e.value<std::string>(), error));
            if (!error.empty()) fail(&e, key, error);
        }
    }

    template <typename E>
    void choice(std::string_view key, E& out, std::initializer_list<std::pair<std::string_view, E>> options) {
        std::string text;
        string(key, text);
        if (text.empty() && table_.get(key) == nullptr) return;
        std::string names;
        for (const auto& [name, value] : options) {
            if (name == text) {
                out = value;
                return;
            }
            names += names.empty() ? "" : ", ";
            names += name;
        }
        fail(table_.get(key), key, "is \"" + text + "\", must be one of " + names);
    }

    void reject_unknown() const {
        for (const auto& [key, node] : table_) {
            if (!seen_.count(std::string(key.str()))) {
                fail(&node, key.str(), "unknown key (see pmd-config/README.md)");
            }
        }
    }

private:
    const toml::table& table_;
    std::string path_;
    std::string prefix_;
    std::set<std::string> seen_;
};

const toml::table& section(const toml::table& root, std::string_view name, const std::string& path) {
    static const toml::table empty;
    const toml::node* n = root.get(name);
    if (n == nullptr) return empty;
    if (!n->is_table()) {
        throw ProfileError(path + ":" + std::to_string(n->source().begin.line) + ": " + std::string(name) +
                           ": must be a table ([" + std::string(name) + "])");
    }
    return *n->as_table();
}

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

bool parse_ipv4(std::string_view text, std::uint32_t& out) noexcept {
    char buf[INET_ADDRSTRLEN] = {};
    if (text.size() >= sizeof buf) return false;
    text.copy(buf, text.size());
    in_addr a{};
    if (inet_pton(AF_INET, buf, &a) != 1) return false;
    out = ntohl(a.s_addr);
    return true;
}

PmdProfile parse_profile(std::string_view text, const std::string& path) {
    toml::table root;
    try {
        root = toml::parse(text, path);
    } catch (const toml::parse_error& e) {
        throw ProfileError(path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
    }
    PmdProfile p;
    p.path = path;

    TableReader top(root, path, "");
    top.string("description", p.description);
    for (std::string_view s : {"eal", "port", "dataplane", "workers"}) top.get(s);
    top.reject_unknown();

    TableReader eal(section(root, "eal", path), path, "eal.");
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

    TableReader port(section(root, "port", path), path, "port.");
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

    TableReader dp(section(root, "dataplane", path), path, "dataplane.");
    std::string ip, mac;
    dp.string("source_ip", ip);
    if (ip.empty() || !parse_ipv4(ip, p.dataplane.source_ip)) {
        dp.fail(section(root, "dataplane", path).get("source_ip"), "source_ip",
                ip.empty() ? "missing (the IPv4 source of every multicast packet)" : "\"" + ip + "\" is not an IPv4 address");
    }
    dp.string("source_mac", mac);
    if (!mac.empty()) {
        if (!parse_mac(mac, p.dataplane.source_mac)) {
            dp.fail(section(root, "dataplane", path).get("source_mac"), "source_mac", "\"" + mac + "\" is not a MAC like 02:00:00:00:00:01");
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
    TableReader wr(workers, path, "workers.");
    if (const toml::node* n = wr.get("tx_lcores")) {
        const toml::array* a = n->as_array();
        if (a == nullptr || a->empty()) wr.fail(n, "tx_lcores", "must be a non-empty array of lcore ids");
        for (const toml::node& e : *a) {
            const auto v = e.value<std::int64_t>();
            if (!e.is_integer() || !v || *v < 0 || *v > 1023) wr.fail(&e, "tx_lcores", "lcore ids are integers 0..1023");
            p.tx_lcores.push_back(static_cast<unsigned>(*v));
        }
    } else {
        p.tx_lcores = {1};
    }
    wr.reject_unknown();
    return p;
}

PmdProfile load_profile(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        throw ProfileError(path + ": cannot read the profile");
    }
    std::stringstream text;
    text << in.rdbuf();
    return parse_profile(text.str(), path);
}

}  // namespace replicast::tx
