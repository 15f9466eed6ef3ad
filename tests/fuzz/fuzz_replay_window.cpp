// Differential: ReplayWindow against an oracle of the same rule (PROTOCOL.md
// 1.2) kept the plain way, a std::set of every packet_seq accepted. Any input
// is a stream of packet_seqs around the highest accepted one (ahead by a
// little or by windows, behind by a little or by windows, absolute), some
// checked in bursts before they are committed; the window and the oracle must
// agree on every check() and commit(). Complements the seeded random test in
// tests/unit/chain/replay_window_test.cpp with coverage-guided streams.
//
// Input: 3 bytes per packet, [op][delta hi][delta lo]
//   op & 3: 0 highest + delta, 1 highest - delta, 2 highest + delta * 61
//           (jumps of a window and more), 3 delta itself
//   op & 4: held for a burst (checked now, committed at the next op & 8)
//   op & 8: commit the held burst, in order, before this packet
#include <cstdint>
#include <cstdlib>
#include <set>
#include <vector>

#include "engine/chain/replay_window.hpp"

using replicast::chain::ReplayWindow;

namespace {

struct Oracle {
    std::set<std::uint64_t> accepted;
    std::uint64_t highest = 0;

    [[nodiscard]] ReplayWindow::Verdict check(std::uint64_t seq) const {
        if (seq == 0) return ReplayWindow::Verdict::too_old;
        if (seq > highest) return ReplayWindow::Verdict::fresh;
        if (highest - seq >= ReplayWindow::kWindow) return ReplayWindow::Verdict::too_old;
        return accepted.count(seq) != 0 ? ReplayWindow::Verdict::duplicate : ReplayWindow::Verdict::fresh;
    }
    bool commit(std::uint64_t seq) {
        if (check(seq) != ReplayWindow::Verdict::fresh) return false;
        accepted.insert(seq);
        if (seq > highest) highest = seq;
        return true;
    }
};

void commit_both(ReplayWindow& w, Oracle& o, std::uint64_t seq) {
    if (w.commit(seq) != o.commit(seq) || w.highest() != o.highest) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ReplayWindow window;
    Oracle oracle;
    std::vector<std::uint64_t> held;
    for (std::size_t i = 0; i + 3 <= size; i += 3) {
        const std::uint8_t op = data[i];
        const std::uint64_t delta = (std::uint64_t{data[i + 1]} << 8) | data[i + 2];
        if (op & 8) {
            for (std::uint64_t seq : held) commit_both(window, oracle, seq);
            held.clear();
        }
        const std::uint64_t h = oracle.highest;
        std::uint64_t seq = 0;
        switch (op & 3) {
        case 0: seq = h + delta; break;
        case 1: seq = delta > h ? 0 : h - delta; break;
        case 2: seq = h + delta * 61; break;
        default: seq = delta; break;
        }
        if (window.check(seq) != oracle.check(seq)) std::abort();
        if (op & 4) {
            held.push_back(seq);  // in a burst: both copies of a repeat pass check(), commit() tells them apart
        } else {
            commit_both(window, oracle, seq);
        }
    }
    for (std::uint64_t seq : held) commit_both(window, oracle, seq);
    return 0;
}
