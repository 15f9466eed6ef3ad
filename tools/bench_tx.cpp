#include "tools/bench_tx.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_errno.h>
#include <rte_ring.h>
#include <pthread.h>
#include <time.h>
#include <sched.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "crypto/gcm.hpp"
#include "engine/chain/builder.hpp"
#include "engine/chain/segment.hpp"
#include "engine/server/chain_job.hpp"
#include "engine/server/codec_stage.hpp"
#include "engine/tx/eal.hpp"
#include "engine/tx/port.hpp"
#include "engine/tx/profile.hpp"
#include "engine/tx/tsc.hpp"
#include "engine/tx/worker.hpp"
#include "engine/wire/frame.hpp"
#include "engine/wire/packet.hpp"
#include "tools/bench_worker.hpp"
#include "tools/kernel_sender.hpp"

namespace replicast::tools {

namespace {

constexpr std::size_t kJobs = 64;

constexpr std::size_t kMaxStamps = 1u << 20;

// --- seal-only: crypto/ alone on the worker lcore ------------------------
struct SealOnly {
    std::uint32_t payload = 0;
    crypto::GcmArch arch = crypto::GcmArch::best;
    double seconds = 0;
    // Set: seal the slices of these chain records (the ones the worker is fed)
    // instead of one hot buffer, into a burst's worth of fixed destinations.
    const std::vector<server::ChainJob>* records = nullptr;
    std::uint64_t packets = 0;
    double elapsed = 0;
    double cpu_seconds = 0;  // the lcore thread's own CPU time over the same span

    std::string error{};  // set when the lcore could not run (an exception must not cross the EAL's C thread)

    static int run(void* self) noexcept {
        auto& s = *static_cast<SealOnly*>(self);
        try {
            s.seal();
        } catch (const std::exception& e) {
            s.error = e.what();
        }
        return 0;
    }

    void seal() {
        SealOnly& s = *this;
        crypto::GcmEngine engine(s.arch);
        crypto::Key raw{};
        raw[0] = 1;
        const crypto::GcmKey key(engine, raw);
        std::vector<std::uint8_t> in(s.payload, 0x5a), out(tx::kBurst * (s.payload + 64));
        std::array<std::uint8_t, wire::kHeaderSize> aad{};
        std::array<crypto::SealOp, tx::kBurst> ops;
        const std::uint64_t hz = tx::tsc_hz();
        const double cpu0 = thread_cpu_seconds();
        const std::uint64_t start = rte_rdtsc();
        const std::uint64_t until = start + static_cast<std::uint64_t>(s.seconds * static_cast<double>(hz));
        std::uint64_t seq = 1;
        std::size_t record = 0;
        std::uint32_t segment = 0;
        while (rte_rdtsc() < until) {
            unsigned n = 0;
            for (; n < tx::kBurst; ++n) {
                const std::uint8_t* src = in.data();
                std::uint32_t len = s.payload;
                if (s.records != nullptr) {
                    const auto& rec = (*s.records)[record].record;
                    const chain::Segment seg = chain::segment(rec, s.payload, segment);
                    src = seg.payload.data();
                    len = static_cast<std::uint32_t>(seg.payload.size());
                    if (++segment == chain::segment_count(rec.size(), s.payload)) {
                        segment = 0;
                        record = (record + 1) % s.records->size();
                    }
                }
                std::uint8_t* d = out.data() + n * (s.payload + 64);
                ops[n] = {.key = &key, .stream_id = 1, .packet_seq = seq++, .aad = aad.data(), .src = src,
                          .dst = d, .len = len, .tag_out = d + len};
            }
            s.packets += engine.seal_burst(std::span(ops.data(), n));
        }
        s.elapsed = static_cast<double>(rte_rdtsc() - start) / static_cast<double>(hz);
        s.cpu_seconds = thread_cpu_seconds() - cpu0;
    }
};

// --- TSC stamps of every frame handed to the port, for pacing jitter ------
struct Stamps {
    std::vector<std::uint64_t> tsc;
    std::vector<std::size_t> breaks;  // index of each slice's first stamp
    std::atomic<bool> on{false};
};

std::uint16_t stamp_tx(std::uint16_t, std::uint16_t, rte_mbuf**, std::uint16_t n, void* user) {
    auto* s = static_cast<Stamps*>(user);
    if (!s->on.load(std::memory_order_relaxed)) return n;
    const std::uint64_t now = rte_rdtsc();
    for (std::uint16_t i = 0; i < n && s->tsc.size() < s->tsc.capacity(); ++i) s->tsc.push_back(now);
    return n;
}

// Chain records sized so that every packet carries exactly `payload` bytes.
struct JobSource {
    JobSource(const BenchTxArgs& a, std::uint32_t& updates_per_chain)
        : args(a), builder({.compress = a.compress && a.codec_lcore < 0, .level = 1}) {
        jobs.resize(kJobs);
        if (!a.compress) {
            // One update filling the chain: framing and sealing are what is measured.
            const std::size_t record = std::size_t{a.chain_packets} * a.payload;
            const std::size_t value = record - wire::kChainRecordHeadSize - wire::kUpdateHeadSize - 8;
            std::vector<std::uint8_t> v(value, 0x42);
            const std::array<std::uint8_t, 8> k{'b', 'e', 'n', 'c', 'h', 'k', 'e', 'y'};
            builder.begin(1);
            if (builder.add({.op = wire::Op::put, .reader_group = 0, .key = k, .value = v}) != wire::WireError::ok) {
                throw std::runtime_error("bench: cannot build a chain of that size");
            }
            const chain::BuiltChain built = builder.finish();
            for (auto& j : jobs) j.record.assign(built.record.begin(), built.record.end());
            comp = built.comp_alg;
            updates_per_chain = 1;
        } else {
            // Realistic small updates (JSON-like, 100-byte values), deflated per chain.
            // Random figures in a fixed shape, as market data looks: deflates
            // about 3x, like bench_compress's records (a repeated value would
            // flatter the codec).
            std::mt19937_64 rng(42);
            const char* venues[] = {"XLON", "XPAR", "XETR", "XAMS", "XMIL"};
            for (int i = 0; i < 4096; ++i) {
                keys.push_back("order/" + std::to_string(rng() % 100000000));
                values.push_back("{\"id\":" + std::to_string(rng() % 10000000000ULL) + ",\"px\":" +
                                 std::to_string(rng() % 1000000) + "." + std::to_string(rng() % 100) +
                                 ",\"qty\":" + std::to_string(rng() % 100000) + ",\"side\":\"" +
                                 (rng() % 2 ? "buy" : "sell") + "\",\"venue\":\"" + venues[rng() % 5] +
                                 "\",\"ts\":" + std::to_string(1700000000000000000ULL + rng() % 1000000000000ULL) + "}");
            }
            per_chain = std::max<std::uint32_t>(1, static_cast<std::uint32_t>(a.chain_packets * a.payload / 110));
            updates_per_chain = per_chain;
        }
        for (std::uint32_t i = 0; i < jobs.size(); ++i) free.push_back(i);
    }

    // Fills job `j` for posting; with compression the chain is built now.
    tx::TxMessage* make(std::uint32_t j, std::uint64_t& lsn) {
        server::ChainJob& job = jobs[j];
        if (args.compress) {
            builder.begin(lsn);
            for (std::uint32_t i = 0; i < per_chain; ++i) {
                const std::string& k = keys[(lsn + i) % keys.size()];
                const std::string& v = values[(lsn + i) % values.size()];
                (void)builder.add({.op = wire::Op::put, .reader_group = 0,
                                   .key = {reinterpret_cast<const std::uint8_t*>(k.data()), k.size()},
                                   .value = {reinterpret_cast<const std::uint8_t*>(v.data()), v.size()}});
            }
            const chain::BuiltChain built = builder.finish();
            job.record.assign(built.record.begin(), built.record.end());
            job.uncompressed_bytes = built.head.body_len;
            if (job.packed.size() < job.record.size()) job.packed.resize(job.record.size());
            comp = built.comp_alg;
        }
        job.message = tx::TxMessage{};
        job.message.kind = tx::TxMessage::Kind::chain;
        job.message.record = job.record;
        job.message.comp_alg = comp;
        job.message.first_lsn = lsn;
        job.message.update_count = args.compress ? per_chain : 1;
        job.message.tag = j;
        lsn += job.message.update_count;
        return &job.message;
    }

    const BenchTxArgs& args;
    chain::ChainBuilder builder;
    std::vector<server::ChainJob> jobs;
    std::vector<std::uint32_t> free;
    std::vector<std::string> keys, values;
    std::uint32_t per_chain = 1;
    wire::CompAlg comp = wire::CompAlg::none;
};

void pin_to_cpu(unsigned cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

}  // namespace

Spread spread_of(std::vector<double> v) {
    Spread sp;
    if (v.empty()) return sp;
    std::sort(v.begin(), v.end());
    // Linear interpolation between closest ranks (numpy's default).
    auto at = [&](double q) {
        const double pos = q * static_cast<double>(v.size() - 1);
        const auto lo = static_cast<std::size_t>(pos);
        const std::size_t hi = std::min(lo + 1, v.size() - 1);
        return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
    };
    sp.median = at(0.5);
    sp.p25 = at(0.25);
    sp.p75 = at(0.75);
    sp.min = v.front();
    sp.max = v.back();
    sp.samples = v.size();
    return sp;
}

BenchTxResult run_bench_tx(const BenchTxArgs& a) {
    BenchTxResult r;
    tx::PmdProfile profile = tx::load_profile(a.profile);
    const std::uint32_t needed_mtu = static_cast<std::uint32_t>(28 + wire::datagram_size(a.payload, true));
    if (needed_mtu > profile.port.mtu) profile.port.mtu = static_cast<std::uint16_t>(std::min<std::uint32_t>(needed_mtu, 9216));
    if (needed_mtu > 9216) throw std::runtime_error("--payload " + std::to_string(a.payload) + " needs an MTU over 9216");
    profile.tx_lcores.resize(1);
    tx::Eal eal(profile, {.force_no_huge = a.no_huge});
    r.hugepages = eal.memory().hugepages();
    r.page_kib = eal.memory().page_size / 1024;
    r.memory = tx::describe(eal.memory());
    const unsigned lcore = profile.tx_lcores[0];
    if (lcore == rte_get_main_lcore() || !rte_lcore_is_enabled(lcore)) {
        throw std::runtime_error(profile.path + ": workers.tx_lcores: lcore " + std::to_string(lcore) + " is not a worker lcore");
    }
    tx::Port port(profile, 1);

    // On the worker's code path: a key's expansion is laid out per path
    // (and a path this CPU lacks is refused here, before any lcore runs).
    crypto::GcmEngine control(a.crypto_arch);
    crypto::Key raw{};
    raw[0] = 1;
    const crypto::GcmKey key(control, raw);
    std::uint32_t updates_per_chain = 1;
    JobSource source(a, updates_per_chain);

    const unsigned ring_size = 128;
    const bool codec = a.compress && a.codec_lcore >= 0;
    if (codec && (static_cast<unsigned>(a.codec_lcore) == lcore || static_cast<unsigned>(a.codec_lcore) == rte_get_main_lcore() ||
                  !rte_lcore_is_enabled(static_cast<unsigned>(a.codec_lcore)))) {
        throw std::runtime_error("--codec-lcore " + std::to_string(a.codec_lcore) + " is not a free lcore of eal.lcores \"" +
                                 profile.eal.lcores + "\" (e.g. REPLICAST_LCORES=0@0,1@1,2@0 with the null profile)");
    }
    rte_ring* inbox = rte_ring_create("bench_in", ring_size, static_cast<int>(rte_socket_id()),
                                      codec ? RING_F_SC_DEQ : RING_F_SP_ENQ | RING_F_SC_DEQ);
    rte_ring* codec_ring = codec ? rte_ring_create("bench_codec", ring_size, static_cast<int>(rte_socket_id()),
                                                   RING_F_SP_ENQ | RING_F_SC_DEQ)
                                 : nullptr;
    if (codec && codec_ring == nullptr) throw std::runtime_error(std::string("codec ring: ") + rte_strerror(rte_errno));
    rte_ring* outbox = rte_ring_create("bench_out", ring_size, static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (inbox == nullptr || outbox == nullptr) throw std::runtime_error(std::string("rings: ") + rte_strerror(rte_errno));
    tx::TxWorkerConfig wc;
    wc.port = port.id();
    wc.queue = 0;
    wc.pool = port.pool();
    wc.inbox = inbox;
    wc.outbox = outbox;
    wc.crypto_arch = a.crypto_arch;
    wc.idle = profile.idle;
    r.idle = tx::describe(profile.idle);
    wc.checksum_offload = a.assume_offload || (port.caps().udp_checksum_offload && port.caps().ipv4_checksum_offload);
    r.checksums = a.assume_offload        ? "offloaded (assumed)"
                  : wc.checksum_offload   ? "offloaded to the port"
                                          : std::string("software (") + wire::checksum_path_name(wire::checksum_path()) + ")";
    tx::TxStreamConfig sc;
    sc.stream_id = 1;
    sc.addressing = {.source_mac = profile.dataplane.source_mac_set ? profile.dataplane.source_mac : port.mac(),
                     .source_ip = profile.dataplane.source_ip, .group = 0xEFFF0001, .source_port = profile.dataplane.source_port,
                     .group_port = 5000, .ttl = profile.dataplane.ttl, .dscp = profile.dataplane.dscp};
    sc.key_epoch = a.sealed ? 1 : 0;
    sc.key = a.sealed ? &key : nullptr;
    sc.pace.rate_bps = a.rate_mbps * 1'000'000;
    sc.pace.min_packet_gap_ns = a.packet_gap_ns;
    sc.pace.max_burst_bytes = a.burst_bytes;
    if (const std::string bad = pace::validate(sc.pace); !bad.empty()) throw std::runtime_error("pacing: " + bad);
    sc.max_payload = a.payload;
    sc.heartbeat_interval_ns = 100'000'000;
    wc.streams.push_back(sc);

    Stamps stamps;
    const bool pacing = a.rate_mbps != 0 || a.packet_gap_ns != 0;
    const rte_eth_rxtx_callback* cb = nullptr;
    if (pacing) {
        stamps.tsc.reserve(kMaxStamps);
        cb = rte_eth_add_tx_callback(port.id(), 0, stamp_tx, &stamps);
    }

    std::uint64_t lsn = 1;
    std::uint64_t body_in = 0, record_out = 0;
    auto post = [&] {
        void* back[64];
        const unsigned n = rte_ring_sc_dequeue_burst(outbox, back, 64, nullptr);
        for (unsigned i = 0; i < n; ++i) {
            auto* m = static_cast<tx::TxMessage*>(back[i]);
            source.free.push_back(m->tag);
            body_in += source.jobs[m->tag].uncompressed_bytes;
            record_out += m->record.size();
        }
        while (!source.free.empty()) {
            const std::uint32_t j = source.free.back();
            tx::TxMessage* m = source.make(j, lsn);
            m->tag = j;
            source.jobs[j].inbox = inbox;
            if ((codec ? rte_ring_sp_enqueue(codec_ring, &source.jobs[j]) : rte_ring_enqueue(inbox, m)) != 0) break;
            source.free.pop_back();
        }
    };

    // The rounds: ours and each reference in turn, on the same core, every
    // slice a fraction of a second. On a shared machine the speed of the core
    // drifts over seconds; slices side by side see the same drift, so the
    // ratio of each round holds where the rates do not. Odd rounds run the
    // references first, so that no one is always first after a pause.
    const double slice = a.slice_ms / 1000.0;
    const std::size_t rounds = std::max<std::size_t>(3, static_cast<std::size_t>(std::ceil(a.seconds / slice - 1e-9)));
    const double ref_slice = std::max(0.02, a.compare_seconds / static_cast<double>(rounds));
    // A fresh worker per slice starts cold (ipsec-mb manager, the first heartbeat): not measured.
    const double warm = std::min(0.05, slice / 4);
    r.rounds = rounds;
    r.slice_ms = a.slice_ms;
    r.reference_slice_ms = ref_slice * 1000;

    std::uint64_t packets = 0, bytes = 0, updates = 0;
    std::uint64_t next_seq = 1;
    auto ours_slice = [&](double& cpu_pps) -> double {
        tx::TxWorkerConfig cfg = wc;
        cfg.streams[0].next_seq = next_seq;
        tx::TxWorker worker(std::move(cfg));
        r.crypto = worker.crypto_path();
        std::unique_ptr<server::CodecStage> stage;
        if (codec) {
            stage = std::make_unique<server::CodecStage>(codec_ring, 1, profile.idle);
            rte_eal_remote_launch(&server::CodecStage::launch, stage.get(), static_cast<unsigned>(a.codec_lcore));
        }
        post();
        WorkerLaunch launch{.worker = &worker};
        if (const int rc = rte_eal_remote_launch(&WorkerLaunch::run, &launch, lcore); rc != 0) {
            // The ready flag below would never come: say why instead of waiting.
            throw std::runtime_error("lcore " + std::to_string(lcore) + " would not run the worker: " + rte_strerror(-rc));
        }
        auto run_for = [&](double seconds) {
            const auto until = std::chrono::steady_clock::now() +
                               std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
            while (std::chrono::steady_clock::now() < until) {
                post();
                if (!a.compress) std::this_thread::sleep_for(std::chrono::microseconds(20));  // prebuilt: little to do
            }
        };
        run_for(warm);
        while (!launch.ready.load(std::memory_order_acquire)) rte_pause();  // it ran during the warm-up
        const tx::TxCounters& c = worker.counters();
        const std::uint64_t p0 = c.packets.load(), b0 = c.bytes.load(), u0 = c.updates.load();
        const std::uint64_t t0 = rte_rdtsc();
        const double cpu0 = cpu_seconds(launch.clock);
        if (pacing) stamps.breaks.push_back(stamps.tsc.size());
        stamps.on = true;
        run_for(slice);
        stamps.on = false;
        const std::uint64_t t1 = rte_rdtsc();
        const double cpu1 = cpu_seconds(launch.clock);
        const std::uint64_t p1 = c.packets.load(), b1 = c.bytes.load(), u1 = c.updates.load();
        if (codec) {
            stage->stop();
            rte_eal_wait_lcore(static_cast<unsigned>(a.codec_lcore));
        }
        worker.stop();
        rte_eal_wait_lcore(lcore);
        next_seq = worker.next_seq(0);
        r.ring_full += worker.counters().tx_ring_full.load();
        r.mbuf_exhausted += worker.counters().mbuf_exhausted.load();
        packets += p1 - p0;
        bytes += b1 - b0;
        updates += u1 - u0;
        const double secs = static_cast<double>(t1 - t0) / static_cast<double>(tx::tsc_hz());
        cpu_pps = cpu1 > cpu0 ? static_cast<double>(p1 - p0) / (cpu1 - cpu0) : 0;
        return static_cast<double>(p1 - p0) / secs;
    };
    auto seal_slice = [&](const std::vector<server::ChainJob>* records, double& cpu_pps) -> double {
        SealOnly s{.payload = a.payload, .arch = a.crypto_arch, .seconds = ref_slice, .records = records};
        rte_eal_remote_launch(&SealOnly::run, &s, lcore);
        rte_eal_wait_lcore(lcore);
        if (!s.error.empty()) throw std::runtime_error(std::string(records ? "seal the records: " : "seal-only: ") + s.error);
        cpu_pps = s.cpu_seconds > 0 ? static_cast<double>(s.packets) / s.cpu_seconds : 0;
        return static_cast<double>(s.packets) / s.elapsed;
    };
    bool kernel = a.kernel;
    auto kernel_slice = [&](double& cpu_pps) -> double {
        KernelSendResult k;
        double cpu = 0;
        std::thread t([&] {
            pin_to_cpu(rte_lcore_to_cpu_id(static_cast<int>(lcore)));
            const double cpu0 = thread_cpu_seconds();  // the socket's setup is microseconds of it
            k = kernel_send(a.kernel_group, a.kernel_interface, 5000, a.payload, a.sealed, ref_slice, UINT64_MAX, a.crypto_arch);
            cpu = thread_cpu_seconds() - cpu0;
        });
        t.join();
        if (!k.error.empty()) {
            r.kernel_error = k.error;
            kernel = false;  // it will not work better next round
            return 0;
        }
        cpu_pps = cpu > 0 ? static_cast<double>(k.packets) / cpu : 0;
        return static_cast<double>(k.packets) / k.seconds;
    };

    for (std::size_t round = 0; round < rounds; ++round) {
        BenchTxRound one;
        auto references = [&] {
            if (a.sealed) {
                one.seal_only = seal_slice(nullptr, one.cpu.seal_only);
                if (!a.compress) one.seal_records = seal_slice(&source.jobs, one.cpu.seal_records);
            }
            if (kernel) one.kernel = kernel_slice(one.cpu.kernel);
        };
        if (round % 2 == 1) references();
        one.ours = ours_slice(one.cpu.ours);
        if (round % 2 == 0) references();
        r.slices.push_back(one);
    }
    if (record_out != 0) r.compression_ratio = static_cast<double>(body_in) / static_cast<double>(record_out);
    if (cb != nullptr) rte_eth_remove_tx_callback(port.id(), 0, cb);
    rte_ring_free(inbox);
    rte_ring_free(outbox);
    rte_ring_free(codec_ring);

    // Rates: the median slice. Ratios: the median of the rounds' own ratios,
    // with their spread; a reference that did not run has none.
    std::vector<double> ours, seal_only, seal_records, kernel_pps, vs_seal, vs_records, vs_kernel, beyond;
    std::vector<double> cpu_vs_seal, cpu_vs_records, cpu_vs_kernel, cpu_beyond, share;
    for (const BenchTxRound& x : r.slices) {
        if (x.cpu.ours > 0) share.push_back(x.ours / x.cpu.ours);
        const BenchTxRound::Cpu& c = x.cpu;
        if (c.ours > 0 && c.seal_only > 0) {
            cpu_vs_seal.push_back(c.ours / c.seal_only);
            cpu_beyond.push_back(1e9 / c.ours - 1e9 / c.seal_only);
        }
        if (c.ours > 0 && c.seal_records > 0) cpu_vs_records.push_back(c.ours / c.seal_records);
        if (c.ours > 0 && c.kernel > 0) cpu_vs_kernel.push_back(c.ours / c.kernel);
        ours.push_back(x.ours);
        if (x.seal_only > 0) {
            seal_only.push_back(x.seal_only);
            if (x.ours > 0) {
                vs_seal.push_back(x.ours / x.seal_only);
                beyond.push_back(1e9 / x.ours - 1e9 / x.seal_only);
            }
        }
        if (x.seal_records > 0) {
            seal_records.push_back(x.seal_records);
            vs_records.push_back(x.ours / x.seal_records);
        }
        if (x.kernel > 0) {
            kernel_pps.push_back(x.kernel);
            vs_kernel.push_back(x.ours / x.kernel);
        }
    }
    r.packets = packets;
    r.packets_per_s = spread_of(ours).median;
    r.ours = spread_of(ours);
    const double bytes_per_packet = packets ? static_cast<double>(bytes) / static_cast<double>(packets) : 0;
    r.gbit_per_s = r.packets_per_s * bytes_per_packet * 8 / 1e9;
    r.wire_gbit_per_s = r.packets_per_s * (bytes_per_packet + 24.0) * 8 / 1e9;
    r.updates_per_s = packets ? r.packets_per_s * static_cast<double>(updates) / static_cast<double>(packets) : 0;
    r.seal_only_packets_per_s = spread_of(seal_only).median;
    r.seal_records_packets_per_s = spread_of(seal_records).median;
    r.kernel_packets_per_s = spread_of(kernel_pps).median;
    r.vs_seal_only = spread_of(vs_seal);
    r.vs_seal_records = spread_of(vs_records);
    r.vs_kernel = spread_of(vs_kernel);
    r.beyond_seal = spread_of(beyond);
    r.cpu_vs_seal_only = spread_of(cpu_vs_seal);
    r.cpu_vs_seal_records = spread_of(cpu_vs_records);
    r.cpu_vs_kernel = spread_of(cpu_vs_kernel);
    r.cpu_beyond_seal = spread_of(cpu_beyond);
    r.worker_cpu_share = spread_of(share).median;

    if (pacing && stamps.tsc.size() > 2) {
        // Gaps within a slice only: the pause between two slices is no gap of ours.
        std::vector<double> gaps;
        gaps.reserve(stamps.tsc.size());
        const double ns_per_tick = 1e9 / static_cast<double>(tx::tsc_hz());
        std::size_t next_break = 1;
        for (std::size_t i = 1; i < stamps.tsc.size(); ++i) {
            if (next_break < stamps.breaks.size() && stamps.breaks[next_break] == i) {
                ++next_break;
                continue;
            }
            gaps.push_back(static_cast<double>(stamps.tsc[i] - stamps.tsc[i - 1]) * ns_per_tick);
        }
        if (!gaps.empty()) {
            std::sort(gaps.begin(), gaps.end());
            r.gap_p50_ns = gaps[gaps.size() / 2];
            r.gap_p99_ns = gaps[gaps.size() * 99 / 100];
            r.gap_max_ns = gaps.back();
            double sum = 0;
            for (double g : gaps) sum += g;
            r.gap_mean_ns = sum / static_cast<double>(gaps.size());
        }
        r.achieved_mbps = r.wire_gbit_per_s * 1000;
    }
    return r;
}

}  // namespace replicast::tools
