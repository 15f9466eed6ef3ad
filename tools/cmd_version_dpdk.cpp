// `replicast-dpdk version`: the DPDK half's own libraries, as the running
// process finds them. `replicast version` runs this and prints its rows.
#include <rte_version.h>

#include <cstdio>

#include "replicast_config.h"
#include "tools/commands.hpp"
#include "tools/version_bpf.hpp"
#include "tools/version_row.hpp"

namespace replicast::tools {

void add_dpdk_version_command(CLI::App& app) {
    CLI::App* cmd = app.add_subcommand("version", "Print the DPDK half's version and its libraries' (DPDK, and libbpf and libxdp for its AF_XDP port)");
    cmd->callback([] {
        // The first line is read by `replicast version`: keep "replicast-dpdk VERSION ".
        std::printf("replicast-dpdk %s (the DPDK half of replicast: server, bench tx)\n", REPLICAST_VERSION);
        version_row("DPDK", BUILT_WITH_DPDK, rte_version());
        version_row("libbpf", BUILT_WITH_LIBBPF, libbpf_runtime_version());
        version_row("libxdp", BUILT_WITH_LIBXDP, "");
    });
}

}  // namespace replicast::tools
