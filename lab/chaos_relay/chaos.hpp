// The chaos relay's decisions: for each frame it may touch, whether to hold
// it back (reorder), delay it, duplicate it and corrupt it, drawn from one
// seeded generator so that a seed and a sequence of frames give the same
// decisions on every run. Pure: no clock, no I/O (the relay passes time in).
//
// The generator is splitmix64 and the draws are ours (not <random>'s
// distributions, whose results differ between standard libraries), so a seed
// means the same thing everywhere.
#pragma once

#include <cstdint>
#include <string>

namespace replicast::chaos {

/// Per-knob probabilities (0..1) and the bounds of what they do.
struct Knobs {
    double reorder = 0;    // hold a frame back until `reorder_depth` later frames have arrived
    double duplicate = 0;  // send a frame twice, back to back
    double delay = 0;      // release a frame after a delay in [delay_min_us, delay_max_us]
    double corrupt = 0;    // flip one byte of the UDP payload (the checksum is fixed up)
    std::uint32_t reorder_depth = 3;
    std::uint64_t hold_max_us = 20'000;  // a held frame leaves by then even if no frame follows
    std::uint64_t delay_min_us = 1'000;
    std::uint64_t delay_max_us = 10'000;

    /// An empty string when the knobs make sense, else what is wrong.
    std::string check() const;
};

/// What happens to one frame. Reorder and delay exclude each other (a frame is
/// held, delayed or sent now); duplicate and corrupt combine with either.
struct Decision {
    bool hold = false;
    bool delay = false;
    bool duplicate = false;
    bool corrupt = false;
    std::uint64_t delay_ns = 0;
    std::uint32_t corrupt_at = 0;   // payload offset, < the payload length passed in
    std::uint8_t corrupt_mask = 0;  // XORed into that byte: never 0
};

class Chaos {
public:
    Chaos(const Knobs& knobs, std::uint64_t seed) noexcept : knobs_(knobs), state_(seed) {}

    /// Draws the decision for a frame whose UDP payload is `payload_len` bytes
    /// (0: the frame cannot be corrupted, and no corruption is drawn for it).
    /// The same number of draws happens for every frame, so one frame's
    /// payload length never shifts the decisions of the frames after it.
    Decision decide(std::uint32_t payload_len) noexcept;

    const Knobs& knobs() const noexcept { return knobs_; }

private:
    std::uint64_t next() noexcept;
    /// Uniform in [0, 1) with 53 bits.
    double unit() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

    Knobs knobs_;
    std::uint64_t state_;
};

}  // namespace replicast::chaos
