#include "tools/bench_pace.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_errno.h>
#include <rte_ring.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <thread>

#include "crypto/gcm.hpp"
#include "engine/chain/builder.hpp"
#include "engine/tx/eal.hpp"
#include "engine/tx/port.hpp"
#include "engine/tx/profile.hpp"
#include "engine/tx/tsc.hpp"
#include "engine/tx/worker.hpp"
#include "engine/wire/frame.hpp"
#include "engine/wire/packet.hpp"
#include "tools/bench_worker.hpp"
#include "tools/json_line.hpp"
#include "tools/veth_capture.hpp"

namespace replicast::tools {

namespace {

constexpr std::uint16_t kGroupPort = 5000;
constexpr std::size_t kChains = 64;  // in flight: 2048 packets, 25 ms at 1 Gbit/s
constexpr const char* kTxEnd = "pace-tx";
constexpr const char* kRxEnd = "pace-rx";

struct Config {
    std::uint64_t rate_mbps = 0;  // 0: unpaced
    std::uint64_t burst_us = 0;
    std::uint64_t burst_bytes = 0;
    // per slice
    std::vector<double> achieved, share, capture_mbps;
    std::vector<double> gaps;  // ns, pooled over slices
    std::uint64_t captured = 0, expected = 0;
};

// TSC of every burst handed to the port, one stamp per frame.
struct Stamps {
    std::vector<std::uint64_t> tsc;
    std::atomic<bool> on{false};
};

std::uint16_t stamp_tx(std::uint16_t, std::uint16_t, rte_mbuf**, std::uint16_t n, void* user) {
    auto* s = static_cast<Stamps*>(user);
    if (!s->on.load(std::memory_order_relaxed)) return n;
    const std::uint64_t now = rte_rdtsc();
    for (std::uint16_t i = 0; i < n && s->tsc.size() < s->tsc.capacity(); ++i) s->tsc.push_back(now);
    return n;
}

double percentile(std::vector<double>& v, double q) {
    if (v.empty()) return 0;
    const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

double median(std::vector<double> v) { return percentile(v, 0.5); }

double load_average() {
    double load = 0;
    if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
        if (std::fscanf(f, "%lf", &load) != 1) load = 0;
        std::fclose(f);
    }
    return load;
}

std::string stem(const std::string& path) { return std::filesystem::path(path).stem().string(); }

bool is_af_packet(const tx::PmdProfile& p) {
    return std::any_of(p.eal.vdevs.begin(), p.eal.vdevs.end(),
                       [](const std::string& v) { return v.rfind("net_af_packet", 0) == 0; });
}

// Everything of one profile, in the child process; returns its rows.
std::vector<PaceRow> run_profile(const BenchPaceArgs& a, const std::string& profile_path,
                                 const std::function<void(const std::string&)>& progress) {
    const double load1 = load_average();
    tx::PmdProfile profile = tx::load_profile(profile_path);
    const bool capture_far_end = is_af_packet(profile);
    if (capture_far_end) {
        // The profile names its interface through REPLICAST_IFACE: point it at
        // our own veth and load it again.
        enter_private_veth(kTxEnd, kRxEnd);
        setenv("REPLICAST_IFACE", kTxEnd, 1);
        profile = tx::load_profile(profile_path);
    }
    const std::uint32_t frame = static_cast<std::uint32_t>(14 + 20 + 8 + wire::datagram_size(a.payload, true));
    if (frame - 14 > profile.port.mtu) throw std::runtime_error("--payload needs an MTU of " + std::to_string(frame - 14));
    profile.tx_lcores.resize(1);
    tx::Eal eal(profile, {.force_no_huge = a.no_huge});
    const unsigned lcore = profile.tx_lcores[0];
    tx::Port port(profile, 1);
    const std::uint64_t hz = tx::tsc_hz();

    std::unique_ptr<VethCapture> capture;
    if (capture_far_end) capture = std::make_unique<VethCapture>(kRxEnd, kGroupPort, std::size_t{8} << 20);

    // Prebuilt chains: one update filling chain_packets full payloads.
    crypto::GcmEngine engine;
    crypto::Key raw{};
    raw[0] = 1;
    const crypto::GcmKey key(engine, raw);
    chain::ChainBuilder builder({.compress = false, .level = 1});
    const std::size_t record_bytes = std::size_t{a.chain_packets} * a.payload;
    std::vector<std::uint8_t> value(record_bytes - wire::kChainRecordHeadSize - wire::kUpdateHeadSize - 8, 0x42);
    const std::array<std::uint8_t, 8> k{'p', 'a', 'c', 'e', '-', 'k', 'e', 'y'};
    builder.begin(1);
    if (builder.add({.op = wire::Op::put, .reader_group = 0, .key = k, .value = value}) != wire::WireError::ok) {
        throw std::runtime_error("cannot build a chain of that size");
    }
    const chain::BuiltChain built = builder.finish();
    const std::vector<std::uint8_t> record(built.record.begin(), built.record.end());
    std::vector<tx::TxMessage> messages(kChains);

    rte_ring* inbox = rte_ring_create("pace_in", 128, static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
    rte_ring* outbox = rte_ring_create("pace_out", 128, static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (inbox == nullptr || outbox == nullptr) throw std::runtime_error(std::string("rings: ") + rte_strerror(rte_errno));
    std::vector<tx::TxMessage*> free_list;
    for (tx::TxMessage& m : messages) free_list.push_back(&m);
    std::uint64_t lsn = 1;
    auto post = [&] {
        void* back[64];
        const unsigned n = rte_ring_sc_dequeue_burst(outbox, back, 64, nullptr);
        for (unsigned i = 0; i < n; ++i) free_list.push_back(static_cast<tx::TxMessage*>(back[i]));
        while (!free_list.empty()) {
            tx::TxMessage* m = free_list.back();
            *m = tx::TxMessage{};
            m->kind = tx::TxMessage::Kind::chain;
            m->record = record;
            m->comp_alg = built.comp_alg;
            m->first_lsn = lsn;
            m->update_count = 1;
            if (rte_ring_sp_enqueue(inbox, m) != 0) break;
            ++lsn;
            free_list.pop_back();
        }
    };

    tx::TxWorkerConfig wc;
    wc.port = port.id();
    wc.pool = port.pool();
    wc.inbox = inbox;
    wc.outbox = outbox;
    wc.checksum_offload = port.caps().udp_checksum_offload && port.caps().ipv4_checksum_offload;
    // Polls whatever the profile says: a paced worker polls anyway, and the
    // benchmark measures the pacer, not how soon an idle worker wakes.
    wc.idle = tx::IdlePolicy{.mode = tx::IdleMode::poll};
    tx::TxStreamConfig sc;
    sc.stream_id = 1;
    sc.addressing = {.source_mac = profile.dataplane.source_mac_set ? profile.dataplane.source_mac : port.mac(),
                     .source_ip = profile.dataplane.source_ip, .group = 0xEFFF0001,
                     .source_port = profile.dataplane.source_port, .group_port = kGroupPort,
                     .ttl = profile.dataplane.ttl, .dscp = profile.dataplane.dscp};
    sc.key_epoch = 1;
    sc.key = &key;
    sc.max_payload = a.payload;
    wc.streams.push_back(sc);

    Stamps stamps;
    stamps.tsc.reserve(std::size_t{4} << 20);
    const rte_eth_rxtx_callback* cb = rte_eth_add_tx_callback(port.id(), 0, stamp_tx, &stamps);

    const double slice = (a.quick ? 100.0 : a.slice_ms) / 1000.0;
    const double warm = 0.02;  // a fresh worker's first heartbeat and ipsec-mb start: not measured
    const double wire_bits = (frame + 24.0) * 8;
    std::uint64_t next_seq = 1;
    const std::string name = stem(profile_path);

    auto run_slice = [&](Config& c, const std::string& what) {
        tx::TxWorkerConfig cfg = wc;
        cfg.streams[0].next_seq = next_seq;
        cfg.streams[0].pace = {.rate_bps = c.rate_mbps * 1'000'000, .max_burst_bytes = c.burst_bytes};
        tx::TxWorker worker(std::move(cfg));
        post();
        WorkerLaunch launch{.worker = &worker};
        if (const int rc = rte_eal_remote_launch(&WorkerLaunch::run, &launch, lcore); rc != 0) {
            throw std::runtime_error("lcore " + std::to_string(lcore) + " would not run the worker: " + rte_strerror(-rc));
        }
        auto run_for = [&](double seconds) {
            const auto until = std::chrono::steady_clock::now() +
                               std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
            while (std::chrono::steady_clock::now() < until) {
                post();
                std::this_thread::sleep_for(std::chrono::microseconds(20));
            }
        };
        run_for(warm);
        while (!launch.ready.load(std::memory_order_acquire)) rte_pause();
        const tx::TxCounters& counters = worker.counters();
        stamps.tsc.clear();
        const std::size_t cap0 = capture ? capture->size() : 0;
        const std::uint64_t p0 = counters.packets.load(), b0 = counters.bytes.load();
        const std::uint64_t t0 = rte_rdtsc(), rt0 = realtime_now_ns();
        const double cpu0 = cpu_seconds(launch.clock);
        stamps.on = true;
        run_for(slice);
        stamps.on = false;
        const std::uint64_t t1 = rte_rdtsc(), rt1 = realtime_now_ns();
        const double cpu1 = cpu_seconds(launch.clock);
        const std::uint64_t p1 = counters.packets.load(), b1 = counters.bytes.load();
        worker.stop();
        rte_eal_wait_lcore(lcore);
        next_seq = worker.next_seq(0);

        const double secs = static_cast<double>(t1 - t0) / static_cast<double>(hz);
        const double mbps = (static_cast<double>(b1 - b0) + 24.0 * static_cast<double>(p1 - p0)) * 8 / secs / 1e6;
        c.achieved.push_back(mbps);
        c.share.push_back(cpu1 > cpu0 ? (cpu1 - cpu0) / secs : 0);
        if (capture) {
            // What was sent inside the window has arrived once a later frame
            // has (the final heartbeat follows every slice), or after 0.5 s.
            const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
            while (capture->latest_ns() < rt1 && std::chrono::steady_clock::now() < give_up) {
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
            }
            const std::size_t end = capture->size();
            const VethCapture::Record* prev = nullptr;
            const VethCapture::Record* first = nullptr;
            const VethCapture::Record* last = nullptr;
            double bytes = 0;
            std::uint64_t n = 0, lo = ~0ULL, hi = 0;
            for (std::size_t i = cap0; i < end; ++i) {
                const VethCapture::Record& r = capture->at(i);
                if (r.ns < rt0 || r.ns > rt1) continue;
                if (prev != nullptr && r.seq == prev->seq + 1) c.gaps.push_back(static_cast<double>(r.ns - prev->ns));
                if (first == nullptr) first = &r;
                if (last != nullptr) bytes += last->frame_bytes + 24.0;  // every frame but the last: its time lies beyond
                last = prev = &r;
                ++n;
                lo = std::min(lo, r.seq);
                hi = std::max(hi, r.seq);
            }
            if (n > 1 && last->ns > first->ns) {
                c.capture_mbps.push_back(bytes * 8 * 1e3 / static_cast<double>(last->ns - first->ns));
                c.captured += n;
                c.expected += hi - lo + 1;
            }
        } else {
            const double ns_per_tick = 1e9 / static_cast<double>(hz);
            for (std::size_t i = 1; i < stamps.tsc.size(); ++i) {
                c.gaps.push_back(static_cast<double>(stamps.tsc[i] - stamps.tsc[i - 1]) * ns_per_tick);
            }
        }
        char line[256];
        std::snprintf(line, sizeof line, "pace %s %s: %.1f Mbit/s, worker on CPU %.0f %% of the slice%s", name.c_str(),
                      what.c_str(), mbps, 100 * c.share.back(),
                      capture && !c.capture_mbps.empty() ? (", far end " + std::to_string(static_cast<long>(c.capture_mbps.back())) + " Mbit/s").c_str() : "");
        progress(line);
    };
    auto label = [](const Config& c) {
        return c.rate_mbps == 0 ? std::string("unpaced") : std::to_string(c.rate_mbps) + " Mbit/s burst " + std::to_string(c.burst_us) + " us";
    };

    // The limit first (the unpaced rate), then every rate below it.
    std::vector<Config> configs(1);
    run_slice(configs[0], "unpaced (the limit)");
    const double limit = configs[0].achieved[0];
    const std::vector<std::uint64_t> rates = a.quick ? std::vector<std::uint64_t>{100, 1000} : a.rates_mbps;
    const std::vector<std::uint64_t> bursts = a.quick ? std::vector<std::uint64_t>{0} : a.burst_us;
    for (const std::uint64_t rate : rates) {
        if (static_cast<double>(rate) > limit && rate != rates.front()) continue;
        for (const std::uint64_t us : bursts) {
            Config c;
            c.rate_mbps = rate;
            c.burst_us = us;
            if (us != 0) {
                c.burst_bytes = std::clamp<std::uint64_t>(rate * 1'000'000 / 8 * us / 1'000'000, 2 * (frame + 24), 1ULL << 30);
            }
            configs.push_back(std::move(c));
        }
    }
    const unsigned rounds = a.quick ? 1 : a.rounds;
    for (unsigned round = 0; round < rounds; ++round) {
        std::vector<std::size_t> order(configs.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        if (round % 2 == 1) std::reverse(order.begin(), order.end());
        for (std::size_t i : order) {
            if (round == 0 && i == 0) continue;  // the limit's first slice is above
            run_slice(configs[i], label(configs[i]) + " (round " + std::to_string(round + 1) + "/" + std::to_string(rounds) + ")");
        }
    }
    rte_eth_remove_tx_callback(port.id(), 0, cb);
    rte_ring_free(inbox);
    rte_ring_free(outbox);

    std::vector<PaceRow> rows;
    for (Config& c : configs) {
        PaceRow r;
        r.profile = name;
        r.requested_mbps = c.rate_mbps;
        r.burst_us = c.burst_us;
        r.burst_bytes = c.burst_bytes;
        r.slices = static_cast<unsigned>(c.achieved.size());
        r.achieved_mbps = median(c.achieved);
        r.achieved_min_mbps = *std::min_element(c.achieved.begin(), c.achieved.end());
        r.achieved_max_mbps = *std::max_element(c.achieved.begin(), c.achieved.end());
        r.worker_cpu_share = median(c.share);
        r.gap_source = capture ? "capture" : "tsc";
        r.ideal_gap_ns = c.rate_mbps ? wire_bits * 1e3 / static_cast<double>(c.rate_mbps) : 0;
        r.gaps = c.gaps.size();
        r.gap_p50_ns = percentile(c.gaps, 0.5);
        r.gap_p99_ns = percentile(c.gaps, 0.99);
        r.gap_max_ns = c.gaps.empty() ? 0 : *std::max_element(c.gaps.begin(), c.gaps.end());
        if (capture) {
            r.capture_mbps = median(c.capture_mbps);
            r.capture_coverage = c.expected ? static_cast<double>(c.captured) / static_cast<double>(c.expected) : 0;
        }
        r.load1 = load1;
        rows.push_back(r);
    }
    return rows;
}

Json row_json(const PaceRow& r) {
    return Json{{"profile", r.profile}, {"requested_mbps", r.requested_mbps}, {"burst_us", r.burst_us},
                {"burst_bytes", r.burst_bytes}, {"slices", r.slices}, {"achieved_mbps", r.achieved_mbps},
                {"achieved_min_mbps", r.achieved_min_mbps}, {"achieved_max_mbps", r.achieved_max_mbps},
                {"worker_cpu_share", r.worker_cpu_share}, {"gap_source", r.gap_source}, {"ideal_gap_ns", r.ideal_gap_ns},
                {"gaps", r.gaps}, {"gap_p50_ns", r.gap_p50_ns}, {"gap_p99_ns", r.gap_p99_ns}, {"gap_max_ns", r.gap_max_ns},
                {"capture_mbps", r.capture_mbps}, {"capture_coverage", r.capture_coverage}, {"load1", r.load1}};
}

PaceRow row_from(const Json& j) {
    PaceRow r;
    r.profile = j.at("profile").get<std::string>();
    r.requested_mbps = j.at("requested_mbps").get<std::uint64_t>();
    r.burst_us = j.at("burst_us").get<std::uint64_t>();
    r.burst_bytes = j.at("burst_bytes").get<std::uint64_t>();
    r.slices = j.at("slices").get<unsigned>();
    r.achieved_mbps = j.at("achieved_mbps").get<double>();
    r.achieved_min_mbps = j.at("achieved_min_mbps").get<double>();
    r.achieved_max_mbps = j.at("achieved_max_mbps").get<double>();
    r.worker_cpu_share = j.at("worker_cpu_share").get<double>();
    r.gap_source = j.at("gap_source").get<std::string>();
    r.ideal_gap_ns = j.at("ideal_gap_ns").get<double>();
    r.gaps = j.at("gaps").get<std::uint64_t>();
    r.gap_p50_ns = j.at("gap_p50_ns").get<double>();
    r.gap_p99_ns = j.at("gap_p99_ns").get<double>();
    r.gap_max_ns = j.at("gap_max_ns").get<double>();
    r.capture_mbps = j.at("capture_mbps").get<double>();
    r.capture_coverage = j.at("capture_coverage").get<double>();
    r.load1 = j.at("load1").get<double>();
    return r;
}

}  // namespace

std::vector<PaceRow> run_bench_pace(const BenchPaceArgs& a, const std::function<void(const std::string&)>& progress) {
    std::vector<PaceRow> rows;
    for (const std::string& path : a.profiles) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
        std::fflush(nullptr);
        const bool own_prefix = std::getenv("REPLICAST_FILE_PREFIX") == nullptr;
        const pid_t pid = fork();
        if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
        if (pid == 0) {
            // The child: one EAL, one profile; rows go back as JSON lines.
            close(fds[0]);
            int rc = 0;
            try {
                if (own_prefix) setenv("REPLICAST_FILE_PREFIX", ("rc-pace-" + std::to_string(getpid())).c_str(), 1);
                std::string out;
                for (const PaceRow& r : run_profile(a, path, progress)) out += row_json(r).dump() + "\n";
                for (std::size_t done = 0; done < out.size();) {
                    const ssize_t n = write(fds[1], out.data() + done, out.size() - done);
                    if (n <= 0) break;
                    done += static_cast<std::size_t>(n);
                }
            } catch (const std::exception& e) {
                std::fprintf(stderr, "replicast bench pace: %s: %s\n", path.c_str(), e.what());
                rc = 1;
            }
            std::fflush(nullptr);
            _exit(rc);  // no atexit work of the parent's (the EAL was the child's own)
        }
        close(fds[1]);
        std::string in;
        char buf[4096];
        for (;;) {
            const ssize_t n = read(fds[0], buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            in.append(buf, static_cast<std::size_t>(n));
        }
        close(fds[0]);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (own_prefix) std::filesystem::remove_all("/var/run/dpdk/rc-pace-" + std::to_string(pid));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            throw std::runtime_error(path + ": the run failed (" +
                                     (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                                        : "signal " + std::to_string(WTERMSIG(status))) + ")");
        }
        for (std::size_t at = 0; at < in.size();) {
            const std::size_t nl = in.find('\n', at);
            rows.push_back(row_from(Json::parse(in.substr(at, nl - at))));
            at = nl == std::string::npos ? in.size() : nl + 1;
        }
    }
    return rows;
}

}  // namespace replicast::tools
