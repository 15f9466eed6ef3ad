#include "engine/config/strict_toml.hpp"

#include <arpa/inet.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace replicast::config {

bool parse_ipv4(std::string_view text, std::uint32_t& out) noexcept {
    char buf[INET_ADDRSTRLEN] = {};
    if (text.size() >= sizeof buf) return false;
    text.copy(buf, text.size());
    in_addr a{};
    if (inet_pton(AF_INET, buf, &a) != 1) return false;
    out = ntohl(a.s_addr);
    return true;
}


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

toml::table parse_toml(std::string_view text, const std::string& path) {
    try {
        return toml::parse(text, path);
    } catch (const toml::parse_error& e) {
        throw ConfigError(path + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
    }
}

std::string read_config_file(const std::string& path, std::string_view what) {
    std::ifstream in(path);
    if (!in) {
        throw ConfigError(path + ": cannot read the " + std::string(what));
    }
    std::stringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        throw ConfigError(path + ": read error in the " + std::string(what));
    }
    return text.str();
}

const toml::table& section(const toml::table& root, std::string_view name, const std::string& path) {
    static const toml::table empty;
    const toml::node* n = root.get(name);
    if (n == nullptr) return empty;
    if (!n->is_table()) {
        throw ConfigError(path + ":" + std::to_string(n->source().begin.line) + ": " + std::string(name) +
                          ": must be a table ([" + std::string(name) + "])");
    }
    return *n->as_table();
}

TableReader::TableReader(const toml::table& table, std::string path, std::string prefix, std::string docs)
    : table_(table), path_(std::move(path)), prefix_(std::move(prefix)), docs_(std::move(docs)) {}

void TableReader::fail(const toml::node* node, std::string_view key, const std::string& why) const {
    std::ostringstream s;
    s << path_;
    if (node != nullptr && node->source().begin.line != 0) {
        s << ':' << node->source().begin.line;
    }
    s << ": " << prefix_ << key << ": " << why;
    throw ConfigError(s.str());
}

const toml::node* TableReader::get(std::string_view key) {
    seen_.insert(std::string(key));
    return table_.get(key);
}

void TableReader::boolean(std::string_view key, bool& out) {
    const toml::node* n = get(key);
    if (n == nullptr) return;
    if (!n->is_boolean()) fail(n, key, "must be true or false");
    out = *n->value<bool>();
}

void TableReader::string(std::string_view key, std::string& out) {
    const toml::node* n = get(key);
    if (n == nullptr) return;
    if (!n->is_string()) fail(n, key, "must be a string");
    std::string error;
    out = expand_env(*n->value<std::string>(), error);
    if (!error.empty()) fail(n, key, error);
}

void TableReader::strings(std::string_view key, std::vector<std::string>& out) {
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

void TableReader::reject_unknown() const {
    for (const auto& [key, node] : table_) {
        if (!seen_.count(std::string(key.str()))) {
            fail(&node, key.str(), "unknown key (see " + docs_ + ")");
        }
    }
}

}  // namespace replicast::config
