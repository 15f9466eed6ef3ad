// Random packet sequences into the reassembler and replay window: no crash,
// memory bounded by the configured limits, and only well-formed chains out
// (body exactly body_len, exactly update_count valid updates, consecutive seqs).
//
// Input: a sequence of packets, each
//   [position 0..3 | control bit 0x80][seq step][epoch][comp_alg][len][len bytes of payload]
#include <cstdint>
#include <cstdlib>
#include <span>

#include "engine/chain/reassembler.hpp"
#include "engine/chain/replay_window.hpp"
#include "engine/wire/update.hpp"

using namespace replicast;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    constexpr std::size_t kMaxRecord = 4096;
    constexpr std::uint32_t kMaxBody = 1 << 16;
    chain::Reassembler r({.max_record_bytes = kMaxRecord, .max_body_bytes = kMaxBody});
    chain::ReplayWindow window;
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
        window.commit(seq);
        if (kind & 0x80) {
            (void)r.on_control(seq);
            continue;
        }
        const auto position = static_cast<wire::ChainPosition>(kind % 4);
        const wire::PacketHeader h{.flags = wire::position_flags(position), .stream_id = 1, .packet_seq = seq,
                                   .key_epoch = epoch, .comp_alg = alg,
                                   .payload_len = static_cast<std::uint16_t>(payload.size())};
        if (r.on_data(h, position, payload) != chain::Reassembler::Event::chain) continue;
        const chain::CompleteChain& c = r.chain();
        if (c.body.size() != c.head.body_len || c.head.body_len > kMaxBody ||
            wire::validate_body(c.body, c.head.update_count) != wire::WireError::ok || c.last_seq < c.first_seq ||
            c.last_seq != seq) {
            std::abort();
        }
    }
    return 0;
}
