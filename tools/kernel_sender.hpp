// The kernel-socket reference sender of `replicast bench tx`: replicast
// datagrams (header, sealed payload, tag) built and sealed exactly as the DPDK
// worker does, handed to the kernel with sendmmsg in batches of 32 on a UDP
// socket bound for a multicast group. The kernel adds the Ethernet, IPv4 and
// UDP headers and checksums that the DPDK path writes itself.
#pragma once

#include <cstdint>
#include <string>

#include "crypto/gcm.hpp"

namespace replicast::tools {

struct KernelSendResult {
    std::uint64_t packets = 0;
    double seconds = 0;
    std::string error;  // set when the socket could not be used
};

/// Sends for `seconds` (and at most `max_packets`) on the calling thread.
KernelSendResult kernel_send(const std::string& group, const std::string& interface_ip, std::uint16_t port,
                             std::uint32_t payload, bool sealed, double seconds, std::uint64_t max_packets,
                             crypto::GcmArch arch = crypto::GcmArch::best);

}  // namespace replicast::tools
