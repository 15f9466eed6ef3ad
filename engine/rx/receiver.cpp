#include "engine/rx/receiver.hpp"

#include <cstring>
#include <stdexcept>

#include "engine/wire/control.hpp"

namespace replicast::rx {

std::string_view describe(RxDrop reason) noexcept {
    switch (reason) {
    case RxDrop::malformed: return "malformed";
    case RxDrop::truncated: return "truncated";
    case RxDrop::bad_length: return "bad length";
    case RxDrop::wrong_source: return "wrong source";
    case RxDrop::wrong_stream: return "wrong stream";
    case RxDrop::replay: return "replay";
    case RxDrop::too_old: return "too old";
    case RxDrop::unknown_epoch: return "unknown epoch";
    case RxDrop::open_failure: return "open failure";
    case RxDrop::queue_overflow: return "queue overflow";
    case RxDrop::count_: break;
    }
    return "unknown";
}

namespace {

ReceiverConfig checked(const ReceiverConfig& c) {
    if (c.batch == 0 || c.batch > 1024) throw std::invalid_argument("receiver: batch must be in 1..1024");
    if (c.max_datagram < wire::kHeaderSize + wire::kTagSize || c.max_datagram > 65535) {
        throw std::invalid_argument("receiver: max_datagram must be in 40..65535");
    }
    if (c.queue_slots < 2 || (c.queue_slots & (c.queue_slots - 1)) != 0) {
        throw std::invalid_argument("receiver: queue_slots must be a power of two >= 2");
    }
    return c;
}

/// The drop reason for a datagram parse_packet refused: a length that
/// disagrees with the datagram says which way (a datagram that lost its tail
/// and a header that claims more than was sent look the same), the rest is malformed.
RxDrop refusal(wire::WireError e, std::size_t size, const wire::PacketHeader& h) noexcept {
    switch (e) {
    case wire::WireError::shorter_than_header: return RxDrop::truncated;
    case wire::WireError::length_mismatch:
        // parse_packet filled the header before it compared the lengths.
        return size < wire::datagram_size(h.payload_len, h.sealed()) ? RxDrop::truncated : RxDrop::bad_length;
    default: return RxDrop::malformed;
    }
}

}  // namespace

Receiver::Receiver(const ReceiverConfig& config, int fd)
    : config_(checked(config)),
      fd_(fd),
      batch_(config.batch, config.max_datagram),
      engine_(config.arch),
      key_engine_(config.arch),
      // A slot holds the largest payload a datagram this size can carry.
      queue_(config.queue_slots, config.max_datagram, config.prefault_queue),
      pending_(config.batch),
      ops_(config.batch) {
    orphans_.reserve(64);  // so that give_back() never allocates
}

Receiver::~Receiver() {
    // The receive thread has stopped: every key is the processing side's again.
    for (KeySlot& s : keys_) delete s.key;
    KeyCommand c;
    while (commands_.try_pop(c)) delete c.key;
    collect_retired();
    for (crypto::GcmKey* k : orphans_) delete k;
}

std::unique_ptr<crypto::GcmKey> Receiver::make_key(const crypto::Key& key) {
    return std::make_unique<crypto::GcmKey>(key_engine_, key);
}

bool Receiver::post_key(std::uint32_t epoch, std::unique_ptr<crypto::GcmKey>& key) noexcept {
    if (epoch == 0 || !key) return false;
    if (!commands_.try_push({.kind = KeyCommand::Kind::add, .epoch = epoch, .key = key.get()})) return false;
    (void)key.release();  // the receive thread owns it now
    return true;
}

bool Receiver::retire_older_than(std::uint32_t epoch) noexcept {
    return commands_.try_push({.kind = KeyCommand::Kind::retire_older_than, .epoch = epoch, .key = nullptr});
}

std::size_t Receiver::collect_retired() noexcept {
    std::size_t n = 0;
    crypto::GcmKey* k = nullptr;
    while (retired_.try_pop(k)) {
        delete k;
        ++n;
    }
    return n;
}

std::array<std::uint32_t, Receiver::kKeySlots> Receiver::epochs() const noexcept {
    std::array<std::uint32_t, kKeySlots> out{};
    for (std::size_t i = 0; i < kKeySlots; ++i) out[i] = keys_[i].epoch.load(std::memory_order_relaxed);
    return out;
}

void Receiver::give_back(crypto::GcmKey* key) noexcept {
    if (key == nullptr) return;
    // The retired ring is twice the command ring and the processing thread
    // drains it before posting, so it has room; if it has not, the key is
    // kept out of the table and freed with the receiver (a bounded leak, never a use-after-free).
    if (!retired_.try_push(key)) {
        orphans_.push_back(key);
    }
}

void Receiver::apply_commands() noexcept {
    KeyCommand c;
    while (commands_.try_pop(c)) {
        if (c.kind == KeyCommand::Kind::retire_older_than) {
            for (KeySlot& s : keys_) {
                const std::uint32_t e = s.epoch.load(std::memory_order_relaxed);
                if (e != 0 && e < c.epoch) {
                    s.epoch.store(0, std::memory_order_relaxed);
                    give_back(s.key);
                    s.key = nullptr;
                }
            }
            continue;
        }
        // add: replace the same epoch, else an empty slot, else the oldest epoch.
        std::size_t target = kKeySlots;
        for (std::size_t i = 0; i < kKeySlots; ++i) {
            if (keys_[i].epoch.load(std::memory_order_relaxed) == c.epoch) target = i;
        }
        if (target == kKeySlots) {
            target = 0;
            for (std::size_t i = 0; i < kKeySlots; ++i) {
                const std::uint32_t e = keys_[i].epoch.load(std::memory_order_relaxed);
                if (e == 0) {
                    target = i;
                    break;
                }
                if (e < keys_[target].epoch.load(std::memory_order_relaxed)) target = i;
            }
        }
        KeySlot& slot = keys_[target];
        give_back(slot.key);
        slot.key = c.key;
        slot.epoch.store(c.epoch, std::memory_order_relaxed);
    }
}

int Receiver::poll() noexcept {
    apply_commands();
    const int n = batch_.receive(fd_);
    if (n < 0) {
        counters_.receive_errors.add();
        return n;
    }
    if (n > 0) {
        counters_.batches.add();
        counters_.datagrams.add(static_cast<std::uint64_t>(n));
        handle_batch(n);
        if (config_.wakeup != nullptr) config_.wakeup->notify();
    }
    return n;
}

void Receiver::run(const std::atomic<bool>& stop) noexcept {
    while (!stop.load(std::memory_order_acquire)) {
        (void)poll();
    }
}

void Receiver::handle_batch(int n) noexcept {
    SpscRing<RxPacket>& ring = queue_.ring();
    const std::size_t room = ring.free_slots();
    std::size_t count = 0;
    for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
        if (batch_.truncated(i)) {  // MSG_TRUNC: longer than any datagram we take
            drop(RxDrop::bad_length);
            continue;
        }
        if (batch_.source(i) != config_.source) {
            drop(RxDrop::wrong_source);
            continue;
        }
        Pending& p = pending_[count];
        if (const wire::WireError e = wire::parse_packet(batch_.datagram(i), p.view); e != wire::WireError::ok) {
            drop(refusal(e, batch_.datagram(i).size(), p.view.header));
            continue;
        }
        const wire::PacketHeader& h = p.view.header;
        if (h.stream_id != config_.stream_id) {
            drop(RxDrop::wrong_stream);
            continue;
        }
        switch (window_.check(h.packet_seq)) {
        case chain::ReplayWindow::Verdict::fresh: break;
        case chain::ReplayWindow::Verdict::duplicate: drop(RxDrop::replay); continue;
        case chain::ReplayWindow::Verdict::too_old: drop(RxDrop::too_old); continue;
        }
        const crypto::GcmKey* key = nullptr;
        if (h.sealed() != config_.sealed) {
            drop(RxDrop::unknown_epoch);
            continue;
        }
        if (config_.sealed) {
            key = find_key(h.key_epoch);
            if (key == nullptr) {
                drop(RxDrop::unknown_epoch);
                want_key(h.key_epoch);
                continue;
            }
        }
        if (count == room) {
            drop(RxDrop::queue_overflow);
            continue;
        }
        p.datagram = i;
        p.slot_offset = count;
        std::uint8_t* dst = queue_.slot(ring.claim_index(count)).data();
        if (config_.sealed) {
            ops_[count] = {.key = key,
                           .stream_id = h.stream_id,
                           .packet_seq = h.packet_seq,
                           .aad = p.view.header_bytes.data(),
                           .src = p.view.payload.data(),
                           .dst = dst,
                           .len = h.payload_len,
                           .tag_in = p.view.tag.data()};
        } else if (h.payload_len != 0) {
            std::memcpy(dst, p.view.payload.data(), h.payload_len);
        }
        ++count;
    }
    if (count == 0) return;
    if (config_.sealed) engine_.open_burst(std::span(ops_.data(), count));
    std::size_t publish = 0;
    for (std::size_t j = 0; j < count; ++j) {
        const Pending& p = pending_[j];
        RxPacket& slot = ring.claim(j);
        slot.valid = false;
        if (config_.sealed && !ops_[j].ok) {
            drop(RxDrop::open_failure);
            continue;
        }
        if (!window_.commit(p.view.header.packet_seq)) {
            // A second copy within this batch, or slid out of the window by a
            // later packet_seq of this batch.
            drop(window_.check(p.view.header.packet_seq) == chain::ReplayWindow::Verdict::too_old ? RxDrop::too_old
                                                                                                   : RxDrop::replay);
            continue;
        }
        slot.header = p.view.header;
        slot.kind = p.view.kind;
        slot.position = p.view.position;
        slot.valid = true;
        publish = j + 1;
        counters_.packets.add();
        counters_.bytes.add(batch_.datagram(p.datagram).size());
        if (p.view.kind == wire::PacketKind::key_change) {
            wire::KeyChange kc;
            const auto plain = queue_.slot(ring.claim_index(j)).first(p.view.header.payload_len);
            if (wire::parse_key_change(plain, kc) == wire::WireError::ok && find_key(kc.next_epoch) == nullptr) {
                want_key(kc.next_epoch);
            }
        }
    }
    // Failed slots after the last good one are simply claimed again next batch.
    ring.publish(publish);
}

}  // namespace replicast::rx
