#include "engine/server/control_plane.hpp"

#include <csignal>
#include <ctime>

#include "engine/logging/log.hpp"

namespace replicast::server {

void block_sighup() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

ControlPlane::ControlPlane(Server& server, const control::ControlConfig& config)
    : backend_(server, {.publish_window_ms = std::uint64_t{config.publish_window_seconds} * 1000}),
      service_(std::make_unique<control::ControlServer>(config, backend_)) {
    logging::get("server")->info("control service on {} (port {}), access list {}; SIGHUP reloads it", config.listen,
                                 service_->port(), config.access_list);
    sighup_ = std::thread([this] { watch_sighup(); });
}

ControlPlane::~ControlPlane() {
    stop_.store(true);
    sighup_.join();
    service_->shutdown();
}

void ControlPlane::watch_sighup() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    const timespec tick{.tv_sec = 0, .tv_nsec = 200'000'000};  // how soon a stop is noticed
    while (!stop_.load()) {
        if (sigtimedwait(&set, nullptr, &tick) != SIGHUP) continue;
        const control::Result r = service_->reload_access_list();
        if (r) {
            logging::get("server")->info("SIGHUP: access list reloaded");
        } else {
            logging::get("server")->error("SIGHUP: access list not reloaded, the old one stays: {}", r.text());
        }
    }
}

}  // namespace replicast::server
