#include "engine/control/access_list.hpp"

#include <algorithm>

#include "engine/config/strict_toml.hpp"

namespace replicast::control {

namespace {

constexpr const char* kDocs = "engine/control/README.md";

void read_entry(const toml::table& t, const std::string& path, std::size_t index, AccessEntry& e) {
    config::TableReader r(t, path, "identity[" + std::to_string(index) + "].", kDocs);
    r.string("name", e.identity);
    if (r.get("name") == nullptr || e.identity.empty()) r.fail("name", "is required: the certificate identity (CN or URI SAN)");
    if (e.identity.size() > 1024) r.fail("name", "is longer than 1024 bytes");

    std::vector<std::string> roles;
    r.strings("roles", roles);
    if (roles.empty()) r.fail("roles", "is required: one or more of subscriber, publisher, admin");
    for (const std::string& role : roles) {
        if (role == "subscriber") e.roles |= kSubscriber;
        else if (role == "publisher") e.roles |= kPublisher;
        else if (role == "admin") e.roles |= kAdmin;
        else r.fail("roles", "\"" + role + "\" is not a role: subscriber, publisher or admin");
    }

    std::vector<std::string> dbs;
    r.strings("databases", dbs);
    if (r.get("databases") == nullptr) r.fail("databases", "is required: database names, or [\"*\"] for every one");
    for (const std::string& db : dbs) {
        if (db == "*") {
            e.all_databases = true;
        } else if (db.empty() || db.size() > 200 || db[0] == '_' || db.find('\0') != std::string::npos) {
            r.fail("databases", "\"" + db + "\" is not a database name (1..200 bytes, not starting with '_')");
        } else {
            e.databases.insert(db);
        }
    }

    if (const toml::node* n = r.get("groups"); n != nullptr) {
        const toml::array* a = n->as_array();
        if (a == nullptr) r.fail(n, "groups", "must be an array of reader groups (integers 0..65535)");
        e.all_groups = false;
        for (const toml::node& g : *a) {
            const toml::value<std::int64_t>* v = g.as_integer();  // not value<>: a float converts with UB
            if (v == nullptr || v->get() < 0 || v->get() > 65535) r.fail(&g, "groups", "must be integers in 0..65535");
            e.groups.push_back(static_cast<std::uint16_t>(v->get()));
        }
        std::sort(e.groups.begin(), e.groups.end());
        e.groups.erase(std::unique(e.groups.begin(), e.groups.end()), e.groups.end());
    }
    r.reject_unknown();
}

}  // namespace

bool AccessEntry::may_read_group(std::uint16_t g) const noexcept {
    return all_groups || g == 0 || std::binary_search(groups.begin(), groups.end(), g);
}

std::shared_ptr<const AccessList> AccessList::load(const std::string& path) {
    return parse(config::read_config_file(path, "access list"), path);
}

std::shared_ptr<const AccessList> AccessList::parse(std::string_view text, const std::string& path) {
    const toml::table root = config::parse_toml(text, path);
    auto list = std::make_shared<AccessList>();
    config::TableReader top(root, path, "", kDocs);
    const toml::node* ids = top.get("identity");
    top.reject_unknown();
    if (ids == nullptr) return list;  // an empty list: nobody may call
    const toml::array* a = ids->as_array();
    if (a == nullptr || !a->is_array_of_tables()) top.fail(ids, "identity", "must be an array of tables ([[identity]])");
    std::size_t i = 0;
    for (const toml::node& n : *a) {
        AccessEntry e;
        read_entry(*n.as_table(), path, i, e);
        if (list->entries_.count(e.identity) != 0) {
            config::TableReader(*n.as_table(), path, "identity[" + std::to_string(i) + "].", kDocs)
                .fail("name", "\"" + e.identity + "\" is listed twice");
        }
        list->entries_.emplace(e.identity, std::move(e));
        ++i;
    }
    return list;
}

const AccessEntry* AccessList::find(std::string_view identity) const {
    const auto it = entries_.find(identity);
    return it == entries_.end() ? nullptr : &it->second;
}

std::vector<std::string> lost_databases(const AccessList& before, const AccessList& after, std::string_view identity,
                                        const std::vector<std::string>& all) {
    std::vector<std::string> lost;
    const AccessEntry* b = before.find(identity);
    if (b == nullptr || !b->has(kSubscriber)) return lost;
    const AccessEntry* a = after.find(identity);
    for (const std::string& db : all) {
        if (!b->may_use(db)) continue;
        if (a == nullptr || !a->has(kSubscriber) || !a->may_use(db)) lost.push_back(db);
    }
    return lost;
}

}  // namespace replicast::control
