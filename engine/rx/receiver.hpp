// The receive loop of one stream (PROTOCOL.md 1.1, 1.2; issue 11 item 3).
//
// For every datagram of a recvmmsg batch, in this order, each refusal counted
// under its reason and the datagram dropped:
//   ends before a header, or before what its header declares -> truncated
//   more bytes than its header declares, or than max_datagram
//   (the kernel cut it: MSG_TRUNC)                            -> bad_length
//   any other rule of 1.1 (magic, version, flags, comp_alg)  -> malformed
//   source address is not the subscribed source              -> wrong_source
//   stream_id is not this stream's                           -> wrong_stream
//   packet_seq duplicate / older than the window             -> replay / too_old
//   key_epoch with no key in the table                       -> unknown_epoch
//   no free slot in the queue to the processing thread       -> queue_overflow
// then the survivors of the batch are opened in one ipsec-mb burst straight
// into their queue slots (never in place: a slot is invisible to the consumer
// until published, so unauthentic plaintext is never read), and
//   tag does not verify                                      -> open_failure
//   second copy of a packet_seq within the batch             -> replay
// The replay window records a packet_seq only after it opened (a forged packet
// cannot burn a real one's number). Survivors are published in arrival order.
//
// Keys: the receive thread owns its key table (kKeySlots epochs). The
// processing thread hands a new key over by message (a small SPSC command
// ring) and frees a key only after the receive thread gave it back on the
// retired ring: the receive path takes no lock and never sees a freed key.
// An unknown epoch, or a KEYCHANGE announcing an epoch the table lacks,
// raises key_wanted(): the processing thread fetches Keys at once.
//
// Cost per packet: no allocation, no lock, no logging, no system call beyond
// the batch's recvmmsg. Counters are single-writer atomics (relaxed load and
// store, no locked add), read by any thread.
//
// Threading: poll()/run() on the receive thread only; queue() consumer side,
// make_key(), post_key(), retire_older_than(), collect_retired() and
// take_key_wanted() on the processing thread only; counters() anywhere.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "crypto/gcm.hpp"
#include "engine/chain/replay_window.hpp"
#include "engine/rx/socket.hpp"
#include "engine/rx/spsc_ring.hpp"
#include "engine/rx/wakeup.hpp"
#include "engine/wire/packet.hpp"

namespace replicast::rx {

enum class RxDrop : std::uint8_t {
    malformed,       // fails parse_packet on magic, version, flags or comp_alg
    truncated,       // shorter than a header, or than the payload and tag its header declares
    bad_length,      // longer than its header declares, or than max_datagram (cut by the kernel)
    wrong_source,
    wrong_stream,
    replay,          // a packet_seq already accepted
    too_old,         // below the replay window
    unknown_epoch,   // sealed with an epoch the table has no key for (or unsealed on a sealed stream)
    open_failure,    // the GCM tag did not verify
    queue_overflow,  // the processing thread was too far behind
    count_,
};

[[nodiscard]] std::string_view describe(RxDrop reason) noexcept;

/// A counter with one writer: a plain load and store (no locked add), any reader.
struct Counter {
    std::atomic<std::uint64_t> v{0};
    void add(std::uint64_t n = 1) noexcept { v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t get() const noexcept { return v.load(std::memory_order_relaxed); }
};

struct RxCounters {
    Counter datagrams;  // every datagram received
    Counter packets;    // accepted and queued (data and control)
    Counter bytes;      // their datagram bytes
    Counter batches;
    Counter receive_errors;  // recvmmsg failures other than timeout/EINTR
    std::array<Counter, static_cast<std::size_t>(RxDrop::count_)> dropped;

    [[nodiscard]] std::uint64_t drop(RxDrop r) const noexcept { return dropped[static_cast<std::size_t>(r)].get(); }
};

/// One opened packet, as the processing thread sees it; its plaintext payload
/// is in the queue's arena (PacketQueue::payload).
struct RxPacket {
    wire::PacketHeader header;
    wire::PacketKind kind = wire::PacketKind::data;
    wire::ChainPosition position = wire::ChainPosition::only;
    bool valid = false;  // false: the slot's packet failed after it was claimed; skip it
};

/// The bounded queue from the receive thread to the processing thread:
/// descriptors in an SpscRing, payloads in an arena with one fixed slot per
/// descriptor, both allocated once.
class PacketQueue {
public:
    /// `prefault`: touch every page of the arena now (ReceiverConfig::prefault_queue).
    PacketQueue(std::size_t slots, std::size_t slot_bytes, bool prefault)
        : ring_(slots), slot_bytes_(slot_bytes), arena_(std::make_unique_for_overwrite<std::uint8_t[]>(slots * slot_bytes)) {
        if (prefault) std::memset(arena_.get(), 0, slots * slot_bytes);
    }
    SpscRing<RxPacket>& ring() noexcept { return ring_; }
    [[nodiscard]] std::span<std::uint8_t> slot(std::size_t index) noexcept {
        return {arena_.get() + index * slot_bytes_, slot_bytes_};
    }
    /// The plaintext of the consumer's i-th readable packet.
    [[nodiscard]] std::span<const std::uint8_t> payload(std::size_t i) noexcept {
        const RxPacket& p = ring_.peek(i);
        return {arena_.get() + ring_.peek_index(i) * slot_bytes_, p.header.payload_len};
    }

private:
    SpscRing<RxPacket> ring_;
    std::size_t slot_bytes_;
    // Not zeroed: 8192 slots of 9216 bytes are 75 MB per followed database, and
    // zeroing them touched every page at start (bench_client_catchup: a third
    // of a second of page faults on this VM per Follower start); a slot is
    // read only up to the payload an open wrote into it.
    std::unique_ptr<std::uint8_t[]> arena_;
};

struct ReceiverConfig {
    std::uint32_t stream_id = 0;
    std::uint32_t source = 0;        // host order: every datagram's source must be this
    bool sealed = true;              // false only for a stream the server runs unsealed (key_epoch 0)
    std::size_t batch = 32;          // datagrams per recvmmsg
    std::size_t max_datagram = 9216; // larger ones are truncated by the kernel and counted malformed
    std::size_t queue_slots = 8192;  // power of two
    // Touch the queue's whole arena when the receiver is made, not as the
    // first packets arrive: the first lap of a large queue otherwise faults a
    // page in per packet or two, which on a virtual machine can hold the
    // receive thread below 100 Mbit/s (bench/RESULTS.md, "bulk"). It costs the
    // arena in resident memory from the start (queue_slots x max_datagram).
    bool prefault_queue = false;
    crypto::GcmArch arch = crypto::GcmArch::best;
    /// Notified after each batch received (it may have queued packets or
    /// raised key_wanted), so an idle processing thread can sleep. May be null.
    Wakeup* wakeup = nullptr;
};

class Receiver {
public:
    static constexpr std::size_t kKeySlots = 4;  // current, next, previous in its overlap, and one spare

    /// Takes the socket's fd (the socket must outlive the receiver). Throws
    /// std::invalid_argument for a bad config, std::runtime_error from ipsec-mb.
    Receiver(const ReceiverConfig& config, int fd);
    ~Receiver();
    Receiver(const Receiver&) = delete;
    Receiver& operator=(const Receiver&) = delete;

    // ---- receive thread ----
    /// Applies pending key commands, then receives and handles one batch.
    /// @return datagrams handled (0 on timeout), or -errno from recvmmsg.
    int poll() noexcept;
    /// poll() until `stop` is set (checked at least every socket timeout).
    void run(const std::atomic<bool>& stop) noexcept;

    // ---- processing thread ----
    PacketQueue& queue() noexcept { return queue_; }
    /// Expands a key with an engine of the receive engine's code path.
    [[nodiscard]] std::unique_ptr<crypto::GcmKey> make_key(const crypto::Key& key);
    /// Hands `key` for `epoch` to the receive thread (ownership passes on success).
    /// @return false when the command ring is full (try again after the next batch).
    bool post_key(std::uint32_t epoch, std::unique_ptr<crypto::GcmKey>& key) noexcept;
    /// Asks the receive thread to retire every epoch below `epoch`.
    bool retire_older_than(std::uint32_t epoch) noexcept;
    /// Frees the keys the receive thread gave back. @return how many.
    std::size_t collect_retired() noexcept;
    /// The epoch the receive thread asked for (unknown epoch or announced
    /// change), clearing the request; 0 when none.
    std::uint32_t take_key_wanted() noexcept { return key_wanted_.exchange(0, std::memory_order_acq_rel); }
    /// Epochs the receive thread holds keys for (a copy; for tests and stats).
    [[nodiscard]] std::array<std::uint32_t, kKeySlots> epochs() const noexcept;

    [[nodiscard]] const RxCounters& counters() const noexcept { return counters_; }
    [[nodiscard]] const chain::ReplayWindow& window() const noexcept { return window_; }

private:
    struct KeyCommand {
        enum class Kind : std::uint8_t { add, retire_older_than } kind = Kind::add;
        std::uint32_t epoch = 0;
        crypto::GcmKey* key = nullptr;
    };
    struct KeySlot {
        std::atomic<std::uint32_t> epoch{0};  // written by the receive thread, read by epochs()
        crypto::GcmKey* key = nullptr;
    };
    void apply_commands() noexcept;
    void give_back(crypto::GcmKey* key) noexcept;
    [[nodiscard]] const crypto::GcmKey* find_key(std::uint32_t epoch) const noexcept {
        for (const KeySlot& s : keys_) {
            if (s.epoch.load(std::memory_order_relaxed) == epoch) return s.key;
        }
        return nullptr;
    }
    void want_key(std::uint32_t epoch) noexcept { key_wanted_.store(epoch, std::memory_order_release); }
    void drop(RxDrop r) noexcept { counters_.dropped[static_cast<std::size_t>(r)].add(); }
    void handle_batch(int n) noexcept;

    ReceiverConfig config_;
    int fd_;
    RecvBatch batch_;
    crypto::GcmEngine engine_;      // receive thread
    crypto::GcmEngine key_engine_;  // processing thread: expands keys for engine_'s path
    chain::ReplayWindow window_;
    PacketQueue queue_;
    std::array<KeySlot, kKeySlots> keys_;
    SpscRing<KeyCommand> commands_{16};
    SpscRing<crypto::GcmKey*> retired_{32};
    std::atomic<std::uint32_t> key_wanted_{0};
    RxCounters counters_;

    // Per-batch scratch, sized at construction.
    struct Pending {
        std::size_t datagram = 0;
        std::size_t slot_offset = 0;  // claimed slot, past the ring's tail
        wire::PacketView view;
    };
    std::vector<Pending> pending_;
    std::vector<crypto::OpenOp> ops_;
    std::vector<crypto::GcmKey*> orphans_;  // retired keys the retired ring had no room for (never in practice)
};

}  // namespace replicast::rx
