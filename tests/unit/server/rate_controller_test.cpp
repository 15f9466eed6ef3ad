// Adaptive rate (engine/server/rate_controller.hpp) and the verdicts it is fed
// (receiver_pressure.hpp): a cap that falls by a quarter per overrun report,
// no faster than decrease_gap_ns, holds while a full buffer drains, grows back
// by a tenth per step once the receivers are quiet, and never leaves
// [floor, ceiling]; reports judged against the same receiver's previous one.
#include <gtest/gtest.h>

#include <cstdint>

#include "engine/server/rate_controller.hpp"
#include "engine/server/receiver_pressure.hpp"

using namespace replicast::server;
using Signal = RateController::Signal;
using Verdict = ReceiverPressure::Verdict;

namespace {

constexpr std::uint64_t kMs = 1'000'000;
constexpr std::uint64_t kGbit = 1'000'000'000;

RateBounds two_gbit() { return {.ceiling_bps = 2 * kGbit, .floor_bps = 100'000'000}; }

replicast::control::ReceiverReport report(std::uint64_t drops, std::uint64_t overflows, std::uint32_t fill) {
    return {.socket_drops = drops, .queue_overflows = overflows, .buffer_fill_pct = fill};
}

}  // namespace

TEST(RateController, StartsAtTheCeilingAndStaysThereWithoutReports) {
    RateController c(two_gbit());
    EXPECT_EQ(c.current_bps(), 2 * kGbit);
    for (std::uint64_t t = 1; t <= 50; ++t) EXPECT_FALSE(c.tick(t * 100 * kMs, Signal::clear));
    EXPECT_EQ(c.current_bps(), 2 * kGbit);
}

TEST(RateController, EachOverrunTakesAQuarterOffButNotFasterThanTheGap) {
    RateController c(two_gbit());
    EXPECT_TRUE(c.tick(1000 * kMs, Signal::overrun));
    EXPECT_EQ(c.current_bps(), 1'500'000'000u);
    // A second report 10 ms later (another receiver, the same burst) changes nothing.
    EXPECT_FALSE(c.tick(1010 * kMs, Signal::overrun));
    EXPECT_EQ(c.current_bps(), 1'500'000'000u);
    EXPECT_TRUE(c.tick(1050 * kMs, Signal::overrun));
    EXPECT_EQ(c.current_bps(), 1'125'000'000u);
}

TEST(RateController, NeverBelowTheFloor) {
    RateController c(two_gbit());
    for (std::uint64_t i = 0; i < 40; ++i) c.tick((1000 + i * 60) * kMs, Signal::overrun);
    EXPECT_EQ(c.current_bps(), 100'000'000u);
}

TEST(RateController, HoldsWhileABufferDrainsThenGrowsBackByATenthPerStep) {
    RateController c(two_gbit());
    c.tick(1000 * kMs, Signal::overrun);
    c.tick(1060 * kMs, Signal::overrun);  // 1.125 Gbit/s
    const std::uint64_t low = c.current_bps();
    // Draining reports: the cap is below the receiver's pace already; kept.
    for (std::uint64_t t = 1100; t <= 2000; t += 100) EXPECT_FALSE(c.tick(t * kMs, Signal::draining));
    EXPECT_EQ(c.current_bps(), low);
    // Quiet, but within hold_ns (300 ms) of the last draining report: kept.
    EXPECT_FALSE(c.tick(2200 * kMs, Signal::clear));
    // Quiet for long enough: +10 %, then once per increase_gap_ns only.
    EXPECT_TRUE(c.tick(2300 * kMs, Signal::clear));
    EXPECT_EQ(c.current_bps(), low + low / 10);
    EXPECT_FALSE(c.tick(2350 * kMs, Signal::clear));
    // Back to the ceiling (2 / 1.125: 7 steps), and never past it.
    for (std::uint64_t t = 2400; t <= 4000; t += 100) c.tick(t * kMs, Signal::clear);
    EXPECT_EQ(c.current_bps(), 2 * kGbit);
}

TEST(ReceiverPressure, DropsOrOverflowsThatGrewAreAnOverrun) {
    ReceiverPressure p;
    EXPECT_EQ(p.add("client1", 7, report(10, 0, 0), 1 * kMs), Verdict::clear);  // a first report: nothing to compare
    EXPECT_EQ(p.add("client1", 7, report(10, 0, 0), 2 * kMs), Verdict::clear);
    EXPECT_EQ(p.add("client1", 7, report(11, 0, 0), 3 * kMs), Verdict::overrun);
    EXPECT_EQ(p.add("client1", 7, report(11, 5, 0), 4 * kMs), Verdict::overrun);
    // Another receiver's totals are its own.
    EXPECT_EQ(p.add("client2", 7, report(0, 0, 0), 5 * kMs), Verdict::clear);
    const ReceiverPressure::Since s = p.take(7);
    EXPECT_EQ(s.worst, Verdict::overrun);
    EXPECT_EQ(s.overruns, 2u);
    // take() forgets.
    EXPECT_EQ(p.take(7).overruns, 0u);
    EXPECT_EQ(p.take(7).worst, Verdict::clear);
}

TEST(ReceiverPressure, AFullBufferIsAnOverrunUnlessItIsEmptying) {
    ReceiverPressure p;
    EXPECT_EQ(p.add("c", 1, report(0, 0, 60), 1 * kMs), Verdict::overrun);  // half full at once
    EXPECT_EQ(p.add("c", 1, report(0, 0, 63), 2 * kMs), Verdict::overrun);  // filling
    EXPECT_EQ(p.add("c", 1, report(0, 0, 60), 3 * kMs), Verdict::overrun);  // standing: within the wobble
    EXPECT_EQ(p.add("c", 1, report(0, 0, 52), 4 * kMs), Verdict::draining); // 8 points emptier
    EXPECT_EQ(p.add("c", 1, report(0, 0, 40), 5 * kMs), Verdict::clear);    // below half
}

TEST(ReceiverPressure, TotalsThatWentBackAreARestartNotAnOverrun) {
    ReceiverPressure p;
    (void)p.add("c", 1, report(500, 20, 0), 1 * kMs);
    EXPECT_EQ(p.add("c", 1, report(3, 0, 0), 2 * kMs), Verdict::clear);  // the follower started again
    EXPECT_EQ(p.add("c", 1, report(4, 0, 0), 3 * kMs), Verdict::overrun);
}

TEST(ReceiverPressure, FreshSaysOnceThatSomethingCame) {
    ReceiverPressure p;
    EXPECT_FALSE(p.fresh());
    (void)p.add("c", 1, report(0, 0, 10), 1 * kMs);
    EXPECT_FALSE(p.fresh()) << "a clear report does not hurry the loop";
    (void)p.add("c", 1, report(0, 0, 90), 2 * kMs);
    EXPECT_TRUE(p.fresh());
    EXPECT_FALSE(p.fresh());
}
