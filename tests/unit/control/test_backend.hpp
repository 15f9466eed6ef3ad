// A ControlBackend for tests over a real MasterStore.
//
// The real ControlBackend is the server's (engine/server, built on the lead's
// branch at the same time and not merged here yet): this small class stands in
// for it. It keeps streams as the server would publish them (immutable
// StreamViews swapped under a lock), serialises writes as the server must
// (MasterStore keeps one scratch buffer), and records every key rotation so
// that tests can see revocations act.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/control/backend.hpp"
#include "engine/control/replicast.pb.h"
#include "store/master.hpp"

namespace replicast::control::testing {

class TestBackend final : public ControlBackend {
public:
    explicit TestBackend(store::MasterStore& s, std::uint64_t window_ms = 60'000) : store_(s), window_ms_(window_ms) {}

    store::MasterStore& store() noexcept override { return store_; }

    std::shared_ptr<const StreamView> stream(std::string_view database, bool start, Result& why) override {
        std::lock_guard lock(mutex_);
        if (auto it = streams_.find(std::string(database)); it != streams_.end()) return it->second;
        if (!start || !startable_) {
            why = {Code::failed_precondition, "not started"};
            return nullptr;
        }
        std::uint32_t id = 0;
        if (const store::Status s = store_.database_id(database, false, id); !s) {
            why = {Code::not_found, s.message()};
            return nullptr;
        }
        auto v = std::make_shared<StreamView>();
        v->database = std::string(database);
        v->stream_id = id;
        v->streaming = true;
        v->group = 0xEF000001u + id;  // 239.0.0.1 + id
        v->port = 5000;
        v->source = 0x7F000001u;
        v->key_epoch = 1;
        v->keys.emplace_back(1, key_for(id, 1));
        streams_[v->database] = v;
        return v;
    }

    std::shared_ptr<const StreamView> stream(std::uint32_t stream_id) override {
        std::lock_guard lock(mutex_);
        for (const auto& [name, v] : streams_) {
            if (v->stream_id == stream_id) return v;
        }
        return nullptr;
    }

    Result publish(std::string_view database, std::span<const wire::UpdateView> ops,
                   std::span<const std::uint8_t> request_id, std::uint64_t& first_lsn, bool& duplicate) override {
        std::lock_guard lock(write_mutex_);  // MasterStore::write keeps one scratch buffer: writers serialise
        const auto now = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                        std::chrono::system_clock::now().time_since_epoch())
                                                        .count());
        const store::Status s = store_.write_once(database, ops, {.id = request_id, .now_ms = now, .window_ms = window_ms_},
                                                  first_lsn, duplicate);
        if (!s) return {s.code() == store::kBadUpdate ? Code::invalid_argument : Code::internal, s.message()};
        return Result::ok();
    }

    Result rotate_key(std::string_view database, std::uint32_t& next_epoch) override {
        std::lock_guard lock(mutex_);
        auto it = streams_.find(std::string(database));
        if (it == streams_.end()) return {Code::failed_precondition, "not multicast"};
        auto v = std::make_shared<StreamView>(*it->second);
        next_epoch = v->key_epoch + 1;
        v->keys.emplace_back(next_epoch, key_for(v->stream_id, next_epoch));
        it->second = v;
        rotated_.push_back(std::string(database));
        return Result::ok();
    }

    void lease_horizon(std::uint32_t stream_id, std::uint64_t until_ns) override {
        std::lock_guard lock(mutex_);
        horizons_[stream_id] = until_ns;
        horizon_calls_.fetch_add(1);
    }
    std::uint64_t horizon(std::uint32_t stream_id) {
        std::lock_guard lock(mutex_);
        auto it = horizons_.find(stream_id);
        return it == horizons_.end() ? 0 : it->second;
    }

    void server_stats(v1::StatsReply& out) override {
        out.set_uptime_ms(1234);
        std::lock_guard lock(mutex_);
        for (const auto& [name, v] : streams_) {
            v1::StreamStatistics* s = out.add_streams();
            s->set_database(name);
            s->set_stream_id(v->stream_id);
        }
    }

    std::vector<std::string> rotated() {
        std::lock_guard lock(mutex_);
        return rotated_;
    }
    void set_startable(bool on) { startable_ = on; }

    static crypto::Key key_for(std::uint32_t stream, std::uint32_t epoch) {
        crypto::Key k{};
        for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(stream * 31 + epoch * 7 + i);
        return k;
    }

    std::atomic<int> horizon_calls_{0};

private:
    store::MasterStore& store_;
    std::uint64_t window_ms_;
    std::mutex mutex_, write_mutex_;
    std::map<std::string, std::shared_ptr<const StreamView>> streams_;
    std::vector<std::string> rotated_;
    std::map<std::uint32_t, std::uint64_t> horizons_;
    std::atomic<bool> startable_{true};
};

}  // namespace replicast::control::testing
