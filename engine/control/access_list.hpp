// The access list: which certificate identity may do what (engine/control/README.md
// documents the file). Immutable once loaded: the service holds it as a
// shared_ptr<const AccessList> and swaps the pointer atomically on reload, so
// a call in flight finishes with the list it started with and the next call
// sees the new one.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace replicast::control {

/// Roles, as bits: an identity may hold several.
enum Role : std::uint8_t { kSubscriber = 1, kPublisher = 2, kAdmin = 4 };

struct AccessEntry {
    std::string identity;
    std::uint8_t roles = 0;                // Role bits; admin implies the other two
    bool all_databases = false;            // "*"
    std::set<std::string> databases;
    bool all_groups = true;                // `groups` absent
    std::vector<std::uint16_t> groups;     // sorted; group 0 is readable whatever the list says

    [[nodiscard]] bool has(Role r) const noexcept { return (roles & (r | kAdmin)) != 0; }
    [[nodiscard]] bool may_use(std::string_view db) const {
        return all_databases || databases.count(std::string(db)) != 0;
    }
    [[nodiscard]] bool may_read_group(std::uint16_t g) const noexcept;
};

class AccessList {
public:
    /// Parses the TOML file strictly. Throws config::ConfigError ("FILE:LINE: KEY: reason").
    static std::shared_ptr<const AccessList> load(const std::string& path);
    /// The same, from text (tests, the fuzz target); `path` names it in errors.
    static std::shared_ptr<const AccessList> parse(std::string_view text, const std::string& path);

    /// nullptr when the identity is not listed.
    [[nodiscard]] const AccessEntry* find(std::string_view identity) const;
    [[nodiscard]] const std::map<std::string, AccessEntry, std::less<>>& entries() const noexcept { return entries_; }

private:
    std::map<std::string, AccessEntry, std::less<>> entries_;
};

/// The databases (of `all`, the store's) that `identity` could read under
/// `before` and may not under `after`: the ones whose keys must change.
std::vector<std::string> lost_databases(const AccessList& before, const AccessList& after, std::string_view identity,
                                        const std::vector<std::string>& all);

}  // namespace replicast::control
