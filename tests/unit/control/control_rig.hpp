// A control plane on loopback for tests: certificates made by scripts/mkcerts
// into a temporary directory, a real MasterStore, a real ControlServer with
// real TLS, and typed clients for each lab identity.
//
// The backend is test_backend.hpp's stand-in for the server's (see there why).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/control/client.hpp"
#include "engine/control/control_server.hpp"
#include "replicast_config.h"
#include "store/master.hpp"
#include "test_backend.hpp"
#include "../store/store_test_util.hpp"

namespace replicast::control::testing {

using replicast::testing::TempDir;

/// The lab certificates, made once per test process.
inline const std::string& cert_dir() {
    static TempDir dir("certs");  // removed at exit
    static const std::string path = [] {
        const std::string cmd = std::string(REPLICAST_SOURCE_ROOT) + "/scripts/mkcerts " + dir.str() +
                                " --client stranger >/dev/null";
        if (std::system(cmd.c_str()) != 0) ADD_FAILURE() << "scripts/mkcerts failed: " << cmd;
        return dir.str();
    }();
    return path;
}

inline ClientTls tls_for(const std::string& name) {
    const std::string d = cert_dir();
    return {.certificate = d + "/" + name + ".pem", .private_key = d + "/" + name + ".key", .ca = d + "/ca.pem",
            .server_name = "localhost"};
}

inline constexpr const char* kAccessList = R"(# the test access list
[[identity]]
name = "subscriber"
roles = ["subscriber"]
databases = ["orders", "prices"]
groups = [2]

[[identity]]
name = "publisher"
roles = ["publisher"]
databases = ["*"]

[[identity]]
name = "admin"
roles = ["admin"]
databases = ["*"]

[[identity]]
name = "expired"
roles = ["admin"]
databases = ["*"]

[[identity]]
name = "rogue"
roles = ["admin"]
databases = ["*"]
)";

inline void write_file(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

/// A master store, the test backend and a ControlServer on 127.0.0.1, port picked.
struct Rig {
    TempDir dir{"control"};
    store::MasterStore master{dir.sub("master"), replicast::testing::fast()};
    TestBackend backend{master};
    ControlConfig config;
    std::unique_ptr<ControlServer> server;

    explicit Rig(const std::function<void(ControlConfig&)>& tune = {}) {
        const std::string d = cert_dir();
        config.listen = "127.0.0.1:0";
        config.certificate = d + "/server.pem";
        config.private_key = d + "/server.key";
        config.ca = d + "/ca.pem";
        config.access_list = dir.sub("access.toml");
        write_file(config.access_list, kAccessList);
        if (tune) tune(config);
        server = std::make_unique<ControlServer>(config, backend);
    }

    [[nodiscard]] std::string target() const { return "127.0.0.1:" + std::to_string(server->port()); }
    std::unique_ptr<ControlClient> client(const std::string& name, ClientOptions o = {}) {
        o.deadline_ms = 5'000;
        return std::make_unique<ControlClient>(target(), tls_for(name), o);
    }
    std::uint64_t last_lsn(const std::string& db) {
        std::uint64_t oldest = 0, last = 0;
        EXPECT_TRUE(master.lsn_range(db, oldest, last));
        return last;
    }
};

}  // namespace replicast::control::testing
