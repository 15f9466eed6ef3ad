// A real control server for the client benchmarks: control::ControlServer
// (gRPC over mutual TLS 1.3 on 127.0.0.1, certificates from scripts/mkcerts)
// over the test backend (tests/unit/control/test_backend.hpp) and a real
// MasterStore, as bench_control runs it; and a client::GrpcControlPort to it,
// which is what the daemon's followers talk through.
#pragma once

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "../tests/unit/control/test_backend.hpp"
#include "engine/client/grpc_control_port.hpp"
#include "engine/control/client.hpp"
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
    /// Writes `count` puts of keys k00000000000, k00000000001, ... and a value
    /// of `value_bytes` into `db`, 4096 per transaction; an error's text, or "".
    [[nodiscard]] std::string write_numbered(const std::string& db, std::uint64_t count, std::size_t value_bytes) {
        const std::string value(value_bytes, 'v');
        std::vector<std::string> keys;
        std::vector<wire::UpdateView> ops;
        for (std::uint64_t done = 0; done < count;) {
            const std::uint64_t n = std::min<std::uint64_t>(4096, count - done);
            keys.clear();
            ops.clear();
            for (std::uint64_t i = 0; i < n; ++i) {
                char k[13];
                std::snprintf(k, sizeof k, "k%011llu", static_cast<unsigned long long>(done + i));
                keys.emplace_back(k, 12);
            }
            for (const std::string& k : keys) {
                ops.push_back({.op = wire::Op::put, .reader_group = 0,
                               .key = {reinterpret_cast<const std::uint8_t*>(k.data()), k.size()},
                               .value = {reinterpret_cast<const std::uint8_t*>(value.data()), value.size()}});
            }
            if (const store::Status s = master->write(db, ops); !s) return s.message();
            done += n;
        }
        return {};
    }
    /// Starts the server (after the master holds what it should); 0 keeps the
    /// default recover_batch_bytes.
    void serve(std::uint32_t recover_batch_bytes = 0) {
        backend = std::make_unique<control::testing::TestBackend>(*master);
        const std::string access = (dir / "access.toml").string();
        std::ofstream(access) << "[[identity]]\nname = \"subscriber\"\nroles = [\"subscriber\"]\ndatabases = [\"*\"]\n";
        control::ControlConfig c;
        c.listen = "127.0.0.1:0";
        c.certificate = certs + "/server.pem";
        c.private_key = certs + "/server.key";
        c.ca = certs + "/ca.pem";
        c.access_list = access;
        if (recover_batch_bytes != 0) c.recover_batch_bytes = recover_batch_bytes;
        server = std::make_unique<control::ControlServer>(c, *backend);
    }
    [[nodiscard]] std::string target() const { return "127.0.0.1:" + std::to_string(server->port()); }
    [[nodiscard]] control::ClientTls tls() const {
        return {.certificate = certs + "/subscriber.pem", .private_key = certs + "/subscriber.key", .ca = certs + "/ca.pem",
                .server_name = "localhost"};
    }
    /// A plain control client (the CLI's), as the subscriber identity.
    [[nodiscard]] std::unique_ptr<control::ControlClient> client() const {
        return std::make_unique<control::ControlClient>(target(), tls());
    }
    ~ControlRig() {
        server.reset();
        backend.reset();
        master.reset();
        std::filesystem::remove_all(dir);
    }
};

}  // namespace replicast::bench
