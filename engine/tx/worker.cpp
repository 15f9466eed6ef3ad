#include "engine/tx/worker.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <ctime>
#include <stdexcept>
#include <string>
#include <cstring>

#include "engine/tx/tsc.hpp"
#include "engine/wire/control.hpp"

namespace replicast::tx {

namespace {

constexpr std::uint64_t kOncePerSecondNs = 1'000'000'000;
constexpr std::uint64_t kControlCheckNs = 1'000'000;  // other streams' control work during a chain: every 1 ms

// The counters have one writer, this worker: a plain load and store keeps
// them readable from the control core without a locked add per burst.
inline void bump(std::atomic<std::uint64_t>& counter, std::uint64_t n) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

std::uint64_t realtime_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);  // vDSO: no system call
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace

TxWorker::TxWorker(TxWorkerConfig config)
    : config_(std::move(config)),
      gcm_(config_.crypto_arch),
      tsc_hz_(tx::tsc_hz()),
      once_per_second_tsc_(pace::ns_to_ticks(kOncePerSecondNs, tsc_hz_)),
      control_check_tsc_(pace::ns_to_ticks(kControlCheckNs, tsc_hz_)),
      idle_(config_.idle) {
    const std::size_t slots = std::max<std::size_t>(config_.streams.size(), config_.max_streams);
    streams_.reserve(slots);
    pace_rates_ = std::make_unique<std::atomic<std::uint64_t>[]>(slots);  // value-initialised: 0
    for (const TxStreamConfig& c : config_.streams) {
        if (c.key != nullptr && c.key->path() != gcm_.arch_name()) {
            // Its tags would be wrong on every packet, and nothing here would notice.
            throw std::runtime_error("tx worker: stream " + std::to_string(c.stream_id) + "'s key was expanded for the " +
                                     std::string(c.key->path()) + " code path, the worker seals with " +
                                     std::string(gcm_.arch_name()));
        }
        streams_.push_back(make_stream(c, true));
        ++active_;
    }
    while (streams_.size() < slots) streams_.push_back(make_stream(TxStreamConfig{}, false));
}

TxWorker::Stream TxWorker::make_stream(const TxStreamConfig& c, bool active) noexcept {
    // No allocation (a frame template and a pacer are plain values): a
    // stream_start builds one in the loop.
    Stream s{.config = c,
             .active = active,
             .frame = FrameTemplate(c.addressing),
             .pacer = pace::Pacer(c.pace, tsc_hz_),
             .unpaced = pace::unpaced(c.pace),
             .seq = c.next_seq,
             .epoch = c.key_epoch,
             .key = c.key,
             .last_lsn = c.last_lsn,
             .heartbeat_tsc = ns_to_tsc(c.heartbeat_interval_ns),
             .announce_window_tsc = ns_to_tsc(c.key_announce_ns),
             .announce_every_tsc = ns_to_tsc(c.key_announce_every_ns)};
    choose_frame_path(s);
    return s;
}

void TxWorker::start_stream(TxMessage* m) noexcept {
    // The poster checked the slot is free and the key's code path is ours.
    Stream& s = streams_[m->stream];
    s = make_stream(*m->start, true);
    s.last_tx_tsc = rte_rdtsc() - s.heartbeat_tsc;  // its first heartbeat at once: subscribers see it running
    ++active_;
    finish_message(m);
}

void TxWorker::stop_stream(TxMessage* m, std::uint64_t now) noexcept {
    // Messages are taken in order, so every chain of this stream posted before
    // the stop has been sent; the poster waited for its key change to finish.
    Stream& s = streams_[m->stream];
    if (s.pending_key != nullptr) {
        finish_message(s.pending_key);  // not switched: the next start makes a new epoch anyway
        s.pending_key = nullptr;
    }
    final_heartbeat(s, now);
    m->first_seq = s.seq;
    m->last_seq = s.seq - 1;
    s.active = false;
    s.key = nullptr;  // the poster wipes the keys once this message is back
    --active_;
    finish_message(m);
}

void TxWorker::final_heartbeat(Stream& s, std::uint64_t now) noexcept {
    std::uint8_t payload[wire::kHeartbeatSize];
    wire::encode_heartbeat({.last_lsn = s.last_lsn, .server_time_ns = realtime_ns()}, payload);
    if (send_control(s, wire::flags::kHeartbeat | wire::flags::kOic, payload, sizeof payload, now)) {
        bump(counters_.heartbeats, 1);
    }
}

void TxWorker::choose_frame_path(Stream& s) noexcept {
    const bool sealed = s.epoch != 0;
    const bool offload = config_.checksum_offload;
    s.build = sealed ? (offload ? &TxWorker::build_frames<true, true> : &TxWorker::build_frames<true, false>)
                     : (offload ? &TxWorker::build_frames<false, true> : &TxWorker::build_frames<false, false>);
    s.frame_overhead = static_cast<std::uint32_t>(s.frame.header_size() + wire::datagram_size(0, sealed));
}

std::uint64_t TxWorker::ns_to_tsc(std::uint64_t ns) const noexcept { return pace::ns_to_ticks(ns, tsc_hz_); }

void TxWorker::finish_message(TxMessage* m) noexcept {
    // The outbox holds every message that can be in flight (see server sizing),
    // so this never spins in practice; it is bounded by the control core draining it.
    while (rte_ring_sp_enqueue(config_.outbox, m) != 0) {
        rte_pause();
    }
}

unsigned TxWorker::take_messages() noexcept {
    unsigned taken = 0;
    if (queued_count_ == 0) {
        queued_head_ = 0;
        queued_count_ = rte_ring_sc_dequeue_burst(config_.inbox, reinterpret_cast<void**>(queued_.data()), kBurst, nullptr);
    }
    while (current_ == nullptr && queued_count_ > 0) {
        TxMessage* m = queued_[queued_head_++];
        --queued_count_;
        ++taken;
        Stream& s = streams_[m->stream];
        if (m->kind == TxMessage::Kind::stream_start) {
            start_stream(m);
            continue;
        }
        if (m->kind == TxMessage::Kind::stream_stop) {
            stop_stream(m, rte_rdtsc());
            continue;
        }

        if (m->kind == TxMessage::Kind::chain) {
            current_ = m;
            // Adaptive rate: the cap the control core set last, from this chain on.
            if (const std::uint64_t t = pace_rates_[m->stream].load(std::memory_order_relaxed); t != 0 && !s.unpaced) {
                s.pacer.set_ticks_per_byte(rte_rdtsc(), t);
            }
            segments_ = chain::segment_count(m->record.size(), s.config.max_payload);
            next_segment_ = 0;
            // A chain never straddles a key switch: if it would reach the
            // announced first_seq, the switch happens now, before it.
            if (s.pending_key != nullptr && s.seq + segments_ > s.pending_key->first_seq) {
                switch_key(s);
            }
            m->first_seq = s.seq;
            continue;
        }
        // Key change: pick first_seq beyond every packet the announcement window
        // can carry at the rate cap, so that it is fixed in the first announcement.
        if (s.pending_key != nullptr) {
            finish_message(s.pending_key);  // superseded before it took effect
        }
        const std::uint64_t now = rte_rdtsc();
        const std::uint64_t window_s = s.config.key_announce_ns / 1'000'000'000u + 1;
        const std::uint64_t reserve = s.config.pace.rate_bps != 0
                                          ? s.config.pace.rate_bps / 8 / 84 * window_s + 1  // 84: smallest frame on the wire
                                          : std::uint64_t{1} << 32;
        m->first_seq = s.seq + reserve;
        s.pending_key = m;
        s.announcements = 0;
        s.switch_tsc = now + s.announce_window_tsc;
        s.next_announce_tsc = now;
    }
    return taken;
}

void TxWorker::switch_key(Stream& s) noexcept {
    // Jump to the announced first_seq: a packet_seq gap between chains breaks
    // no chain, and loss is judged by LSN, not by sequence.
    if (s.seq < s.pending_key->first_seq) s.seq = s.pending_key->first_seq;
    s.epoch = s.pending_key->next_epoch;
    s.key = s.pending_key->next_key;
    choose_frame_path(s);  // sealed from here on, if it was not
    s.pending_key->switched = true;
    finish_message(s.pending_key);
    s.pending_key = nullptr;
    bump(counters_.key_switches, 1);
}

void TxWorker::flush_pending(std::uint64_t now) noexcept {
    const std::uint16_t sent = rte_eth_tx_burst(config_.port, config_.queue, pending_.data(),
                                                static_cast<std::uint16_t>(pending_count_));
    if (sent < pending_count_) {
        bump(counters_.tx_ring_full, 1);
        std::memmove(pending_.data(), pending_.data() + sent, (pending_count_ - sent) * sizeof(rte_mbuf*));
    }
    pending_count_ -= sent;
    if (sent > 0 || pending_count_ == 0) {
        stalled_since_ = pending_count_ == 0 ? 0 : now;
    } else if (stalled_since_ == 0) {
        stalled_since_ = now;
    }
}

void TxWorker::abandon_at_stop() noexcept {
    bump(counters_.dropped_at_stop, pending_count_);
    rte_pktmbuf_free_bulk(pending_.data(), pending_count_);
    pending_count_ = 0;
    stalled_since_ = 0;
    auto give_back = [this](TxMessage* m) {
        if (m->kind == TxMessage::Kind::chain) m->dropped = true;  // key changes go back unswitched
        finish_message(m);
    };
    if (current_ != nullptr) {
        give_back(current_);
        current_ = nullptr;
    }
    for (; queued_count_ > 0; --queued_count_) give_back(queued_[queued_head_++]);
    void* m = nullptr;
    while (rte_ring_sc_dequeue(config_.inbox, &m) == 0) give_back(static_cast<TxMessage*>(m));
}

void TxWorker::send_chain_packets(std::uint64_t now) noexcept {
    if (next_segment_ == segments_) {
        complete_chain();  // every frame was offered; the last refused ones have now gone too
        return;
    }
    Stream& s = streams_[current_->stream];

    // 1. Mbufs first, from a small stash refilled in bulk: pacing then only
    //    commits packets that can really go, so a short pool never makes the
    //    pacer charge the same packets twice.
    if (stash_count_ < kBurst) {
        const unsigned want = kBurst - stash_count_;
        if (rte_pktmbuf_alloc_bulk(config_.pool, stash_.data() + stash_count_, want) == 0) {
            stash_count_ = kBurst;
        } else if (stash_count_ == 0) {
            bump(counters_.mbuf_exhausted, 1);
            if (stalled_since_ == 0) stalled_since_ = now;  // the port may be holding them all
            return;  // nothing to send with: the next turn tries again
        }
    }

    // 2. Which packets are due: pacing decides, a burst at most. An unpaced
    //    stream (the benchmark profile, or a dedicated link) sends what it has.
    //    Each slice is cut once, here, and its frame built from it below.
    std::array<chain::Segment, kBurst> segs;
    unsigned n = 0;
    if (s.unpaced) {
        n = static_cast<unsigned>(std::min<std::size_t>(stash_count_, segments_ - next_segment_));
        for (unsigned i = 0; i < n; ++i) {
            segs[i] = chain::segment(current_->record, s.config.max_payload, next_segment_ + i, segments_);
        }
    } else {
        while (n < stash_count_ && next_segment_ + n < segments_) {
            segs[n] = chain::segment(current_->record, s.config.max_payload, next_segment_ + n, segments_);
            const std::uint32_t wire_bytes =
                pace::on_wire_bytes(s.frame_overhead + static_cast<std::uint32_t>(segs[n].payload.size()));
            if (s.pacer.next_deadline(now, wire_bytes) > now) {
                break;
            }
            const bool last = next_segment_ + n + 1 == segments_;
            s.pacer.on_sent(now, wire_bytes, last, current_->record.size());
            ++n;
        }
    }
    if (n == 0) {
        bump(counters_.pacing_waits, 1);
        return;
    }

    // 3. Frames, on the path chosen for this stream at setup.
    stash_count_ -= n;
    rte_mbuf** mbufs = stash_.data() + stash_count_;
    std::uint64_t bytes = 0;
    if (!(this->*s.build)(s, mbufs, segs.data(), n, bytes)) {
        return;  // sealing failed: the chain was abandoned
    }

    // 4. Out; what the ring refuses waits in pending_ and goes first next turn.
    const std::uint16_t sent = rte_eth_tx_burst(config_.port, config_.queue, mbufs, static_cast<std::uint16_t>(n));
    if (sent > 0) stalled_since_ = 0;  // the port takes frames
    if (sent < n) {
        bump(counters_.tx_ring_full, 1);
        std::memcpy(pending_.data(), mbufs + sent, (n - sent) * sizeof(rte_mbuf*));
        pending_count_ = n - sent;
    }
    s.seq += n;
    s.last_tx_tsc = now;
    next_segment_ += n;
    bump(counters_.packets, n);
    bump(counters_.bytes, bytes);
    if (next_segment_ == segments_ && pending_count_ == 0) {
        complete_chain();
    }
}

template <bool kSealed, bool kOffload>
bool TxWorker::build_frames(Stream& s, rte_mbuf** mbufs, const chain::Segment* segs, unsigned n,
                            std::uint64_t& bytes) noexcept {
    // Headers once, then seal the chain's slices straight into mbuf data.
    const std::size_t header = s.frame.header_size();
    std::array<crypto::SealOp, kBurst> ops;
    for (unsigned i = 0; i < n; ++i) {
        const auto payload_len = static_cast<std::uint16_t>(segs[i].payload.size());
        const auto udp_len = static_cast<std::uint16_t>(wire::datagram_size(payload_len, kSealed));
        auto* data = rte_pktmbuf_mtod(mbufs[i], std::uint8_t*);
        s.frame.write(data, udp_len);
        std::uint8_t* hdr = data + header;
        wire::encode_header({.flags = wire::position_flags(segs[i].position), .stream_id = s.config.stream_id,
                             .packet_seq = s.seq + i, .key_epoch = s.epoch, .comp_alg = current_->comp_alg,
                             .payload_len = payload_len},
                            hdr);
        if constexpr (kSealed) {
            ops[i] = {.key = s.key, .stream_id = s.config.stream_id, .packet_seq = s.seq + i, .aad = hdr,
                      .src = segs[i].payload.data(), .dst = hdr + wire::kHeaderSize, .len = payload_len,
                      .tag_out = hdr + wire::kHeaderSize + payload_len};
        } else {
            std::memcpy(hdr + wire::kHeaderSize, segs[i].payload.data(), payload_len);
        }
        mbufs[i]->data_len = static_cast<std::uint16_t>(header + udp_len);
        mbufs[i]->pkt_len = mbufs[i]->data_len;
        bytes += mbufs[i]->data_len;
    }
    // Sealed in groups small enough that a group's frames are still in L1 when
    // its UDP checksums read them back (a whole 32-frame burst is ~47 KB, more
    // than L1 holds); the burst API's per-call cost is already amortised at 8.
    for (unsigned first = 0; first < n; first += kSealGroup) {
        const unsigned count = std::min(kSealGroup, n - first);
        if constexpr (kSealed) {
            if (gcm_.seal_burst(std::span(ops.data() + first, count)) != count) {
                // ipsec-mb refused a job: never send what was not sealed. The chain is
                // abandoned; receivers recover its LSNs over the control plane.
                bump(counters_.seal_errors, 1);
                rte_pktmbuf_free_bulk(mbufs, n);
                s.seq += n;
                current_->last_seq = s.seq - 1;
                // The server counts the chain as multicast; heartbeats must then
                // name its last LSN, or receivers would never learn of the loss.
                s.last_lsn = current_->first_lsn + current_->update_count - 1;
                finish_message(current_);
                current_ = nullptr;
                return false;
            }
        }
        for (unsigned i = first; i < first + count; ++i) {
            auto* data = rte_pktmbuf_mtod(mbufs[i], std::uint8_t*);
            const auto udp_len = static_cast<std::uint16_t>(mbufs[i]->data_len - header);
            if constexpr (kOffload) {
                mbufs[i]->l2_len = static_cast<std::uint16_t>(s.frame.l2_size()) & 0x7f;
                mbufs[i]->l3_len = 20;
                mbufs[i]->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM;
                data[s.frame.l2_size() + 10] = 0;  // the NIC writes the IPv4 checksum
                data[s.frame.l2_size() + 11] = 0;
                s.frame.write_udp_pseudo_checksum(data, udp_len);
            } else {
                s.frame.finish_udp_checksum(data, udp_len);
            }
        }
    }
    return true;
}

void TxWorker::complete_chain() noexcept {
    // Only once the port took every frame: the server counts a returned chain
    // as multicast and persists that, so one whose last frames still wait in
    // pending_ stays current (and goes back `dropped` if a stop abandons it).
    Stream& s = streams_[current_->stream];
    current_->last_seq = s.seq - 1;
    s.last_lsn = current_->first_lsn + current_->update_count - 1;
    bump(counters_.chains, 1);
    bump(counters_.updates, current_->update_count);
    finish_message(current_);
    current_ = nullptr;
}

bool TxWorker::send_control(Stream& s, std::uint8_t flags, const std::uint8_t* payload, std::uint16_t len,
                            std::uint64_t now) noexcept {
    if (pending_count_ == kBurst) {
        // The port refused a whole burst: this control packet would have
        // nowhere to wait. Counted; the next heartbeat carries the same news.
        bump(counters_.tx_ring_full, 1);
        return false;
    }
    const bool sealed = s.epoch != 0;
    const auto udp_len = static_cast<std::uint16_t>(wire::datagram_size(len, sealed));
    rte_mbuf* m = nullptr;
    if (rte_pktmbuf_alloc_bulk(config_.pool, &m, 1) != 0) {
        bump(counters_.mbuf_exhausted, 1);
        return false;
    }
    auto* data = rte_pktmbuf_mtod(m, std::uint8_t*);
    s.frame.write(data, udp_len);
    std::uint8_t* hdr = data + s.frame.header_size();
    wire::encode_header({.flags = flags, .stream_id = s.config.stream_id, .packet_seq = s.seq, .key_epoch = s.epoch,
                         .comp_alg = wire::CompAlg::none, .payload_len = len},
                        hdr);
    if (sealed) {
        crypto::SealOp op{.key = s.key, .stream_id = s.config.stream_id, .packet_seq = s.seq, .aad = hdr, .src = payload,
                          .dst = hdr + wire::kHeaderSize, .len = len, .tag_out = hdr + wire::kHeaderSize + len};
        if (gcm_.seal_burst(std::span(&op, 1)) != 1) {
            bump(counters_.seal_errors, 1);
            rte_pktmbuf_free(m);
            return false;
        }
    } else {
        std::memcpy(hdr + wire::kHeaderSize, payload, len);
    }
    m->data_len = static_cast<std::uint16_t>(s.frame.header_size() + udp_len);
    m->pkt_len = m->data_len;
    s.frame.finish_udp_checksum(data, udp_len);
    const std::uint16_t frame_len = m->data_len;  // the mbuf is the driver's once it takes it
    s.pacer.on_sent(now, pace::on_wire_bytes(frame_len), true, len);
    if (rte_eth_tx_burst(config_.port, config_.queue, &m, 1) != 1) {
        bump(counters_.tx_ring_full, 1);
        pending_[pending_count_++] = m;
    }
    bump(counters_.packets, 1);
    bump(counters_.bytes, frame_len);
    ++s.seq;
    s.last_tx_tsc = now;
    return true;
}

void TxWorker::between_chains(std::uint64_t now, const Stream* busy) noexcept {
    for (Stream& s : streams_) {
        if (pending_count_ > 0) {
            return;  // the port is busy: control packets wait too
        }
        if (!s.active) {
            continue;  // a free slot
        }
        if (&s == busy) {
            continue;  // a control packet would take a packet_seq inside its chain and break it
        }
        if (s.pending_key != nullptr) {
            // PROTOCOL.md 1.5: announced before the switch. A long chain on this
            // stream can hold announcements past switch_tsc; then the first one
            // still goes out, and receivers get the whole window from it.
            const bool late = now >= s.switch_tsc;
            if (now >= s.next_announce_tsc && (!late || s.announcements == 0) && s.seq < s.pending_key->first_seq) {
                std::uint8_t payload[wire::kKeyChangeSize];
                wire::encode_key_change({.next_epoch = s.pending_key->next_epoch, .first_seq = s.pending_key->first_seq},
                                        payload);
                if (send_control(s, wire::flags::kKeyChange | wire::flags::kOic, payload, sizeof payload, now)) {
                    ++s.announcements;
                    bump(counters_.key_announcements, 1);
                    if (late) s.switch_tsc = now + s.announce_window_tsc;
                }
                s.next_announce_tsc = now + s.announce_every_tsc;
            }
            if (now >= s.switch_tsc && (s.announcements > 0 || s.seq >= s.pending_key->first_seq)) {
                switch_key(s);
            }
        }
        // PROTOCOL.md 1.4: after an idle interval, and at least once a second even when busy.
        if (now - s.last_tx_tsc >= s.heartbeat_tsc || now - s.last_heartbeat_tsc >= once_per_second_tsc_) {
            std::uint8_t payload[wire::kHeartbeatSize];
            wire::encode_heartbeat({.last_lsn = s.last_lsn, .server_time_ns = realtime_ns()}, payload);
            if (send_control(s, wire::flags::kHeartbeat | wire::flags::kOic, payload, sizeof payload, now)) {
                bump(counters_.heartbeats, 1);
            }
            s.last_heartbeat_tsc = now;
        }
    }
}

int TxWorker::run() noexcept {
    for (Stream& s : streams_) {
        s.last_tx_tsc = rte_rdtsc() - s.heartbeat_tsc;  // first heartbeat at once
    }
    idle_.prepare_thread();
    for (;;) {
        const std::uint64_t now = rte_rdtsc();
        if (pending_count_ > 0) {
            flush_pending(now);
        }
        // Stopping, and the port has taken nothing for a second (it refuses
        // frames, or holds every mbuf so none can be allocated): it will not
        // drain what is queued (link down), and the stop must not hang.
        if (stalled_since_ != 0 && now - stalled_since_ >= tsc_hz_ && stop_.load(std::memory_order_acquire)) {
            abandon_at_stop();
            break;
        }
        if (current_ == nullptr) {
            // Between chains, even under constant load: heartbeats (at least
            // once a second), key announcements and switches.
            between_chains(now, nullptr);
            // Any message is work (a burst of stream starts or key changes
            // must not wait a sleep per burst of 32).
            if (take_messages() != 0) idle_.work();
        }
        if (current_ != nullptr) {
            if (pending_count_ == 0) {
                send_chain_packets(now);
            }
            // The other streams' heartbeats and announcements do not wait for
            // this chain: a paced chain of megabytes takes seconds.
            if (current_ != nullptr && active_ > 1 && now >= next_control_tsc_) {
                between_chains(now, &streams_[current_->stream]);
                next_control_tsc_ = now + control_check_tsc_;
            }
            continue;
        }
        if (stop_.load(std::memory_order_acquire) && queued_count_ == 0 && rte_ring_empty(config_.inbox) &&
            pending_count_ == 0) {
            break;
        }
        // Nothing to send, nothing waiting for the port, nothing in the inbox: the idle policy.
        if (pending_count_ == 0 && queued_count_ == 0 && rte_ring_empty(config_.inbox) && idle_.idle()) {
            bump(counters_.idle_sleeps, 1);
        }
    }
    // Drained: a final heartbeat per stream tells receivers the last LSN.
    const std::uint64_t now = rte_rdtsc();
    for (Stream& s : streams_) {
        if (!s.active) continue;
        if (s.pending_key != nullptr) {
            finish_message(s.pending_key);  // never switched: the next start begins a new epoch anyway
            s.pending_key = nullptr;
        }
        final_heartbeat(s, now);
    }
    // A port that never drains (link down) must not hold the stop forever.
    const std::uint64_t give_up = rte_rdtsc() + tsc_hz_;
    while (pending_count_ > 0 && rte_rdtsc() < give_up) {
        flush_pending(rte_rdtsc());
    }
    if (pending_count_ > 0) {
        bump(counters_.dropped_at_stop, pending_count_);
        rte_pktmbuf_free_bulk(pending_.data(), pending_count_);
        pending_count_ = 0;
    }
    if (stash_count_ > 0) {
        rte_pktmbuf_free_bulk(stash_.data(), stash_count_);
        stash_count_ = 0;
    }
    return 0;
}

}  // namespace replicast::tx
