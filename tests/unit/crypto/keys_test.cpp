// Key epochs and the key log.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "crypto/key_log.hpp"
#include "crypto/key_ring.hpp"

namespace replicast::crypto {
namespace {

using ::testing::HasSubstr;

TEST(KeyRing, LookupByEpochAndOverlap) {
    GcmEngine engine;
    KeyRing ring(engine);
    EXPECT_FALSE(ring.add(0, generate_key())) << "epoch 0 means unsealed";
    EXPECT_EQ(ring.find(1), nullptr);
    ASSERT_TRUE(ring.add(1, generate_key()));
    ASSERT_TRUE(ring.add(2, generate_key()));
    const GcmKey* one = ring.find(1);
    ASSERT_NE(one, nullptr);
    EXPECT_NE(ring.find(2), nullptr);
    EXPECT_NE(ring.find(2), one);
    EXPECT_EQ(ring.find(3), nullptr);
    EXPECT_EQ(ring.newest_epoch(), 2u);
    ASSERT_TRUE(ring.add(3, generate_key()));
    ASSERT_TRUE(ring.add(4, generate_key()));  // full: epoch 1 goes
    EXPECT_EQ(ring.find(1), nullptr);
    EXPECT_EQ(ring.size(), 3u);
    ring.retire_older_than(4);
    EXPECT_EQ(ring.size(), 1u);
    EXPECT_NE(ring.find(4), nullptr);
}

// A key added and never handed out is taken back out, alone: the current
// epoch keeps its key (and its slot), whatever is added after.
TEST(KeyRing, RemoveTakesOutOneEpochOnly) {
    GcmEngine engine;
    KeyRing ring(engine);
    ASSERT_TRUE(ring.add(5, generate_key()));
    const GcmKey* current = ring.find(5);
    for (std::uint32_t failed = 6; failed < 12; ++failed) {  // rotations whose post failed
        ASSERT_TRUE(ring.add(failed, generate_key()));
        EXPECT_TRUE(ring.remove(failed));
        EXPECT_EQ(ring.find(failed), nullptr);
        ASSERT_EQ(ring.find(5), current) << "the key in use was evicted after " << failed - 5 << " failed rotations";
    }
    EXPECT_FALSE(ring.remove(42));
    EXPECT_EQ(ring.size(), 1u);
    EXPECT_EQ(ring.newest_epoch(), 5u);
}

// The ring hands back the key that was added for each epoch (a replaced epoch
// gets its new key), checked by opening what the raw key sealed.
TEST(KeyRing, EachEpochOpensWithItsOwnKey) {
    GcmEngine engine;
    KeyRing ring(engine);
    const Key k5 = generate_key(), k6 = generate_key(), k6b = generate_key();
    ASSERT_TRUE(ring.add(5, k5));
    ASSERT_TRUE(ring.add(6, k6));
    const auto seal_with = [&](const Key& raw, std::uint32_t epoch) {
        const GcmKey g(engine, raw);
        const std::vector<std::uint8_t> plain(40, 0xab);
        std::vector<std::uint8_t> d(wire::datagram_size(plain.size(), true));
        seal_packet(engine, g, {.flags = wire::flags::kOic, .stream_id = 2, .packet_seq = 9, .key_epoch = epoch}, plain, d);
        return d;
    };
    const auto opens = [&](const std::vector<std::uint8_t>& d, std::uint32_t epoch) {
        wire::PacketView v;
        if (wire::parse_packet(d, v) != wire::WireError::ok) return false;
        const GcmKey* k = ring.find(epoch);
        std::vector<std::uint8_t> out(v.payload.size());
        return k != nullptr && open_packet(engine, *k, v, out);
    };
    EXPECT_TRUE(opens(seal_with(k5, 5), 5));
    EXPECT_TRUE(opens(seal_with(k6, 6), 6));
    EXPECT_FALSE(opens(seal_with(k5, 6), 6));
    ASSERT_TRUE(ring.add(6, k6b));  // replaced, not added
    EXPECT_EQ(ring.size(), 2u);
    EXPECT_TRUE(opens(seal_with(k6b, 6), 6));
    EXPECT_FALSE(opens(seal_with(k6, 6), 6));
    ring.retire_older_than(6);
    EXPECT_EQ(ring.find(5), nullptr);
    EXPECT_TRUE(opens(seal_with(k6b, 6), 6));
}

TEST(KeyRing, GeneratedKeysDiffer) {
    EXPECT_NE(generate_key(), generate_key());
}

TEST(KeyLog, FormatAndParseRoundTrip) {
    KeyLogEntry e{.stream_id = 16909060, .epoch = 7, .key = {}};
    for (std::size_t i = 0; i < e.key.size(); ++i) e.key[i] = static_cast<std::uint8_t>(i);
    const std::string line = format_key_log_line(e);
    EXPECT_EQ(line, "REPLICAST_KEY 16909060 7 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    KeyLogEntry back;
    EXPECT_EQ(parse_key_log_line(line, back), "");
    EXPECT_EQ(back.stream_id, e.stream_id);
    EXPECT_EQ(back.epoch, e.epoch);
    EXPECT_EQ(back.key, e.key);
}

TEST(KeyLog, BadLinesSayWhy) {
    KeyLogEntry e;
    const std::string key(64, 'a');
    EXPECT_THAT(parse_key_log_line("REPLICAST_KEY 1 2", e), HasSubstr("expected 4 fields"));
    EXPECT_THAT(parse_key_log_line("CLIENT_RANDOM 1 2 " + key, e), HasSubstr("does not start with REPLICAST_KEY"));
    EXPECT_THAT(parse_key_log_line("REPLICAST_KEY x 2 " + key, e), HasSubstr("stream_id \"x\""));
    EXPECT_THAT(parse_key_log_line("REPLICAST_KEY 1 4294967296 " + key, e), HasSubstr("key_epoch"));
    EXPECT_THAT(parse_key_log_line("REPLICAST_KEY 1 0 " + key, e), HasSubstr("key_epoch 0"));
    EXPECT_THAT(parse_key_log_line("REPLICAST_KEY 1 2 abcd", e), HasSubstr("64 hex digits"));
    EXPECT_THAT(parse_key_log_line("REPLICAST_KEY 1 2 " + std::string(63, 'a') + "g", e), HasSubstr("not a hex digit"));
}

TEST(KeyLog, WriterCreatesMode0600AndLoaderNamesTheLine) {
    const auto dir = std::filesystem::temp_directory_path() / ("rc-keylog-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "keys.log").string();
    {
        std::ofstream(path) << "";
        ::chmod(path.c_str(), 0644);  // too wide: the writer must narrow it
        KeyLogWriter w(path);
        w.append({.stream_id = 1, .epoch = 1, .key = generate_key()});
        w.append({.stream_id = 1, .epoch = 2, .key = generate_key()});
    }
    struct stat st{};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    const auto entries = load_key_log(path);
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[1].epoch, 2u);

    std::ofstream(path, std::ios::app) << "# a comment\n\nREPLICAST_KEY 1 3 nothex\n";
    try {
        (void)load_key_log(path);
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_THAT(e.what(), HasSubstr(path + ":5: key must be 64 hex digits"));
    }
    EXPECT_THROW((void)load_key_log((dir / "missing").string()), std::runtime_error);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace replicast::crypto
