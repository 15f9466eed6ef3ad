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
#include <mutex>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/support/server_interceptor.h>

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

// One adapter per RPC: the identity from the TLS session, then the handler.
class GrpcService final : public v1::Replicast::Service {
public:
    GrpcService(control::Service& s, IdentitySource source) : s_(s), source_(source) {}

    grpc::Status Subscribe(grpc::ServerContext* c, const v1::SubscribeRequest* q, v1::Subscription* a) override {
        return to_grpc(s_.subscribe(identity(*c), *q, *a));
    }
    grpc::Status Unsubscribe(grpc::ServerContext* c, const v1::UnsubscribeRequest* q, v1::UnsubscribeReply* a) override {
        return to_grpc(s_.unsubscribe(identity(*c), *q, *a));
    }
    grpc::Status Keys(grpc::ServerContext* c, const v1::KeysRequest* q, v1::KeysReply* a) override {
        return to_grpc(s_.keys(identity(*c), *q, *a));
    }
    grpc::Status Recover(grpc::ServerContext* c, const v1::RecoverRequest* q,
                         grpc::ServerWriter<v1::RecoverBatch>* w) override {
        return to_grpc(s_.recover(identity(*c), *q,
                                  [&](const v1::RecoverBatch& b) { return !c->IsCancelled() && w->Write(b); }));
    }
    grpc::Status Snapshot(grpc::ServerContext* c, const v1::SnapshotRequest* q,
                          grpc::ServerWriter<v1::SnapshotPage>* w) override {
        return to_grpc(s_.snapshot(identity(*c), *q,
                                   [&](const v1::SnapshotPage& p) { return !c->IsCancelled() && w->Write(p); }));
    }
    grpc::Status Databases(grpc::ServerContext* c, const v1::DatabasesRequest* q, v1::DatabasesReply* a) override {
        return to_grpc(s_.databases(identity(*c), *q, *a));
    }
    grpc::Status Publish(grpc::ServerContext* c, const v1::PublishRequest* q, v1::PublishReply* a) override {
        return to_grpc(s_.publish(identity(*c), *q, *a));
    }
    grpc::Status Stats(grpc::ServerContext* c, const v1::StatsRequest* q, v1::StatsReply* a) override {
        return to_grpc(s_.stats(identity(*c), *q, *a));
    }
    grpc::Status RotateKey(grpc::ServerContext* c, const v1::RotateKeyRequest* q, v1::RotateKeyReply* a) override {
        return to_grpc(s_.rotate_key(identity(*c), *q, *a));
    }

private:
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
};

// Answers gRPC makes before a handler runs, made to follow the contract and
// counted: a request that does not parse as its message (gRPC's generated code
// says INTERNAL with an empty message, proto3 having no required fields; every
// INTERNAL of ours names its cause) becomes INVALID_ARGUMENT. (A request over
// max_message_bytes is refused by gRPC's core, RESOURCE_EXHAUSTED, before any
// C++ layer sees the call: it is not in ControlCounters.)
class AnswerInterceptor final : public grpc::experimental::Interceptor {
public:
    AnswerInterceptor(control::Service& s, std::string method) : s_(s), method_(std::move(method)) {}

    void Intercept(grpc::experimental::InterceptorBatchMethods* m) override {
        if (m->QueryInterceptionHookPoint(grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
            const grpc::Status st = m->GetSendStatus();
            if (st.error_code() == grpc::StatusCode::INTERNAL && st.error_message().empty()) {
                const Result r{Code::invalid_argument, "the request does not parse as " + method_ + "'s message"};
                s_.count(r);
                m->ModifySendStatus(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, r.message()));
            }
        }
        m->Proceed();
    }

private:
    control::Service& s_;
    std::string method_;
};

class AnswerInterceptorFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
public:
    explicit AnswerInterceptorFactory(control::Service& s) : s_(s) {}
    grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
        return new AnswerInterceptor(s_, info->method() != nullptr ? info->method() : "the method");
    }

private:
    control::Service& s_;
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
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
    interceptors.push_back(std::make_unique<AnswerInterceptorFactory>(impl_->service));
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
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
