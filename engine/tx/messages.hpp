// What the control core posts to a tx worker, over an SP/SC rte_ring of
// pointers, and gets back on a second ring once the worker is done with it, so
// that the control core reuses the memory: the worker never allocates or frees.
// (The conductor/worker split of STYLE practice 2.)
#pragma once

#include <cstdint>
#include <span>

#include "engine/wire/packet.hpp"

namespace replicast::crypto {
class GcmKey;
}

namespace replicast::tx {

struct TxStreamConfig;

struct TxMessage {
    enum class Kind : std::uint8_t {
        chain,       // send `record` as one chain on `stream`
        key_change,  // announce `next_epoch` for 2 s, then seal with `next_key`
        // Stream table (a fixed number of slots, set when the worker is built):
        stream_start,  // slot `stream` sends from now on, as `start` says
        stream_stop,   // slot `stream` ends: a final heartbeat, then the slot is free
    };
    Kind kind = Kind::chain;
    std::uint32_t stream = 0;  // index into the worker's stream table
    std::uint32_t tag = 0;     // the poster's own reference (its job slot); the worker never reads it

    // chain
    std::span<const std::uint8_t> record;  // chain record as carried (owned by the poster)
    wire::CompAlg comp_alg = wire::CompAlg::none;
    std::uint64_t first_lsn = 0;
    std::uint32_t update_count = 0;

    // key_change
    std::uint32_t next_epoch = 0;
    const crypto::GcmKey* next_key = nullptr;

    // stream_start: what the slot sends (owned by the poster until handed back).
    // A stop is posted only once none of the stream's chains or key changes is
    // in flight, so the slot's last packet is the stop's final heartbeat.
    const TxStreamConfig* start = nullptr;

    // filled in by the worker before the message goes back
    std::uint64_t first_seq = 0;  // chain: its packets' packet_seq range; key_change: first_seq announced
    std::uint64_t last_seq = 0;   // stream_stop: the slot's last packet_seq (its final heartbeat)
    bool switched = false;        // key_change: the worker seals with next_key now (false: superseded or never switched)
    bool dropped = false;         // chain: not (wholly) handed to the port: stopped while the port did not drain
};

}  // namespace replicast::tx
