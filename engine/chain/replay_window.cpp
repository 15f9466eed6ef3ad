#include "engine/chain/replay_window.hpp"

namespace replicast::chain {

bool ReplayWindow::test_bit(std::uint64_t seq) const noexcept {
    const std::uint64_t i = seq % kWindow;
    return (bits_[i / 64] >> (i % 64)) & 1u;
}

void ReplayWindow::set_bit(std::uint64_t seq) noexcept {
    const std::uint64_t i = seq % kWindow;
    bits_[i / 64] |= std::uint64_t{1} << (i % 64);
}

void ReplayWindow::clear_bit(std::uint64_t seq) noexcept {
    const std::uint64_t i = seq % kWindow;
    bits_[i / 64] &= ~(std::uint64_t{1} << (i % 64));
}

ReplayWindow::Verdict ReplayWindow::check(std::uint64_t seq) const noexcept {
    if (seq == 0) {
        return Verdict::too_old;  // packet_seq starts at 1: 0 is never sent
    }
    if (seq > highest_) {
        return Verdict::fresh;
    }
    if (highest_ - seq >= kWindow) {
        return Verdict::too_old;
    }
    return test_bit(seq) ? Verdict::duplicate : Verdict::fresh;
}

void ReplayWindow::commit(std::uint64_t seq) noexcept {
    if (seq > highest_) {
        // Clear the slots that slide into the window; a jump past the whole window clears all.
        const std::uint64_t advance = seq - highest_;
        if (advance >= kWindow) {
            bits_.fill(0);
        } else {
            for (std::uint64_t s = highest_ + 1; s < seq; ++s) {
                clear_bit(s);
            }
        }
        highest_ = seq;
    }
    set_bit(seq);
}

void ReplayWindow::reset() noexcept {
    highest_ = 0;
    bits_.fill(0);
}

}  // namespace replicast::chain
