// Compression on a dedicated lcore (config: [bundle] compression_lcore): the
// control core cuts chains plain and posts them here; this lcore deflates each
// body with ISA-L and forwards the job, in order, to its tx worker's inbox.
// The alternative placement, deflating on the control core, needs no stage.
//
// A job's plain record stays in `record`; the compressed one is written to
// `packed`, both reserved at start, so the loop allocates nothing.
#pragma once

#include <atomic>
#include <cstdint>

#include "engine/chain/codec.hpp"
#include "engine/tx/idle_backoff.hpp"

struct rte_ring;

namespace replicast::server {

class CodecStage {
public:
    /// `in`: ChainJob* from the control core (single producer). Jobs name their
    /// worker inbox in ChainJob::inbox (multi-producer: key changes come from
    /// the control core too).
    /// `idle`: what an empty pass does (the profile's workers.idle, like the tx workers).
    CodecStage(rte_ring* in, int level, const tx::IdlePolicy& idle);

    /// The loop; returns when stop() was called and `in` is empty.
    int run() noexcept;
    static int launch(void* self) noexcept { return static_cast<CodecStage*>(self)->run(); }
    void stop() noexcept { stop_.store(true, std::memory_order_release); }

    [[nodiscard]] std::uint64_t chains() const noexcept { return chains_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t kept_plain() const noexcept { return kept_plain_.load(std::memory_order_relaxed); }

private:
    rte_ring* in_;
    chain::Compressor compressor_;
    tx::IdleBackoff idle_;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> chains_{0};
    std::atomic<std::uint64_t> kept_plain_{0};  // deflate did not shrink the body
};

}  // namespace replicast::server
