#include "engine/chain/replay_window.hpp"

namespace replicast::chain {

void ReplayWindow::slide_past_gap(std::uint64_t seq) noexcept {
    // The slots of highest_+1 .. seq-1 slide into the window unreceived; a jump
    // past the whole window clears all. (seq's own slot is set by commit.)
    if (seq - highest_ >= kWindow) {
        bits_.fill(0);
        return;
    }
    for (std::uint64_t s = highest_ + 1; s < seq; ++s) {
        clear_bit(s);
    }
}

void ReplayWindow::reset() noexcept {
    highest_ = 0;
    bits_.fill(0);
}

}  // namespace replicast::chain
