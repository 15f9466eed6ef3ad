// Replay protection (PROTOCOL.md 1.2): per stream, the highest packet_seq
// accepted and a bitmap of the kWindow sequence numbers below it. A duplicate,
// or a packet older than the window, is refused before any time is spent
// decrypting it. check() looks, commit() records: commit only after the packet
// opened, so a forged packet cannot burn a sequence number of a real one.
//
// A receiver checks a whole burst before opening it, so two copies of one
// packet_seq in the same burst (an injected replay lands in the same recvmmsg
// batch as the original) both pass check(). commit() therefore checks again
// and refuses the second: only a packet whose commit() returned true may reach
// the reassembler.
#pragma once

#include <array>
#include <cstdint>

namespace replicast::chain {

class ReplayWindow {
public:
    static constexpr std::uint64_t kWindow = 1024;  // sequence numbers remembered below the highest

    enum class Verdict : std::uint8_t { fresh, duplicate, too_old };

    // Inline: both run for every packet of every stream.
    [[nodiscard]] Verdict check(std::uint64_t seq) const noexcept {
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

    /// Records `seq` as accepted, once it opened.
    /// @return false, recording nothing, when `seq` is no longer fresh (a copy
    ///         committed earlier in the same burst, or slid out of the window):
    ///         the packet must then be dropped as a duplicate.
    [[nodiscard]] bool commit(std::uint64_t seq) noexcept {
        if (check(seq) != Verdict::fresh) {
            return false;
        }
        if (seq > highest_ + 1) {
            slide_past_gap(seq);
        }
        if (seq > highest_) {
            highest_ = seq;  // the slot seq takes over is set below, whatever it held
        }
        set_bit(seq);
        return true;
    }

    [[nodiscard]] std::uint64_t highest() const noexcept { return highest_; }

    /// Forgets everything (a new stream incarnation).
    void reset() noexcept;

private:
    static constexpr std::uint64_t kWords = kWindow / 64;
    static_assert(kWindow % 64 == 0, "the bitmap is whole 64-bit words");
    [[nodiscard]] bool test_bit(std::uint64_t seq) const noexcept {
        const std::uint64_t i = seq % kWindow;
        return (bits_[i / 64] >> (i % 64)) & 1u;
    }
    void set_bit(std::uint64_t seq) noexcept {
        const std::uint64_t i = seq % kWindow;
        bits_[i / 64] |= std::uint64_t{1} << (i % 64);
    }
    /// Clears the slots of the sequence numbers skipped on the way to `seq`
    /// (> highest_ + 1), a 64-slot word at a time.
    void slide_past_gap(std::uint64_t seq) noexcept;

    std::uint64_t highest_ = 0;  // 0 = nothing accepted yet (packet_seq starts at 1)
    std::array<std::uint64_t, kWords> bits_{};
};

}  // namespace replicast::chain
