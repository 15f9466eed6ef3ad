// The relay's core, in one direction (toward the chaos's victim): frames are
// received into slots of a pool sized at startup, and each UDP frame is then
// sent now, held back until `reorder_depth` later frames have arrived, or
// delayed; it may also be duplicated and corrupted (chaos.hpp decides).
// Nothing is allocated per frame: the pool, the hold queue (a ring) and the
// delay queue (a heap) all have room for every slot from the start.
//
// Pure like chaos.hpp: no socket and no clock. The caller receives into
// rx_buffer(), calls on_frame() with the length and the time, calls on_timer()
// when next_due_ns() comes, and the relay sends through its Sink. Tests drive
// it with a recording sink and a stepped clock.
//
// When every slot is busy (held or delayed frames), a frame goes through a
// scratch buffer, sent at once and untouched: counted in `pool_exhausted`, so
// a bounded pool costs chaos, never frames.
//
// Frames may start with a header of `header_bytes` (the relay's sockets use
// PACKET_VNET_HDR, a struct virtio_net_hdr of 10 bytes, so that segmentation
// offload and pending checksums cross the relay as they came); a frame whose
// header says GSO is sent on untouched.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "lab/chaos_relay/chaos.hpp"

namespace replicast::chaos {

struct Counters {
    std::uint64_t frames_in = 0;       // frames received toward the victim
    std::uint64_t eligible = 0;        // of them, UDP frames the knobs applied to
    std::uint64_t reordered = 0;       // held back behind later frames
    std::uint64_t held_timed_out = 0;  // of them, released by hold_max_us (too few frames followed)
    std::uint64_t delayed = 0;
    std::uint64_t duplicated = 0;      // sent twice
    std::uint64_t corrupted = 0;       // one payload byte flipped
    std::uint64_t pool_exhausted = 0;  // passed untouched: every slot was busy
    std::uint64_t sent = 0;            // frames sent toward the victim (a duplicate counts twice)
    std::uint64_t send_errors = 0;
    std::uint64_t frames_back = 0;     // from the victim, passed straight back (counted by the caller)
    std::uint64_t sent_back = 0;
    std::uint64_t send_errors_back = 0;
    std::uint64_t truncated = 0;       // frames longer than a slot, dropped (counted by the caller)

    nlohmann::json to_json() const;
};

class Relay {
public:
    class Sink {
    public:
        /// Sends one frame (header included); false when it could not.
        virtual bool send(std::span<const std::byte> bytes) noexcept = 0;

    protected:
        ~Sink() = default;
    };

    struct Layout {
        std::size_t slots = 256;
        std::size_t slot_bytes = 2048;
        std::size_t header_bytes = 0;  // before the Ethernet header: 10 with PACKET_VNET_HDR
        std::uint16_t udp_port = 0;    // only UDP to this destination port is touched (0: any)
    };

    /// Throws std::invalid_argument when the knobs or the layout make no sense.
    Relay(const Knobs& knobs, std::uint64_t seed, const Layout& layout, Sink& out);

    /// Where the next frame is to be received: a free slot, or the scratch buffer.
    std::span<std::byte> rx_buffer() noexcept;
    /// The frame of `len` bytes just received into rx_buffer(), at `now_ns`.
    void on_frame(std::size_t len, std::uint64_t now_ns) noexcept;
    /// Sends the delayed frames that are due and the held ones past hold_max_us.
    void on_timer(std::uint64_t now_ns) noexcept;
    /// When on_timer next has something to do.
    std::optional<std::uint64_t> next_due_ns() const noexcept;
    /// Sends everything still held or delayed (held first, in order), at exit.
    void flush() noexcept;

    std::size_t pending() const noexcept { return held_count_ + delayed_.size(); }
    Counters& counters() noexcept { return counters_; }
    const Counters& counters() const noexcept { return counters_; }

private:
    struct Held {
        std::uint32_t slot;
        std::uint64_t release_after;  // arrivals_ at which it goes
        std::uint64_t deadline_ns;
    };
    struct Delayed {
        std::uint64_t due_ns;
        std::uint64_t order;  // ties leave in arrival order
        std::uint32_t slot;
        bool operator>(const Delayed& o) const noexcept {
            return due_ns != o.due_ns ? due_ns > o.due_ns : order > o.order;
        }
    };

    std::span<std::byte> slot(std::uint32_t i) noexcept {
        return {pool_.data() + i * layout_.slot_bytes, layout_.slot_bytes};
    }
    void emit(std::uint32_t slot) noexcept;
    void release_followed() noexcept;
    void pop_held() noexcept;

    Chaos chaos_;
    Layout layout_;
    Sink& out_;
    std::vector<std::byte> pool_;
    std::vector<std::byte> scratch_;
    std::vector<std::uint32_t> len_;     // per slot: bytes received
    std::vector<std::uint8_t> copies_;   // per slot: 1, or 2 for a duplicate
    std::vector<std::uint32_t> free_;    // a stack of free slots
    std::vector<Held> held_;             // a ring of `slots` entries, oldest at held_head_
    std::size_t held_head_ = 0, held_count_ = 0;
    std::vector<Delayed> delayed_;       // a min-heap on due_ns, capacity `slots`
    std::uint64_t arrivals_ = 0;
    Counters counters_;
};

}  // namespace replicast::chaos
