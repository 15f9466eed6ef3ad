// pmd-config profiles: every shipped profile parses, and every kind of mistake
// fails with the file, the line, the key and the reason.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "engine/tx/profile.hpp"
#include "replicast_config.h"

namespace replicast::tx {
namespace {

using ::testing::HasSubstr;

const char* kMinimal = R"(
[port]
name = "net_null0"
[dataplane]
source_ip = "10.0.0.1"
)";

std::string error_of(const std::string& text) {
    try {
        (void)parse_profile(text, "test.toml");
    } catch (const ProfileError& e) {
        return e.what();
    }
    return "no error";
}

TEST(Profile, EveryShippedProfileParses) {
    int n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(std::string(REPLICAST_SOURCE_ROOT) + "/pmd-config")) {
        if (entry.path().extension() != ".toml") continue;
        SCOPED_TRACE(entry.path().string());
        const PmdProfile p = load_profile(entry.path().string());
        EXPECT_FALSE(p.port.name.empty());
        EXPECT_FALSE(p.description.empty());
        EXPECT_NE(p.dataplane.source_ip, 0u);
        EXPECT_FALSE(p.tx_lcores.empty());
        ++n;
    }
    EXPECT_GE(n, 7) << "null, pcap, lab-af_packet, tap, i40e, mlx5, virtio";
}

TEST(Profile, DefaultsAreDocumentedValues) {
    const PmdProfile p = parse_profile(kMinimal, "t.toml");
    EXPECT_EQ(p.eal.lcores, "0,1");
    EXPECT_EQ(p.eal.memory, MemoryMode::automatic);
    EXPECT_EQ(p.port.mtu, 1500);
    EXPECT_EQ(p.port.tx_descriptors, 1024);
    EXPECT_EQ(p.dataplane.ttl, 16);
    EXPECT_EQ(p.dataplane.source_ip, 0x0a000001u);
    EXPECT_FALSE(p.dataplane.source_mac_set);
    EXPECT_EQ(p.tx_lcores, std::vector<unsigned>{1});
    EXPECT_EQ(p.idle.mode, IdleMode::poll) << "a dedicated core polls unless told otherwise";
    EXPECT_EQ(p.idle.sleep_max_us, 100u);
}

TEST(Profile, IdlePolicy) {
    const PmdProfile p = parse_profile(std::string(kMinimal) + "[workers]\nidle = \"sleep\"\nidle_sleep_max_us = 250\n", "t.toml");
    EXPECT_EQ(p.idle.mode, IdleMode::sleep);
    EXPECT_EQ(p.idle.sleep_max_us, 250u);
    EXPECT_EQ(describe(p.idle), "sleep (wake-up within 250 us)");
    EXPECT_EQ(parse_profile(std::string(kMinimal) + "[workers]\nidle = \"pause\"\n", "t.toml").idle.mode, IdleMode::pause);
    EXPECT_THAT(error_of(std::string(kMinimal) + "[workers]\ntx_lcores = [1e300]\n"),
                HasSubstr("workers.tx_lcores: lcore ids are integers 0..1023"));
    EXPECT_THAT(error_of("[port]\nname = \"net_null0\"\nmtu = 9e99\n[dataplane]\nsource_ip = \"10.0.0.1\"\n"),
                HasSubstr("port.mtu: must be an integer"));
    EXPECT_THAT(error_of(std::string(kMinimal) + "[workers]\nidle = \"nap\"\n"),
                HasSubstr("workers.idle: is \"nap\", must be one of poll, pause, sleep"));
    EXPECT_THAT(error_of(std::string(kMinimal) + "[workers]\nidle = \"sleep\"\nidle_sleep_max_us = 0\n"),
                HasSubstr("workers.idle_sleep_max_us: is 0, must be in 1..100000"));

    // The lab profile takes its policy from the environment, sleeping by default.
    const std::string lab = std::string(REPLICAST_SOURCE_ROOT) + "/pmd-config/lab-af_packet.toml";
    ::unsetenv("REPLICAST_TX_IDLE");
    EXPECT_EQ(load_profile(lab).idle.mode, IdleMode::sleep);
    ::setenv("REPLICAST_TX_IDLE", "poll", 1);
    EXPECT_EQ(load_profile(lab).idle.mode, IdleMode::poll);
    ::unsetenv("REPLICAST_TX_IDLE");
}

TEST(Profile, EnvironmentExpansion) {
    ::setenv("REPLICAST_TEST_OUT", "/tmp/x.pcap", 1);
    const PmdProfile p = parse_profile(std::string(kMinimal) + R"(
[eal]
vdevs = ["net_pcap0,tx_pcap=${REPLICAST_TEST_OUT}", "a=${REPLICAST_TEST_UNSET_VAR:-fallback}"]
)", "t.toml");
    ASSERT_EQ(p.eal.vdevs.size(), 2u);
    EXPECT_EQ(p.eal.vdevs[0], "net_pcap0,tx_pcap=/tmp/x.pcap");
    EXPECT_EQ(p.eal.vdevs[1], "a=fallback");
    EXPECT_THAT(error_of(std::string(kMinimal) + "[eal]\nvdevs = [\"${REPLICAST_TEST_UNSET_VAR}\"]\n"),
                HasSubstr("eal.vdevs: uses ${REPLICAST_TEST_UNSET_VAR}, which is not set"));
}

TEST(Profile, MistakesNameFileLineKeyAndReason) {
    EXPECT_THAT(error_of(std::string(kMinimal) + "[port]\n"), HasSubstr("test.toml:"));  // duplicate table: TOML error
    EXPECT_THAT(error_of("[port]\nname = \"x\"\nmtuu = 1500\n[dataplane]\nsource_ip = \"1.2.3.4\"\n"),
                HasSubstr("test.toml:3: port.mtuu: unknown key"));
    EXPECT_THAT(error_of("[port]\nname = \"x\"\nmtu = \"big\"\n[dataplane]\nsource_ip = \"1.2.3.4\"\n"),
                HasSubstr("test.toml:3: port.mtu: must be an integer"));
    EXPECT_THAT(error_of("[port]\nname = \"x\"\nmtu = 100\n[dataplane]\nsource_ip = \"1.2.3.4\"\n"),
                HasSubstr("port.mtu: is 100, must be in 576..9216"));
    EXPECT_THAT(error_of("[port]\nname = \"x\"\n"), HasSubstr("dataplane.source_ip: missing"));
    EXPECT_THAT(error_of("[port]\nname = \"x\"\n[dataplane]\nsource_ip = \"10.0.0.300\"\n"),
                HasSubstr("test.toml:4: dataplane.source_ip: \"10.0.0.300\" is not an IPv4 address"));
    EXPECT_THAT(error_of(std::string(kMinimal) + "source_mac = \"02:00:00:00:00\"\n"),
                HasSubstr("dataplane.source_mac: \"02:00:00:00:00\" is not a MAC"));
    EXPECT_THAT(error_of(std::string(kMinimal) + "[eal]\nmemory = \"lots\"\n"),
                HasSubstr("eal.memory: is \"lots\", must be one of auto, in-memory, no-huge"));
    EXPECT_THAT(error_of("[dataplane]\nsource_ip = \"1.2.3.4\"\n"), HasSubstr("port.name: missing"));
    EXPECT_THAT(error_of(std::string(kMinimal) + "[workers]\ntx_lcores = []\n"),
                HasSubstr("workers.tx_lcores: must be a non-empty array"));
    EXPECT_THAT(error_of(std::string(kMinimal) + "[workers]\ntx_lcores = [1, 2, 1]\n"),
                HasSubstr("workers.tx_lcores: lcore 1 is listed twice"));
    // The lcore list is held to the EAL's syntax, and every tx lcore must be in it.
    EXPECT_THAT(error_of(std::string(kMinimal) + "[eal]\nlcores = \"0,1x\"\n"),
                HasSubstr("test.toml:7: eal.lcores: expected ',' or '@' at position 4 of \"0,1x\""));
    EXPECT_THAT(error_of(std::string(kMinimal) + "[eal]\nlcores = \"0,1\"\n[workers]\ntx_lcores = [1, 2]\n"),
                HasSubstr("workers.tx_lcores: lcore 2 is not in eal.lcores \"0,1\""));
    EXPECT_EQ(error_of(std::string(kMinimal) + "[eal]\nlcores = \"0@0,1@1,2@0\"\n[workers]\ntx_lcores = [1, 2]\n"), "no error");
    for (const char* ip : {"0.0.0.0", "239.1.1.1", "255.255.255.255", "127.0.0.1"}) {
        EXPECT_THAT(error_of("[port]\nname = \"x\"\n[dataplane]\nsource_ip = \"" + std::string(ip) + "\"\n"),
                    HasSubstr("dataplane.source_ip: \"" + std::string(ip) + "\" is not a unicast host address"));
    }
    for (const char* mac : {"01:00:5e:00:00:01", "00:00:00:00:00:00"}) {
        EXPECT_THAT(error_of(std::string(kMinimal) + "source_mac = \"" + mac + "\"\n"),
                    HasSubstr("dataplane.source_mac: \"" + std::string(mac) + "\" is a multicast or all-zero MAC"));
    }
    EXPECT_THAT(error_of(std::string(kMinimal) + "[eal]\nlog_level = \"debgu\"\n"),
                HasSubstr("eal.log_level: \"debgu\" is not a DPDK log level"));
    for (const char* level : {"debug", "lib.eal:info", "pmd.net.*,8", "5", "warn", "lib.eal:err"}) {
        EXPECT_EQ(error_of(std::string(kMinimal) + "[eal]\nlog_level = \"" + level + "\"\n"), "no error") << level;
    }
    EXPECT_THAT(error_of(std::string(kMinimal) + "[eal]\nvdevs = \"net_null0\"\n"),
                HasSubstr("eal.vdevs: must be an array of strings"));
    EXPECT_THAT(error_of("colour = \"blue\"\n" + std::string(kMinimal)), HasSubstr("test.toml:1: colour: unknown key"));
    EXPECT_THAT(error_of("[port]\nname = \"x\"\nmbufs = 600\nmbuf_cache = 512\n[dataplane]\nsource_ip = \"1.2.3.4\"\n"),
                HasSubstr("port.mbuf_cache"));
    EXPECT_THAT(error_of("[port\n"), HasSubstr("test.toml:1:"));
}

TEST(Profile, MissingFileIsAClearError) {
    try {
        (void)load_profile("/nonexistent/replicast.toml");
        FAIL() << "no error";
    } catch (const ProfileError& e) {
        EXPECT_THAT(e.what(), HasSubstr("/nonexistent/replicast.toml: cannot read"));
    }
}

}  // namespace
}  // namespace replicast::tx
