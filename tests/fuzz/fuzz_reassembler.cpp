// Random packet sequences into the reassembler and replay window: no crash,
// memory bounded by the configured limits, only well-formed chains out (body
// exactly body_len, exactly update_count valid updates, consecutive seqs), and
// the in-place burst path (begin_burst/reserve/commit) behaving exactly like
// the copy path (on_data): same event for every packet, same chains, byte for
// byte, whatever forged packets and bursts the input holds.
//
// Input: a sequence of packets, each
//   [kind][seq step][epoch][comp_alg][len][len bytes of payload]
// kind: position (0..3) | 0x20 forged (fails authentication) | 0x40 ends a burst | 0x80 control
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "engine/chain/reassembler.hpp"
#include "engine/chain/replay_window.hpp"
#include "engine/wire/update.hpp"

using namespace replicast;

namespace {

constexpr std::size_t kMaxRecord = 4096;
constexpr std::uint32_t kMaxBody = 1 << 16;

struct Packet {
    bool control = false;
    bool forged = false;
    wire::ChainPosition position{};
    wire::PacketHeader header{};
    std::span<const std::uint8_t> payload;
};

void check_chain(const chain::CompleteChain& c, std::uint64_t seq) {
    if (c.body.size() != c.head.body_len || c.head.body_len > kMaxBody ||
        wire::validate_body(c.body, c.head.update_count) != wire::WireError::ok || c.last_seq < c.first_seq ||
        c.last_seq != seq) {
        std::abort();
    }
}

bool same(const chain::CompleteChain& a, const chain::CompleteChain& b) {
    return a.head.first_lsn == b.head.first_lsn && a.head.update_count == b.head.update_count &&
           a.head.body_len == b.head.body_len && a.first_seq == b.first_seq && a.last_seq == b.last_seq &&
           a.key_epoch == b.key_epoch && a.body.size() == b.body.size() &&
           std::memcmp(a.body.data(), b.body.data(), a.body.size()) == 0;
}

// One burst through both reassemblers.
void run_burst(const std::vector<Packet>& burst, chain::Reassembler& copy, chain::Reassembler& in_place) {
    std::vector<std::span<std::uint8_t>> slots(burst.size());
    in_place.begin_burst();
    for (std::size_t i = 0; i < burst.size(); ++i) {
        if (!burst[i].control) slots[i] = in_place.reserve(burst[i].header, burst[i].position);
    }
    // "Open": an authentic packet's plaintext lands in its slot; a forged one's
    // slot gets whatever decryption produced (garbage), as with GCM.
    for (std::size_t i = 0; i < burst.size(); ++i) {
        if (slots[i].empty()) continue;
        if (slots[i].size() != burst[i].payload.size()) std::abort();
        if (burst[i].forged) {
            std::memset(slots[i].data(), 0xA5, slots[i].size());
        } else if (!slots[i].empty()) {
            std::memcpy(slots[i].data(), burst[i].payload.data(), slots[i].size());
        }
    }
    for (std::size_t i = 0; i < burst.size(); ++i) {
        const Packet& p = burst[i];
        using Event = chain::Reassembler::Event;
        Event a = Event::none, b = Event::none;
        if (p.control) {
            a = copy.on_control(p.header.packet_seq);
            b = in_place.on_control(p.header.packet_seq);
        } else {
            if (!p.forged) a = copy.on_data(p.header, p.position, p.payload);
            if (!slots[i].empty()) {
                b = in_place.commit(p.header, p.position, !p.forged);
            } else if (!p.forged) {
                b = in_place.on_data(p.header, p.position, p.payload);
            }
        }
        if (a != b) std::abort();
        if (a == Event::chain) {
            check_chain(copy.chain(), p.header.packet_seq);
            if (!same(copy.chain(), in_place.chain())) std::abort();
        }
    }
    if (copy.counters().chains != in_place.counters().chains ||
        copy.counters().dropped_total() != in_place.counters().dropped_total()) {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    chain::Reassembler copy({.max_record_bytes = kMaxRecord, .max_body_bytes = kMaxBody});
    chain::Reassembler in_place({.max_record_bytes = kMaxRecord, .max_body_bytes = kMaxBody});
    chain::ReplayWindow window;
    std::vector<Packet> burst;
    std::uint64_t seq = 0;
    std::size_t at = 0;
    while (at + 5 <= size) {
        const std::uint8_t kind = data[at];
        seq += data[at + 1] % 4;  // mostly consecutive, sometimes gaps or repeats
        const std::uint32_t epoch = data[at + 2] % 3;
        const auto alg = static_cast<wire::CompAlg>(data[at + 3] % 2);
        const std::size_t len = data[at + 4];
        at += 5;
        const std::span<const std::uint8_t> payload(data + at, std::min(len, size - at));
        at += payload.size();
        if (window.check(seq) != chain::ReplayWindow::Verdict::fresh) continue;
        if (!window.commit(seq)) std::abort();  // fresh a moment ago: nothing else committed it
        Packet p;
        p.control = (kind & 0x80) != 0;
        p.forged = (kind & 0x20) != 0;
        p.position = static_cast<wire::ChainPosition>(kind % 4);
        p.header = {.flags = wire::position_flags(p.position), .stream_id = 1, .packet_seq = seq, .key_epoch = epoch,
                    .comp_alg = alg, .payload_len = static_cast<std::uint16_t>(payload.size())};
        p.payload = payload;
        burst.push_back(p);
        if ((kind & 0x40) != 0 || burst.size() == 64) {
            run_burst(burst, copy, in_place);
            burst.clear();
        }
    }
    run_burst(burst, copy, in_place);
    return 0;
}
