#include "engine/control/client.hpp"

#include <chrono>

#include <grpcpp/grpcpp.h>

#include "engine/control/heap.hpp"
#include "engine/control/replicast.grpc.pb.h"
#include "engine/control/tls.hpp"

namespace replicast::control {

namespace {

Result from_grpc(const grpc::Status& s) {
    if (s.ok()) return Result::ok();
    return {static_cast<Code>(s.error_code()), s.error_message()};
}

}  // namespace

struct ControlClient::Impl {
    ClientOptions options;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<v1::Replicast::Stub> stub;

    void deadline(grpc::ClientContext& c, bool stream) const {
        c.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(stream ? options.stream_deadline_ms : options.deadline_ms));
    }

    template <typename Req>
    static Req with_stats(Req r, const v1::ReceiveStats* stats) {
        if (stats != nullptr) *r.mutable_stats() = *stats;
        return r;
    }
};

ControlClient::ControlClient(const std::string& target, const ClientTls& tls, const ClientOptions& options)
    : impl_(std::make_unique<Impl>()) {
    keep_freed_heap();
    impl_->options = options;
    const std::string cert = read_pem(tls.certificate, "client certificate");
    const std::string key = read_pem(tls.private_key, "client private key");
    const std::string ca = read_pem(tls.ca, "server CA");
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(static_cast<int>(options.max_message_bytes));
    args.SetMaxSendMessageSize(static_cast<int>(options.max_message_bytes));
    if (!tls.server_name.empty()) args.SetSslTargetNameOverride(tls.server_name);
    // A restarted server must be reached again at once. gRPC's defaults (a
    // reconnect backoff growing to 120 s, a name re-resolved at most every
    // 30 s) left a client failing every call with the dead connection's error
    // for ~15 s after the server was back (tests/e2e/test_server_sigkill.py;
    // a fresh process got through in 0.4 s). The resolver's interval was the
    // larger part; the backoff cap bounds a longer outage.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 500);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    args.SetInt(GRPC_ARG_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS, 500);
    impl_->channel = grpc::CreateCustomChannel(target, client_credentials(cert, key, ca), args);
    impl_->stub = v1::Replicast::NewStub(impl_->channel);
}

ControlClient::~ControlClient() = default;

Result ControlClient::subscribe(const std::string& database, v1::Subscription& out, const v1::ReceiveStats* stats) {
    v1::SubscribeRequest r;
    r.set_database(database);
    grpc::ClientContext c;
    impl_->deadline(c, false);
    return from_grpc(impl_->stub->Subscribe(&c, Impl::with_stats(r, stats), &out));
}

Result ControlClient::unsubscribe(std::uint32_t stream_id, const v1::ReceiveStats* stats) {
    v1::UnsubscribeRequest r;
    r.set_stream_id(stream_id);
    v1::UnsubscribeReply out;
    grpc::ClientContext c;
    impl_->deadline(c, false);
    return from_grpc(impl_->stub->Unsubscribe(&c, Impl::with_stats(r, stats), &out));
}

Result ControlClient::keys(std::uint32_t stream_id, v1::KeysReply& out, const v1::ReceiveStats* stats) {
    v1::KeysRequest r;
    r.set_stream_id(stream_id);
    grpc::ClientContext c;
    impl_->deadline(c, false);
    return from_grpc(impl_->stub->Keys(&c, Impl::with_stats(r, stats), &out));
}

// A server stream read to its end, or until `on_message` says stop (then the
// call is cancelled and the result says so rather than what the server had).
template <typename Message>
Result read_stream(grpc::ClientContext& c, grpc::ClientReader<Message>& reader,
                   const std::function<bool(const Message&)>& on_message) {
    Message m;
    bool cancelled = false;
    while (reader.Read(&m)) {
        if (!on_message(m)) {
            cancelled = true;
            c.TryCancel();
            break;
        }
    }
    const grpc::Status s = reader.Finish();
    if (cancelled) return {Code::cancelled, "cancelled by the caller"};
    return from_grpc(s);
}

Result ControlClient::recover(std::uint32_t stream_id, std::uint64_t from, std::uint64_t to,
                              const std::function<bool(const v1::RecoverBatch&)>& on_batch,
                              const v1::ReceiveStats* stats) {
    v1::RecoverRequest r;
    r.set_stream_id(stream_id);
    r.set_from_lsn(from);
    r.set_to_lsn(to);
    grpc::ClientContext c;
    impl_->deadline(c, true);
    return read_stream(c, *impl_->stub->Recover(&c, Impl::with_stats(r, stats)), on_batch);
}

Result ControlClient::snapshot(const std::string& database, const std::function<bool(const v1::SnapshotPage&)>& on_page,
                               const v1::ReceiveStats* stats) {
    v1::SnapshotRequest r;
    r.set_database(database);
    grpc::ClientContext c;
    impl_->deadline(c, true);
    return read_stream(c, *impl_->stub->Snapshot(&c, Impl::with_stats(r, stats)), on_page);
}

Result ControlClient::publish(const v1::PublishRequest& request, v1::PublishReply& out) {
    grpc::ClientContext c;
    impl_->deadline(c, false);
    return from_grpc(impl_->stub->Publish(&c, request, &out));
}

Result ControlClient::databases(v1::DatabasesReply& out, const v1::ReceiveStats* stats) {
    grpc::ClientContext c;
    impl_->deadline(c, false);
    return from_grpc(impl_->stub->Databases(&c, Impl::with_stats(v1::DatabasesRequest{}, stats), &out));
}

Result ControlClient::stats(v1::StatsReply& out) {
    grpc::ClientContext c;
    impl_->deadline(c, false);
    return from_grpc(impl_->stub->Stats(&c, v1::StatsRequest{}, &out));
}

Result ControlClient::rotate_key(const std::string& database, std::uint32_t& next_epoch) {
    v1::RotateKeyRequest r;
    r.set_database(database);
    v1::RotateKeyReply out;
    grpc::ClientContext c;
    impl_->deadline(c, false);
    const Result res = from_grpc(impl_->stub->RotateKey(&c, r, &out));
    if (res) next_epoch = out.next_epoch();
    return res;
}

}  // namespace replicast::control
