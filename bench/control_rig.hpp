// A real control server for the client benchmarks: control::ControlServer
// (gRPC over mutual TLS 1.3 on 127.0.0.1, certificates from scripts/mkcerts)
// over the test backend (tests/unit/control/test_backend.hpp) and a real
// MasterStore, as bench_control runs it; and a client::GrpcControlPort to it,
// which is what the daemon's followers talk through.
#pragma once

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "../tests/unit/control/test_backend.hpp"
#include "engine/client/grpc_control_port.hpp"
#include "engine/control/control_server.hpp"
#include "engine/control/heap.hpp"
#include "replicast_config.h"
#include "store/master.hpp"

namespace replicast::bench {

struct ControlRig {
    std::filesystem::path dir;
    std::unique_ptr<store::MasterStore> master;
    std::unique_ptr<control::testing::TestBackend> backend;
    std::unique_ptr<control::ControlServer> server;
    std::string certs;
    std::string error;

    explicit ControlRig(const std::filesystem::path& d) : dir(d) {
        control::keep_freed_heap();  // as the server and the daemon do
        certs = (dir / "certs").string();
        if (std::system((std::string(REPLICAST_SOURCE_ROOT) + "/scripts/mkcerts " + certs + " >/dev/null").c_str()) != 0) {
            error = "scripts/mkcerts failed";
            return;
        }
        master = std::make_unique<store::MasterStore>((dir / "master").string(),
                                                      store::EnvOptions{.durability = store::Durability::nosync});
    }
    /// Starts the server (after the master holds what it should).
    void serve() {
        backend = std::make_unique<control::testing::TestBackend>(*master);
        const std::string access = (dir / "access.toml").string();
        std::ofstream(access) << "[[identity]]\nname = \"subscriber\"\nroles = [\"subscriber\"]\ndatabases = [\"*\"]\n";
        control::ControlConfig c;
        c.listen = "127.0.0.1:0";
        c.certificate = certs + "/server.pem";
        c.private_key = certs + "/server.key";
        c.ca = certs + "/ca.pem";
        c.access_list = access;
        server = std::make_unique<control::ControlServer>(c, *backend);
    }
    [[nodiscard]] std::string target() const { return "127.0.0.1:" + std::to_string(server->port()); }
    [[nodiscard]] control::ClientTls tls() const {
        return {.certificate = certs + "/subscriber.pem", .private_key = certs + "/subscriber.key", .ca = certs + "/ca.pem",
                .server_name = "localhost"};
    }
    ~ControlRig() {
        server.reset();
        backend.reset();
        master.reset();
        std::filesystem::remove_all(dir);
    }
};

}  // namespace replicast::bench
