// The per-packet cost of the chain path against sealing alone, in one run:
//   send side:    build a chain (encode updates, no compression), cut it into
//                 1432-byte payloads, write headers, seal into packet buffers
//                 vs  sealing the same number of 1400-byte packets.
//   receive side: parse, replay-check, open, reassemble, validate the body
//                 vs  opening the same packets.
// The rule: framing and reassembly must cost at most 20 % on top.
#include <benchmark/benchmark.h>

#include <array>
#include <random>
#include <vector>

#include "crypto/gcm.hpp"
#include "engine/chain/builder.hpp"
#include "engine/chain/reassembler.hpp"
#include "engine/chain/replay_window.hpp"
#include "engine/chain/segment.hpp"
#include "engine/wire/endian.hpp"
#include "engine/wire/packet.hpp"

namespace {

using namespace replicast;
constexpr std::size_t kMaxPayload = 1432;
constexpr std::size_t kUpdates = 44;         // 44 x ~1040 bytes: a 32-packet chain
constexpr std::size_t kValue = 1024;

struct Chain {
    Chain() {
        std::mt19937_64 rng(5);
        for (std::size_t i = 0; i < kUpdates; ++i) {
            keys.push_back(std::vector<std::uint8_t>(12, static_cast<std::uint8_t>('a' + i % 26)));
            std::vector<std::uint8_t> v(kValue);
            for (auto& b : v) b = static_cast<std::uint8_t>(rng());
            values.push_back(std::move(v));
        }
        for (std::size_t i = 0; i < kUpdates; ++i) {
            updates.push_back({.op = wire::Op::put, .reader_group = 0, .key = keys[i], .value = values[i]});
        }
    }
    std::vector<std::vector<std::uint8_t>> keys, values;
    std::vector<wire::UpdateView> updates;
};

crypto::Key test_key() {
    crypto::Key k{};
    k[3] = 9;
    return k;
}

// Sealed datagrams of one chain, as a receiver gets them.
std::vector<std::vector<std::uint8_t>> sealed_chain(crypto::GcmEngine& engine, const crypto::GcmKey& key, std::uint64_t seq0) {
    static const Chain c;
    chain::ChainBuilder b({.compress = false});
    b.begin(1);
    for (const auto& u : c.updates) (void)b.add(u);
    const chain::BuiltChain built = b.finish();
    std::vector<std::vector<std::uint8_t>> out;
    for (std::size_t i = 0; i < chain::segment_count(built.record.size(), kMaxPayload); ++i) {
        const chain::Segment s = chain::segment(built.record, kMaxPayload, i);
        std::vector<std::uint8_t> d(wire::datagram_size(s.payload.size(), true));
        crypto::seal_packet(engine, key, {.flags = wire::position_flags(s.position), .stream_id = 7,
                                          .packet_seq = seq0 + i, .key_epoch = 1, .comp_alg = built.comp_alg},
                            s.payload, d);
        out.push_back(std::move(d));
    }
    return out;
}

// Cuts a built chain into payloads, writes each packet's header and sets up
// its seal from the chain buffer into the packet buffer (what a tx lcore does
// per packet). @return the packet count.
std::size_t frame_chain(const chain::BuiltChain& built, const crypto::GcmKey& key, std::uint64_t seq,
                        std::vector<std::vector<std::uint8_t>>& out, std::vector<crypto::SealOp>& ops) {
    const std::size_t n = chain::segment_count(built.record.size(), kMaxPayload);
    for (std::size_t i = 0; i < n; ++i) {
        const chain::Segment s = chain::segment(built.record, kMaxPayload, i, n);  // as the tx worker: count once
        wire::encode_header({.flags = wire::position_flags(s.position), .stream_id = 7, .packet_seq = seq + i,
                             .key_epoch = 1, .comp_alg = built.comp_alg,
                             .payload_len = static_cast<std::uint16_t>(s.payload.size())},
                            out[i].data());
        ops[i] = {.key = &key, .stream_id = 7, .packet_seq = seq + i, .aad = out[i].data(), .src = s.payload.data(),
                  .dst = out[i].data() + 24, .len = static_cast<std::uint32_t>(s.payload.size()),
                  .tag_out = out[i].data() + 24 + s.payload.size()};
    }
    return n;
}

// 64 chains sealed back to back, as a live stream delivers them: the receive
// benchmarks cycle through them with the replay window reset per lap.
std::vector<std::vector<std::vector<std::uint8_t>>> sealed_ring(crypto::GcmEngine& engine, const crypto::GcmKey& key) {
    std::vector<std::vector<std::vector<std::uint8_t>>> chains;
    std::uint64_t seq = 1;
    for (std::size_t c = 0; c < 64; ++c) {
        chains.push_back(sealed_chain(engine, key, seq));
        seq += chains.back().size();
    }
    return chains;
}

void BM_SealOnly(benchmark::State& state) {
    crypto::GcmEngine engine;
    const crypto::GcmKey key(engine, test_key());
    const std::size_t packets = sealed_chain(engine, key, 1).size();
    std::vector<std::uint8_t> src(kMaxPayload * packets, 0x5a);
    std::vector<std::vector<std::uint8_t>> out(packets, std::vector<std::uint8_t>(2048));
    std::vector<crypto::SealOp> ops(packets);
    for (std::size_t i = 0; i < packets; ++i) {
        ops[i] = {.key = &key, .stream_id = 7, .packet_seq = i + 1, .aad = out[i].data(), .src = src.data() + i * kMaxPayload,
                  .dst = out[i].data() + 24, .len = kMaxPayload, .tag_out = out[i].data() + 24 + kMaxPayload};
    }
    for (auto _ : state) {
        benchmark::DoNotOptimize(engine.seal_burst(ops));
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * packets));
    state.counters["packets_per_chain"] = static_cast<double>(packets);
}
BENCHMARK(BM_SealOnly);

void BM_BuildSegmentSeal(benchmark::State& state) {
    static const Chain c;
    crypto::GcmEngine engine;
    const crypto::GcmKey key(engine, test_key());
    chain::ChainBuilder builder({.compress = false});
    std::vector<std::vector<std::uint8_t>> out(64, std::vector<std::uint8_t>(2048));
    std::vector<crypto::SealOp> ops(64);
    std::uint64_t seq = 1, packets = 0;
    for (auto _ : state) {
        builder.begin(seq);
        for (const auto& u : c.updates) (void)builder.add(u);
        const chain::BuiltChain built = builder.finish();
        const std::size_t n = frame_chain(built, key, seq, out, ops);
        benchmark::DoNotOptimize(engine.seal_burst(std::span(ops.data(), n)));
        benchmark::ClobberMemory();
        seq += n;
        packets += n;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(packets));
}
BENCHMARK(BM_BuildSegmentSeal);

// What a tx lcore does: the chain arrives built (the control core encodes and
// compresses), the lcore cuts, frames and seals it.
void BM_SegmentSeal(benchmark::State& state) {
    static const Chain c;
    crypto::GcmEngine engine;
    const crypto::GcmKey key(engine, test_key());
    chain::ChainBuilder builder({.compress = false});
    builder.begin(1);
    for (const auto& u : c.updates) (void)builder.add(u);
    const chain::BuiltChain built = builder.finish();
    std::vector<std::vector<std::uint8_t>> out(64, std::vector<std::uint8_t>(2048));
    std::vector<crypto::SealOp> ops(64);
    std::uint64_t seq = 1, packets = 0;
    for (auto _ : state) {
        const std::size_t n = frame_chain(built, key, seq, out, ops);
        benchmark::DoNotOptimize(engine.seal_burst(std::span(ops.data(), n)));
        benchmark::ClobberMemory();
        seq += n;
        packets += n;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(packets));
}
BENCHMARK(BM_SegmentSeal);

void BM_OpenOnly(benchmark::State& state) {
    crypto::GcmEngine engine;
    const crypto::GcmKey key(engine, test_key());
    const auto datagrams = sealed_chain(engine, key, 1);
    std::vector<std::vector<std::uint8_t>> plain(datagrams.size(), std::vector<std::uint8_t>(2048));
    std::vector<crypto::OpenOp> ops(datagrams.size());
    for (std::size_t i = 0; i < datagrams.size(); ++i) {
        const std::size_t len = datagrams[i].size() - 40;
        ops[i] = {.key = &key, .stream_id = 7, .packet_seq = i + 1, .aad = datagrams[i].data(),
                  .src = datagrams[i].data() + 24, .dst = plain[i].data(), .len = static_cast<std::uint32_t>(len),
                  .tag_in = datagrams[i].data() + 24 + len};
    }
    for (auto _ : state) {
        if (engine.open_burst(ops) != ops.size()) state.SkipWithError("open failed");
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * datagrams.size()));
}
BENCHMARK(BM_OpenOnly);

// Open-only over the receive benchmarks' own input: the same ring of 64 sealed
// chains (3 MB, so the datagrams come from L3 as they would from a socket
// ring that a live stream keeps refilling), opened into fixed buffers. Beside
// BM_OpenOnly (one chain, always hot) it separates what the receive path's code
// costs from what reading fresh datagrams costs.
void BM_OpenOnlyRing(benchmark::State& state) {
    crypto::GcmEngine engine;
    const crypto::GcmKey key(engine, test_key());
    const auto chains = sealed_ring(engine, key);
    std::vector<std::vector<std::uint8_t>> plain(64, std::vector<std::uint8_t>(2048));
    std::vector<std::vector<crypto::OpenOp>> ops(chains.size());
    for (std::size_t c = 0; c < chains.size(); ++c) {
        for (std::size_t i = 0; i < chains[c].size(); ++i) {
            const auto& d = chains[c][i];
            const std::size_t len = d.size() - 40;
            ops[c].push_back({.key = &key, .stream_id = 7, .packet_seq = wire::load_be<std::uint64_t>(d.data() + 8),
                              .aad = d.data(), .src = d.data() + 24, .dst = plain[i].data(),
                              .len = static_cast<std::uint32_t>(len), .tag_in = d.data() + 24 + len});
        }
    }
    std::size_t next = 0;
    std::uint64_t packets = 0;
    for (auto _ : state) {
        auto& burst = ops[next];
        next = (next + 1) % ops.size();
        if (engine.open_burst(burst) != burst.size()) state.SkipWithError("open failed");
        benchmark::ClobberMemory();
        packets += burst.size();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(packets));
}
BENCHMARK(BM_OpenOnlyRing);

void BM_OpenReassemble(benchmark::State& state) {
    crypto::GcmEngine engine;
    const crypto::GcmKey key(engine, test_key());
    // Sequence numbers advance every iteration, as on a live stream; pre-seal a
    // ring of chains and cycle through them with the replay window reset per lap.
    const auto chains = sealed_ring(engine, key);
    constexpr std::size_t kChains = 64;
    std::vector<std::vector<std::uint8_t>> plain(64, std::vector<std::uint8_t>(2048));
    std::vector<crypto::OpenOp> ops(64);
    std::vector<wire::PacketView> views(64);
    chain::ReplayWindow window;
    chain::Reassembler reassembler;
    std::size_t next = 0;
    std::uint64_t packets = 0;
    for (auto _ : state) {
        if (next == 0) window.reset();
        const auto& dgrams = chains[next];
        next = (next + 1) % kChains;
        std::size_t n = 0;
        for (const auto& d : dgrams) {
            wire::PacketView& v = views[n];
            if (wire::parse_packet(d, v) != wire::WireError::ok) continue;
            if (window.check(v.header.packet_seq) != chain::ReplayWindow::Verdict::fresh) continue;
            ops[n] = {.key = &key, .stream_id = v.header.stream_id, .packet_seq = v.header.packet_seq,
                      .aad = v.header_bytes.data(), .src = v.payload.data(), .dst = plain[n].data(),
                      .len = static_cast<std::uint32_t>(v.payload.size()), .tag_in = v.tag.data()};
            ++n;
        }
        engine.open_burst(std::span(ops.data(), n));
        bool complete = false;
        for (std::size_t i = 0; i < n; ++i) {
            if (!ops[i].ok || !window.commit(views[i].header.packet_seq)) continue;
            complete |= reassembler.on_data(views[i].header, views[i].position,
                                            std::span(plain[i].data(), views[i].payload.size())) ==
                        chain::Reassembler::Event::chain;
        }
        if (!complete) state.SkipWithError("chain did not reassemble");
        packets += n;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(packets));
}
BENCHMARK(BM_OpenReassemble);

// The same with the reassembler's in-place burst path: each payload is opened
// straight into the chain buffer (reserve, open burst, commit): no copy.
void BM_OpenReassembleInPlace(benchmark::State& state) {
    crypto::GcmEngine engine;
    const crypto::GcmKey key(engine, test_key());
    const auto chains = sealed_ring(engine, key);
    constexpr std::size_t kChains = 64;
    std::vector<std::vector<std::uint8_t>> scratch(64, std::vector<std::uint8_t>(2048));
    std::vector<crypto::OpenOp> ops(64);
    std::vector<wire::PacketView> views(64);
    std::vector<std::uint8_t> slotted(64);  // not vector<bool>: a byte per packet, no bit twiddling
    chain::ReplayWindow window;
    chain::Reassembler reassembler;
    std::size_t next = 0;
    std::uint64_t packets = 0;
    for (auto _ : state) {
        if (next == 0) window.reset();
        const auto& dgrams = chains[next];
        next = (next + 1) % kChains;
        std::size_t n = 0;
        reassembler.begin_burst();
        for (const auto& d : dgrams) {
            wire::PacketView& v = views[n];
            if (wire::parse_packet(d, v) != wire::WireError::ok) continue;
            if (window.check(v.header.packet_seq) != chain::ReplayWindow::Verdict::fresh) continue;
            const std::span<std::uint8_t> slot = reassembler.reserve(v.header, v.position);
            slotted[n] = slot.empty() ? 0 : 1;
            ops[n] = {.key = &key, .stream_id = v.header.stream_id, .packet_seq = v.header.packet_seq,
                      .aad = v.header_bytes.data(), .src = v.payload.data(),
                      .dst = slotted[n] ? slot.data() : scratch[n].data(),
                      .len = static_cast<std::uint32_t>(v.payload.size()), .tag_in = v.tag.data()};
            ++n;
        }
        engine.open_burst(std::span(ops.data(), n));
        bool complete = false;
        for (std::size_t i = 0; i < n; ++i) {
            const bool accepted = ops[i].ok && window.commit(views[i].header.packet_seq);
            chain::Reassembler::Event e = chain::Reassembler::Event::none;
            if (slotted[i]) {
                e = reassembler.commit(views[i].header, views[i].position, accepted);
            } else if (accepted) {
                e = reassembler.on_data(views[i].header, views[i].position,
                                        std::span(scratch[i].data(), views[i].payload.size()));
            }
            complete |= e == chain::Reassembler::Event::chain;
        }
        if (!complete) state.SkipWithError("chain did not reassemble");
        packets += n;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(packets));
}
BENCHMARK(BM_OpenReassembleInPlace);

}  // namespace

BENCHMARK_MAIN();
