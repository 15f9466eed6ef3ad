// `replicast version`: what this binary is and what it runs on, for bug reports.
#include <grpcpp/grpcpp.h>
#include <google/protobuf/stubs/common.h>
#include <intel-ipsec-mb.h>  // imb_get_version_str
#include <lmdb.h>
#include <openssl/crypto.h>
#include <pcap/pcap.h>
#include <rte_version.h>
#include <spdlog/version.h>
#include <zlib.h>

#include <cstdio>
#include <string>

#include "crypto/gcm.hpp"
#include "replicast_config.h"
#include "tools/commands.hpp"
#include "tools/version_bpf.hpp"

namespace replicast::tools {

namespace {

void row(const char* name, const std::string& built, const std::string& runtime) {
    if (runtime.empty() || runtime == built) {
        std::printf("  %-12s %s\n", name, built.c_str());
    } else {
        std::printf("  %-12s %s (running %s)\n", name, built.c_str(), runtime.c_str());
    }
}

void print_version() {
    std::printf("replicast %s (protocol version 1)\n", REPLICAST_VERSION);
    std::printf("libraries (built with, and running where the library reports it):\n");
    row("DPDK", BUILT_WITH_DPDK, rte_version());
    row("ipsec-mb", BUILT_WITH_IPSEC_MB, imb_get_version_str());
    row("ISA-L", BUILT_WITH_ISAL, "");
    row("LMDB", BUILT_WITH_LMDB, mdb_version(nullptr, nullptr, nullptr));
    row("gRPC", BUILT_WITH_GRPC, grpc::Version());
    row("protobuf", BUILT_WITH_PROTOBUF,
        google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION));
    row("OpenSSL", BUILT_WITH_OPENSSL, OpenSSL_version(OPENSSL_VERSION));
    row("toml++", BUILT_WITH_TOMLPP, "");
    row("CLI11", BUILT_WITH_CLI11, "");
    row("spdlog", BUILT_WITH_SPDLOG, "");
    row("libbpf", BUILT_WITH_LIBBPF, libbpf_runtime_version());
    row("libxdp", BUILT_WITH_LIBXDP, "");
    row("libpcap", BUILT_WITH_LIBPCAP, pcap_lib_version());
    row("zlib", BUILT_WITH_ZLIB, zlibVersion());
    const std::string_view arch = crypto::selected_arch_name();
    std::printf("ipsec-mb architecture selected here: %.*s\n", static_cast<int>(arch.size()), arch.data());
}

}  // namespace

void add_version_command(CLI::App& app) {
    CLI::App* cmd = app.add_subcommand("version", "Print replicast's version, its libraries' versions, and the ipsec-mb code path chosen on this CPU");
    cmd->callback(print_version);
}

}  // namespace replicast::tools
