// A chain job: a cut chain plus the tx message that carries it to a worker.
// Jobs are made once at start (record capacity reserved) and recycled.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/server/chain_cutter.hpp"
#include "engine/tx/messages.hpp"

namespace replicast::server {

struct ChainJob : CutChain {
    tx::TxMessage message;
    std::vector<std::uint8_t> packed;  // the compressed record, when a codec lcore deflates
    void* inbox = nullptr;             // the tx worker ring it goes to (an rte_ring), for the codec lcore

    /// Points the message at this job's chain, for stream slot `stream`, tagged `tag`.
    void make_message(std::uint32_t stream, std::uint32_t tag) noexcept {
        message = tx::TxMessage{};
        message.kind = tx::TxMessage::Kind::chain;
        message.stream = stream;
        message.tag = tag;
        message.record = record;
        message.comp_alg = comp_alg;
        message.first_lsn = first_lsn;
        message.update_count = update_count;
    }
};

}  // namespace replicast::server
