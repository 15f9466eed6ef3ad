// The receiving rules of PROTOCOL.md 1.3, one rule per test, and the replay window.
#include <gtest/gtest.h>

#include <vector>

#include "engine/chain/builder.hpp"
#include "engine/chain/reassembler.hpp"
#include "engine/chain/replay_window.hpp"
#include "engine/chain/segment.hpp"
#include "hex.hpp"

namespace replicast::chain {
namespace {

using Event = Reassembler::Event;

struct Pkt {
    wire::PacketHeader header;
    wire::ChainPosition position;
    std::vector<std::uint8_t> payload;
};

// A chain of `updates` puts of 40-byte values from `first_lsn`, cut into `max_payload` slices from `seq`.
std::vector<Pkt> chain_packets(std::uint64_t first_lsn, int updates, std::uint64_t seq, std::size_t max_payload,
                               bool compress = false, std::uint32_t epoch = 1) {
    ChainBuilder b({.compress = compress, .level = 1});
    b.begin(first_lsn);
    const auto key = testing::bytes_of("key");
    const std::vector<std::uint8_t> value(40, 'v');
    for (int i = 0; i < updates; ++i) {
        EXPECT_EQ(b.add({.op = wire::Op::put, .key = key, .value = value}), wire::WireError::ok);
    }
    const BuiltChain c = b.finish();
    std::vector<Pkt> out;
    for (std::size_t i = 0; i < segment_count(c.record.size(), max_payload); ++i) {
        const Segment s = segment(c.record, max_payload, i);
        out.push_back({.header = {.flags = wire::position_flags(s.position), .stream_id = 1, .packet_seq = seq + i,
                                  .key_epoch = epoch, .comp_alg = c.comp_alg,
                                  .payload_len = static_cast<std::uint16_t>(s.payload.size())},
                       .position = s.position,
                       .payload = {s.payload.begin(), s.payload.end()}});
    }
    return out;
}

Event feed(Reassembler& r, const Pkt& p) { return r.on_data(p.header, p.position, p.payload); }

std::size_t dropped(const Reassembler& r, DropReason why) {
    return r.counters().dropped[static_cast<std::size_t>(why)];
}

// The in-place burst path: open (here: copy) each payload into its slot, then
// commit. `forged` marks packets whose open fails.
std::vector<Event> burst_in_place(Reassembler& r, const std::vector<Pkt>& pkts, const std::vector<bool>& forged = {}) {
    r.begin_burst();
    std::vector<std::span<std::uint8_t>> slots;
    for (const Pkt& p : pkts) slots.push_back(r.reserve(p.header, p.position));
    for (std::size_t i = 0; i < pkts.size(); ++i) {
        const bool bad = i < forged.size() && forged[i];
        if (!slots[i].empty()) {
            if (bad) {
                std::fill(slots[i].begin(), slots[i].end(), 0xA5);  // what a failed open leaves
            } else {
                std::copy(pkts[i].payload.begin(), pkts[i].payload.end(), slots[i].begin());
            }
        }
    }
    std::vector<Event> events;
    for (std::size_t i = 0; i < pkts.size(); ++i) {
        const bool bad = i < forged.size() && forged[i];
        if (!slots[i].empty()) {
            events.push_back(r.commit(pkts[i].header, pkts[i].position, !bad));
        } else {
            events.push_back(bad ? Event::none : feed(r, pkts[i]));
        }
    }
    return events;
}

TEST(Reassembler, InPlaceBurstsGiveTheSameChainsAsCopies) {
    Reassembler copy, in_place;
    auto a = chain_packets(1, 30, 1, 100);
    const auto b = chain_packets(31, 5, 1 + a.size(), 100);
    a.insert(a.end(), b.begin(), b.end());  // two chains, the second starting inside a burst
    std::vector<Event> expected;
    for (const Pkt& p : a) expected.push_back(feed(copy, p));
    // Bursts of 7: chains straddle bursts, and one burst holds a LIC and the next FIC.
    std::vector<Event> got;
    for (std::size_t at = 0; at < a.size(); at += 7) {
        const std::vector<Pkt> burst(a.begin() + static_cast<std::ptrdiff_t>(at),
                                     a.begin() + static_cast<std::ptrdiff_t>(std::min(a.size(), at + 7)));
        for (Event e : burst_in_place(in_place, burst)) got.push_back(e);
        if (got.back() == Event::chain) {
            EXPECT_EQ(std::vector<std::uint8_t>(in_place.chain().body.begin(), in_place.chain().body.end()),
                      std::vector<std::uint8_t>(copy.chain().body.begin(), copy.chain().body.end()));
        }
    }
    EXPECT_EQ(got, expected);
    EXPECT_EQ(in_place.counters().chains, 2u);
}

TEST(Reassembler, AForgedPacketInABurstNeverCorruptsTheChainInProgress) {
    Reassembler r;
    const auto pkts = chain_packets(1, 20, 1, 100);
    ASSERT_GE(pkts.size(), 6u);
    // The first half gathers; then a forged FIC (same seq as the next MIC would
    // have, garbage plaintext) arrives in a burst with the rest of the chain.
    const std::vector<Pkt> first(pkts.begin(), pkts.begin() + 3);
    for (Event e : burst_in_place(r, first)) EXPECT_EQ(e, Event::none);
    Pkt forged_fic = pkts[3];
    forged_fic.position = wire::ChainPosition::first;
    forged_fic.header.flags = wire::position_flags(wire::ChainPosition::first);
    std::vector<Pkt> rest = {forged_fic};
    rest.insert(rest.end(), pkts.begin() + 3, pkts.end());
    std::vector<bool> forged(rest.size(), false);
    forged[0] = true;
    const auto events = burst_in_place(r, rest, forged);
    ASSERT_EQ(events.back(), Event::chain);
    EXPECT_EQ(r.chain().head.update_count, 20u);
    EXPECT_EQ(r.chain().first_seq, 1u);
}

TEST(Reassembler, CompleteChainComesOutParsed) {
    Reassembler r;
    const auto pkts = chain_packets(100, 10, 1, 64);
    ASSERT_GT(pkts.size(), 3u);
    for (std::size_t i = 0; i + 1 < pkts.size(); ++i) {
        EXPECT_EQ(feed(r, pkts[i]), Event::none);
    }
    ASSERT_EQ(feed(r, pkts.back()), Event::chain);
    EXPECT_EQ(r.chain().head.first_lsn, 100u);
    EXPECT_EQ(r.chain().head.update_count, 10u);
    EXPECT_EQ(r.chain().first_seq, 1u);
    EXPECT_EQ(r.chain().last_seq, pkts.size());
    EXPECT_EQ(wire::validate_body(r.chain().body, 10), wire::WireError::ok);
    EXPECT_EQ(r.counters().chains, 1u);
    EXPECT_EQ(r.counters().dropped_total(), 0u);
}

TEST(Reassembler, CompressedChainIsInflated) {
    Reassembler r;
    const auto pkts = chain_packets(7, 50, 10, 200, /*compress=*/true);
    ASSERT_EQ(pkts.front().header.comp_alg, wire::CompAlg::deflate);
    Event last = Event::none;
    for (const auto& p : pkts) last = feed(r, p);
    ASSERT_EQ(last, Event::chain);
    EXPECT_EQ(r.chain().head.update_count, 50u);
    EXPECT_EQ(r.chain().body.size(), r.chain().head.body_len);
}

TEST(Reassembler, SequenceGapDropsTheChainAndWaitsForTheNextStart) {
    Reassembler r;
    const auto a = chain_packets(1, 10, 1, 64);
    const auto b = chain_packets(11, 10, 1 + a.size(), 64);
    EXPECT_EQ(feed(r, a[0]), Event::none);
    EXPECT_EQ(feed(r, a[2]), Event::dropped);  // a[1] lost
    EXPECT_EQ(r.last_drop(), DropReason::sequence_break);
    for (std::size_t i = 3; i < a.size(); ++i) {
        EXPECT_EQ(feed(r, a[i]), Event::none) << "discarded while waiting";
    }
    Event last = Event::none;
    for (const auto& p : b) last = feed(r, p);
    ASSERT_EQ(last, Event::chain) << "resynchronised at the next FIC";
    EXPECT_EQ(r.chain().head.first_lsn, 11u);
    EXPECT_EQ(r.counters().dropped_total(), 1u);
    EXPECT_EQ(r.counters().discarded_packets, a.size() - 2);
}

TEST(Reassembler, JoinsAStreamAtAnyStartPacket) {
    Reassembler r;
    const auto a = chain_packets(1, 10, 1, 64);
    for (std::size_t i = 1; i < a.size(); ++i) EXPECT_EQ(feed(r, a[i]), Event::none);
    const auto oic = chain_packets(11, 1, 1 + a.size(), 1432);
    ASSERT_EQ(oic.size(), 1u);
    EXPECT_EQ(feed(r, oic[0]), Event::chain);
    EXPECT_EQ(r.counters().dropped_total(), 0u);
}

TEST(Reassembler, NewStartBeforeTheEndDropsTheOldChain) {
    Reassembler r;
    const auto a = chain_packets(1, 10, 1, 64);
    const auto oic = chain_packets(11, 1, 1 + a.size(), 1432);
    EXPECT_EQ(feed(r, a[0]), Event::none);
    EXPECT_EQ(feed(r, oic[0]), Event::chain) << "the OIC itself is whole";
    EXPECT_EQ(dropped(r, DropReason::sequence_break), 1u);  // seq jumped past the rest of a
    auto fic = chain_packets(20, 10, 100, 64);
    EXPECT_EQ(feed(r, fic[0]), Event::none);
    auto again = chain_packets(30, 10, 101, 64);  // a FIC right after a FIC: seq is consecutive
    EXPECT_EQ(feed(r, again[0]), Event::dropped);
    EXPECT_EQ(r.last_drop(), DropReason::restarted);
}

TEST(Reassembler, ControlPacketInsideAChainBreaksIt) {
    Reassembler r;
    const auto a = chain_packets(1, 10, 1, 64);
    EXPECT_EQ(feed(r, a[0]), Event::none);
    EXPECT_EQ(r.on_control(2), Event::dropped);
    EXPECT_EQ(r.last_drop(), DropReason::sequence_break);
    EXPECT_EQ(r.on_control(3), Event::none) << "nothing in progress: nothing to drop";
}

TEST(Reassembler, EpochOrAlgorithmChangeInsideAChainDropsIt) {
    Reassembler r;
    auto a = chain_packets(1, 10, 1, 64);
    a[1].header.key_epoch = 2;
    EXPECT_EQ(feed(r, a[0]), Event::none);
    EXPECT_EQ(feed(r, a[1]), Event::dropped);
    EXPECT_EQ(r.last_drop(), DropReason::header_changed);
    auto b = chain_packets(1, 10, 50, 64);
    b[1].header.comp_alg = wire::CompAlg::deflate;
    EXPECT_EQ(feed(r, b[0]), Event::none);
    EXPECT_EQ(feed(r, b[1]), Event::dropped);
    EXPECT_EQ(r.last_drop(), DropReason::header_changed);
}

TEST(Reassembler, MemoryIsBounded) {
    Reassembler r({.max_record_bytes = 200, .max_body_bytes = wire::kMaxBodyLen});
    const auto a = chain_packets(1, 10, 1, 64);  // ~600 bytes
    Event last = Event::none;
    for (const auto& p : a) {
        last = feed(r, p);
        if (last == Event::dropped) break;
    }
    EXPECT_EQ(last, Event::dropped);
    EXPECT_EQ(r.last_drop(), DropReason::too_large);

    Reassembler small_body({.max_record_bytes = 1 << 20, .max_body_bytes = 100});
    const auto b = chain_packets(1, 10, 1, 1432);
    EXPECT_EQ(feed(small_body, b[0]), Event::dropped);
    EXPECT_EQ(small_body.last_drop(), DropReason::too_large);
}

TEST(Reassembler, MalformedRecordsAreDroppedWholeForTheirReason) {
    auto one = [](std::vector<std::uint8_t> payload, wire::CompAlg alg = wire::CompAlg::none) {
        Reassembler r;
        const Pkt p{.header = {.flags = wire::flags::kOic, .stream_id = 1, .packet_seq = 1, .key_epoch = 1,
                               .comp_alg = alg, .payload_len = static_cast<std::uint16_t>(payload.size())},
                    .position = wire::ChainPosition::only,
                    .payload = std::move(payload)};
        EXPECT_EQ(feed(r, p), Event::dropped);
        EXPECT_EQ(r.counters().chains, 0u);
        return r.last_drop();
    };
    using testing::from_hex;
    const std::string put_k = "0100000001000000006b";  // put "k" = "" (10 bytes)
    EXPECT_EQ(one(from_hex("00000000000000010000")), DropReason::bad_record);
    EXPECT_EQ(one(from_hex("0000000000000001" "00000000" "0000000a" + put_k)), DropReason::bad_record);
    EXPECT_EQ(one(from_hex("0000000000000001" "00000001" "0000000b" + put_k)), DropReason::body_len_mismatch);
    EXPECT_EQ(one(from_hex("0000000000000001" "00000002" "0000000a" + put_k)), DropReason::bad_body);
    EXPECT_EQ(one(from_hex("0000000000000001" "00000001" "0000000a" "00112233"), wire::CompAlg::deflate),
              DropReason::inflate_failed);
}

TEST(ReplayWindow, RefusesDuplicatesAndTheTooOld) {
    ReplayWindow w;
    using V = ReplayWindow::Verdict;
    EXPECT_EQ(w.check(0), V::too_old);
    EXPECT_EQ(w.check(1), V::fresh);
    EXPECT_TRUE(w.commit(1));
    EXPECT_EQ(w.check(1), V::duplicate);
    EXPECT_TRUE(w.commit(5));
    EXPECT_EQ(w.check(3), V::fresh) << "late but inside the window";
    EXPECT_TRUE(w.commit(3));
    EXPECT_EQ(w.check(3), V::duplicate);
    EXPECT_EQ(w.check(5), V::duplicate);
    EXPECT_TRUE(w.commit(5 + ReplayWindow::kWindow));
    EXPECT_EQ(w.check(5), V::too_old);
    EXPECT_EQ(w.check(6), V::fresh) << "6 is inside the window and was never seen";
    EXPECT_EQ(w.check(5 + ReplayWindow::kWindow), V::duplicate);
    EXPECT_TRUE(w.commit(100000));
    EXPECT_EQ(w.check(100000 - ReplayWindow::kWindow + 1), V::fresh) << "a jump clears the bitmap";
    EXPECT_EQ(w.check(100000 - ReplayWindow::kWindow), V::too_old);
}

TEST(ReplayWindow, SlidingReusesSlotsCorrectly) {
    ReplayWindow w;
    for (std::uint64_t s = 1; s <= 5000; s += 2) ASSERT_TRUE(w.commit(s));  // odd only
    for (std::uint64_t s = 5000 - ReplayWindow::kWindow + 2; s < 5000; ++s) {
        EXPECT_EQ(w.check(s), s % 2 ? ReplayWindow::Verdict::duplicate : ReplayWindow::Verdict::fresh) << s;
    }
}

// Two copies of one packet_seq in one burst (a replay injected next to the
// original) both pass check(), which runs before the burst is opened; the
// second commit() must refuse, and a receive loop that follows the recipe in
// reassembler.hpp then hands the chain out once.
TEST(ReplayWindow, ASecondCopyInTheSameBurstIsRefusedAtCommit) {
    ReplayWindow w;
    EXPECT_TRUE(w.commit(6));
    EXPECT_EQ(w.check(7), ReplayWindow::Verdict::fresh);
    EXPECT_EQ(w.check(7), ReplayWindow::Verdict::fresh) << "check() only looks";
    EXPECT_TRUE(w.commit(7));
    EXPECT_FALSE(w.commit(7)) << "the copy was recorded twice";
    EXPECT_FALSE(w.commit(6));
}

TEST(ReplayWindow, AReplayedOnlyPacketInTheSameBurstGivesOneChain) {
    const std::vector<Pkt> oic = chain_packets(1, 3, 10, 1432);
    ASSERT_EQ(oic.size(), 1u);
    const std::vector<Pkt> burst = {oic[0], oic[0]};  // the original and its replay
    ReplayWindow window;
    Reassembler r;
    r.begin_burst();
    std::vector<bool> checked;
    std::vector<std::span<std::uint8_t>> slots;
    for (const Pkt& p : burst) {
        checked.push_back(window.check(p.header.packet_seq) == ReplayWindow::Verdict::fresh);
        slots.push_back(checked.back() ? r.reserve(p.header, p.position) : std::span<std::uint8_t>{});
    }
    ASSERT_TRUE(checked[0] && checked[1]) << "the test needs both copies past check()";
    for (std::size_t i = 0; i < burst.size(); ++i) {
        if (!slots[i].empty()) std::copy(burst[i].payload.begin(), burst[i].payload.end(), slots[i].begin());  // "open"
    }
    std::size_t chains = 0;
    for (std::size_t i = 0; i < burst.size(); ++i) {
        const bool accepted = window.commit(burst[i].header.packet_seq);
        Event e = Event::none;
        if (!slots[i].empty()) {
            e = r.commit(burst[i].header, burst[i].position, accepted);
        } else if (accepted) {
            e = feed(r, burst[i]);
        }
        chains += e == Event::chain ? 1 : 0;
    }
    EXPECT_EQ(chains, 1u) << "the replayed chain was handed out twice";
    EXPECT_EQ(r.counters().chains, 1u);
}

// A packet with an empty payload inside a burst (the sender never makes one,
// but a receiver must not depend on that): the in-place path gives exactly
// what the copy path gives, for it and for every packet after it.
TEST(Reassembler, AnEmptyPayloadInABurstKeepsSlotsAndCommitsPaired) {
    std::vector<Pkt> pkts = chain_packets(1, 6, 1, 50);
    ASSERT_GE(pkts.size(), 4u);
    Pkt empty = pkts[1];
    empty.header.payload_len = 0;
    empty.payload.clear();
    pkts.insert(pkts.begin() + 1, empty);
    for (std::size_t i = 0; i < pkts.size(); ++i) pkts[i].header.packet_seq = 1 + i;
    Reassembler copy, in_place;
    std::vector<Event> expected;
    for (const Pkt& p : pkts) expected.push_back(feed(copy, p));
    ASSERT_EQ(expected.back(), Event::chain) << "the copy path should take the empty MIC";
    EXPECT_EQ(burst_in_place(in_place, pkts), expected);
    ASSERT_EQ(in_place.counters().chains, 1u);
    EXPECT_EQ(std::vector<std::uint8_t>(in_place.chain().body.begin(), in_place.chain().body.end()),
              std::vector<std::uint8_t>(copy.chain().body.begin(), copy.chain().body.end()));
}

// The largest body the builder makes (64 MiB, sent plain) fits the default
// receiver: the record is that plus its 16-byte head.
TEST(Reassembler, TheLargestChainTheBuilderMakesFitsTheDefaults) {
    ChainBuilder b({.compress = false});
    b.begin(1);
    const std::vector<std::uint8_t> value(wire::kMaxBodyLen / 4 - 9 - 2, 0x61);
    for (const char* k : {"k0", "k1", "k2", "k3"}) {
        ASSERT_EQ(b.add({.op = wire::Op::put, .key = testing::bytes_of(k), .value = value}), wire::WireError::ok);
    }
    ASSERT_EQ(b.body_size(), wire::kMaxBodyLen);
    const BuiltChain c = b.finish();
    Reassembler r;
    Event last = Event::none;
    const std::size_t n = segment_count(c.record.size(), 1432);
    for (std::size_t i = 0; i < n; ++i) {
        const Segment s = segment(c.record, 1432, i, n);
        last = r.on_data({.flags = wire::position_flags(s.position), .stream_id = 1, .packet_seq = 1 + i, .key_epoch = 1,
                          .comp_alg = c.comp_alg, .payload_len = static_cast<std::uint16_t>(s.payload.size())},
                         s.position, s.payload);
    }
    EXPECT_EQ(last, Event::chain) << "dropped: " << describe(r.last_drop());
    EXPECT_EQ(r.counters().dropped_total(), 0u);
}

}  // namespace
}  // namespace replicast::chain
