// The handshake: TLS 1.3 only, a client certificate of the lab CA required and
// still valid; everything else is refused before any call runs (UNAVAILABLE)
// and changes nothing. Identities come from the CN or the URI SAN.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include "control_rig.hpp"
#include "engine/control/replicast.grpc.pb.h"
#include "engine/control/tls.hpp"

namespace replicast::control::testing {
namespace {

using ::testing::HasSubstr;

v1::PublishRequest one_put(const std::string& db, const std::string& key) {
    v1::PublishRequest r;
    r.set_database(db);
    v1::Update* u = r.add_updates();
    u->set_op(v1::OP_PUT);
    u->set_key(key);
    u->set_value("v");
    return r;
}

// Runs a shell command, returning its exit status and output.
int run(const std::string& cmd, std::string& out) {
    out.clear();
    FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
    if (p == nullptr) return -1;
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0 && out.size() < (1u << 20)) out.append(buf, n);
    const int status = ::pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ControlTls, LabIdentitiesGetIn) {
    Rig rig;
    v1::DatabasesReply dbs;
    const Result r = rig.client("admin")->databases(dbs);
    EXPECT_TRUE(r) << r.text();
}

TEST(ControlTls, RefusedCertificatesSeeUnavailableAndChangeNothing) {
    Rig rig;
    v1::PublishReply reply;
    ASSERT_TRUE(rig.client("publisher")->publish(one_put("orders", "before"), reply));
    const std::uint64_t last = rig.last_lsn("orders");
    // rogue and expired are even listed as admins: the handshake must stop them first.
    for (const std::string who : {"rogue", "expired"}) {
        const Result r = rig.client(who)->publish(one_put("orders", "from-" + who), reply);
        EXPECT_EQ(r.code(), Code::unavailable) << who << ": " << r.text();
        v1::StatsReply stats;
        EXPECT_EQ(rig.client(who)->stats(stats).code(), Code::unavailable) << who;
    }
    // No client certificate at all: a TLS channel with only the CA.
    {
        auto provider = std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
            read_pem(cert_dir() + "/ca.pem", "ca"));
        grpc::experimental::TlsChannelCredentialsOptions o;
        o.set_certificate_provider(provider);
        o.watch_root_certs();
        grpc::ChannelArguments args;
        args.SetSslTargetNameOverride("localhost");
        auto stub = v1::Replicast::NewStub(
            grpc::CreateCustomChannel(rig.target(), grpc::experimental::TlsCredentials(o), args));
        grpc::ClientContext c;
        c.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        v1::PublishReply out;
        const grpc::Status s = stub->Publish(&c, one_put("orders", "anonymous"), &out);
        EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
    }
    EXPECT_EQ(rig.last_lsn("orders"), last) << "a refused handshake wrote something";
}

TEST(ControlTls, Tls12IsRefusedAndTls13Works) {
    Rig rig;
    const std::string d = cert_dir();
    const std::string base = "timeout 20 openssl s_client -connect " + rig.target() + " -servername localhost -CAfile " +
                             d + "/ca.pem -cert " + d + "/admin.pem -key " + d + "/admin.key -verify_return_error";
    std::string out;
    // s_client's exit status follows how the server closed (gRPC hangs up on a
    // peer that never speaks HTTP/2), so the handshake is judged by its summary.
    (void)run(base + " -tls1_3 </dev/null", out);
    EXPECT_THAT(out, HasSubstr("New, TLSv1.3, Cipher is TLS_")) << out;
    (void)run(base + " -tls1_2 </dev/null", out);
    EXPECT_THAT(out, ::testing::Not(HasSubstr("New, TLSv1.2"))) << "a TLS 1.2 handshake completed:\n" << out;
    // s_client prints its (empty) session either way: no cipher was agreed and no server certificate came.
    EXPECT_THAT(out, HasSubstr("Cipher is (NONE)")) << out;
    EXPECT_THAT(out, HasSubstr("no peer certificate available")) << out;
    // And the server still serves TLS 1.3 clients afterwards.
    v1::DatabasesReply dbs;
    EXPECT_TRUE(rig.client("admin")->databases(dbs));
}

TEST(ControlTls, TheServerNameIsChecked) {
    Rig rig;
    ClientTls tls = tls_for("admin");
    tls.server_name = "not-the-server.example";
    ControlClient c(rig.target(), tls, {.deadline_ms = 5'000});
    v1::DatabasesReply dbs;
    EXPECT_EQ(c.databases(dbs).code(), Code::unavailable);
}

TEST(ControlTls, IdentityFromTheUriSan) {
    Rig rig([](ControlConfig& c) { c.identity = IdentitySource::uri_san; });
    write_file(rig.config.access_list, R"([[identity]]
name = "spiffe://replicast/admin"
roles = ["admin"]
databases = ["*"]
)");
    ASSERT_TRUE(rig.server->reload_access_list());
    v1::StatsReply stats;
    EXPECT_TRUE(rig.client("admin")->stats(stats));
    // The CN "subscriber" is not an identity under uri_san, and its URI is not listed.
    v1::DatabasesReply dbs;
    EXPECT_EQ(rig.client("subscriber")->databases(dbs).code(), Code::permission_denied);
}

TEST(ControlTls, UnreadablePemFilesAreSetupErrors) {
    ClientTls tls = tls_for("admin");
    tls.certificate = "/nonexistent/admin.pem";
    EXPECT_THROW(ControlClient("127.0.0.1:1", tls), ControlError);
    TempDir dir("badcfg");
    store::MasterStore m(dir.sub("m"), replicast::testing::fast());
    TestBackend backend(m);
    ControlConfig c;
    c.listen = "127.0.0.1:0";
    c.certificate = cert_dir() + "/server.pem";
    c.private_key = cert_dir() + "/server.key";
    c.ca = dir.sub("ca.pem");
    write_file(c.ca, "not a certificate");
    c.access_list = dir.sub("access.toml");
    write_file(c.access_list, kAccessList);
    try {
        ControlServer s(c, backend);
        FAIL() << "started with a CA file that is not PEM";
    } catch (const ControlError& e) {
        EXPECT_THAT(e.what(), HasSubstr("ca.pem"));
    }
}

}  // namespace
}  // namespace replicast::control::testing
