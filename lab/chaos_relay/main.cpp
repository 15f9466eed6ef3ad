// chaos-relay: bridges frames between two interfaces with AF_PACKET sockets
// and, toward the downstream one only, reorders, delays, duplicates and
// corrupts UDP frames (relay.hpp, chaos.hpp). Frames from downstream go back
// untouched. One thread, poll-driven; the delay and hold timers are the poll
// timeout. Its counters go out as one JSON object on stdout at exit (SIGTERM,
// SIGINT) and, every --stats-interval-ms, into --stats-file (replaced whole).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "engine/logging/log.hpp"
#include "lab/chaos_relay/packet_socket.hpp"
#include "lab/chaos_relay/relay.hpp"

namespace {

using replicast::chaos::Counters;
using replicast::chaos::Knobs;
using replicast::chaos::PacketSocket;
using replicast::chaos::Relay;

constexpr int kBurst = 64;  // frames read per socket per wake-up: the other side and the timers get a turn
// A GSO super-packet is up to 64 KiB of IP plus the Ethernet and virtio headers.
constexpr std::size_t kSlotBytes = replicast::chaos::kVnetHeaderBytes + 14 + 65535 + 1;

std::uint64_t now_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
}

class SocketSink final : public Relay::Sink {
public:
    explicit SocketSink(PacketSocket& s) : s_(s) {}
    bool send(std::span<const std::byte> bytes) noexcept override { return s_.send(bytes); }

private:
    PacketSocket& s_;
};

nlohmann::json report(const Knobs& k, std::uint64_t seed, const Relay& relay) {
    return {{"seed", seed},
            {"knobs", {{"reorder", k.reorder}, {"reorder_depth", k.reorder_depth}, {"hold_max_us", k.hold_max_us},
                       {"duplicate", k.duplicate}, {"delay", k.delay}, {"delay_min_us", k.delay_min_us},
                       {"delay_max_us", k.delay_max_us}, {"corrupt", k.corrupt}}},
            {"pending", relay.pending()},
            {"counters", relay.counters().to_json()}};
}

bool write_stats(const std::string& path, const nlohmann::json& j) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp, std::ios::trunc);
        if (!(f << j.dump() << '\n')) return false;
    }
    return std::rename(tmp.c_str(), path.c_str()) == 0;
}

int run(int argc, char** argv) {
    CLI::App app{"chaos-relay: bridge two interfaces, reordering, delaying, duplicating and corrupting "
                 "UDP frames toward the downstream one"};
    std::string upstream, downstream, stats_file, level = "info";
    std::uint64_t seed = 1;
    std::uint32_t stats_interval_ms = 500, hold_max_ms = 20;
    std::uint16_t udp_port = 0;
    std::size_t slots = 256;
    Knobs k;
    app.add_option("--upstream", upstream, "interface toward the network (frames from it get the chaos)")->required();
    app.add_option("--downstream", downstream, "interface toward the victim (its frames go back untouched)")
        ->required();
    app.add_option("--seed", seed, "seed of every decision")->capture_default_str();
    app.add_option("--reorder", k.reorder, "probability a frame is held behind later ones")->check(CLI::Range(0.0, 1.0));
    app.add_option("--reorder-depth", k.reorder_depth, "frames that overtake a held one")->capture_default_str();
    app.add_option("--hold-max-ms", hold_max_ms, "a held frame leaves by then if too few follow")->capture_default_str();
    app.add_option("--duplicate", k.duplicate, "probability a frame is sent twice")->check(CLI::Range(0.0, 1.0));
    app.add_option("--delay", k.delay, "probability a frame is delayed")->check(CLI::Range(0.0, 1.0));
    app.add_option("--delay-min-us", k.delay_min_us, "shortest delay")->capture_default_str();
    app.add_option("--delay-max-us", k.delay_max_us, "longest delay")->capture_default_str();
    app.add_option("--corrupt", k.corrupt, "probability one UDP payload byte is flipped")->check(CLI::Range(0.0, 1.0));
    app.add_option("--udp-port", udp_port, "touch only UDP to this destination port (0: any)")->capture_default_str();
    app.add_option("--slots", slots, "frames that may be held or delayed at once (64 KiB each)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{4096}))
        ->capture_default_str();
    app.add_option("--stats-file", stats_file, "rewritten with the counters every --stats-interval-ms");
    app.add_option("--stats-interval-ms", stats_interval_ms, "")->check(CLI::Range(10u, 60'000u))->capture_default_str();
    app.add_option("--log-level", level, "trace..off")->capture_default_str();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (!replicast::logging::set_level(level)) {
        std::fprintf(stderr, "chaos-relay: --log-level: unknown level '%s'\n", level.c_str());
        return 2;
    }
    k.hold_max_us = std::uint64_t{hold_max_ms} * 1000;
    auto log = replicast::logging::get("chaos_relay");

    // SIGTERM and SIGINT arrive through a descriptor the loop polls.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    if (sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) throw std::runtime_error("sigprocmask failed");
    const int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));

    PacketSocket up(upstream), down(downstream);
    SocketSink to_down(down);
    Relay relay(k, seed,
                Relay::Layout{.slots = slots, .slot_bytes = kSlotBytes,
                              .header_bytes = replicast::chaos::kVnetHeaderBytes, .udp_port = udp_port},
                to_down);
    std::vector<std::byte> back(kSlotBytes);  // frames from downstream are sent at once
    Counters& c = relay.counters();
    log->info("relaying {} -> {} with chaos (seed {}, reorder {} depth {}, delay {} {}..{} us, duplicate {}, "
              "corrupt {}), {} -> {} untouched",
              upstream, downstream, seed, k.reorder, k.reorder_depth, k.delay, k.delay_min_us, k.delay_max_us,
              k.duplicate, k.corrupt, downstream, upstream);

    static replicast::logging::RateLimit error_limit{std::chrono::seconds(1), 3};
    const std::uint64_t stats_every_ns = std::uint64_t{stats_interval_ms} * 1'000'000;
    std::uint64_t next_stats = now_ns() + stats_every_ns;
    pollfd fds[3] = {{up.fd(), POLLIN, 0}, {down.fd(), POLLIN, 0}, {sfd, POLLIN, 0}};
    for (;;) {
        std::uint64_t now = now_ns();
        std::uint64_t wake = stats_file.empty() ? now + 1'000'000'000 : next_stats;
        if (auto due = relay.next_due_ns()) wake = std::min(wake, *due);
        const std::uint64_t wait = wake > now ? wake - now : 0;
        const timespec ts{.tv_sec = static_cast<time_t>(wait / 1'000'000'000),
                          .tv_nsec = static_cast<long>(wait % 1'000'000'000)};
        if (ppoll(fds, 3, &ts, nullptr) < 0 && errno != EINTR) {
            throw std::runtime_error(std::string("ppoll: ") + std::strerror(errno));
        }
        if (fds[2].revents & POLLIN) break;
        if (fds[0].revents & POLLIN) {
            for (int i = 0; i < kBurst; ++i) {
                std::size_t len = 0;
                const auto rx = up.receive(relay.rx_buffer(), len);
                if (rx == PacketSocket::Rx::again) break;
                if (rx == PacketSocket::Rx::truncated) {
                    ++c.truncated;
                    continue;
                }
                if (rx == PacketSocket::Rx::error) {
                    if (error_limit.admit()) log->warn("receive on {}: {}", upstream, std::strerror(errno));
                    break;
                }
                relay.on_frame(len, now_ns());
            }
        }
        if (fds[1].revents & POLLIN) {
            for (int i = 0; i < kBurst; ++i) {
                std::size_t len = 0;
                const auto rx = down.receive(back, len);
                if (rx == PacketSocket::Rx::again) break;
                if (rx == PacketSocket::Rx::truncated) {
                    ++c.truncated;
                    continue;
                }
                if (rx == PacketSocket::Rx::error) {
                    if (error_limit.admit()) log->warn("receive on {}: {}", downstream, std::strerror(errno));
                    break;
                }
                ++c.frames_back;
                if (up.send(std::span<const std::byte>(back).first(len))) {
                    ++c.sent_back;
                } else {
                    ++c.send_errors_back;
                }
            }
        }
        now = now_ns();
        relay.on_timer(now);
        if (!stats_file.empty() && now >= next_stats) {
            if (!write_stats(stats_file, report(k, seed, relay)) && error_limit.admit()) {
                log->warn("could not write the stats file {}", stats_file);
            }
            next_stats = now + stats_every_ns;
        }
    }
    relay.flush();
    const auto j = report(k, seed, relay);
    if (!stats_file.empty() && !write_stats(stats_file, j)) log->warn("could not write the stats file {}", stats_file);
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
    log->info("stopped: {} frames in, {} reordered, {} delayed, {} duplicated, {} corrupted", c.frames_in, c.reordered,
              c.delayed, c.duplicated, c.corrupted);
    ::close(sfd);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "chaos-relay: %s\n", e.what());
        return 1;
    }
}
