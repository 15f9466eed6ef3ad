// A DPDK net_ring port for tx worker tests: its tx and rx share one ring that
// nobody drains unless the test does, so "the port refuses frames" is certain.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

#include "engine/tx/profile.hpp"

namespace replicast::tx::test_port {

/// Removes the EAL's runtime directory (/var/run/dpdk/<file_prefix>) when it
/// goes: declare it before the Eal, so that it runs after rte_eal_cleanup.
/// EAL leaves the directory behind, and every run's prefix is new.
struct RuntimeDirCleanup {
    std::string dir;
    explicit RuntimeDirCleanup(const PmdProfile& p) : dir("/var/run/dpdk/" + p.eal.file_prefix) {}
    ~RuntimeDirCleanup() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

/// One EAL per process: `name` keeps concurrent test processes' files apart.
inline PmdProfile ring_profile(const std::string& name, unsigned mbufs = 8191) {
    const std::string text = R"(
description = "tx test on net_ring"
[eal]
lcores = "0,1"
memory = "no-huge"
memory_mb = 256
file_prefix = "replicast-)" + name + "-" + std::to_string(getpid()) + R"("
vdevs = ["net_ring0"]
[port]
name = "net_ring0"
tx_descriptors = 512
mtu = 1500
checksum_offload = "off"
mbufs = )" + std::to_string(mbufs) + R"(
mbuf_cache = 256
[dataplane]
source_ip = "10.77.0.1"
source_mac = "02:00:00:00:00:01"
[workers]
tx_lcores = [1]
)";
    return parse_profile(text, name);
}

}  // namespace replicast::tx::test_port
