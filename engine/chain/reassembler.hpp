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
    // gathered record as carried: the 16-byte head plus the largest body the
    // builder makes (stored plain when deflate does not shrink it)
    std::size_t max_record_bytes = wire::kChainRecordHeadSize + wire::kMaxBodyLen;
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

    // In place: a receiver opens a whole burst at once, and the plaintext of the
    // packets that extend the chain being gathered can be written by the open
    // itself straight into the chain buffer, saving the copy on_data() makes
    // (bench_chain: that copy is 16 % of the receive path's cycles).
    //
    //   begin_burst();
    //   for each datagram, in arrival order, if window.check(seq) is fresh:
    //     slot = reserve(header, position)
    //     (open into the slot, or into a scratch buffer when it is empty)
    //   open the burst
    //   for each datagram, in arrival order: accepted = opened && window.commit(seq)
    //     commit(header, position, accepted) if it had a slot,
    //     else on_data(header, position, scratch) if accepted
    //   (window.commit refuses a second copy of a seq within the burst: a replay.)
    //
    // Slots are predictions; commit() runs the same rules as on_data() and
    // places the bytes only when they extend the chain, so a wrong guess (a
    // forged packet before them) costs a copy, never correctness. A packet that
    // fails authentication never touches gathered bytes: its slot lies past
    // them. A slot is valid until the next begin_burst(); reserving may
    // invalidate chain().

    /// Forgets the slots of the previous burst.
    void begin_burst() noexcept;
    /// Where to open this packet's payload, or an empty span (copy path).
    [[nodiscard]] std::span<std::uint8_t> reserve(const wire::PacketHeader& header, wire::ChainPosition position);
    /// The packet that got the next slot, after the open: as on_data(), without the copy.
    [[nodiscard]] Event commit(const wire::PacketHeader& header, wire::ChainPosition position, bool authentic);

    /// A control packet (heartbeat, key change) took `seq`: chains never contain one,
    /// so a chain in progress is broken.
    [[nodiscard]] Event on_control(std::uint64_t seq) noexcept;

    [[nodiscard]] const CompleteChain& chain() const noexcept { return chain_; }
    [[nodiscard]] DropReason last_drop() const noexcept { return last_drop_; }
    [[nodiscard]] const ReassemblerCounters& counters() const noexcept { return counters_; }
    [[nodiscard]] bool in_progress() const noexcept { return gathering_; }

private:
    Event drop(DropReason reason) noexcept;
    // Where a payload is: copied from elsewhere, or already in record_ at an offset.
    struct Payload {
        std::span<const std::uint8_t> bytes;
        bool in_record = false;
        std::size_t offset = 0;
    };
    [[nodiscard]] bool append(const Payload& payload);
    void grow(std::size_t need);
    Event accept(const wire::PacketHeader& h, wire::ChainPosition position, const Payload& payload);
    Event complete();

    ReassemblerConfig config_;
    Decompressor inflater_;
    bool gathering_ = false;
    std::uint64_t last_seq_ = 0;
    std::uint64_t first_seq_ = 0;
    std::uint32_t key_epoch_ = 0;
    wire::CompAlg comp_alg_ = wire::CompAlg::none;
    Bytes record_;          // gathered bytes are [0, gathered_); slots of a burst may lie past them; size() is room
    std::size_t gathered_ = 0;
    Bytes body_;

    // The burst's slots, in reservation order.
    static constexpr std::size_t kMaxSlots = 64;
    std::array<std::uint32_t, kMaxSlots> slot_offsets_{};
    std::size_t slots_ = 0;
    std::size_t committed_ = 0;
    std::size_t reserved_end_ = 0;
    bool no_more_slots_ = false;
    bool prov_open_ = false;          // the predicted chain continues after the last slot
    std::uint64_t prov_seq_ = 0;      // packet_seq of the last slot
    CompleteChain chain_;
    DropReason last_drop_ = DropReason::sequence_break;
    ReassemblerCounters counters_;
};

}  // namespace replicast::chain
