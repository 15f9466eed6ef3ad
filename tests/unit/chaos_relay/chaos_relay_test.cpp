// lab/chaos_relay: the seeded decisions, the UDP corruption with its checksum,
// and the relay's ordering of held, delayed and duplicated frames.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "lab/chaos_relay/chaos.hpp"
#include "lab/chaos_relay/frame.hpp"
#include "lab/chaos_relay/relay.hpp"

namespace replicast::chaos {
namespace {

using Bytes = std::vector<std::byte>;
constexpr std::size_t kHdr = 10;  // a virtio_net_hdr in front, as the relay's sockets give it

/// An Ethernet/IPv4/UDP frame 10.0.0.1:40000 -> 239.1.2.3:`port` whose payload
/// starts with `id` (4 bytes, big-endian) followed by `extra` bytes, with a
/// correct UDP checksum (or 0 when `checksum` is false).
Bytes udp_frame(std::uint32_t id, std::uint16_t port = 5000, std::size_t extra = 60, bool checksum = true) {
    const std::size_t payload = 4 + extra, udp_len = 8 + payload, ip_len = 20 + udp_len;
    Bytes f(14 + ip_len);
    auto put = [&](std::size_t off, std::uint32_t v, int n) {
        for (int i = n - 1; i >= 0; --i, v >>= 8) f[off + static_cast<std::size_t>(i)] = std::byte(v & 0xff);
    };
    put(0, 0x01005e01, 4);
    put(4, 0x0203, 2);  // destination MAC
    put(6, 0x02000000, 4);
    put(10, 0x0001, 2);  // source MAC
    put(12, 0x0800, 2);
    put(14, 0x45, 1);
    put(16, static_cast<std::uint32_t>(ip_len), 2);
    put(20, 0x4000, 2);  // DF, no offset
    put(22, 4, 1);       // TTL
    put(23, 17, 1);
    put(26, 0x0a000001, 4);
    put(30, 0xef010203, 4);
    put(34, 40000, 2);
    put(36, port, 2);
    put(38, static_cast<std::uint32_t>(udp_len), 2);
    put(42, id, 4);
    for (std::size_t i = 0; i < extra; ++i) f[46 + i] = std::byte((id * 7 + i) & 0xff);
    if (checksum) {
        // Independent of frame.cpp: the ones' complement sum of the pseudo-header and the datagram.
        std::uint32_t sum = 0x0a00 + 0x0001 + 0xef01 + 0x0203 + 17 + static_cast<std::uint32_t>(udp_len);
        for (std::size_t i = 34; i < f.size(); i += 2) {
            sum += (std::to_integer<std::uint32_t>(f[i]) << 8) | (i + 1 < f.size() ? std::to_integer<std::uint32_t>(f[i + 1]) : 0);
        }
        while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
        std::uint32_t c = ~sum & 0xffff;
        put(40, c == 0 ? 0xffff : c, 2);
    }
    return f;
}

/// True when the datagram's checksum verifies (sum over all, checksum included, is 0xffff).
bool checksum_ok(const Bytes& f) {
    const std::size_t udp_len = (std::to_integer<std::size_t>(f[38]) << 8) | std::to_integer<std::size_t>(f[39]);
    std::uint32_t sum = 17 + static_cast<std::uint32_t>(udp_len);
    for (std::size_t i = 26; i < 34; i += 2) sum += (std::to_integer<std::uint32_t>(f[i]) << 8) | std::to_integer<std::uint32_t>(f[i + 1]);
    for (std::size_t i = 34; i < 34 + udp_len; i += 2) {
        sum += (std::to_integer<std::uint32_t>(f[i]) << 8) | (i + 1 < 34 + udp_len ? std::to_integer<std::uint32_t>(f[i + 1]) : 0);
    }
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;
}

Bytes arp_frame(std::uint8_t id) {
    Bytes f(60);
    f[12] = std::byte{0x08};
    f[13] = std::byte{0x06};
    f[20] = std::byte{id};
    return f;
}

Bytes with_header(const Bytes& frame, std::uint8_t flags = 0, std::uint8_t gso = 0) {
    // Built in one go from both parts: GCC 12 at -O3 sees out-of-bounds and
    // null writes in a vector grown or indexed after construction here (it is not).
    const std::array<std::byte, kHdr> h{std::byte{flags}, std::byte{gso}};
    Bytes b(h.begin(), h.end());
    b.resize(kHdr + frame.size());
    std::copy(frame.begin(), frame.end(), b.begin() + kHdr);
    return b;
}

std::uint32_t id_of(const Bytes& sent) { // the payload id of a sent UDP frame (header included)
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | std::to_integer<std::uint32_t>(sent[kHdr + 42 + i]);
    return v;
}

struct Recorder final : Relay::Sink {
    std::vector<Bytes> sent;
    bool send(std::span<const std::byte> b) noexcept override {
        sent.emplace_back(b.begin(), b.end());
        return true;
    }
};

struct Rig {
    Recorder out;
    Relay relay;
    Rig(const Knobs& k, std::size_t slots = 64, std::uint64_t seed = 7, std::uint16_t port = 0)
        : relay(k, seed, Relay::Layout{.slots = slots, .slot_bytes = 2048, .header_bytes = kHdr, .udp_port = port}, out) {}
    void in(const Bytes& frame_with_header, std::uint64_t now_ns = 0) {
        auto buf = relay.rx_buffer();
        std::copy(frame_with_header.begin(), frame_with_header.end(), buf.begin());
        relay.on_frame(frame_with_header.size(), now_ns);
    }
};

TEST(Chaos, TheSameSeedGivesTheSameDecisionsAndAnotherSeedOthers) {
    const Knobs k{.reorder = 0.2, .duplicate = 0.2, .delay = 0.2, .corrupt = 0.2};
    Chaos a(k, 42), b(k, 42), c(k, 43);
    int differ = 0;
    for (int i = 0; i < 1000; ++i) {
        const Decision x = a.decide(100), y = b.decide(100), z = c.decide(100);
        EXPECT_EQ(x.hold, y.hold);
        EXPECT_EQ(x.delay_ns, y.delay_ns);
        EXPECT_EQ(x.duplicate, y.duplicate);
        EXPECT_EQ(x.corrupt_at, y.corrupt_at);
        differ += x.hold != z.hold || x.duplicate != z.duplicate || x.corrupt != z.corrupt;
    }
    EXPECT_GT(differ, 100);
}

TEST(Chaos, RatesFollowTheKnobsAndDecisionsStayInBounds) {
    const Knobs k{.reorder = 0.05, .duplicate = 0.1, .delay = 0.2, .corrupt = 0.3, .delay_min_us = 100, .delay_max_us = 900};
    Chaos ch(k, 1);
    constexpr int n = 100'000;
    int hold = 0, delay = 0, dup = 0, bad = 0;
    for (int i = 0; i < n; ++i) {
        const Decision d = ch.decide(37);
        EXPECT_FALSE(d.hold && d.delay);
        hold += d.hold;
        delay += d.delay;
        dup += d.duplicate;
        if (d.delay) {
            EXPECT_GE(d.delay_ns, 100'000u);
            EXPECT_LE(d.delay_ns, 900'000u);
        }
        if (d.corrupt) {
            ++bad;
            EXPECT_LT(d.corrupt_at, 37u);
            EXPECT_NE(d.corrupt_mask, 0);
        }
    }
    // 5 standard deviations of a binomial at n = 100 000 is under 0.008 for these p.
    EXPECT_NEAR(hold / double(n), 0.05, 0.008);
    EXPECT_NEAR(delay / double(n), 0.2, 0.008);
    EXPECT_NEAR(dup / double(n), 0.1, 0.008);
    EXPECT_NEAR(bad / double(n), 0.3, 0.008);
}

TEST(Chaos, NothingToCorruptInAnEmptyPayload) {
    Chaos ch(Knobs{.corrupt = 1}, 3);
    for (int i = 0; i < 100; ++i) EXPECT_FALSE(ch.decide(0).corrupt);
}

TEST(Chaos, KnobsOutOfRangeAreRefusedByName) {
    EXPECT_EQ(Knobs{}.check(), "");
    EXPECT_NE(Knobs{.reorder = 1.5}.check().find("reorder"), std::string::npos);
    EXPECT_NE(Knobs{.corrupt = -0.1}.check().find("corrupt"), std::string::npos);
    EXPECT_NE((Knobs{.reorder = 0.6, .delay = 0.6}.check()), "");
    EXPECT_NE(Knobs{.reorder_depth = 0}.check(), "");
    EXPECT_NE((Knobs{.delay_min_us = 5, .delay_max_us = 4}.check()), "");
    Recorder r;
    EXPECT_THROW(Relay(Knobs{.delay = 2}, 1, Relay::Layout{}, r), std::invalid_argument);
}

TEST(Frame, FindsTheUdpPayloadOfAnUnfragmentedIpv4Datagram) {
    const Bytes f = udp_frame(9, 5000, 10);
    ASSERT_TRUE(checksum_ok(f));
    const auto u = find_udp(f);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->payload_off, 42u);
    EXPECT_EQ(u->payload_len, 14u);
    EXPECT_EQ(u->dst_port, 5000);
    EXPECT_EQ(udp_checksum(f, *u), (std::to_integer<unsigned>(f[40]) << 8) | std::to_integer<unsigned>(f[41]));
}

TEST(Frame, RefusesOtherAndMalformedFrames) {
    EXPECT_FALSE(find_udp(arp_frame(1)));
    Bytes frag = udp_frame(1);
    frag[20] = std::byte{0x20};  // MF
    EXPECT_FALSE(find_udp(frag));
    Bytes tcp = udp_frame(1);
    tcp[23] = std::byte{6};
    EXPECT_FALSE(find_udp(tcp));
    const Bytes f = udp_frame(1);
    for (std::size_t cut = 0; cut < f.size(); ++cut) {
        EXPECT_FALSE(find_udp(std::span(f).first(cut))) << "cut at " << cut;
    }
    Bytes long_udp = udp_frame(1);
    long_udp[39] = std::byte{0xff};  // UDP length past the IP packet
    EXPECT_FALSE(find_udp(long_udp));
}

TEST(Frame, CorruptionFlipsOnePayloadByteAndKeepsTheChecksumValid) {
    for (std::uint32_t at : {0u, 1u, 13u, 63u}) {
        Bytes f = udp_frame(5);
        const Bytes before = f;
        const auto u = find_udp(f);
        corrupt(f, *u, at, 0x5a, false);
        int differing = 0;
        for (std::size_t i = 0; i < f.size(); ++i) {
            if (f[i] != before[i] && i != 40 && i != 41) {
                ++differing;
                EXPECT_EQ(i, 42 + at);
                EXPECT_EQ(f[i] ^ before[i], std::byte{0x5a});
            }
        }
        EXPECT_EQ(differing, 1);
        EXPECT_TRUE(checksum_ok(f)) << "at " << at;
    }
    Bytes none = udp_frame(5, 5000, 60, false);
    corrupt(none, *find_udp(none), 3, 1, false);
    EXPECT_EQ(none[40], std::byte{0});  // no checksum stays none
    EXPECT_EQ(none[41], std::byte{0});
    Bytes pending = udp_frame(5);
    const Bytes pending_before = pending;
    corrupt(pending, *find_udp(pending), 3, 1, true);
    EXPECT_EQ(pending[40], pending_before[40]);  // the kernel completes it later
    EXPECT_EQ(pending[41], pending_before[41]);
}

TEST(Relay, AHeldFrameLeavesAfterTheNextKFrames) {
    Rig r(Knobs{.reorder = 1, .reorder_depth = 3});
    r.in(with_header(udp_frame(100)));
    for (std::uint8_t i = 1; i <= 3; ++i) {
        EXPECT_EQ(r.out.sent.size(), i - 1u);
        r.in(with_header(arp_frame(i)));  // not UDP: passes at once
    }
    ASSERT_EQ(r.out.sent.size(), 4u);
    EXPECT_EQ(r.out.sent[0][kHdr + 20], std::byte{1});
    EXPECT_EQ(r.out.sent[2][kHdr + 20], std::byte{3});
    EXPECT_EQ(id_of(r.out.sent[3]), 100u);
    EXPECT_EQ(r.relay.counters().reordered, 1u);
    EXPECT_EQ(r.relay.counters().held_timed_out, 0u);
}

TEST(Relay, AHeldFrameWithoutFollowersLeavesAtTheHoldDeadline) {
    Rig r(Knobs{.reorder = 1, .hold_max_us = 20});
    r.in(with_header(udp_frame(1)), 1000);
    EXPECT_EQ(r.relay.next_due_ns(), 21'000u);
    r.relay.on_timer(20'999);
    EXPECT_TRUE(r.out.sent.empty());
    r.relay.on_timer(21'000);
    ASSERT_EQ(r.out.sent.size(), 1u);
    EXPECT_EQ(r.relay.counters().held_timed_out, 1u);
    EXPECT_FALSE(r.relay.next_due_ns());
}

TEST(Relay, DelayedFramesLeaveWhenDueInDueOrder) {
    Rig r(Knobs{.delay = 1, .delay_min_us = 5, .delay_max_us = 5});
    r.in(with_header(udp_frame(1)), 0);
    r.in(with_header(udp_frame(2)), 1000);
    r.in(with_header(arp_frame(9)), 2000);  // not UDP: overtakes both
    ASSERT_EQ(r.out.sent.size(), 1u);
    EXPECT_EQ(r.relay.next_due_ns(), 5000u);
    r.relay.on_timer(4999);
    EXPECT_EQ(r.out.sent.size(), 1u);
    r.relay.on_timer(5000);
    ASSERT_EQ(r.out.sent.size(), 2u);
    EXPECT_EQ(id_of(r.out.sent[1]), 1u);
    r.relay.on_timer(6000);
    ASSERT_EQ(r.out.sent.size(), 3u);
    EXPECT_EQ(id_of(r.out.sent[2]), 2u);
    EXPECT_EQ(r.relay.counters().delayed, 2u);
    EXPECT_EQ(r.relay.pending(), 0u);
}

TEST(Relay, ADuplicateIsSentTwiceAndACorruptedFrameChangedInOneByte) {
    Rig dup(Knobs{.duplicate = 1});
    const Bytes f = with_header(udp_frame(4));
    dup.in(f);
    ASSERT_EQ(dup.out.sent.size(), 2u);
    EXPECT_EQ(dup.out.sent[0], f);
    EXPECT_EQ(dup.out.sent[1], f);
    EXPECT_EQ(dup.relay.counters().sent, 2u);
    EXPECT_EQ(dup.relay.counters().duplicated, 1u);

    Rig bad(Knobs{.corrupt = 1});
    bad.in(f);
    ASSERT_EQ(bad.out.sent.size(), 1u);
    const Bytes out(bad.out.sent[0].begin() + kHdr, bad.out.sent[0].end());
    const Bytes in(f.begin() + kHdr, f.end());
    int differing = 0;
    for (std::size_t i = 42; i < in.size(); ++i) differing += out[i] != in[i];
    EXPECT_EQ(differing, 1);
    EXPECT_TRUE(std::equal(in.begin(), in.begin() + 40, out.begin()));  // headers untouched
    EXPECT_TRUE(checksum_ok(out));
    EXPECT_EQ(bad.relay.counters().corrupted, 1u);
}

TEST(Relay, LeavesOtherPortsGsoAndNonUdpFramesAlone) {
    Rig r(Knobs{.duplicate = 1, .corrupt = 1}, 64, 7, 5000);
    const Bytes other = with_header(udp_frame(1, 6000));
    const Bytes gso = with_header(udp_frame(2), 1, 5);
    const Bytes arp = with_header(arp_frame(3));
    for (const Bytes* f : {&other, &gso, &arp}) r.in(*f);
    ASSERT_EQ(r.out.sent.size(), 3u);
    EXPECT_EQ(r.out.sent[0], other);
    EXPECT_EQ(r.out.sent[1], gso);
    EXPECT_EQ(r.out.sent[2], arp);
    EXPECT_EQ(r.relay.counters().eligible, 0u);
}

TEST(Relay, WhenEverySlotIsBusyAFramePassesUntouched) {
    Rig r(Knobs{.delay = 1, .delay_min_us = 1000, .delay_max_us = 1000}, 2);
    r.in(with_header(udp_frame(1)), 0);
    r.in(with_header(udp_frame(2)), 0);
    EXPECT_TRUE(r.out.sent.empty());
    const Bytes third = with_header(udp_frame(3));
    r.in(third, 0);
    ASSERT_EQ(r.out.sent.size(), 1u);
    EXPECT_EQ(r.out.sent[0], third);
    EXPECT_EQ(r.relay.counters().pool_exhausted, 1u);
    r.relay.on_timer(1'000'000);
    EXPECT_EQ(r.out.sent.size(), 3u);
    r.in(with_header(udp_frame(4)), 1'000'000);  // slots are back
    EXPECT_EQ(r.relay.counters().delayed, 3u);
}

TEST(Relay, FlushSendsHeldThenDelayedInOrder) {
    Rig r(Knobs{.reorder = 0.5, .delay = 0.5, .reorder_depth = 100, .delay_min_us = 1, .delay_max_us = 1000});
    for (std::uint32_t i = 0; i < 40; ++i) r.in(with_header(udp_frame(i)), 0);
    const auto held = r.relay.counters().reordered;
    r.relay.flush();
    ASSERT_EQ(r.out.sent.size(), 40u);
    EXPECT_EQ(r.relay.pending(), 0u);
    for (std::size_t i = 1; i < held; ++i) EXPECT_LT(id_of(r.out.sent[i - 1]), id_of(r.out.sent[i]));
}

TEST(Relay, ASeededMixedRunLosesNothingAndRepeatsItself) {
    const Knobs k{.reorder = 0.1, .duplicate = 0.1, .delay = 0.1, .corrupt = 0.1, .reorder_depth = 4,
                  .hold_max_us = 500, .delay_min_us = 10, .delay_max_us = 300};
    auto run = [&](std::uint64_t seed) {
        Rig r(k, 256, seed);
        std::uint64_t t = 0;
        for (std::uint32_t i = 0; i < 10'000; ++i, t += 10'000) {  // a frame every 10 us
            r.relay.on_timer(t);
            r.in(with_header(udp_frame(i, 5000, 60 + i % 200)), t);
        }
        r.relay.on_timer(t + 1'000'000'000);
        EXPECT_EQ(r.relay.pending(), 0u);
        const Counters& c = r.relay.counters();
        EXPECT_EQ(c.sent, c.frames_in + c.duplicated);
        EXPECT_EQ(r.out.sent.size(), c.sent);
        EXPECT_EQ(c.pool_exhausted, 0u);
        std::vector<int> seen(10'000, 0);
        std::size_t out_of_order = 0;
        for (std::size_t j = 0; j < r.out.sent.size(); ++j) {
            const std::uint32_t id = id_of(r.out.sent[j]);
            if (id < seen.size()) ++seen[id];  // a corrupted id may fall outside
            if (j > 0 && id < id_of(r.out.sent[j - 1])) ++out_of_order;
            EXPECT_TRUE(checksum_ok(Bytes(r.out.sent[j].begin() + kHdr, r.out.sent[j].end())));
        }
        std::size_t missing = 0;
        for (int s : seen) missing += s == 0;
        EXPECT_LE(missing, c.corrupted);  // only a frame whose id was hit may look missing
        EXPECT_GT(out_of_order, 500u);
        for (auto n : {c.reordered, c.delayed, c.duplicated, c.corrupted}) EXPECT_NEAR(n, 1000, 150);
        return r.out.sent;
    };
    EXPECT_EQ(run(11), run(11));
    EXPECT_NE(run(11), run(12));
}

}  // namespace
}  // namespace replicast::chaos
