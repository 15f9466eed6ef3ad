#include "engine/control/tls.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>

#include <google/protobuf/stubs/logging.h>
#include <grpc/support/log.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include "engine/logging/log.hpp"

namespace replicast::control {

namespace {

struct X509Free {
    void operator()(X509* x) const noexcept { X509_free(x); }
};
struct StoreFree {
    void operator()(X509_STORE* s) const noexcept { X509_STORE_free(s); }
};
struct CtxFree {
    void operator()(X509_STORE_CTX* c) const noexcept { X509_STORE_CTX_free(c); }
};
struct StackFree {
    void operator()(STACK_OF(X509)* s) const noexcept { sk_X509_pop_free(s, X509_free); }
};
struct BioFree {
    void operator()(BIO* b) const noexcept { BIO_free(b); }
};

// Every certificate in a PEM text, in order.
std::vector<std::unique_ptr<X509, X509Free>> parse_pem_chain(std::string_view pem) {
    std::vector<std::unique_ptr<X509, X509Free>> out;
    std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) return out;
    while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(x);
    ERR_clear_error();  // the loop ends on a "no start line" error
    return out;
}

std::string subject_cn(X509* x) {
    char buf[256] = {};
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, sizeof buf) < 0) return "(no CN)";
    return buf;
}

// Verifies client certificates against the CA (see tls.hpp for why here).
class ClientVerifier : public grpc::experimental::ExternalCertificateVerifier {
public:
    explicit ClientVerifier(const std::string& ca_pem) : store_(X509_STORE_new()) {
        if (!store_) throw ControlError("control: out of memory for the CA store");
        const auto cas = parse_pem_chain(ca_pem);
        if (cas.empty()) throw ControlError("control: the CA file holds no PEM certificate");
        for (const auto& c : cas) X509_STORE_add_cert(store_.get(), c.get());
    }

    bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request, std::function<void(grpc::Status)>,
                grpc::Status* sync_status) override {
        std::string why;
        const grpc::string_ref chain_ref = request->peer_cert_full_chain();
        const grpc::string_ref leaf_ref = request->peer_cert();
        auto chain = parse_pem_chain({chain_ref.data(), chain_ref.size()});
        auto leaf = parse_pem_chain({leaf_ref.data(), leaf_ref.size()});
        std::string cn = "(none)";
        if (leaf.empty()) {
            why = "no client certificate";
        } else {
            cn = subject_cn(leaf[0].get());
            why = verify(leaf[0].get(), chain);
        }
        if (why.empty()) {
            *sync_status = grpc::Status::OK;
            return true;
        }
        static logging::RateLimit limit{std::chrono::seconds(10), 5};
        if (auto a = limit.admit()) {
            logging::get("control")->warn("refused a TLS client (certificate CN={}): {} ({} like it suppressed)", cn, why,
                                          a->suppressed);
        }
        *sync_status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "client certificate refused: " + why);
        return true;
    }

    void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {}

private:
    std::string verify(X509* leaf, const std::vector<std::unique_ptr<X509, X509Free>>& chain) {
        std::unique_ptr<STACK_OF(X509), StackFree> untrusted(sk_X509_new_null());
        std::unique_ptr<X509_STORE_CTX, CtxFree> ctx(X509_STORE_CTX_new());
        if (!untrusted || !ctx) return "out of memory";
        for (const auto& c : chain) {
            X509_up_ref(c.get());
            sk_X509_push(untrusted.get(), c.get());
        }
        if (X509_STORE_CTX_init(ctx.get(), store_.get(), leaf, untrusted.get()) != 1) return "cannot verify";
        X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
        if (X509_verify_cert(ctx.get()) == 1) return {};
        return X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
    }

    std::unique_ptr<X509_STORE, StoreFree> store_;
};

// One limit for both libraries: a peer can make either log on every connection.
logging::RateLimit& library_limit() {
    static logging::RateLimit limit{std::chrono::seconds(10), 10};
    return limit;
}

void grpc_log(gpr_log_func_args* args) {
    if (args->severity == GPR_LOG_SEVERITY_DEBUG) return;
    auto a = library_limit().admit();
    if (!a) return;
    auto log = logging::get("control");
    const spdlog::level::level_enum level =
        args->severity == GPR_LOG_SEVERITY_ERROR ? spdlog::level::warn : spdlog::level::info;
    log->log(level, "grpc: {} ({}:{}; {} library lines suppressed)", args->message, args->file, args->line,
             a->suppressed);
}

void protobuf_log(google::protobuf::LogLevel level, const char* file, int line, const std::string& message) {
    if (level == google::protobuf::LOGLEVEL_INFO) return;
    auto a = library_limit().admit();
    if (!a) return;
    logging::get("control")->warn("protobuf: {} ({}:{}; {} library lines suppressed)", message, file, line, a->suppressed);
}

}  // namespace

void route_library_logs() {
    static std::once_flag once;
    std::call_once(once, [] {
        gpr_set_log_function(grpc_log);
        google::protobuf::SetLogHandler(protobuf_log);
    });
}

void require_tls13() {
    static std::once_flag once;
    static std::string failure;
    std::call_once(once, [] {
        const char* now = std::getenv("GRPC_SSL_CIPHER_SUITES");
        if (now != nullptr && *now != '\0' && std::string_view(now) != kTls13CipherSuites) {
            failure = std::string("control: GRPC_SSL_CIPHER_SUITES is set to \"") + now +
                      "\"; the control plane needs it unset (it installs its TLS 1.3-only list)";
            return;
        }
        ::setenv("GRPC_SSL_CIPHER_SUITES", kTls13CipherSuites, 1);
    });
    if (!failure.empty()) throw ControlError(failure);
}

std::string read_pem(const std::string& path, const std::string& what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ControlError("control: cannot read the " + what + " " + path);
    std::ostringstream s;
    s << in.rdbuf();
    std::string text = s.str();
    if (text.find("-----BEGIN ") == std::string::npos) throw ControlError("control: " + path + " (" + what + ") is not PEM");
    return text;
}

std::shared_ptr<grpc::ServerCredentials> server_credentials(const ControlConfig& config) {
    route_library_logs();
    require_tls13();
    const std::string cert = read_pem(config.certificate, "server certificate");
    const std::string key = read_pem(config.private_key, "server private key");
    const std::string ca = read_pem(config.ca, "client CA");
    auto provider = std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
        ca, std::vector<grpc::experimental::IdentityKeyCertPair>{{.private_key = key, .certificate_chain = cert}});
    grpc::experimental::TlsServerCredentialsOptions options(provider);
    options.watch_root_certs();
    options.watch_identity_key_cert_pairs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
    options.set_certificate_verifier(grpc::experimental::ExternalCertificateVerifier::Create<ClientVerifier>(ca));
    auto creds = grpc::experimental::TlsServerCredentials(options);
    if (!creds) throw ControlError("control: gRPC refused the server's TLS credentials");
    return creds;
}

std::shared_ptr<grpc::ChannelCredentials> client_credentials(const std::string& certificate_pem,
                                                             const std::string& key_pem, const std::string& ca_pem) {
    route_library_logs();
    require_tls13();
    auto provider = std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
        ca_pem,
        std::vector<grpc::experimental::IdentityKeyCertPair>{{.private_key = key_pem, .certificate_chain = certificate_pem}});
    grpc::experimental::TlsChannelCredentialsOptions options;
    options.set_certificate_provider(provider);
    options.watch_root_certs();
    options.watch_identity_key_cert_pairs();
    options.set_verify_server_certs(true);
    options.set_certificate_verifier(std::make_shared<grpc::experimental::HostNameCertificateVerifier>());
    auto creds = grpc::experimental::TlsCredentials(options);
    if (!creds) throw ControlError("control: gRPC refused the client's TLS credentials");
    return creds;
}

std::string peer_identity(IdentitySource source, const std::vector<std::string>& common_names,
                          const std::vector<std::string>& uris) {
    if (source == IdentitySource::common_name) return common_names.empty() ? std::string() : common_names.front();
    return uris.empty() ? std::string() : uris.front();
}

}  // namespace replicast::control
