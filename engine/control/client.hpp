// The typed C++ client of the control service (PROTOCOL.md section 2), used by
// the replica daemon and the CLI. One gRPC channel over TLS 1.3 with this
// host's client certificate. Every call has a deadline, returns a Result with
// gRPC's code (UNAVAILABLE: no TLS session or no server; retry with backoff)
// and may carry the caller's receive statistics.
//
// Threading: a ControlClient may be used from several threads at once (gRPC
// channels and stubs are thread-safe); the callbacks of recover() and
// snapshot() run on the calling thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "engine/control/result.hpp"
#include "engine/control/replicast.pb.h"

namespace replicast::control {

/// This host's certificate and key, and the CA that signed the server's certificate.
struct ClientTls {
    std::string certificate;  // PEM paths
    std::string private_key;
    std::string ca;
    std::string server_name;  // the name the server certificate must carry; empty = the target's host
};

struct ClientOptions {
    std::uint32_t deadline_ms = 10'000;          // unary calls
    std::uint32_t stream_deadline_ms = 600'000;  // Recover and Snapshot, whole
    std::uint32_t max_message_bytes = 64u << 20;
};

class ControlClient {
public:
    /// `target`: "host:port". Throws ControlError when a PEM file cannot be read.
    ControlClient(const std::string& target, const ClientTls& tls, const ClientOptions& options = {});
    ~ControlClient();
    ControlClient(const ControlClient&) = delete;
    ControlClient& operator=(const ControlClient&) = delete;

    Result subscribe(const std::string& database, v1::Subscription& out, const v1::ReceiveStats* stats = nullptr);
    Result unsubscribe(std::uint32_t stream_id, const v1::ReceiveStats* stats = nullptr);
    Result keys(std::uint32_t stream_id, v1::KeysReply& out, const v1::ReceiveStats* stats = nullptr);

    /// Streams [from, to]: `on_batch` sees every batch in order; returning false cancels.
    Result recover(std::uint32_t stream_id, std::uint64_t from, std::uint64_t to,
                   const std::function<bool(const v1::RecoverBatch&)>& on_batch, const v1::ReceiveStats* stats = nullptr);
    /// Streams the pages of a snapshot of `database`; returning false cancels.
    Result snapshot(const std::string& database, const std::function<bool(const v1::SnapshotPage&)>& on_page,
                    const v1::ReceiveStats* stats = nullptr);

    Result publish(const v1::PublishRequest& request, v1::PublishReply& out);
    Result databases(v1::DatabasesReply& out, const v1::ReceiveStats* stats = nullptr);
    Result stats(v1::StatsReply& out);
    Result rotate_key(const std::string& database, std::uint32_t& next_epoch);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace replicast::control
