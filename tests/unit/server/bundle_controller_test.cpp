// Adaptive bundling's choice (engine/server/bundle_controller.hpp) and the
// loss rates it is fed (receiver_loss.hpp): the expected size for a given loss
// and number of receivers, the ceiling without reports, the hysteresis.
#include <gtest/gtest.h>

#include <vector>

#include "engine/server/bundle_controller.hpp"
#include "engine/server/receiver_loss.hpp"

using namespace replicast::server;

namespace {

// The fanout benchmark's stream: 8-byte keys, 100-byte values (about 110
// bytes per update as carried), chains of at most 64 updates / 16 KiB.
BundleModel fanout_model() {
    BundleModel m;
    m.update_bytes = 110;
    m.body_update_bytes = 110;
    return m;
}

BundleBounds fanout_bounds() { return {.max_updates = 64, .max_bytes = 16384, .min_updates = 4}; }

std::vector<double> receivers(std::size_t n, double p) { return std::vector<double>(n, p); }

constexpr std::uint64_t kMs = 1'000'000;

}  // namespace

TEST(BundleModel, PacketsPerChain) {
    const BundleModel m = fanout_model();
    EXPECT_EQ(m.packets(1), 1u);
    EXPECT_EQ(m.packets(12), 1u);  // 12 * 110 + 16 = 1336 <= 1432
    EXPECT_EQ(m.packets(13), 2u);  // 1446
    EXPECT_EQ(m.packets(64), 5u);  // 7056 bytes
}

TEST(BundleModel, EgressWithoutLossFallsWithChainLength) {
    const BundleModel m = fanout_model();
    const std::vector<double> none;
    EXPECT_GT(egress_per_update(12, m, none), egress_per_update(64, m, none));
    EXPECT_GT(egress_per_update(4, m, none), egress_per_update(12, m, none));
    // One copy: the update plus its share of one packet's headers and the head.
    EXPECT_NEAR(egress_per_update(64, m, none), 110 + (16 + 5 * 82) / 64.0, 1e-9);
}

TEST(BundleModel, RepairsGrowWithReceiversAndChainPackets) {
    const BundleModel m = fanout_model();
    const double one = egress_per_update(64, m, receivers(1, 0.01));
    const double eight = egress_per_update(64, m, receivers(8, 0.01));
    const double none = egress_per_update(64, m, {});
    // 8 receivers each repair what they lose: 8 times the repair share of one.
    EXPECT_NEAR(eight - none, 8 * (one - none), 1e-9);
    // A 5-packet chain is lost about 4.9 % of the time at 1 % packet loss.
    EXPECT_NEAR((one - none) / (110 + 16 + 400 / 64.0), 1 - 0.99 * 0.99 * 0.99 * 0.99 * 0.99, 1e-9);
}

TEST(BundleController, NoReportsKeepsTheCeiling) {
    BundleController c(fanout_bounds());
    EXPECT_EQ(c.current(), 64u);
    EXPECT_FALSE(c.update(fanout_model(), {}));
    EXPECT_EQ(c.current(), 64u);
    // Receivers that report no loss are the same as none.
    EXPECT_FALSE(c.update(fanout_model(), receivers(8, 0.0)));
    EXPECT_EQ(c.current(), 64u);
}

TEST(BundleController, CeilingIsMaxBytesWhenUpdatesAreLarge) {
    BundleController c({.max_updates = 64, .max_bytes = 16384, .min_updates = 4});
    BundleModel m = fanout_model();
    m.update_bytes = 1000;
    m.body_update_bytes = 1000;
    EXPECT_EQ(c.ceiling(m), 16u);  // 16 KiB of 1000-byte updates
    c.update(m, {});
    EXPECT_EQ(c.current(), 16u);
}

TEST(BundleController, EightReceiversAtOnePercentTakeOnePacketChains) {
    // The fanout benchmark's miss (N = 8, 1 %): the choice is the largest chain
    // that fits one packet (12 updates), and its expected egress is within
    // the 1.3 copies target where 64-update chains are not.
    BundleController c(fanout_bounds());
    const BundleModel m = fanout_model();
    const auto loss = receivers(8, 0.01);
    EXPECT_EQ(c.best(m, loss), 12u);
    EXPECT_TRUE(c.update(m, loss));
    EXPECT_EQ(c.current(), 12u);
    const double one_copy = egress_per_update(64, m, {});
    EXPECT_LT(egress_per_update(12, m, loss), 1.3 * one_copy);
    EXPECT_GT(egress_per_update(64, m, loss), 1.3 * one_copy);
}

TEST(BundleController, OneReceiverAtSmallLossKeepsLongChains) {
    // One receiver at 0.1 %: repairs cost less than the headers shorter chains add.
    BundleController c(fanout_bounds());
    EXPECT_FALSE(c.update(fanout_model(), receivers(1, 0.001)));
    EXPECT_EQ(c.current(), 64u);
}

TEST(BundleController, MoreLossOrReceiversNeverLengthensTheChoice) {
    const BundleController c(fanout_bounds());
    const BundleModel m = fanout_model();
    std::uint32_t last = 64;
    for (double p : {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1}) {
        const std::uint32_t b = c.best(m, receivers(8, p));
        EXPECT_LE(b, last) << "at p = " << p;
        last = b;
    }
    last = 64;
    for (std::size_t n : {1u, 2u, 4u, 8u, 16u, 32u}) {
        const std::uint32_t b = c.best(m, receivers(n, 0.005));
        EXPECT_LE(b, last) << "at " << n << " receivers";
        last = b;
    }
}

TEST(BundleController, FloorBoundsTheChoice) {
    // 1000-byte updates at 10 % loss to 32 receivers: the fewer packets the
    // better, down to one update per chain; the floor (8) stops it there.
    BundleController c({.max_updates = 64, .max_bytes = 65536, .min_updates = 8});
    BundleModel m = fanout_model();
    m.update_bytes = 1000;
    m.body_update_bytes = 1000;
    EXPECT_TRUE(c.update(m, receivers(32, 0.1)));
    EXPECT_EQ(c.current(), 8u);
}

TEST(BundleController, HysteresisHoldsASizeThatIsNearlyAsGood) {
    BundleController c(fanout_bounds());
    const BundleModel m = fanout_model();
    ASSERT_TRUE(c.update(m, receivers(8, 0.01)));
    ASSERT_EQ(c.current(), 12u);
    // Find a loss where 12 is no longer the best, but within 5 % of it: the size stays.
    bool held = false;
    for (double p = 0.0095; p > 0.0001; p -= 0.0001) {
        const auto loss = receivers(8, p);
        const std::uint32_t b = c.best(m, loss);
        if (b == 12u) continue;
        if (egress_per_update(12, m, loss) <= egress_per_update(b, m, loss) * 1.05) {
            BundleController probe = c;
            EXPECT_FALSE(probe.update(m, loss)) << "at p = " << p;
            EXPECT_EQ(probe.current(), 12u);
            held = true;
            break;
        }
    }
    EXPECT_TRUE(held) << "no loss rate where 12-update chains are within the hysteresis of a better size";
    // Once the loss stops (no reports), straight back to the ceiling.
    EXPECT_TRUE(c.update(m, {}));
    EXPECT_EQ(c.current(), 64u);
    // And the same loss again: the same choice (no memory of the way there).
    EXPECT_TRUE(c.update(m, receivers(8, 0.01)));
    EXPECT_EQ(c.current(), 12u);
}

TEST(ReceiverLoss, RateOverTheWindow) {
    ReceiverLoss r(std::chrono::milliseconds(5000));
    std::vector<double> out;
    // Totals since the follower started: 1000 packets, 10 missed, then 2000 / 30.
    r.add("client1", 7, {.packets = 1000, .packets_missed = 10}, 1000 * kMs);
    r.rates(7, 1000 * kMs, out);
    EXPECT_TRUE(out.empty());  // one report: no interval yet
    r.add("client1", 7, {.packets = 2000, .packets_missed = 30}, 2000 * kMs);
    r.rates(7, 2000 * kMs, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_NEAR(out[0], 20.0 / 1020.0, 1e-12);
    r.rates(8, 2000 * kMs, out);
    EXPECT_TRUE(out.empty());  // another stream
}

TEST(ReceiverLoss, SilentReceiverCountsAsLossless) {
    ReceiverLoss r(std::chrono::milliseconds(5000));
    std::vector<double> out;
    r.add("client1", 7, {.packets = 0, .packets_missed = 0}, 0);
    r.add("client1", 7, {.packets = 1000, .packets_missed = 10}, 1000 * kMs);
    r.rates(7, 5999 * kMs, out);
    EXPECT_EQ(out.size(), 1u);
    r.rates(7, 6001 * kMs, out);
    EXPECT_TRUE(out.empty());
    r.prune(30000 * kMs);
    r.add("client1", 7, {.packets = 2000, .packets_missed = 20}, 30000 * kMs);
    r.rates(7, 30000 * kMs, out);
    EXPECT_TRUE(out.empty());  // pruned: the old baseline went with it
}

TEST(ReceiverLoss, TooFewPacketsSayNothing) {
    ReceiverLoss r(std::chrono::milliseconds(5000));
    std::vector<double> out;
    r.add("a", 1, {.packets = 10, .packets_missed = 0}, 0);
    r.add("a", 1, {.packets = 960, .packets_missed = 49}, 1000 * kMs);  // 999 packets: 5 % of them said nothing
    r.rates(1, 1000 * kMs, out);
    EXPECT_TRUE(out.empty());
}

TEST(ReceiverLoss, SlowStreamReachesBackForEvidence) {
    // 800 packets in the last window are too few; the report before reaches 1313.
    ReceiverLoss r(std::chrono::milliseconds(1000));
    std::vector<double> out;
    r.add("a", 1, {.packets = 0, .packets_missed = 0}, 0);
    r.add("a", 1, {.packets = 500, .packets_missed = 5}, 1000 * kMs);
    r.add("a", 1, {.packets = 1000, .packets_missed = 10}, 2500 * kMs);
    r.add("a", 1, {.packets = 1300, .packets_missed = 13}, 3000 * kMs);
    r.rates(1, 3000 * kMs, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_NEAR(out[0], 13.0 / 1313.0, 1e-12);
    // Not past 4 windows: at 5.5 s the first report is too old to count, and
    // the newest is too (no report for 2.5 s): nothing.
    r.rates(1, 5500 * kMs, out);
    EXPECT_TRUE(out.empty());
}

TEST(ReceiverLoss, OldLossLeavesTheWindow) {
    // Loss at first, then none: once the lossy interval is behind the window's
    // start, the rate is the recent one.
    ReceiverLoss r(std::chrono::milliseconds(4000));
    std::vector<double> out;
    r.add("a", 1, {.packets = 0, .packets_missed = 0}, 0);
    r.add("a", 1, {.packets = 1000, .packets_missed = 100}, 1000 * kMs);
    std::uint64_t packets = 1000;
    for (std::uint64_t t = 2000; t <= 10000; t += 1000) {
        packets += 1000;
        r.add("a", 1, {.packets = packets, .packets_missed = 100}, t * kMs);
    }
    r.rates(1, 10000 * kMs, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], 0.0);
}

TEST(ReceiverLoss, RestartedFollowerStartsOver) {
    ReceiverLoss r(std::chrono::milliseconds(5000));
    std::vector<double> out;
    r.add("a", 1, {.packets = 5000, .packets_missed = 500}, 0);
    r.add("a", 1, {.packets = 10, .packets_missed = 0}, 1000 * kMs);  // totals went back
    r.add("a", 1, {.packets = 1010, .packets_missed = 0}, 2000 * kMs);
    r.rates(1, 2000 * kMs, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], 0.0);
}

TEST(ReceiverLoss, ReceiversAreApart) {
    ReceiverLoss r(std::chrono::milliseconds(5000));
    std::vector<double> out;
    for (const char* id : {"a", "b", "c"}) r.add(id, 1, {}, 0);
    r.add("a", 1, {.packets = 1000, .packets_missed = 0}, 1000 * kMs);
    r.add("b", 1, {.packets = 990, .packets_missed = 10}, 1000 * kMs);
    r.rates(1, 1000 * kMs, out);
    ASSERT_EQ(out.size(), 2u);  // c said nothing since
    EXPECT_EQ(out[0], 0.0);
    EXPECT_NEAR(out[1], 0.01, 1e-12);
}
