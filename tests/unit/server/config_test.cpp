// The server config: defaults, every table, relative paths, and bad values
// named with file, line and key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/server/config.hpp"

using namespace replicast;
using ::testing::HasSubstr;

namespace {

const char* kMinimal = R"(
[server]
store = "master"
profile = "../pmd-config/null.toml"
[streams]
databases = ["orders"]
)";

std::string error_of(const std::string& text) {
    try {
        (void)server::parse_server_config(text, "s.toml", "/etc/rc");
    } catch (const config::ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST(ServerConfig, MinimalGetsDocumentedDefaultsAndResolvesPaths) {
    const auto c = server::parse_server_config(kMinimal, "s.toml", "/etc/rc");
    EXPECT_EQ(c.store, "/etc/rc/master");
    EXPECT_EQ(c.profile, "/etc/pmd-config/null.toml");
    EXPECT_EQ(c.key_log, "");
    EXPECT_EQ(c.group_of(0), 0xEFC00001u);  // 239.192.0.1: the range's .0 is not given out
    EXPECT_EQ(c.group_count(), 255u);
    EXPECT_EQ(c.port, 5000);
    EXPECT_EQ(c.start, server::StartAt::oldest);
    EXPECT_EQ(c.max_updates, 256u);
    EXPECT_EQ(c.max_bytes, 65536u);
    EXPECT_TRUE(c.adaptive);
    EXPECT_EQ(c.min_updates, 4u);
    EXPECT_EQ(c.adaptive_window_ms, 5000u);
    EXPECT_TRUE(c.compress);
    EXPECT_TRUE(c.sealed);
    EXPECT_EQ(c.rotate_seconds, 0u);
    EXPECT_EQ(c.pace.rate_bps, 0u);
    EXPECT_EQ(c.initial_map_bytes, std::uint64_t{1} << 30);
}

TEST(ServerConfig, EveryTableIsRead) {
    const auto c = server::parse_server_config(std::string(kMinimal) + R"(
group_range = "239.1.2.0/30"
port = 7000
start = "next"
[bundle]
max_updates = 10
max_bytes = 1000
adaptive = false
min_updates = 2
adaptive_window_ms = 800
compression = "isal"
compression_level = 2
jobs_per_worker = 8
compression_lcore = 2
[pacing]
rate_mbps = 250
packet_gap_ns = 1000
chain_gap_ns = 5000
chain_gap_ns_per_kib = 10
burst_bytes = 3000
[keys]
sealed = true
rotate_seconds = 60
)", "s.toml", "/");
    EXPECT_EQ(c.group_of(0), 0xEF010201u);
    EXPECT_EQ(c.group_count(), 3u);
    EXPECT_EQ(c.port, 7000);
    EXPECT_EQ(c.start, server::StartAt::next);
    EXPECT_EQ(c.max_updates, 10u);
    EXPECT_EQ(c.max_bytes, 1000u);
    EXPECT_FALSE(c.adaptive);
    EXPECT_EQ(c.min_updates, 2u);
    EXPECT_EQ(c.adaptive_window_ms, 800u);
    EXPECT_TRUE(c.compress);
    EXPECT_EQ(c.compression_level, 2);
    EXPECT_EQ(c.compression_lcore, 2);
    EXPECT_EQ(c.jobs_per_worker, 8u);
    EXPECT_EQ(c.pace.rate_bps, 250'000'000u);
    EXPECT_EQ(c.pace.min_packet_gap_ns, 1000u);
    EXPECT_EQ(c.pace.chain_gap_base_ns, 5000u);
    EXPECT_EQ(c.pace.chain_gap_ns_per_kib, 10u);
    EXPECT_EQ(c.pace.max_burst_bytes, 3000u);
    EXPECT_EQ(c.rotate_seconds, 60u);
}

TEST(ServerConfig, AdaptiveFloorStaysUnderTheCeiling) {
    const std::string base = std::string(kMinimal) + "[bundle]\n";
    // The default floor (4) under a ceiling of 2 is the ceiling.
    EXPECT_EQ(server::parse_server_config(base + "max_updates = 2\n", "s.toml", "/").min_updates, 2u);
    // A floor written above the ceiling is refused, named.
    EXPECT_THAT(error_of(base + "max_updates = 8\nmin_updates = 16\n"),
                HasSubstr("bundle.min_updates: is 16, above max_updates (8)"));
    EXPECT_THAT(error_of(base + "adaptive_window_ms = 100\n"),
                HasSubstr("bundle.adaptive_window_ms: is 100, must be in 500..600000"));
    EXPECT_THAT(error_of(base + "adaptive = 1\n"), HasSubstr("bundle.adaptive"));
}

TEST(ServerConfig, AdaptiveRateNeedsACapAndAFloorUnderIt) {
    const std::string base = std::string(kMinimal) + "[pacing]\n";
    EXPECT_FALSE(server::parse_server_config(kMinimal, "s.toml", "/").adaptive_rate);
    const auto c = server::parse_server_config(base + "rate_mbps = 2000\nadaptive = true\n", "s.toml", "/");
    EXPECT_TRUE(c.adaptive_rate);
    EXPECT_EQ(c.min_rate_bps, 100'000'000u) << "a twentieth of the cap by default";
    EXPECT_EQ(server::parse_server_config(base + "rate_mbps = 2000\nadaptive = true\nmin_rate_mbps = 300\n", "s.toml", "/")
                  .min_rate_bps,
              300'000'000u);
    EXPECT_THAT(error_of(base + "adaptive = true\n"), HasSubstr("pacing.adaptive: needs a cap to adapt: set rate_mbps"));
    EXPECT_THAT(error_of(base + "rate_mbps = 100\nadaptive = true\nmin_rate_mbps = 200\n"),
                HasSubstr("pacing.min_rate_mbps: is 200, above rate_mbps (100)"));
    EXPECT_THAT(error_of(base + "rate_mbps = 100\nadaptive = \"yes\"\n"), HasSubstr("pacing.adaptive"));
    EXPECT_THAT(error_of(base + "rate_mbps = 100\nmin_rate_mbps = 10\n"),
                HasSubstr("pacing.min_rate_mbps: set, but adaptive is off"));
}

TEST(ServerConfig, InitialMapBytesFromOneMibToOneTib) {
    const std::string head = "[server]\nstore = \"m\"\nprofile = \"p.toml\"\n";
    const std::string tail = "[streams]\ndatabases = [\"a\"]\n";
    EXPECT_EQ(server::parse_server_config(head + "initial_map_bytes = 1048576\n" + tail, "s.toml", "/").initial_map_bytes,
              1048576u);
    EXPECT_THAT(error_of(head + "initial_map_bytes = 4096\n" + tail), HasSubstr("s.toml:4: server.initial_map_bytes: is 4096"));
}

TEST(ServerConfig, BadValuesNameFileLineAndKey) {
    const std::string base = "[server]\nstore = \"m\"\nprofile = \"p.toml\"\n";
    EXPECT_THAT(error_of("[server]\nprofile = \"p\"\n[streams]\ndatabases=[\"a\"]\n"), HasSubstr("s.toml: server.store: missing"));
    EXPECT_THAT(error_of(base), HasSubstr("streams.databases: missing or empty"));
    EXPECT_THAT(error_of(base + "[streams]\ndatabases = [\"_log\"]\n"), HasSubstr("s.toml:5: streams.databases: \"_log\" is not a database name"));
    EXPECT_THAT(error_of(base + "[streams]\ndatabases = [\"a\", \"a\"]\n"), HasSubstr("listed twice"));
    EXPECT_THAT(error_of(base + "[streams]\ndatabases = [\"a\"]\ngroup_range = \"10.0.0.0/8\"\n"),
                HasSubstr("s.toml:6: streams.group_range: \"10.0.0.0/8\" is not in 224.0.0.0/4"));
    EXPECT_THAT(error_of(base + "[streams]\ndatabases = [\"a\"]\ngroup_range = \"224.0.0.0/24\"\n"), HasSubstr("link-local"));
    EXPECT_THAT(error_of(base + "[streams]\ndatabases = [\"a\"]\ngroup_range = \"239.1.1.1/24\"\n"), HasSubstr("host bits"));
    // The prefix length is 1 or 2 digits: no sign, no space, no value that wraps to a small one.
    for (const char* bad : {"239.192.0.0/+24", "239.192.0.0/ 24", "239.192.0.0/4294967320", "239.192.0.0/", "239.192.0.0/024"}) {
        EXPECT_THAT(error_of(base + "[streams]\ndatabases = [\"a\"]\ngroup_range = \"" + bad + "\"\n"),
                    HasSubstr("prefix length is not a number of 1 or 2 digits"))
            << bad;
    }
    EXPECT_THAT(error_of(base + "[streams]\ndatabases = [\"a\", \"b\"]\ngroup_range = \"239.1.1.0/31\"\n"),
                HasSubstr("holds 1 groups for 2 databases"));
    EXPECT_THAT(error_of(base + "[streams]\ndatabases = [\"a\"]\nstart = \"newest\"\n"), HasSubstr("must be one of oldest, next"));
    EXPECT_THAT(error_of(base + "[streams]\ndatabases = [\"a\"]\n[bundle]\nmax_updates = 0\n"),
                HasSubstr("s.toml:7: bundle.max_updates: is 0, must be in 1..65535"));
    EXPECT_THAT(error_of(base + "[streams]\ndatabases = [\"a\"]\n[bundle]\ncolour = 1\n"),
                HasSubstr("bundle.colour: unknown key (see config/README.md)"));
    EXPECT_THAT(error_of(base + "[streams]\ndatabases = [\"a\"]\n[bundle]\ncompression = \"off\"\ncompression_lcore = 2\n"),
                HasSubstr("bundle.compression_lcore: set, but compression is off"));
    EXPECT_THAT(error_of(base + "[streams]\ndatabases = [\"a\"]\n[pacing]\nburst_bytes = 10\n"), HasSubstr("s.toml:7: pacing.burst_bytes: 10 is smaller"));
    EXPECT_THAT(error_of(base + "[streams]\ndatabases = [\"a\"]\n[keys]\nrotate_seconds = 1\n"), HasSubstr("at least 3"));
    EXPECT_THAT(error_of(base + "[streams]\ndatabases = [\"a\"]\n[keys]\nsealed = false\nrotate_seconds = 5\n"),
                HasSubstr("keys.sealed is false"));
    EXPECT_THAT(error_of(base + "[streams\n"), HasSubstr("s.toml:4:"));
    EXPECT_THAT(error_of(base + "[mystery]\n"), HasSubstr("mystery: unknown key"));
}

TEST(ServerConfig, EnvironmentExpands) {
    ::setenv("RC_TEST_STORE", "/data/m", 1);
    const auto c = server::parse_server_config(
        "[server]\nstore = \"${RC_TEST_STORE}\"\nprofile = \"${RC_TEST_UNSET:-/p.toml}\"\n[streams]\ndatabases=[\"a\"]\n", "s.toml", "/");
    EXPECT_EQ(c.store, "/data/m");
    EXPECT_EQ(c.profile, "/p.toml");
    EXPECT_THAT(error_of("[server]\nstore = \"${RC_TEST_UNSET}\"\n"), HasSubstr("RC_TEST_UNSET}, which is not set"));
}

TEST(ServerConfig, StreamsStartedBySubscribeHaveBoundsThatFitTheRange) {
    const auto c = server::parse_server_config(kMinimal, "s.toml", "/etc/rc");
    EXPECT_EQ(c.max_streams, 16u);
    EXPECT_EQ(c.idle_stop_seconds, 300u);
    const std::string base = "[server]\nstore = \"m\"\nprofile = \"p.toml\"\n";
    // The default shrinks to a small range, and grows to a long list.
    const auto small = server::parse_server_config(base + "[streams]\ndatabases = [\"a\"]\ngroup_range = \"239.1.1.0/30\"\n",
                                                   "s.toml", "/");
    EXPECT_EQ(small.max_streams, 3u);
    const auto set = server::parse_server_config(base + "[streams]\ndatabases = [\"a\", \"b\"]\nmax_streams = 2\nidle_stop_seconds = 5\n",
                                                 "s.toml", "/");
    EXPECT_EQ(set.max_streams, 2u);
    EXPECT_EQ(set.idle_stop_seconds, 5u);
    EXPECT_THAT(error_of(base + "[streams]\ndatabases = [\"a\", \"b\"]\nmax_streams = 1\n"),
                HasSubstr("s.toml:6: streams.max_streams: is 1, less than the 2 databases listed"));
    EXPECT_THAT(error_of(base + "[streams]\ndatabases = [\"a\"]\ngroup_range = \"239.1.1.0/30\"\nmax_streams = 4\n"),
                HasSubstr("streams.max_streams: is 4, but group_range holds 3 groups"));
    EXPECT_THAT(error_of(base + "[streams]\ndatabases = [\"a\"]\nidle_stop_seconds = 0\n"),
                HasSubstr("streams.idle_stop_seconds: is 0, must be in"));
    // Without a control service, no Subscribe could ever start a stream.
    EXPECT_THAT(error_of(base + "[streams]\ndatabases = []\n"), HasSubstr("with no [control], no Subscribe can start one"));
}
