#include "lab/chaos_relay/chaos.hpp"

#include <cmath>

namespace replicast::chaos {

std::string Knobs::check() const {
    for (auto [name, p] : {std::pair{"reorder", reorder}, {"duplicate", duplicate}, {"delay", delay},
                           {"corrupt", corrupt}}) {
        if (!(p >= 0 && p <= 1)) return std::string(name) + " probability " + std::to_string(p) + " is not in 0..1";
    }
    if (reorder + delay > 1) return "reorder + delay probabilities exceed 1 (a frame is held, delayed or neither)";
    if (reorder_depth == 0) return "reorder depth must be at least 1";
    if (delay_min_us > delay_max_us) return "delay minimum exceeds its maximum";
    if (delay_max_us > 10'000'000 || hold_max_us > 10'000'000) return "delays are bounded by 10 s";
    return {};
}

std::uint64_t Chaos::next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

Decision Chaos::decide(std::uint32_t payload_len) noexcept {
    // Six draws per frame, always: the decisions of later frames do not depend
    // on what this one was.
    const double order = unit(), dup = unit(), bad = unit();
    const std::uint64_t delay_draw = next(), where = next(), mask = next();
    Decision d;
    if (order < knobs_.reorder) {
        d.hold = true;
    } else if (order < knobs_.reorder + knobs_.delay) {
        d.delay = true;
        const std::uint64_t span_us = knobs_.delay_max_us - knobs_.delay_min_us + 1;
        d.delay_ns = (knobs_.delay_min_us + delay_draw % span_us) * 1000;
    }
    d.duplicate = dup < knobs_.duplicate;
    if (payload_len > 0 && bad < knobs_.corrupt) {
        d.corrupt = true;
        d.corrupt_at = static_cast<std::uint32_t>(where % payload_len);
        d.corrupt_mask = static_cast<std::uint8_t>(1 + mask % 255);
    }
    return d;
}

}  // namespace replicast::chaos
