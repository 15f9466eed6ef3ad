#include "lab/chaos_relay/relay.hpp"

#include <algorithm>
#include <functional>
#include <stdexcept>

#include "lab/chaos_relay/frame.hpp"

namespace replicast::chaos {

namespace {

// struct virtio_net_hdr (linux/virtio_net.h): flags at byte 0, gso_type at byte 1.
constexpr unsigned kNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
constexpr unsigned kGsoNone = 0;    // VIRTIO_NET_HDR_GSO_NONE

}  // namespace

nlohmann::json Counters::to_json() const {
    return {{"frames_in", frames_in},   {"eligible", eligible},
            {"reordered", reordered},   {"held_timed_out", held_timed_out},
            {"delayed", delayed},       {"duplicated", duplicated},
            {"corrupted", corrupted},   {"pool_exhausted", pool_exhausted},
            {"sent", sent},             {"send_errors", send_errors},
            {"frames_back", frames_back}, {"sent_back", sent_back},
            {"send_errors_back", send_errors_back}, {"truncated", truncated}};
}

Relay::Relay(const Knobs& knobs, std::uint64_t seed, const Layout& layout, Sink& out)
    : chaos_(knobs, seed), layout_(layout), out_(out) {
    if (auto why = knobs.check(); !why.empty()) throw std::invalid_argument(why);
    if (layout.slots == 0 || layout.slots > (1u << 20)) throw std::invalid_argument("slots must be 1..1048576");
    if (layout.slot_bytes < layout.header_bytes + 64) throw std::invalid_argument("slot_bytes too small for a frame");
    pool_.resize(layout.slots * layout.slot_bytes);
    scratch_.resize(layout.slot_bytes);
    len_.assign(layout.slots, 0);
    copies_.assign(layout.slots, 1);
    free_.reserve(layout.slots);
    for (std::size_t i = layout.slots; i-- > 0;) free_.push_back(static_cast<std::uint32_t>(i));
    held_.resize(layout.slots);
    delayed_.reserve(layout.slots);
}

std::span<std::byte> Relay::rx_buffer() noexcept {
    return free_.empty() ? std::span<std::byte>(scratch_) : slot(free_.back());
}

void Relay::emit(std::uint32_t s) noexcept {
    const auto bytes = slot(s).first(len_[s]);
    for (unsigned c = 0; c < copies_[s]; ++c) {
        if (out_.send(bytes)) {
            ++counters_.sent;
        } else {
            ++counters_.send_errors;
        }
    }
    free_.push_back(s);
}

void Relay::pop_held() noexcept {
    const std::uint32_t s = held_[held_head_].slot;
    held_head_ = (held_head_ + 1) % held_.size();
    --held_count_;
    emit(s);
}

void Relay::release_followed() noexcept {
    // Held frames were queued in arrival order with the same depth, so the
    // oldest is always the first to be due.
    while (held_count_ > 0 && held_[held_head_].release_after <= arrivals_) pop_held();
}

void Relay::on_frame(std::size_t len, std::uint64_t now_ns) noexcept {
    ++arrivals_;
    ++counters_.frames_in;
    if (free_.empty()) {
        ++counters_.pool_exhausted;
        if (out_.send(std::span<const std::byte>(scratch_).first(len))) {
            ++counters_.sent;
        } else {
            ++counters_.send_errors;
        }
        release_followed();
        return;
    }
    const std::uint32_t s = free_.back();
    free_.pop_back();
    len_[s] = static_cast<std::uint32_t>(len);
    copies_[s] = 1;
    const auto buf = slot(s).first(len);
    const std::size_t h = layout_.header_bytes;
    const bool gso = h >= 2 && std::to_integer<unsigned>(buf[1]) != kGsoNone;
    const bool checksum_pending = h >= 1 && (std::to_integer<unsigned>(buf[0]) & kNeedsCsum) != 0;
    const auto frame = len >= h ? buf.subspan(h) : std::span<std::byte>{};
    const auto udp = gso ? std::nullopt : find_udp(frame);
    if (!udp || (layout_.udp_port != 0 && udp->dst_port != layout_.udp_port)) {
        emit(s);
        release_followed();
        return;
    }
    ++counters_.eligible;
    const Decision d = chaos_.decide(udp->payload_len);
    if (d.corrupt) {
        corrupt(frame, *udp, d.corrupt_at, d.corrupt_mask, checksum_pending);
        ++counters_.corrupted;
    }
    if (d.duplicate) {
        copies_[s] = 2;
        ++counters_.duplicated;
    }
    if (d.hold) {
        held_[(held_head_ + held_count_) % held_.size()] =
            Held{.slot = s, .release_after = arrivals_ + chaos_.knobs().reorder_depth,
                 .deadline_ns = now_ns + chaos_.knobs().hold_max_us * 1000};
        ++held_count_;
        ++counters_.reordered;
    } else if (d.delay) {
        delayed_.push_back(Delayed{.due_ns = now_ns + d.delay_ns, .order = arrivals_, .slot = s});
        std::push_heap(delayed_.begin(), delayed_.end(), std::greater<>{});
        ++counters_.delayed;
    } else {
        emit(s);
    }
    release_followed();
}

void Relay::on_timer(std::uint64_t now_ns) noexcept {
    while (!delayed_.empty() && delayed_.front().due_ns <= now_ns) {
        std::pop_heap(delayed_.begin(), delayed_.end(), std::greater<>{});
        const std::uint32_t s = delayed_.back().slot;
        delayed_.pop_back();
        emit(s);
    }
    while (held_count_ > 0 && held_[held_head_].deadline_ns <= now_ns) {
        ++counters_.held_timed_out;
        pop_held();
    }
}

std::optional<std::uint64_t> Relay::next_due_ns() const noexcept {
    std::optional<std::uint64_t> due;
    if (!delayed_.empty()) due = delayed_.front().due_ns;
    if (held_count_ > 0) {
        const std::uint64_t h = held_[held_head_].deadline_ns;
        due = due ? std::min(*due, h) : h;
    }
    return due;
}

void Relay::flush() noexcept {
    while (held_count_ > 0) pop_held();
    std::sort_heap(delayed_.begin(), delayed_.end(), std::greater<>{});  // descending by due
    for (auto it = delayed_.rbegin(); it != delayed_.rend(); ++it) emit(it->slot);
    delayed_.clear();
}

}  // namespace replicast::chaos
