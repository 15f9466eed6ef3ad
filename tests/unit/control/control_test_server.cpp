// A control server for the CLI tests (tests/cli/test_control_commands.py):
// the real ControlServer with real TLS over a real MasterStore, and the test
// backend of test_backend.hpp standing in for engine/server's (not merged on
// this branch). Prints "port=N" once listening; SIGHUP reloads the access
// list; SIGTERM or SIGINT stops it.
//
//   control_test_server --store DIR --certs DIR --access FILE [--stream DB]...
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "engine/control/control_server.hpp"
#include "test_backend.hpp"

int main(int argc, char** argv) {
    std::string store_dir, certs, access;
    std::vector<std::string> streams;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        if (k == "--store") store_dir = argv[i + 1];
        else if (k == "--certs") certs = argv[i + 1];
        else if (k == "--access") access = argv[i + 1];
        else if (k == "--stream") streams.emplace_back(argv[i + 1]);
        else {
            std::fprintf(stderr, "control_test_server: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (store_dir.empty() || certs.empty() || access.empty()) {
        std::fprintf(stderr, "usage: control_test_server --store DIR --certs DIR --access FILE [--stream DB]...\n");
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before gRPC's threads exist: they inherit the mask
    try {
        replicast::store::MasterStore master(store_dir);
        replicast::control::testing::TestBackend backend(master);
        replicast::control::ControlConfig config;
        config.listen = "127.0.0.1:0";
        config.certificate = certs + "/server.pem";
        config.private_key = certs + "/server.key";
        config.ca = certs + "/ca.pem";
        config.access_list = access;
        replicast::control::ControlServer server(config, backend);
        for (const std::string& db : streams) {
            replicast::control::Result why;
            if (!backend.stream(db, true, why)) std::fprintf(stderr, "control_test_server: %s: %s\n", db.c_str(), why.text().c_str());
        }
        std::printf("port=%d\n", server.port());
        std::fflush(stdout);
        for (;;) {
            int sig = 0;
            if (sigwait(&set, &sig) != 0) continue;
            if (sig != SIGHUP) break;
            const replicast::control::Result r = server.reload_access_list();
            std::fprintf(stderr, "control_test_server: reload: %s\n", r.text().c_str());
        }
        server.shutdown();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "control_test_server: %s\n", e.what());
        return 1;
    }
    return 0;
}
