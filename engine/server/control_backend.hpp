// The server's side of the control service (engine/control/backend.hpp): what
// gRPC threads may ask of a running Server. Stream state is read through the
// views the loop publishes and changed only by commands the loop drains, so
// the loop stays the single writer; Publish writes through the store's hook
// (logged, then multicast like any local write), one writer at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>

#include "engine/control/backend.hpp"
#include "engine/server/server.hpp"

namespace replicast::server {

struct BackendOptions {
    std::uint64_t publish_window_ms = 86'400'000;               // request ids remembered this long
    std::chrono::milliseconds command_timeout{5000};            // a loop that takes longer: UNAVAILABLE
};

class ServerBackend final : public control::ControlBackend {
public:
    ServerBackend(Server& server, const BackendOptions& options) : server_(server), options_(options) {}

    store::MasterStore& store() noexcept override { return server_.store(); }
    std::shared_ptr<const control::StreamView> stream(std::string_view database, bool start, control::Result& why) override;
    std::shared_ptr<const control::StreamView> stream(std::uint32_t stream_id) override;
    control::Result publish(std::string_view database, std::span<const wire::UpdateView> ops,
                            std::span<const std::uint8_t> request_id, std::uint64_t& first_lsn, bool& duplicate) override;
    control::Result rotate_key(std::string_view database, std::uint32_t& next_epoch) override;
    void lease_horizon(std::uint32_t stream_id, std::uint64_t until_ns) override;
    void receiver_report(std::string_view identity, std::uint32_t stream_id, const control::ReceiverReport& report) override {
        server_.receiver_report(identity, stream_id, report);
    }
    void server_stats(v1::StatsReply& out) override;

private:
    Server& server_;
    BackendOptions options_;
    std::mutex publish_mutex_;  // MasterStore::write keeps one scratch buffer
};

}  // namespace replicast::server
