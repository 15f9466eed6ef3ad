// The gRPC half of the control service: TLS credentials, limits, identity
// from the auth context, and one adapter per RPC onto Service's handlers.
#include "engine/control/control_server.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/support/method_handler.h>

#include "engine/control/heap.hpp"
#include "engine/control/replicast.grpc.pb.h"
#include "engine/control/service.hpp"
#include "engine/control/tls.hpp"
#include "engine/logging/log.hpp"

namespace replicast::control {

namespace {

grpc::Status to_grpc(const Result& r) {
    if (r) return grpc::Status::OK;
    return {static_cast<grpc::StatusCode>(r.code()), r.message()};
}

std::string resolve(const std::string& base_dir, const std::string& path) {
    if (path.empty() || std::filesystem::path(path).is_absolute() || base_dir.empty()) return path;
    return (std::filesystem::path(base_dir) / path).string();
}

std::vector<std::string> property(const grpc::AuthContext& ctx, const char* name) {
    std::vector<std::string> out;
    for (const grpc::string_ref& v : ctx.FindPropertyValues(name)) out.emplace_back(v.data(), v.size());
    return out;
}

// One adapter per RPC: the identity from the TLS session, the request read
// and parsed here, then the handler.
//
// Every method is registered "streamed" (gRPC's StreamedUnary and
// SplitServerStreaming handlers, BIDI_STREAMING to gRPC's core), reading its
// request as raw bytes, instead of letting gRPC read and parse it before any
// handler: that way the service sees and counts every request gRPC refuses
// for it. A request over max_message_bytes is refused by gRPC's core
// (RESOURCE_EXHAUSTED, the call cancelled) before anything of ours could see
// it in a plain unary method; here the Read fails and it is counted
// (ControlCounters.exhausted and .oversize). Bytes that do not parse as the
// method's message are INVALID_ARGUMENT, counted too. The wire is the same
// as for unary and server-streaming methods: clients see no difference.
//
// The cost: the handler's thread now waits for the request's bytes, where
// gRPC used to wait without a thread. A caller (it holds a certificate the
// CA signed) that opens calls and never sends their request would hold
// threads; at most kMaxReadingPerIdentity per identity may wait so, the
// others are refused RESOURCE_EXHAUSTED at once.
class GrpcService final : public v1::Replicast::Service {
public:
    static constexpr std::uint32_t kMaxReadingPerIdentity = 8;

    GrpcService(control::Service& s, IdentitySource source) : s_(s), source_(source) {
        // Indices: the order of the rpc lines in replicast.proto.
        unary<v1::SubscribeRequest, v1::Subscription>(0, "Subscribe", &control::Service::subscribe);
        unary<v1::UnsubscribeRequest, v1::UnsubscribeReply>(1, "Unsubscribe", &control::Service::unsubscribe);
        unary<v1::KeysRequest, v1::KeysReply>(2, "Keys", &control::Service::keys);
        MarkMethodStreamed(3, new grpc::internal::SplitServerStreamingHandler<grpc::ByteBuffer, v1::RecoverBatch>(
                                  [this](grpc::ServerContext* c, grpc::ServerSplitStreamer<grpc::ByteBuffer, v1::RecoverBatch>* w) {
                                      v1::RecoverRequest q;
                                      std::string who;
                                      if (Result r = read(*c, *w, "Recover", q, who); !r) return to_grpc(r);
                                      return to_grpc(s_.recover(who, q, [&](const v1::RecoverBatch& b) {
                                          return !c->IsCancelled() && w->Write(b);
                                      }));
                                  }));
        MarkMethodStreamed(4, new grpc::internal::SplitServerStreamingHandler<grpc::ByteBuffer, v1::SnapshotPage>(
                                  [this](grpc::ServerContext* c, grpc::ServerSplitStreamer<grpc::ByteBuffer, v1::SnapshotPage>* w) {
                                      v1::SnapshotRequest q;
                                      std::string who;
                                      if (Result r = read(*c, *w, "Snapshot", q, who); !r) return to_grpc(r);
                                      return to_grpc(s_.snapshot(who, q, [&](const v1::SnapshotPage& p) {
                                          return !c->IsCancelled() && w->Write(p);
                                      }));
                                  }));
        unary<v1::DatabasesRequest, v1::DatabasesReply>(5, "Databases", &control::Service::databases);
        unary<v1::PublishRequest, v1::PublishReply>(6, "Publish", &control::Service::publish);
        unary<v1::StatsRequest, v1::StatsReply>(7, "Stats", &control::Service::stats);
        unary<v1::RotateKeyRequest, v1::RotateKeyReply>(8, "RotateKey", &control::Service::rotate_key);
    }

private:
    template <class Req, class Reply>
    using Handler = Result (control::Service::*)(std::string_view, const Req&, Reply&);

    // A named functor rather than a lambda capturing a member-function pointer:
    // GCC 12 under -fsanitize=address,undefined miscompiled that lambda (it
    // warned "may be used uninitialized" at the call and, at run time, UBSan
    // saw the captured `this` as 0x1).
    template <class Req, class Reply>
    struct UnaryCall {
        GrpcService* self;
        const char* method;
        Handler<Req, Reply> handle;
        grpc::Status operator()(grpc::ServerContext* c, grpc::ServerUnaryStreamer<grpc::ByteBuffer, Reply>* stream) const {
            Req q;
            std::string who;
            if (Result r = self->read(*c, *stream, method, q, who); !r) return to_grpc(r);
            Reply a;
            const std::string_view id(who);
            const Result r = std::invoke(handle, self->s_, id, q, a);
            if (r) (void)stream->Write(a);
            return to_grpc(r);
        }
    };

    template <class Req, class Reply>
    void unary(int index, const char* method, Handler<Req, Reply> handle) {
        MarkMethodStreamed(index, new grpc::internal::StreamedUnaryHandler<grpc::ByteBuffer, Reply>(
                                      UnaryCall<Req, Reply>{this, method, handle}));
    }

    /// The caller's identity and its request, or the refusal (counted).
    template <class Req, class Stream>
    Result read(grpc::ServerContext& c, Stream& stream, const char* method, Req& q, std::string& who) {
        who = identity(c);
        if (!enter(who)) {
            const Result r{Code::resource_exhausted, "identity \"" + who + "\" already has " +
                                                         std::to_string(kMaxReadingPerIdentity) +
                                                         " calls waiting for their request"};
            s_.count(r);
            return r;
        }
        grpc::ByteBuffer bytes;
        const bool got = stream.Read(&bytes);
        leave(who);
        if (!got) {
            // No whole request: over max_message_bytes (gRPC has cancelled the
            // call, RESOURCE_EXHAUSTED; the caller sees that answer), or the
            // caller cancelled or half-closed first. They cannot be told apart here.
            const Result r{Code::resource_exhausted, std::string("no request for ") + method +
                                                         " arrived whole (over max_message_bytes, or cancelled)"};
            s_.count_oversize(r);
            return r;
        }
        if (!grpc::SerializationTraits<Req>::Deserialize(&bytes, &q).ok()) {
            const Result r{Code::invalid_argument, std::string("the request does not parse as ") + method + "'s message"};
            s_.count(r);
            return r;
        }
        return Result::ok();
    }

    bool enter(const std::string& who) {
        std::lock_guard lock(reading_mutex_);
        std::uint32_t& n = reading_[who];
        if (n >= kMaxReadingPerIdentity) return false;
        ++n;
        return true;
    }
    void leave(const std::string& who) {
        std::lock_guard lock(reading_mutex_);
        const auto it = reading_.find(who);
        if (it != reading_.end() && --it->second == 0) reading_.erase(it);
    }

    // Empty when the session has no certificate identity: no access-list
    // entry has an empty name, so such a call is PERMISSION_DENIED.
    std::string identity(const grpc::ServerContext& c) const {
        const auto ctx = c.auth_context();
        if (!ctx || !ctx->IsPeerAuthenticated()) return {};
        return peer_identity(source_, property(*ctx, GRPC_X509_CN_PROPERTY_NAME),
                             property(*ctx, GRPC_PEER_URI_PROPERTY_NAME));
    }

    control::Service& s_;
    IdentitySource source_;
    std::mutex reading_mutex_;  // guards reading_ (control plane only)
    std::map<std::string, std::uint32_t, std::less<>> reading_;
};

}  // namespace

void read_control_config(config::TableReader& table, ControlConfig& out, const std::string& base_dir) {
    table.string("listen", out.listen);
    for (auto [key, field] : {std::pair<const char*, std::string*>{"certificate", &out.certificate},
                              {"private_key", &out.private_key}, {"ca", &out.ca}, {"access_list", &out.access_list}}) {
        table.string(key, *field);
        if (field->empty()) table.fail(key, "is required (a file path)");
        *field = resolve(base_dir, *field);
    }
    if (out.listen.find(':') == std::string::npos) table.fail("listen", "must be HOST:PORT");
    table.choice("identity", out.identity, {{"common_name", IdentitySource::common_name}, {"uri_san", IdentitySource::uri_san}});
    table.integer("max_message_bytes", out.max_message_bytes, 4096, 1 << 30);
    table.integer("recover_batch_bytes", out.recover_batch_bytes, 1024, 64 << 20);
    table.integer("snapshot_page_bytes", out.snapshot_page_bytes, 1024, 64 << 20);
    table.integer("max_recoveries_per_identity", out.max_recoveries_per_identity, 1, 1024);
    table.integer("max_snapshots_per_identity", out.max_snapshots_per_identity, 1, 1024);
    table.integer("stream_deadline_ms", out.stream_deadline_ms, 100, 86'400'000);
    table.integer("publish_window_seconds", out.publish_window_seconds, 1, 30 * 86'400);
    table.integer("threads", out.threads, 1, 256);
    table.integer("threads_nice", out.threads_nice, 0, 19);
    if (out.recover_batch_bytes > out.max_message_bytes) table.fail("recover_batch_bytes", "exceeds max_message_bytes");
    if (out.snapshot_page_bytes > out.max_message_bytes) table.fail("snapshot_page_bytes", "exceeds max_message_bytes");
}

struct ControlServer::Impl {
    ControlConfig config;
    control::Service service;
    GrpcService grpc_service;
    std::unique_ptr<grpc::Server> server;
    int port = 0;
    std::mutex reload_mutex;  // one reload at a time

    Impl(const ControlConfig& c, ControlBackend& backend)
        : config(c), service(c, backend, AccessList::load(c.access_list)), grpc_service(service, c.identity) {}
};

ControlServer::ControlServer(const ControlConfig& config, ControlBackend& backend)
    : impl_(std::make_unique<Impl>(config, backend)) {
    keep_freed_heap();
    if (config.threads_nice == 0) {
        start(config);
        return;
    }
    // gRPC's threads are made by the thread that builds the server, and by
    // those threads later: each inherits its creator's nice value (and CPU
    // set). So a helper thread lowers its own priority and builds it; the
    // caller's thread (the server's control core) keeps its own.
    std::exception_ptr failed;
    int nice_error = 0;
    std::thread helper([&] {
        if (setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), static_cast<int>(config.threads_nice)) != 0) {
            nice_error = errno;
            return;
        }
        try {
            start(config);
        } catch (...) {
            failed = std::current_exception();
        }
    });
    helper.join();
    if (nice_error != 0) {
        throw ControlError("control: threads_nice " + std::to_string(config.threads_nice) +
                           ": setpriority: " + std::strerror(nice_error));
    }
    if (failed) std::rethrow_exception(failed);
}

void ControlServer::start(const ControlConfig& config) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort(config.listen, server_credentials(config), &impl_->port);
    builder.RegisterService(&impl_->grpc_service);
    builder.SetMaxReceiveMessageSize(static_cast<int>(config.max_message_bytes));
    // A reply holds at least one whole update (16 MiB of value and its key), whatever the request limit.
    builder.SetMaxSendMessageSize(static_cast<int>(std::max<std::uint32_t>(config.max_message_bytes, 17u << 20)));
    grpc::ResourceQuota quota("replicast-control");
    quota.SetMaxThreads(static_cast<int>(std::max<std::uint32_t>(config.threads, 2)));
    builder.SetResourceQuota(quota);
    impl_->server = builder.BuildAndStart();
    if (!impl_->server || impl_->port == 0) throw ControlError("control: cannot listen on " + config.listen);
    logging::get("control")->info("control plane listening on {} (port {}), TLS 1.3, client certificates from {}{}",
                                  config.listen, impl_->port, config.ca,
                                  config.threads_nice == 0 ? std::string()
                                                           : ", gRPC threads at nice " + std::to_string(config.threads_nice));
}

ControlServer::~ControlServer() { shutdown(); }

int ControlServer::port() const noexcept { return impl_->port; }

Result ControlServer::reload_access_list() {
    std::lock_guard lock(impl_->reload_mutex);
    std::shared_ptr<const AccessList> next;
    try {
        next = AccessList::load(impl_->config.access_list);
    } catch (const std::exception& e) {
        logging::get("control")->error("access list not reloaded, the old one stays: {}", e.what());
        return {Code::invalid_argument, e.what()};
    }
    logging::get("control")->info("access list reloaded from {}: {} identities", impl_->config.access_list,
                                  next->entries().size());
    return impl_->service.replace_access_list(std::move(next));
}

void ControlServer::shutdown() {
    if (!impl_ || !impl_->server) return;
    impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    impl_->server->Wait();
    impl_->server.reset();
}

}  // namespace replicast::control
