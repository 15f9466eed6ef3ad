// Known-answer vectors from the independent encoder (shared/vectors), at the
// wire level: every datagram's header, every plaintext record and body, the
// uncompressed cases re-encoded byte for byte, and every header-level malformed
// case rejected for its stated reason. Opening (tags) is crypto's test, and the
// whole receive path (open, reassemble, inflate) is the chain test's.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "engine/wire/chain_record.hpp"
#include "engine/wire/packet.hpp"
#include "engine/wire/update.hpp"
#include "hex.hpp"
#include "vectors.hpp"

namespace replicast::wire {
namespace {

using testing::from_hex;
using testing::to_hex;

std::uint8_t flags_from_name(const std::string& name) {
    if (name == "FIC") return flags::kFic;
    if (name == "MIC") return flags::kMic;
    if (name == "LIC") return flags::kLic;
    if (name == "OIC") return flags::kOic;
    if (name == "HEARTBEAT|OIC") return flags::kHeartbeat | flags::kOic;
    if (name == "KEYCHANGE|OIC") return flags::kKeyChange | flags::kOic;
    ADD_FAILURE() << "unknown flags name in vectors: " << name;
    return 0;
}

std::string file_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The pinned copy keeps the tests self-contained; this catches it drifting from
// shared/. meson sets REPLICAST_SHARED_VECTORS only when shared/ is beside the checkout.
TEST(Vectors, PinnedCopyMatchesShared) {
    const char* shared = std::getenv("REPLICAST_SHARED_VECTORS");
    if (shared == nullptr) {
        EXPECT_FALSE(file_text(testing::vectors_path()).empty());
        return;
    }
    const std::string shared_text = file_text(shared);
    ASSERT_FALSE(shared_text.empty()) << "cannot read " << shared;
    EXPECT_EQ(shared_text, file_text(testing::vectors_path()))
        << "tests/vectors/protocol-v1.json differs from " << shared << ": copy the new vectors in";
}

TEST(Vectors, EveryCaseDatagramParsesWithItsStatedHeader) {
    const auto file = testing::load_vectors();
    ASSERT_GE(file.cases_size(), 5);
    int packets = 0;
    for (const auto& c : file.cases()) {
        for (const auto& p : c.packets()) {
            const auto d = from_hex(p.datagram());
            PacketView v;
            ASSERT_EQ(parse_packet(d, v), WireError::ok) << c.name() << " seq " << p.packet_seq();
            EXPECT_EQ(v.header.stream_id, c.stream_id()) << c.name();
            EXPECT_EQ(v.header.key_epoch, c.epoch()) << c.name();
            EXPECT_EQ(v.header.packet_seq, p.packet_seq()) << c.name();
            EXPECT_EQ(v.header.flags, flags_from_name(p.flags())) << c.name();
            EXPECT_EQ(v.header.sealed(), !c.key().empty()) << c.name();
            ++packets;
        }
    }
    EXPECT_GE(packets, 7);
}

TEST(Vectors, EveryChainBodyDecodesToItsUpdates) {
    const auto file = testing::load_vectors();
    int chains = 0;
    for (const auto& c : file.cases()) {
        if (c.chain_record().empty()) continue;
        ++chains;
        const auto record = from_hex(c.chain_record());
        ChainRecordView rec;
        ASSERT_EQ(parse_chain_record(record, rec), WireError::ok) << c.name();
        ASSERT_EQ(rec.head.update_count, static_cast<std::uint32_t>(c.updates_size())) << c.name();
        ASSERT_GT(c.updates_size(), 0);
        EXPECT_EQ(rec.head.first_lsn, c.updates(0).lsn()) << c.name();
        const auto body = from_hex(c.body());
        EXPECT_EQ(rec.head.body_len, body.size()) << c.name();

        UpdateReader reader(body, rec.head.update_count);
        UpdateView u;
        for (int i = 0; i < c.updates_size(); ++i) {
            const auto& want = c.updates(i);
            ASSERT_TRUE(reader.next(u)) << c.name() << " update " << i << ": " << describe(reader.error());
            EXPECT_EQ(want.lsn(), rec.head.first_lsn + static_cast<std::uint64_t>(i)) << c.name();
            EXPECT_EQ(u.op, want.op() == "put" ? Op::put : Op::del) << c.name() << " " << want.op();
            EXPECT_EQ(u.reader_group, want.group()) << c.name();
            EXPECT_EQ(std::string(u.key.begin(), u.key.end()), want.key()) << c.name();
            EXPECT_EQ(to_hex(u.value), to_hex(testing::update_value(want))) << c.name();
        }
        EXPECT_FALSE(reader.next(u));
        EXPECT_EQ(reader.error(), WireError::ok) << c.name();
    }
    EXPECT_GE(chains, 3);
}

// For the uncompressed cases our encoder must produce the record byte for byte;
// for the unsealed one, the whole datagram.
TEST(Vectors, OurEncoderReproducesUncompressedCases) {
    const auto file = testing::load_vectors();
    int reproduced = 0;
    for (const auto& c : file.cases()) {
        if (c.chain_record().empty() || c.chain_record().substr(32) != c.body()) continue;  // compressed
        std::vector<std::vector<std::uint8_t>> keys, values;
        std::vector<std::uint8_t> body;
        for (const auto& want : c.updates()) {
            keys.emplace_back(want.key().begin(), want.key().end());
            values.push_back(testing::update_value(want));
            const UpdateView u{.op = want.op() == "put" ? Op::put : Op::del,
                               .reader_group = static_cast<std::uint16_t>(want.group()),
                               .key = keys.back(), .value = values.back()};
            std::vector<std::uint8_t> one(encoded_update_size(u));
            std::size_t written = 0;
            ASSERT_EQ(encode_update(u, one, written), WireError::ok);
            body.insert(body.end(), one.begin(), one.end());
        }
        std::vector<std::uint8_t> record(kChainRecordHeadSize);
        encode_chain_record_head({.first_lsn = c.updates(0).lsn(),
                                  .update_count = static_cast<std::uint32_t>(c.updates_size()),
                                  .body_len = static_cast<std::uint32_t>(body.size())},
                                 record.data());
        record.insert(record.end(), body.begin(), body.end());
        EXPECT_EQ(to_hex(record), c.chain_record()) << c.name();
        ++reproduced;

        if (c.key().empty()) {
            ASSERT_EQ(c.packets_size(), 1);
            std::vector<std::uint8_t> d(datagram_size(record.size(), false));
            encode_header({.flags = flags_from_name(c.packets(0).flags()), .stream_id = c.stream_id(),
                           .packet_seq = c.packets(0).packet_seq(), .key_epoch = 0, .comp_alg = CompAlg::none,
                           .payload_len = static_cast<std::uint16_t>(record.size())},
                          d.data());
            std::copy(record.begin(), record.end(), d.begin() + kHeaderSize);
            EXPECT_EQ(to_hex(d), c.packets(0).datagram()) << c.name();
        }
    }
    EXPECT_GE(reproduced, 2);
}

// Each malformed entry names its reason; the header-level ones must be rejected
// here with exactly that reason. Tag failures parse (the header is fine) and are
// rejected by crypto's open, which its own test checks.
TEST(Vectors, EveryMalformedHeaderIsRejectedForItsReason) {
    const auto file = testing::load_vectors();
    ASSERT_GE(file.malformed_size(), 9);
    for (const auto& m : file.malformed()) {
        const std::string& why = m.why();
        WireError expected = WireError::ok;
        if (why.rfind("bad magic", 0) == 0) expected = WireError::bad_magic;
        else if (why.rfind("bad version", 0) == 0) expected = WireError::bad_version;
        else if (why.rfind("bad flags", 0) == 0) expected = WireError::bad_flags;
        else if (why.rfind("length mismatch", 0) == 0) expected = WireError::length_mismatch;
        else if (why.rfind("shorter than header", 0) == 0) expected = WireError::shorter_than_header;
        else if (why.find("tag does not verify") != std::string::npos) expected = WireError::ok;
        else FAIL() << "a malformed vector with a reason this test does not know: " << why;
        PacketView v;
        EXPECT_EQ(parse_packet(from_hex(m.datagram()), v), expected) << why;
    }
}

}  // namespace
}  // namespace replicast::wire
