#include "engine/chain/replay_window.hpp"

#include <algorithm>

namespace replicast::chain {

void ReplayWindow::slide_past_gap(std::uint64_t seq) noexcept {
    // The slots of highest_+1 .. seq-1 slide into the window unreceived; they
    // still hold the bits of the numbers kWindow (or a multiple) below them, so
    // they are cleared, a word at a time: a partial word at each end of the
    // run (the ring may wrap between them), whole words in between. A jump
    // past the whole window clears all. (seq's own slot is set by commit.)
    if (seq - highest_ >= kWindow) {
        bits_.fill(0);
        return;
    }
    std::uint64_t slot = (highest_ + 1) % kWindow;
    std::uint64_t left = seq - highest_ - 1;  // < kWindow - 1: at most kWords + 1 words touched
    while (left != 0) {
        const std::uint64_t bit = slot % 64;
        const std::uint64_t n = std::min(left, 64 - bit);
        const std::uint64_t mask = n == 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << n) - 1) << bit;
        bits_[slot / 64] &= ~mask;
        left -= n;
        slot = (slot + n) % kWindow;
    }
}

void ReplayWindow::reset() noexcept {
    highest_ = 0;
    bits_.fill(0);
}

}  // namespace replicast::chain
