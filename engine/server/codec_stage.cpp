#include "engine/server/codec_stage.hpp"

#include <rte_pause.h>
#include <rte_ring.h>

#include <array>

#include "engine/server/chain_job.hpp"
#include "engine/wire/chain_record.hpp"

namespace replicast::server {

namespace {
// "poll" pauses here, as this loop always did: the control core posts every
// job, and a tight loop on its ring's cache line slows it down.
tx::IdlePolicy codec_policy(const tx::IdlePolicy& p) {
    return p.mode == tx::IdleMode::poll ? tx::IdlePolicy{.mode = tx::IdleMode::pause, .sleep_max_us = p.sleep_max_us} : p;
}
}  // namespace

CodecStage::CodecStage(rte_ring* in, int level, const tx::IdlePolicy& idle)
    : in_(in), compressor_(level), idle_(codec_policy(idle)) {}

int CodecStage::run() noexcept {
    std::array<void*, 32> burst;
    idle_.prepare_thread();
    for (;;) {
        const unsigned n = rte_ring_sc_dequeue_burst(in_, burst.data(), burst.size(), nullptr);
        if (n == 0) {
            if (stop_.load(std::memory_order_acquire) && rte_ring_empty(in_)) break;
            idle_.idle();
            continue;
        }
        idle_.work();
        for (unsigned i = 0; i < n; ++i) {
            auto* job = static_cast<ChainJob*>(burst[i]);
            const std::span<const std::uint8_t> body = std::span(job->record).subspan(wire::kChainRecordHeadSize);
            // Room for one byte less than the plain body: what does not fit did not shrink.
            const std::size_t packed =
                body.size() > 1 ? compressor_.compress(body, std::span(job->packed.data() + wire::kChainRecordHeadSize,
                                                                       body.size() - 1))
                                : 0;
            if (packed != 0) {
                std::copy_n(job->record.data(), wire::kChainRecordHeadSize, job->packed.data());  // same head
                job->message.record = std::span(job->packed.data(), wire::kChainRecordHeadSize + packed);
                job->message.comp_alg = wire::CompAlg::deflate;
            } else {
                kept_plain_.fetch_add(1, std::memory_order_relaxed);
            }
            chains_.fetch_add(1, std::memory_order_relaxed);
            // The inbox holds every job of its worker: this never spins in practice.
            while (rte_ring_mp_enqueue(static_cast<rte_ring*>(job->inbox), &job->message) != 0) rte_pause();
        }
    }
    return 0;
}

}  // namespace replicast::server
