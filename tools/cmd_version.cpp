// `replicast version`: what this binary is and what it runs on, for bug
// reports. The DPDK half's libraries are reported by the DPDK executable itself
// when it is installed beside this one (it knows what it runs against), and
// from this build's record otherwise.
#include <grpcpp/grpcpp.h>
#include <google/protobuf/stubs/common.h>
#include <intel-ipsec-mb.h>  // imb_get_version_str
#include <lmdb.h>
#include <openssl/crypto.h>
#include <pcap/pcap.h>
#include <spdlog/version.h>
#include <zlib.h>

#include <cstdio>
#include <sstream>
#include <string>

#include "crypto/gcm.hpp"
#include "replicast_config.h"
#include "tools/commands.hpp"
#include "tools/dpdk_exec.hpp"
#include "tools/version_row.hpp"

namespace replicast::tools {

namespace {

void print_dpdk_half() {
    const DpdkHalfVersion v = ask_dpdk_version();
    if (v.ran) {
        std::istringstream lines(v.output);
        std::string line;
        std::getline(lines, line);  // "replicast-dpdk VERSION ..."
        const std::string expected = std::string(kDpdkExecutable) + " " + REPLICAST_VERSION + " ";
        std::printf("DPDK half (server, bench tx): %s%s\n", v.path.c_str(),
                    line.rfind(expected, 0) == 0 ? "" : (" -- another build: " + line).c_str());
        while (std::getline(lines, line)) {
            if (line.rfind("  ", 0) == 0) std::printf("%s\n", line.c_str());
        }
        return;
    }
    if (v.found) {
        std::printf("DPDK half (server, bench tx): %s does not run (%s); built with\n", v.path.c_str(),
                    v.output.c_str());
    } else {
        std::printf("DPDK half (server, bench tx): not installed (no %s); built with\n",
                    v.path.empty() ? kDpdkExecutable : v.path.c_str());
    }
    version_row("DPDK", BUILT_WITH_DPDK, "");
    version_row("libbpf", BUILT_WITH_LIBBPF, "");
    version_row("libxdp", BUILT_WITH_LIBXDP, "");
}

void print_version() {
    std::printf("replicast %s (protocol version 1)\n", REPLICAST_VERSION);
    std::printf("libraries (built with, and running where the library reports it):\n");
    version_row("ipsec-mb", BUILT_WITH_IPSEC_MB, imb_get_version_str());
    version_row("ISA-L", BUILT_WITH_ISAL, "");
    version_row("LMDB", BUILT_WITH_LMDB, mdb_version(nullptr, nullptr, nullptr));
    version_row("gRPC", BUILT_WITH_GRPC, grpc::Version());
    version_row("protobuf", BUILT_WITH_PROTOBUF,
                google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION));
    version_row("OpenSSL", BUILT_WITH_OPENSSL, OpenSSL_version(OPENSSL_VERSION));
    version_row("toml++", BUILT_WITH_TOMLPP, "");
    version_row("CLI11", BUILT_WITH_CLI11, "");
    version_row("spdlog", BUILT_WITH_SPDLOG, "");
    version_row("nlohmann-json", BUILT_WITH_NLOHMANN_JSON, "");
    version_row("libpcap", BUILT_WITH_LIBPCAP, pcap_lib_version());
    version_row("zlib", BUILT_WITH_ZLIB, zlibVersion());
    const std::string_view arch = crypto::selected_arch_name();
    std::printf("ipsec-mb architecture selected here: %.*s\n", static_cast<int>(arch.size()), arch.data());
    print_dpdk_half();
}

}  // namespace

void add_version_command(CLI::App& app) {
    CLI::App* cmd = app.add_subcommand("version", "Print replicast's version, its libraries' versions (the DPDK half's from replicast-dpdk), and the ipsec-mb code path chosen on this CPU");
    cmd->callback(print_version);
}

}  // namespace replicast::tools
