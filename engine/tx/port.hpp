// One DPDK port, configured for sending: a tx queue per worker (and as many
// rx queues, which some PMDs insist on and we never poll), descriptors, MTU,
// checksum offloads when the port has them, and the mbuf pool, all sized from
// the profile. Construction throws PortError with the port's name and DPDK's
// reason; the destructor stops and closes the port.
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "engine/tx/profile.hpp"

struct rte_mempool;

namespace replicast::tx {

class PortError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct PortCapabilities {
    bool ipv4_checksum_offload = false;  // in use, not merely offered
    bool udp_checksum_offload = false;
    std::uint16_t mtu = 1500;
    std::string driver;
};

class Port {
public:
    /// Finds the port named in the profile, configures `queues` tx queues and starts it.
    Port(const PmdProfile& profile, std::uint16_t queues);
    ~Port();
    Port(const Port&) = delete;
    Port& operator=(const Port&) = delete;

    [[nodiscard]] std::uint16_t id() const noexcept { return id_; }
    [[nodiscard]] const std::array<std::uint8_t, 6>& mac() const noexcept { return mac_; }
    [[nodiscard]] const PortCapabilities& caps() const noexcept { return caps_; }
    [[nodiscard]] rte_mempool* pool() const noexcept { return pool_; }
    [[nodiscard]] std::uint16_t queues() const noexcept { return queues_; }
    [[nodiscard]] bool link_up() const noexcept;

private:
    std::uint16_t id_ = 0;
    std::uint16_t queues_ = 0;
    std::array<std::uint8_t, 6> mac_{};
    PortCapabilities caps_;
    rte_mempool* pool_ = nullptr;
    bool started_ = false;
};

}  // namespace replicast::tx
