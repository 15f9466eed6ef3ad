// Strict reading of TOML configuration (pmd-config profiles, the server
// config): every key read is remembered, so whatever is left over is reported
// as unknown, and every bad value fails with "FILE:LINE: KEY: reason". A typo
// in a config must never silently fall back to a default.
//
// Strings may use ${NAME} and ${NAME:-default} from the environment, so one
// file serves many runs (a capture file per test, the lab's interface name).
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <initializer_list>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace replicast::config {

/// A configuration that cannot be used: what() reads "FILE:LINE: KEY: reason".
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Expands ${NAME} and ${NAME:-default}. @return the text, or "" with `error` set.
std::string expand_env(const std::string& text, std::string& error);

/// Parses TOML text, turning toml++'s parse errors into ConfigError("FILE:LINE: reason").
toml::table parse_toml(std::string_view text, const std::string& path);

/// Reads a whole file; ConfigError("FILE: cannot read ...") when it cannot.
std::string read_config_file(const std::string& path, std::string_view what);

/// The sub-table `name` of `root`, or an empty table when absent; ConfigError when not a table.
const toml::table& section(const toml::table& root, std::string_view name, const std::string& path);

/// Parses dotted-quad IPv4 text to host order. @return false on anything else.
bool parse_ipv4(std::string_view text, std::uint32_t& out) noexcept;

class TableReader {
public:
    /// `prefix` is the dotted table name ("eal."), `docs` where the keys are documented.
    TableReader(const toml::table& table, std::string path, std::string prefix, std::string docs);

    [[noreturn]] void fail(const toml::node* node, std::string_view key, const std::string& why) const;
    [[noreturn]] void fail(std::string_view key, const std::string& why) const { fail(table_.get(key), key, why); }

    /// Marks `key` as known and returns its node (nullptr when absent).
    const toml::node* get(std::string_view key);

    template <typename T>
    void integer(std::string_view key, T& out, std::int64_t lo, std::int64_t hi) {
        const toml::node* n = get(key);
        if (n == nullptr) return;
        // as_integer, not value<int64_t>: toml++ converts a float to the
        // integer type, undefined behaviour for one out of range (4e60).
        const toml::value<std::int64_t>* i = n->as_integer();
        if (i == nullptr) fail(n, key, "must be an integer");
        const std::int64_t v = i->get();
        if (v < lo || v > hi) {
            fail(n, key, "is " + std::to_string(v) + ", must be in " + std::to_string(lo) + ".." + std::to_string(hi));
        }
        out = static_cast<T>(v);
    }

    void boolean(std::string_view key, bool& out);
    void string(std::string_view key, std::string& out);
    void strings(std::string_view key, std::vector<std::string>& out);

    template <typename E>
    void choice(std::string_view key, E& out, std::initializer_list<std::pair<std::string_view, E>> options) {
        if (table_.get(key) == nullptr) {
            get(key);
            return;
        }
        std::string text;
        string(key, text);
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

    /// Fails on the first key nobody asked for.
    void reject_unknown() const;

private:
    const toml::table& table_;
    std::string path_;
    std::string prefix_;
    std::string docs_;
    std::set<std::string> seen_;
};

}  // namespace replicast::config
