#include "engine/client/daemon.hpp"

#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "engine/logging/log.hpp"

namespace replicast::client {

namespace {

std::uint64_t steady_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

std::shared_ptr<spdlog::logger> log() {
    static const auto l = logging::get("client");
    return l;
}

}  // namespace

Daemon::Daemon(const ClientConfig& config, ControlPort& control, store::ReplicaStore& replica)
    : config_(config), control_(control), replica_(replica) {
    if (!config_.stats_socket.empty()) stats_server_ = std::make_unique<StatsServer>(config_.stats_socket, [this] { wakeup_.notify(); });
}

Daemon::~Daemon() = default;

bool Daemon::resolve_databases(std::uint64_t now_ns) {
    if (!config_.every_database()) return true;
    std::vector<DatabaseEntry> list;
    const Result r = control_.databases(list, ReceiveStats{.window_ms = 0, .applied_lsn = 0});
    if (!r) {
        static logging::RateLimit limit{std::chrono::seconds(10), 3};
        if (auto a = limit.admit(now_ns)) {
            log()->warn("Databases failed: {}; trying again ({} like it suppressed)", r.text(), a->suppressed);
        }
        return false;
    }
    config_.databases.clear();
    for (const DatabaseEntry& d : list) config_.databases.push_back(d.name);
    log()->info("following every database this identity may read: {}", config_.databases.size());
    return true;
}

void Daemon::make_followers(const std::atomic<bool>& stop) {
    for (const std::string& db : config_.databases) {
        FollowerConfig fc;
        fc.cancel = &stop;
        fc.wakeup = &wakeup_;
        fc.between_batches = [this] {
            if (stats_server_) (void)stats_server_->poll([this] { return stats_json(steady_ns()); });
        };
        fc.database = db;
        fc.receive = config_.receive;
        fc.gap = config_.gap;
        fc.error_rate = config_.error_rate;
        fc.keys_interval_ns = config_.keys_interval_ns;
        fc.silence_ns = config_.silence_ns;
        fc.report_interval_ns = config_.report_interval_ns;
        followers_.push_back(std::make_unique<Follower>(fc, replica_, control_));
        retry_at_.push_back(0);
    }
}

std::string Daemon::stats_json(std::uint64_t now_ns) const {
    nlohmann::json dbs = nlohmann::json::array();
    for (const auto& f : followers_) dbs.push_back(nlohmann::json::parse(to_json(f->stats(now_ns))));
    return nlohmann::json{{"store", config_.store},
                          {"uptime_ms", (now_ns - started_ns_) / 1'000'000},
                          {"databases", dbs}}
        .dump();
}

int Daemon::run(const std::atomic<bool>& stop) {
    started_ns_ = steady_ns();
    while (!stop.load(std::memory_order_acquire) && !resolve_databases(steady_ns())) {
        for (std::uint32_t i = 0; i < config_.retry_ms && !stop.load(std::memory_order_acquire); i += 10) ::usleep(10'000);
    }
    make_followers(stop);
    std::uint64_t next_log = started_ns_ + std::uint64_t{config_.log_interval_ms} * 1'000'000;
    while (!stop.load(std::memory_order_acquire)) {
        const std::uint32_t seen = wakeup_.sequence();  // before the pass: no batch queued after it is missed
        const std::uint64_t now = steady_ns();
        std::size_t work = 0, alive = 0;
        for (std::size_t i = 0; i < followers_.size(); ++i) {
            Follower& f = *followers_[i];
            if ((f.state() == Follower::State::idle || f.state() == Follower::State::failed) && now >= retry_at_[i]) {
                retry_at_[i] = now + std::uint64_t{config_.retry_ms} * 1'000'000;
                (void)f.start(now);
            }
            if (f.state() != Follower::State::denied) ++alive;
            work += f.step(now);
        }
        if (alive == 0) {
            log()->error("no database left to follow (every one refused or none listed): exiting");
            break;
        }
        if (stats_server_) work += stats_server_->poll([&] { return stats_json(now); });
        if (config_.log_interval_ms != 0 && now >= next_log) {
            next_log = now + std::uint64_t{config_.log_interval_ms} * 1'000'000;
            for (const auto& f : followers_) log()->info("{}", summary_line(f->stats(now)));
        }
        if (work == 0) wakeup_.wait(seen, kIdleWaitMs);
    }
    const bool requested = stop.load(std::memory_order_acquire);
    const std::uint64_t now = steady_ns();
    for (const auto& f : followers_) {
        f->stop(now);
        log()->info("{}", summary_line(f->stats(now)));
    }
    return requested ? 0 : 1;
}

}  // namespace replicast::client
