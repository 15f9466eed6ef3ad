// ReplayWindow against an oracle: a std::set of every packet_seq accepted and
// the same window rule written the plain way (PROTOCOL.md 1.2: refuse 0, a
// repeat, and anything kWindow or more below the highest accepted). Random
// orders with repeats inside and beyond the window, gaps of every size around
// the window's width, bursts checked before they are committed: the window and
// the oracle must give the same verdict for every packet, every fresh
// packet_seq is accepted once, and no repeat or too-old one ever is.
//
// Sliding is what the fixed-case tests in reassembler_test.cpp miss: after a
// gap, the slots of the skipped sequence numbers still hold the bits of the
// numbers kWindow (or 2 kWindow...) below them, and a window that does not clear
// them refuses the skipped numbers when they arrive late, as duplicates.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "engine/chain/replay_window.hpp"

namespace replicast::chain {
namespace {

using V = ReplayWindow::Verdict;
constexpr std::uint64_t W = ReplayWindow::kWindow;

// The rule, with nothing clever: every accepted number is kept forever.
class Oracle {
public:
    [[nodiscard]] V check(std::uint64_t seq) const {
        if (seq == 0) return V::too_old;
        if (seq > highest_) return V::fresh;
        if (highest_ - seq >= W) return V::too_old;
        return accepted_.count(seq) != 0 ? V::duplicate : V::fresh;
    }
    bool commit(std::uint64_t seq) {
        if (check(seq) != V::fresh) return false;
        accepted_.insert(seq);
        highest_ = std::max(highest_, seq);
        return true;
    }
    [[nodiscard]] std::uint64_t highest() const { return highest_; }

private:
    std::set<std::uint64_t> accepted_;
    std::uint64_t highest_ = 0;
};

const char* name(V v) {
    switch (v) {
    case V::fresh: return "fresh";
    case V::duplicate: return "duplicate";
    case V::too_old: return "too_old";
    }
    return "?";
}

// Drives a window and the oracle with one packet_seq stream; stops at the
// first disagreement (one failure says enough, a thousand say nothing more).
struct Harness {
    ReplayWindow window;
    Oracle oracle;
    std::map<std::uint64_t, int> times_accepted;
    std::uint64_t steps = 0, fresh = 0, refused = 0;

    ::testing::AssertionResult offer(std::uint64_t seq) {
        ++steps;
        const V want = oracle.check(seq);
        const V got = window.check(seq);
        if (got != want) {
            return ::testing::AssertionFailure() << "step " << steps << ": check(" << seq << ") = " << name(got)
                                                 << ", the rule says " << name(want) << " (highest "
                                                 << oracle.highest() << ")";
        }
        return commit(seq);
    }

    ::testing::AssertionResult commit(std::uint64_t seq) {
        const bool want = oracle.commit(seq);
        const bool got = window.commit(seq);
        if (got != want) {
            return ::testing::AssertionFailure() << "step " << steps << ": commit(" << seq << ") = " << got
                                                 << ", the rule says " << want;
        }
        if (got) {
            ++fresh;
            if (++times_accepted[seq] != 1) {
                return ::testing::AssertionFailure() << "packet_seq " << seq << " accepted twice";
            }
        } else {
            ++refused;
        }
        if (window.highest() != oracle.highest()) {
            return ::testing::AssertionFailure() << "highest " << window.highest() << ", the rule says "
                                                 << oracle.highest();
        }
        return ::testing::AssertionSuccess();
    }

    // A receive burst: every packet checked first (as before opening them),
    // then committed in order; a repeat inside the burst passes check() and
    // must be refused by commit().
    ::testing::AssertionResult burst(const std::vector<std::uint64_t>& seqs) {
        for (std::uint64_t seq : seqs) {
            ++steps;
            if (window.check(seq) != oracle.check(seq)) {
                return ::testing::AssertionFailure() << "step " << steps << ": check(" << seq << ") in a burst = "
                                                     << name(window.check(seq)) << ", the rule says "
                                                     << name(oracle.check(seq));
            }
        }
        for (std::uint64_t seq : seqs) {
            if (auto r = commit(seq); !r) return r;
        }
        return ::testing::AssertionSuccess();
    }
};

// Gap sizes that matter: none, small, just under, at and just over the
// window's width, several widths, and a multiple of the width (the skipped
// slots are exactly the ones the last pass set).
std::uint64_t gap(std::mt19937_64& rng) {
    switch (rng() % 12) {
    case 0: return W - 1 - rng() % 3;
    case 1: return W + rng() % 3 - 1;
    case 2: return 2 * W + rng() % 5;
    case 3: return 1 + rng() % (3 * W);
    case 4: return W * (1 + rng() % 3);
    case 5: return 64 + rng() % 130;  // across word boundaries
    default: return 1 + rng() % 4;
    }
}

std::uint64_t pick(std::mt19937_64& rng, const Oracle& o, const std::vector<std::uint64_t>& offered) {
    const std::uint64_t h = o.highest();
    switch (rng() % 10) {
    case 0: case 1: case 2: case 3: return h + gap(rng);                                  // ahead
    case 4: case 5: return h - std::min<std::uint64_t>(h, rng() % (W + 8));               // late, around the edge
    case 6: return h - std::min<std::uint64_t>(h, W - 1 - rng() % 4);                     // the oldest still inside
    case 7: return h - std::min<std::uint64_t>(h, rng() % (8 * W));                       // far behind
    case 8: return offered.empty() ? 0 : offered[rng() % offered.size()];                  // a repeat of anything
    default: return offered.empty() ? 0 : offered[offered.size() - 1 - rng() % std::min<std::size_t>(offered.size(), 64)];
    }
}

TEST(ReplayWindowOracle, RandomStreamsAgreeWithTheRule) {
    for (std::uint64_t seed = 1; seed <= 40; ++seed) {
        std::mt19937_64 rng(seed);
        Harness h;
        std::vector<std::uint64_t> offered;
        for (int i = 0; i < 20000; ++i) {
            if (rng() % 16 == 0) {
                std::vector<std::uint64_t> b;
                for (std::uint64_t n = 2 + rng() % 31; n > 0; --n) {
                    b.push_back(rng() % 4 == 0 && !b.empty() ? b[rng() % b.size()] : pick(rng, h.oracle, offered));
                }
                ASSERT_TRUE(h.burst(b)) << "seed " << seed;
                offered.insert(offered.end(), b.begin(), b.end());
            } else {
                const std::uint64_t seq = pick(rng, h.oracle, offered);
                ASSERT_TRUE(h.offer(seq)) << "seed " << seed;
                offered.push_back(seq);
            }
        }
        // The streams exercised each outcome many times over.
        EXPECT_GT(h.fresh, 5000u) << "seed " << seed;
        EXPECT_GT(h.refused, 5000u) << "seed " << seed;
    }
}

// No loss, bounded reordering, every packet sent once to three times: when no
// packet arrives more than kWindow places late (jitter up to kWindow, ties in
// sending order), every packet_seq is accepted exactly once; beyond that the
// oracle decides which late ones are too old.
TEST(ReplayWindowOracle, ReorderedDuplicatedStreamsAcceptEachNumberOnce) {
    for (const std::uint64_t displacement : {std::uint64_t{8}, W / 2, W - 1, W, 3 * W}) {
        std::mt19937_64 rng(displacement);
        const std::uint64_t n = 30 * W;
        std::vector<std::pair<std::uint64_t, std::uint64_t>> keyed;  // (position + jitter, seq)
        for (std::uint64_t s = 1; s <= n; ++s) {
            for (std::uint64_t copy = 0, copies = 1 + rng() % 3; copy < copies; ++copy) {
                keyed.emplace_back(s + rng() % (displacement + 1), s);
            }
        }
        std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        Harness h;
        for (const auto& [position, seq] : keyed) {
            ASSERT_TRUE(h.offer(seq)) << "displacement " << displacement;
        }
        if (displacement <= W) {
            EXPECT_EQ(h.times_accepted.size(), n) << "displacement " << displacement;
        } else {
            EXPECT_LT(h.times_accepted.size(), n) << "the test should have sent some too late";
        }
    }
}

// Gaps that leave exactly the slots the previous pass set: every skipped
// number that arrives late must still be accepted.
TEST(ReplayWindowOracle, LateNumbersAfterAGapAreFreshWhateverTheirSlotHeld) {
    for (const std::uint64_t g : {std::uint64_t{2}, std::uint64_t{63}, std::uint64_t{64}, std::uint64_t{65},
                                  std::uint64_t{200}, W - 2, W - 1}) {
        Harness h;
        for (std::uint64_t s = 1; s <= 3 * W; ++s) ASSERT_TRUE(h.offer(s));  // every slot set
        const std::uint64_t top = 3 * W + g;
        ASSERT_TRUE(h.offer(top));
        for (std::uint64_t s = 3 * W + 1; s < top; ++s) {
            ASSERT_TRUE(h.offer(s)) << "gap " << g;
            ASSERT_EQ(h.times_accepted.count(s), 1u) << "skipped " << s << " refused after a gap of " << g;
        }
        for (std::uint64_t s = top - W + 1; s <= top; ++s) ASSERT_TRUE(h.offer(s)) << "the repeats, gap " << g;
        EXPECT_EQ(h.window.check(top - W), V::too_old);
    }
}

}  // namespace
}  // namespace replicast::chain
