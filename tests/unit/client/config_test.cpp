// The client config: every section read, defaults, and errors that name
// FILE:LINE: KEY and the reason. The lab example parses.
#include <gtest/gtest.h>

#include <cstdlib>

#include "engine/client/config.hpp"
#include "replicast_config.h"

namespace replicast::client {
namespace {

const char* kGood = R"(
[control]
server = "10.0.0.1:7000"
certificate = "certs/me.pem"
private_key = "/abs/me.key"
ca = "certs/ca.pem"
server_name = "localhost"

[replica]
store = "replica"
databases = ["orders", "prices"]
durability = "full"

[receive]
interface = "eth0"
rcvbuf_bytes = 1048576
batch = 16
queue_slots = 1024

[policy]
buffer_chains = 100
buffer_mb = 8
recover_retry_ms = 50
error_threshold_percent = 30
unicast_seconds = 5
silence_ms = 1500

[stats]
socket = "run/stats.sock"
log_interval_ms = 0
)";

std::string error_of(const std::string& text) {
    try {
        (void)parse_client_config(text, "c.toml", "/etc/rc");
    } catch (const config::ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(ClientConfig, ReadsEverySection) {
    const ClientConfig c = parse_client_config(kGood, "c.toml", "/etc/rc");
    EXPECT_EQ(c.server, "10.0.0.1:7000");
    EXPECT_EQ(c.certificate, "/etc/rc/certs/me.pem");  // relative to the file
    EXPECT_EQ(c.private_key, "/abs/me.key");
    EXPECT_EQ(c.store, "/etc/rc/replica");
    EXPECT_EQ(c.databases, (std::vector<std::string>{"orders", "prices"}));
    EXPECT_FALSE(c.every_database());
    EXPECT_EQ(c.durability, store::Durability::full);
    EXPECT_EQ(c.receive.interface, "eth0");
    EXPECT_EQ(c.receive.batch, 16u);
    EXPECT_EQ(c.receive.queue_slots, 1024u);
    EXPECT_EQ(c.gap.max_buffered_chains, 100u);
    EXPECT_EQ(c.gap.max_buffered_bytes, 8u << 20);
    EXPECT_EQ(c.gap.retry_ns, 50'000'000u);
    EXPECT_DOUBLE_EQ(c.error_rate.threshold, 0.3);
    EXPECT_EQ(c.error_rate.unicast_ns, 5'000'000'000u);
    EXPECT_EQ(c.silence_ns, 1'500'000'000u);
    EXPECT_EQ(c.stats_socket, "/etc/rc/run/stats.sock");
    EXPECT_EQ(c.log_interval_ms, 0u);
}

TEST(ClientConfig, StarMeansEveryDatabase) {
    std::string t = kGood;
    t.replace(t.find("[\"orders\", \"prices\"]"), 20, "[\"*\"]");
    EXPECT_TRUE(parse_client_config(t, "c.toml", "/").every_database());
}

TEST(ClientConfig, ErrorsNameFileLineAndKey) {
    std::string t = kGood;
    t.replace(t.find("batch = 16"), 10, "batch = 0");
    EXPECT_EQ(error_of(t).rfind("c.toml:", 0), 0u) << error_of(t);
    EXPECT_NE(error_of(t).find("receive.batch"), std::string::npos) << error_of(t);
    EXPECT_NE(error_of(t).find("1..1024"), std::string::npos) << error_of(t);

    t = kGood;
    t.replace(t.find("queue_slots = 1024"), 18, "queue_slots = 1000");
    EXPECT_NE(error_of(t).find("power of two"), std::string::npos) << error_of(t);

    t = kGood;
    t.replace(t.find("queue_slots = 1024"), 18, "queue_slots = 1024\nmax_datagram = 100");
    EXPECT_NE(error_of(t).find("receive.max_datagram: is 100, below IPv4's minimum"), std::string::npos) << error_of(t);

    t = kGood;
    t.replace(t.find("interface = \"eth0\""), 18, "interfce = \"eth0\"");
    EXPECT_NE(error_of(t).find("receive.interfce"), std::string::npos) << error_of(t);

    t = kGood;
    t.replace(t.find("\"orders\""), 8, "\"_meta\"");
    EXPECT_NE(error_of(t).find("replica.databases"), std::string::npos) << error_of(t);

    t = kGood;
    t.replace(t.find("10.0.0.1:7000"), 13, "10.0.0.1");
    EXPECT_NE(error_of(t).find("has no port"), std::string::npos) << error_of(t);

    t = kGood;
    t.replace(t.find("durability = \"full\""), 19, "durability = \"fast\"");
    EXPECT_NE(error_of(t).find("must be one of"), std::string::npos) << error_of(t);

    t = kGood + std::string("\n[extra]\n");
    EXPECT_NE(error_of(t).find("extra"), std::string::npos) << error_of(t);

    // A float where an integer goes, even one far outside any integer type
    // (found by fuzz_client_config: toml++'s conversion of it was undefined).
    for (const char* number : {"4e60", "100.0", "-1e308", "nan", "inf"}) {
        t = kGood;
        t.replace(t.find("buffer_chains = 100"), 19, std::string("buffer_chains = ") + number);
        EXPECT_NE(error_of(t).find("policy.buffer_chains: must be an integer"), std::string::npos) << error_of(t);
    }
}

TEST(ClientConfig, RequiredKeysAreNamed) {
    EXPECT_NE(error_of("[replica]\nstore = \"x\"\ndatabases = [\"a\"]\n").find("control.server"), std::string::npos);
    std::string t = kGood;
    t.replace(t.find("store = \"replica\""), 17, "");
    EXPECT_NE(error_of(t).find("replica.store"), std::string::npos) << error_of(t);
    t = kGood;
    t.replace(t.find("ca = \"certs/ca.pem\""), 19, "");
    EXPECT_NE(error_of(t).find("control.ca"), std::string::npos) << error_of(t);
}

TEST(ClientConfig, TheLabExampleParses) {
    const ClientConfig c = load_client_config(std::string(REPLICAST_SOURCE_ROOT) + "/config/client-lab.toml");
    EXPECT_TRUE(c.every_database());
    EXPECT_EQ(c.receive.interface, "eth0");
    EXPECT_EQ(c.receive.max_datagram, 0u) << "unset: the interface's MTU decides the queue's slots";
    EXPECT_FALSE(c.receive.prefault_queue);
    EXPECT_EQ(c.server, "10.77.0.1:7400");  // the server config's default [control] listen port
}

}  // namespace
}  // namespace replicast::client
