// The whole receive path on the independent known-answer vectors: parse, replay
// check, open with the case key, reassemble, inflate, decode. Every case must
// come out as its stated chain record, body and updates (or heartbeat and key
// change), and every malformed datagram must be stopped on the way.
#include <gtest/gtest.h>

#include "crypto/gcm.hpp"
#include "engine/chain/reassembler.hpp"
#include "engine/chain/replay_window.hpp"
#include "engine/wire/control.hpp"
#include "engine/wire/update.hpp"
#include "hex.hpp"
#include "vectors.hpp"

namespace replicast::chain {
namespace {

using testing::from_hex;
using testing::to_hex;

crypto::Key key_of(const std::string& hex) {
    crypto::Key k{};
    const auto b = from_hex(hex);
    std::copy(b.begin(), b.end(), k.begin());
    return k;
}

TEST(VectorPipeline, EveryCaseComesOutAsStated) {
    const auto file = testing::load_vectors();
    crypto::GcmEngine engine;
    int chains = 0, heartbeats = 0, key_changes = 0;
    for (const auto& c : file.cases()) {
        SCOPED_TRACE(c.name());
        std::unique_ptr<crypto::GcmKey> key;
        if (!c.key().empty()) key = std::make_unique<crypto::GcmKey>(engine, key_of(c.key()));
        ReplayWindow window;
        Reassembler reassembler;
        bool got_chain = false;
        for (const auto& p : c.packets()) {
            const auto d = from_hex(p.datagram());
            wire::PacketView v;
            ASSERT_EQ(wire::parse_packet(d, v), wire::WireError::ok);
            ASSERT_EQ(window.check(v.header.packet_seq), ReplayWindow::Verdict::fresh);
            std::vector<std::uint8_t> plain(v.payload.begin(), v.payload.end());
            if (v.header.sealed()) {
                ASSERT_TRUE(crypto::open_packet(engine, *key, v, plain));
            }
            ASSERT_TRUE(window.commit(v.header.packet_seq));
            switch (v.kind) {
            case wire::PacketKind::heartbeat: {
                wire::Heartbeat hb;
                ASSERT_EQ(wire::parse_heartbeat(plain, hb), wire::WireError::ok);
                EXPECT_EQ(hb.last_lsn, c.heartbeat().last_lsn());
                EXPECT_EQ(hb.server_time_ns, c.heartbeat().server_time_ns());
                ++heartbeats;
                (void)reassembler.on_control(v.header.packet_seq);
                break;
            }
            case wire::PacketKind::key_change: {
                wire::KeyChange kc;
                ASSERT_EQ(wire::parse_key_change(plain, kc), wire::WireError::ok);
                EXPECT_EQ(kc.next_epoch, c.keychange().next_epoch());
                EXPECT_EQ(kc.first_seq, c.keychange().first_seq());
                ++key_changes;
                (void)reassembler.on_control(v.header.packet_seq);
                break;
            }
            case wire::PacketKind::data:
                if (reassembler.on_data(v.header, v.position, plain) == Reassembler::Event::chain) {
                    got_chain = true;
                    const CompleteChain& out = reassembler.chain();
                    EXPECT_EQ(to_hex(out.body), c.body());
                    ASSERT_EQ(out.head.update_count, static_cast<std::uint32_t>(c.updates_size()));
                    wire::UpdateReader r(out.body, out.head.update_count);
                    wire::UpdateView u;
                    for (int i = 0; i < c.updates_size(); ++i) {
                        const auto& want = c.updates(i);
                        ASSERT_TRUE(r.next(u));
                        EXPECT_EQ(want.lsn(), out.head.first_lsn + static_cast<std::uint64_t>(i));
                        EXPECT_EQ(std::string(u.key.begin(), u.key.end()), want.key());
                        EXPECT_EQ(to_hex(u.value), to_hex(testing::update_value(want)));
                    }
                    ++chains;
                }
                break;
            }
        }
        EXPECT_EQ(got_chain, !c.chain_record().empty());
        EXPECT_EQ(reassembler.counters().dropped_total(), 0u);
    }
    EXPECT_EQ(chains, 3);
    EXPECT_EQ(heartbeats, 1);
    EXPECT_EQ(key_changes, 1);
}

TEST(VectorPipeline, EveryMalformedDatagramIsStopped) {
    const auto file = testing::load_vectors();
    crypto::GcmEngine engine;
    for (const auto& m : file.malformed()) {
        const auto d = from_hex(m.datagram());
        wire::PacketView v;
        if (wire::parse_packet(d, v) != wire::WireError::ok) continue;  // stopped at the header
        const crypto::GcmKey key(engine, key_of(m.key()));
        std::vector<std::uint8_t> plain(v.payload.size());
        EXPECT_FALSE(crypto::open_packet(engine, key, v, plain)) << m.why();
    }
}

}  // namespace
}  // namespace replicast::chain
