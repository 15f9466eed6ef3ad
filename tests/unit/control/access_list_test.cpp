// The access list file: strict parsing with FILE:LINE: KEY: reason, and what a
// reload takes away.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/config/strict_toml.hpp"
#include "engine/control/access_list.hpp"

namespace replicast::control {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string error_of(const std::string& text) {
    try {
        AccessList::parse(text, "access.toml");
    } catch (const config::ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(AccessList, ParsesRolesDatabasesAndGroups) {
    const auto l = AccessList::parse(R"(
[[identity]]
name = "reader"
roles = ["subscriber"]
databases = ["orders"]
groups = [5, 2, 5]

[[identity]]
name = "boss"
roles = ["admin"]
databases = ["*"]
)", "access.toml");
    const AccessEntry* r = l->find("reader");
    ASSERT_NE(r, nullptr);
    EXPECT_TRUE(r->has(kSubscriber));
    EXPECT_FALSE(r->has(kPublisher));
    EXPECT_TRUE(r->may_use("orders"));
    EXPECT_FALSE(r->may_use("prices"));
    EXPECT_FALSE(r->all_groups);
    EXPECT_THAT(r->groups, ElementsAre(2, 5));
    EXPECT_TRUE(r->may_read_group(0)) << "group 0 is everyone's";
    EXPECT_TRUE(r->may_read_group(5));
    EXPECT_FALSE(r->may_read_group(3));
    const AccessEntry* b = l->find("boss");
    ASSERT_NE(b, nullptr);
    EXPECT_TRUE(b->has(kSubscriber) && b->has(kPublisher) && b->has(kAdmin)) << "admin holds every role";
    EXPECT_TRUE(b->may_use("anything"));
    EXPECT_TRUE(b->may_read_group(65535));
    EXPECT_EQ(l->find("nobody"), nullptr);
}

TEST(AccessList, MistakesNameFileLineAndKey) {
    EXPECT_THAT(error_of("[[identity]]\nname = \"a\"\nroles = [\"reader\"]\ndatabases = [\"*\"]\n"),
                HasSubstr("access.toml:3: identity[0].roles"));
    EXPECT_THAT(error_of("[[identity]]\nname = \"a\"\nroles = [\"admin\"]\n"), HasSubstr("databases"));
    EXPECT_THAT(error_of("[[identity]]\nroles = [\"admin\"]\ndatabases = [\"*\"]\n"), HasSubstr("name"));
    EXPECT_THAT(error_of("[[identity]]\nname = \"a\"\nroles = [\"admin\"]\ndatabases = [\"*\"]\ngroups = [70000]\n"),
                HasSubstr("access.toml:5: identity[0].groups"));
    EXPECT_THAT(error_of("[[identity]]\nname = \"a\"\nroles = [\"admin\"]\ndatabases = [\"*\"]\ngroups = [4e60]\n"),
                HasSubstr("access.toml:5: identity[0].groups"));
    EXPECT_THAT(error_of("[[identity]]\nname = \"a\"\nroles = [\"admin\"]\ndatabases = [\"_log\"]\n"),
                HasSubstr("not a database name"));
    EXPECT_THAT(error_of("[[identity]]\nname = \"a\"\nroles = [\"admin\"]\ndatabases = [\"*\"]\ncolour = 1\n"),
                HasSubstr("unknown key"));
    EXPECT_THAT(error_of("[[identity]]\nname = \"a\"\nroles = [\"admin\"]\ndatabases = [\"*\"]\n"
                         "[[identity]]\nname = \"a\"\nroles = [\"admin\"]\ndatabases = [\"*\"]\n"),
                HasSubstr("listed twice"));
    EXPECT_THAT(error_of("identity = 3\n"), HasSubstr("[[identity]]"));
    EXPECT_THAT(error_of("[[identity]\n"), HasSubstr("access.toml:1"));
    EXPECT_THAT(error_of("users = []\n"), HasSubstr("unknown key"));
    EXPECT_TRUE(AccessList::parse("", "empty.toml")->entries().empty()) << "an empty list admits nobody";
}

TEST(AccessList, LostDatabasesAreWhatARevocationMustRekey) {
    const auto before = AccessList::parse(R"(
[[identity]]
name = "a"
roles = ["subscriber"]
databases = ["*"]
[[identity]]
name = "b"
roles = ["subscriber"]
databases = ["x", "y"]
[[identity]]
name = "p"
roles = ["publisher"]
databases = ["*"]
)", "before.toml");
    const auto after = AccessList::parse(R"(
[[identity]]
name = "b"
roles = ["subscriber"]
databases = ["x"]
)", "after.toml");
    const std::vector<std::string> all{"x", "y", "z"};
    EXPECT_THAT(lost_databases(*before, *after, "a", all), ElementsAre("x", "y", "z"));
    EXPECT_THAT(lost_databases(*before, *after, "b", all), ElementsAre("y"));
    EXPECT_TRUE(lost_databases(*before, *after, "p", all).empty()) << "a publisher never held a key";
}

}  // namespace
}  // namespace replicast::control

#include "engine/control/control_server.hpp"

namespace replicast::control {
namespace {

ControlConfig read_config(const std::string& text) {
    const toml::table root = config::parse_toml(text, "server.toml");
    config::TableReader t(config::section(root, "control", "server.toml"), "server.toml", "control.", "config/README.md");
    ControlConfig c;
    read_control_config(t, c, "/etc/replicast");
    t.reject_unknown();
    return c;
}

std::string config_error(const std::string& text) {
    try {
        read_config(text);
    } catch (const config::ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(ControlConfig, ReadsTheTableWithPathsRelativeToTheConfig) {
    const ControlConfig c = read_config(R"([control]
listen = "127.0.0.1:7401"
certificate = "certs/server.pem"
private_key = "/abs/server.key"
ca = "certs/ca.pem"
access_list = "access.toml"
identity = "uri_san"
max_message_bytes = 1048576
recover_batch_bytes = 65536
snapshot_page_bytes = 65536
max_recoveries_per_identity = 2
max_snapshots_per_identity = 3
stream_deadline_ms = 1000
publish_window_seconds = 60
threads = 8
threads_nice = 10
)");
    EXPECT_EQ(c.listen, "127.0.0.1:7401");
    EXPECT_EQ(c.certificate, "/etc/replicast/certs/server.pem");
    EXPECT_EQ(c.private_key, "/abs/server.key");
    EXPECT_EQ(c.access_list, "/etc/replicast/access.toml");
    EXPECT_EQ(c.identity, IdentitySource::uri_san);
    EXPECT_EQ(c.max_message_bytes, 1048576u);
    EXPECT_EQ(c.max_snapshots_per_identity, 3u);
    EXPECT_EQ(c.threads, 8u);
    EXPECT_EQ(c.threads_nice, 10u);
}

TEST(ControlConfig, MistakesNameFileLineAndKey) {
    const std::string paths = "certificate = \"s.pem\"\nprivate_key = \"s.key\"\nca = \"ca.pem\"\naccess_list = \"a.toml\"\n";
    EXPECT_THAT(config_error("[control]\ncertificate = \"s.pem\"\n"), HasSubstr("control.private_key"));
    EXPECT_THAT(config_error("[control]\n" + paths + "identity = \"email\"\n"), HasSubstr("server.toml:6: control.identity"));
    EXPECT_THAT(config_error("[control]\n" + paths + "threads = 0\n"), HasSubstr("control.threads"));
    EXPECT_THAT(config_error("[control]\n" + paths + "threads_nice = 20\n"), HasSubstr("control.threads_nice"));
    EXPECT_THAT(config_error("[control]\n" + paths + "listen = \"7400\"\n"), HasSubstr("HOST:PORT"));
    EXPECT_THAT(config_error("[control]\n" + paths + "max_message_bytes = 65536\nrecover_batch_bytes = 131072\n"),
                HasSubstr("exceeds max_message_bytes"));
    EXPECT_THAT(config_error("[control]\n" + paths + "colour = 1\n"), HasSubstr("unknown key"));
}

}  // namespace
}  // namespace replicast::control
