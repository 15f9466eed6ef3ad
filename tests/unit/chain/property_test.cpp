// Property test of the whole chain path: seeded random bundles -> build ->
// segment -> a channel that drops, duplicates and reorders -> replay window ->
// reassembler. Every chain that comes out is byte-identical to one that went
// in, every chain that arrived intact comes out, every started chain that did
// not come out is counted as dropped, and nothing else comes out.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "engine/chain/builder.hpp"
#include "engine/chain/reassembler.hpp"
#include "engine/chain/replay_window.hpp"
#include "engine/chain/segment.hpp"
#include "update_data.hpp"

namespace replicast::chain {
namespace {

struct SentChain {
    std::uint64_t first_lsn;
    std::uint32_t count;
    std::vector<std::uint8_t> body;  // uncompressed
    std::uint64_t first_seq;
    std::uint64_t last_seq;
};

struct Wire {
    wire::PacketHeader header;
    wire::ChainPosition position;
    std::vector<std::uint8_t> payload;
    std::size_t chain;  // index into the sent chains
};

struct ChannelConfig {
    double drop;
    double duplicate;
    double reorder;
    double forge = 0;  // a forged copy (bad tag) of a packet is injected before it
};

void run(std::uint64_t seed, const ChannelConfig& channel, int chains, std::size_t max_updates, std::size_t max_value) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    ChainBuilder builder({.compress = true, .level = 1});
    const std::size_t max_payload = max_payload_for_mtu(1500);

    std::vector<SentChain> sent;
    std::vector<Wire> packets;
    std::uint64_t lsn = 1, seq = 1;
    for (int c = 0; c < chains; ++c) {
        // Mostly small chains, a few large ones.
        const std::size_t n = 1 + (rng() % 4 == 0 ? rng() % max_updates : rng() % 8);
        const std::size_t value_cap = rng() % 4 == 0 ? max_value : 256;
        const testing::Bundle bundle = testing::make_bundle(rng, n, value_cap);
        builder.begin(lsn);
        std::vector<std::uint8_t> body;
        for (const auto& u : bundle.updates) {
            if (builder.add(u) != wire::WireError::ok) break;  // 64 MiB reached
            std::vector<std::uint8_t> one(wire::encoded_update_size(u));
            std::size_t w = 0;
            ASSERT_EQ(wire::encode_update(u, one, w), wire::WireError::ok);
            body.insert(body.end(), one.begin(), one.end());
        }
        const BuiltChain built = builder.finish();
        const std::size_t segs = segment_count(built.record.size(), max_payload);
        sent.push_back({lsn, built.head.update_count, body, seq, seq + segs - 1});
        for (std::size_t i = 0; i < segs; ++i) {
            const Segment s = segment(built.record, max_payload, i);
            packets.push_back({.header = {.flags = wire::position_flags(s.position), .stream_id = 9,
                                          .packet_seq = seq++, .key_epoch = 1, .comp_alg = built.comp_alg,
                                          .payload_len = static_cast<std::uint16_t>(s.payload.size())},
                               .position = s.position,
                               .payload = {s.payload.begin(), s.payload.end()},
                               .chain = sent.size() - 1});
        }
        lsn += built.head.update_count;
    }

    // The channel.
    std::uniform_real_distribution<double> coin(0.0, 1.0);
    std::vector<const Wire*> delivered;
    std::vector<Wire> forgeries;
    forgeries.reserve(packets.size());
    for (const Wire& p : packets) {
        if (coin(rng) < channel.forge) {
            forgeries.push_back(p);
            forgeries.back().chain = ~std::size_t{0};  // marks the forgery: its tag will not verify
            if (!forgeries.back().payload.empty()) forgeries.back().payload[0] ^= 0xff;
            delivered.push_back(&forgeries.back());
        }
        if (coin(rng) < channel.drop) continue;
        delivered.push_back(&p);
        if (coin(rng) < channel.duplicate) delivered.push_back(&p);
    }
    for (std::size_t i = 1; i < delivered.size(); ++i) {
        if (coin(rng) < channel.reorder) std::swap(delivered[i - 1], delivered[i]);
    }

    // The receiver: replay window, then reassembly.
    ReplayWindow window;
    Reassembler reassembler;
    std::vector<const Wire*> accepted;
    std::set<std::uint64_t> out_lsns;
    std::uint64_t started = 0;
    for (const Wire* p : delivered) {
        if (window.check(p->header.packet_seq) != ReplayWindow::Verdict::fresh) continue;
        const bool authentic = p->chain != ~std::size_t{0};
        if (!authentic) {
            continue;  // fails to open: never reaches the reassembler nor the replay window
        }
        const Reassembler::Event event = reassembler.on_data(p->header, p->position, p->payload);
        ASSERT_TRUE(window.commit(p->header.packet_seq));
        accepted.push_back(p);
        if (p->position == wire::ChainPosition::first || p->position == wire::ChainPosition::only) ++started;
        if (event != Reassembler::Event::chain) continue;
        const CompleteChain& got = reassembler.chain();
        ASSERT_TRUE(out_lsns.insert(got.head.first_lsn).second) << "chain at LSN " << got.head.first_lsn << " came out twice";
        const auto it = std::find_if(sent.begin(), sent.end(), [&](const SentChain& s) { return s.first_lsn == got.head.first_lsn; });
        ASSERT_NE(it, sent.end()) << "a chain that was never sent came out";
        EXPECT_EQ(got.head.update_count, it->count);
        EXPECT_EQ(got.first_seq, it->first_seq);
        EXPECT_EQ(got.last_seq, it->last_seq);
        ASSERT_EQ(got.body.size(), it->body.size());
        EXPECT_TRUE(std::equal(got.body.begin(), got.body.end(), it->body.begin())) << "LSN " << got.head.first_lsn;
    }

    // Intact chains: all their packets accepted, consecutively and in order.
    std::size_t intact = 0;
    for (std::size_t i = 0; i < accepted.size(); ++i) {
        const Wire* p = accepted[i];
        if (p->header.packet_seq != sent[p->chain].first_seq) continue;
        const std::size_t len = sent[p->chain].last_seq - sent[p->chain].first_seq + 1;
        bool ok = i + len <= accepted.size();
        for (std::size_t k = 0; ok && k < len; ++k) {
            ok = accepted[i + k]->header.packet_seq == sent[p->chain].first_seq + k;
        }
        if (ok) {
            ++intact;
            EXPECT_TRUE(out_lsns.count(sent[p->chain].first_lsn)) << "intact chain at LSN " << sent[p->chain].first_lsn << " was lost";
        }
    }
    EXPECT_EQ(out_lsns.size(), intact) << "only intact chains can come out";
    const auto& counters = reassembler.counters();
    EXPECT_EQ(started, counters.chains + counters.dropped_total() + (reassembler.in_progress() ? 1 : 0))
        << "every started chain either came out, was counted as dropped, or is still in progress";
    if (channel.drop == 0 && channel.duplicate == 0 && channel.reorder == 0) {
        // Forgeries included: they must not have cost a single chain.
        EXPECT_EQ(out_lsns.size(), sent.size());
        EXPECT_EQ(counters.dropped_total(), 0u);
    }
}

TEST(ChainProperty, CleanChannelDeliversEverything) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) run(seed, {0, 0, 0}, 60, 1000, 64 * 1024);
}

TEST(ChainProperty, LossyChannel) {
    for (std::uint64_t seed = 10; seed <= 15; ++seed) run(seed, {0.02, 0, 0}, 80, 300, 16 * 1024);
}

TEST(ChainProperty, DuplicatingAndReorderingChannel) {
    for (std::uint64_t seed = 20; seed <= 25; ++seed) run(seed, {0.01, 0.05, 0.05}, 80, 300, 16 * 1024);
}

TEST(ChainProperty, HostileChannel) {
    for (std::uint64_t seed = 30; seed <= 33; ++seed) run(seed, {0.2, 0.2, 0.3}, 80, 100, 8 * 1024);
}

TEST(ChainProperty, LossDuplicationReorderingAndForgery) {
    for (std::uint64_t seed = 50; seed <= 55; ++seed) {
        run(seed, {.drop = 0.02, .duplicate = 0.05, .reorder = 0.05, .forge = 0.05}, 80, 300, 16 * 1024);
    }
}

TEST(ChainProperty, ForgedPacketsNeverBreakAChain) {
    // Every packet is preceded by a forgery with the same packet_seq: all chains must still come out.
    for (std::uint64_t seed = 60; seed <= 62; ++seed) {
        run(seed, {.drop = 0, .duplicate = 0, .reorder = 0, .forge = 1.0}, 40, 100, 4 * 1024);
    }
}

}  // namespace
}  // namespace replicast::chain
