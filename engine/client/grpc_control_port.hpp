// ControlPort over the real control plane: control::ControlClient (gRPC over
// mutual TLS 1.3), converting between the proto messages and the plain types
// the followers use. Addresses arrive as dotted quads and are checked here: a
// server that sends a malformed one gets INVALID_ARGUMENT back from us, never
// a crash.
#pragma once

#include <memory>
#include <string>

#include "engine/client/control_port.hpp"
#include "engine/control/client.hpp"

namespace replicast::client {

class GrpcControlPort : public ControlPort {
public:
    /// Throws control::ControlError when a PEM file cannot be read.
    GrpcControlPort(const std::string& target, const control::ClientTls& tls, const control::ClientOptions& options = {});

    Result subscribe(const std::string& database, Subscription& out, const ReceiveStats& stats) override;
    Result unsubscribe(std::uint32_t stream_id, const ReceiveStats& stats) override;
    Result keys(std::uint32_t stream_id, KeySet& out, const ReceiveStats& stats) override;
    Result recover(std::uint32_t stream_id, std::uint64_t from, std::uint64_t to,
                   const std::function<bool(const RecoveredBatch&)>& on_batch, const ReceiveStats& stats) override;
    Result snapshot(const std::string& database, const std::function<bool(const SnapshotPage&)>& on_page,
                    const ReceiveStats& stats) override;
    Result databases(std::vector<DatabaseEntry>& out, const ReceiveStats& stats) override;

private:
    control::ControlClient client_;
};

}  // namespace replicast::client
