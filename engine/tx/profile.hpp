// DPDK profiles (pmd-config/*.toml): EAL arguments, port settings and the
// data-plane identity of the sender. Parsed strictly: an unknown key, a wrong
// type or an out-of-range value fails at start with file, line, key and reason,
// because a typo in a profile must never silently fall back to a default.
// Every key, its default and its range are documented in pmd-config/README.md.
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/config/strict_toml.hpp"
#include "engine/tx/idle_policy.hpp"

namespace replicast::tx {

using config::ConfigError;
using config::parse_ipv4;

/// How the EAL gets its memory.
enum class MemoryMode : std::uint8_t {
    automatic,  // hugepages with --in-memory when free ones exist, else --no-huge
    in_memory,  // hugepages, nothing kept in hugetlbfs (--in-memory)
    no_huge,    // ordinary pages (--no-huge -m memory_mb): slower, always available
};

enum class ChecksumOffload : std::uint8_t { automatic, on, off };

struct EalSettings {
    std::string lcores = "0,1";  // EAL -l; the first is the main (control) lcore
    MemoryMode memory = MemoryMode::automatic;
    std::uint32_t memory_mb = 512;  // -m / --socket-mem budget
    std::string file_prefix = "replicast";
    std::vector<std::string> vdevs;      // --vdev
    std::vector<std::string> pci_allow;  // -a
    std::vector<std::string> extra_args;
    std::string log_level = "notice";
};

struct PortSettings {
    std::string name;  // ethdev name: a vdev name ("net_null0") or a PCI address
    std::uint16_t tx_descriptors = 1024;
    std::uint16_t mtu = 1500;
    ChecksumOffload checksum_offload = ChecksumOffload::automatic;
    std::uint32_t mbufs = 8191;       // per tx queue; 2^n - 1 is the mempool's best size
    std::uint32_t mbuf_cache = 256;   // per-lcore mempool cache
};

struct DataplaneSettings {
    std::uint32_t source_ip = 0;  // host order
    std::array<std::uint8_t, 6> source_mac{};
    bool source_mac_set = false;  // else the port's own MAC
    std::uint16_t vlan_id = 0;    // 0 = untagged
    std::uint8_t vlan_pcp = 0;
    std::uint8_t ttl = 16;
    std::uint8_t dscp = 0;
    std::uint16_t source_port = 40000;
};

struct PmdProfile {
    std::string path;  // where it was read from, for messages
    std::string description;
    EalSettings eal;
    PortSettings port;
    DataplaneSettings dataplane;
    std::vector<unsigned> tx_lcores;  // one tx worker (and tx queue) per lcore
    IdlePolicy idle;                  // what the tx workers (and the codec lcore) do with an empty pass
};

/// A profile that cannot be used: what() reads "FILE:LINE: KEY: reason".
using ProfileError = ConfigError;

/// Reads and validates a profile. Throws ProfileError.
PmdProfile load_profile(const std::string& path);

/// Parses a profile from text (`path` names it in messages). Throws ProfileError.
PmdProfile parse_profile(std::string_view text, const std::string& path);

}  // namespace replicast::tx
