// The receiving rules of PROTOCOL.md 1.3 as a per-stream state machine.
//
// Packets arrive opened (decrypted, authenticated, replay-checked) in the order
// the network delivered them. The reassembler gathers a chain's payloads while
// their packet_seq values run consecutively from a FIC, and hands out a chain
// only when it is complete, decompressed to exactly body_len and parsed to
// exactly update_count updates. Anything else is dropped whole, counted under
// its reason, and the machine waits for the next FIC or OIC. Never a partial
// chain.
//
//            FIC                MIC (seq = last+1)
//   WAIT ----------> GATHER <-------------------+
//    ^ ^ OIC: emit    |  | LIC (seq = last+1): emit or drop
//    | +-----------   |  +-------------------------------> WAIT
//    +----------------+ break: seq gap, a control packet, a MIC/LIC
//                       with another epoch or comp_alg, or too large
//
// Memory is bounded by max_record_bytes (gathered, as carried) and
// max_body_bytes (decompressed). Buffers only grow, up to those bounds.
// One reassembler per stream, used by one thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "engine/chain/bytes.hpp"
#include "engine/chain/codec.hpp"
#include "engine/wire/chain_record.hpp"
#include "engine/wire/packet.hpp"

namespace replicast::chain {

enum class DropReason : std::uint8_t {
    sequence_break,     // a packet_seq gap (or a control packet) inside a chain
    restarted,          // a FIC or OIC arrived while a chain was in progress
    header_changed,     // key_epoch or comp_alg differs between packets of one chain
    too_large,          // the gathered record passed max_record_bytes, or body_len max_body_bytes
    bad_record,         // the record head is malformed (short, update_count 0, body_len > 64 MiB)
    inflate_failed,     // DEFLATE data corrupt, or not exactly body_len bytes
    body_len_mismatch,  // uncompressed body is not exactly body_len bytes
    bad_body,           // the body does not parse to exactly update_count updates
    count_,
};

[[nodiscard]] std::string_view describe(DropReason r) noexcept;

struct ReassemblerConfig {
    std::size_t max_record_bytes = 64u << 20;      // gathered record (compressed)
    std::uint32_t max_body_bytes = wire::kMaxBodyLen;  // after decompression
};

struct CompleteChain {
    wire::ChainRecordHead head;
    std::span<const std::uint8_t> body;  // decompressed and validated: exactly head.update_count updates
    std::uint32_t key_epoch = 0;
    std::uint64_t first_seq = 0;
    std::uint64_t last_seq = 0;
};

struct ReassemblerCounters {
    std::uint64_t packets = 0;
    std::uint64_t chains = 0;            // complete chains handed out
    std::uint64_t discarded_packets = 0;  // MIC/LIC seen while waiting for a FIC/OIC
    std::array<std::uint64_t, static_cast<std::size_t>(DropReason::count_)> dropped{};

    [[nodiscard]] std::uint64_t dropped_total() const noexcept;
};

class Reassembler {
public:
    /// What one packet did. A packet can both drop the chain in progress and
    /// complete a new one (an OIC after a lost LIC): `chain` is returned then,
    /// and the drop is still counted. Every drop is counted exactly once.
    enum class Event : std::uint8_t {
        none,     // gathering, or the packet was discarded while waiting for a FIC/OIC
        chain,    // chain() holds a complete chain until the next call
        dropped,  // a chain was dropped: last_drop() says why
    };

    explicit Reassembler(const ReassemblerConfig& config = {});

    /// One opened data packet. `payload` is its plaintext; it is copied, so it need
    /// not outlive the call. May drop the chain in progress and start a new one.
    [[nodiscard]] Event on_data(const wire::PacketHeader& header, wire::ChainPosition position,
                                std::span<const std::uint8_t> payload);

    /// A control packet (heartbeat, key change) took `seq`: chains never contain one,
    /// so a chain in progress is broken.
    [[nodiscard]] Event on_control(std::uint64_t seq) noexcept;

    [[nodiscard]] const CompleteChain& chain() const noexcept { return chain_; }
    [[nodiscard]] DropReason last_drop() const noexcept { return last_drop_; }
    [[nodiscard]] const ReassemblerCounters& counters() const noexcept { return counters_; }
    [[nodiscard]] bool in_progress() const noexcept { return gathering_; }

private:
    Event drop(DropReason reason) noexcept;
    [[nodiscard]] bool append(std::span<const std::uint8_t> payload);
    Event complete();

    ReassemblerConfig config_;
    Decompressor inflater_;
    bool gathering_ = false;
    std::uint64_t last_seq_ = 0;
    std::uint64_t first_seq_ = 0;
    std::uint32_t key_epoch_ = 0;
    wire::CompAlg comp_alg_ = wire::CompAlg::none;
    Bytes record_;
    Bytes body_;
    CompleteChain chain_;
    DropReason last_drop_ = DropReason::sequence_break;
    ReassemblerCounters counters_;
};

}  // namespace replicast::chain
