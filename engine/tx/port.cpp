#include "engine/tx/port.hpp"

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <cstring>

namespace replicast::tx {

namespace {

std::string available_ports() {
    std::string names;
    std::uint16_t pid = 0;
    RTE_ETH_FOREACH_DEV(pid) {
        char name[RTE_ETH_NAME_MAX_LEN] = {};
        rte_eth_dev_get_name_by_port(pid, name);
        names += names.empty() ? "" : ", ";
        names += name;
    }
    return names.empty() ? "none" : names;
}

[[noreturn]] void fail(const PmdProfile& p, const std::string& what, int rc) {
    throw PortError(p.path + ": port " + p.port.name + ": " + what + ": " + rte_strerror(rc < 0 ? -rc : rc));
}

}  // namespace

Port::Port(const PmdProfile& p, std::uint16_t queues) : queues_(queues) {
    if (rte_eth_dev_get_port_by_name(p.port.name.c_str(), &id_) != 0) {
        throw PortError(p.path + ": port.name: no port \"" + p.port.name + "\" (ports found: " + available_ports() +
                        "; a vdev must be listed in eal.vdevs, a PCI device in eal.pci_allow)");
    }
    rte_eth_dev_info info{};
    if (int rc = rte_eth_dev_info_get(id_, &info); rc != 0) fail(p, "cannot read device info", rc);
    caps_.driver = info.driver_name != nullptr ? info.driver_name : "?";
    if (queues > info.max_tx_queues) {
        throw PortError(p.path + ": workers.tx_lcores: " + std::to_string(queues) + " workers need as many tx queues, port " +
                        p.port.name + " has " + std::to_string(info.max_tx_queues));
    }

    rte_eth_conf conf{};
    const std::uint64_t want = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
    const bool offered = (info.tx_offload_capa & want) == want;
    switch (p.port.checksum_offload) {
    case ChecksumOffload::on:
        if (!offered) {
            throw PortError(p.path + ": port.checksum_offload: \"on\", but " + caps_.driver +
                            " does not offer IPv4+UDP checksum offload (use \"auto\")");
        }
        [[fallthrough]];
    case ChecksumOffload::automatic:
        if (offered) conf.txmode.offloads |= want;
        break;
    case ChecksumOffload::off: break;
    }
    caps_.ipv4_checksum_offload = caps_.udp_checksum_offload = (conf.txmode.offloads & want) == want;
    if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE) {
        conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;  // one pool, refcnt 1: cheaper frees
    }

    if (int rc = rte_eth_dev_configure(id_, queues, queues, &conf); rc != 0) fail(p, "configure", rc);
    // -ENOTSUP comes from the PMDs without an MTU at all (net_null, net_pcap,
    // net_ring), which carry frames of any size; every PMD with a real link
    // (af_packet, tap, i40e, mlx5, virtio) implements mtu_set and fails here
    // if the MTU cannot be had.
    if (int rc = rte_eth_dev_set_mtu(id_, p.port.mtu); rc != 0 && rc != -ENOTSUP) {
        fail(p, "set MTU " + std::to_string(p.port.mtu), rc);
    }
    caps_.mtu = p.port.mtu;

    // Data room: the largest frame (MTU + Ethernet + VLAN) plus DPDK's headroom.
    const std::uint32_t room = RTE_PKTMBUF_HEADROOM + p.port.mtu + RTE_ETHER_HDR_LEN + 4 + RTE_ETHER_CRC_LEN;
    const std::string pool_name = "rc_tx_" + std::to_string(id_);
    pool_ = rte_pktmbuf_pool_create(pool_name.c_str(), p.port.mbufs * queues, p.port.mbuf_cache, 0,
                                    static_cast<std::uint16_t>(std::max<std::uint32_t>(room, RTE_MBUF_DEFAULT_BUF_SIZE)),
                                    static_cast<int>(rte_eth_dev_socket_id(id_) < 0 ? SOCKET_ID_ANY : rte_eth_dev_socket_id(id_)));
    if (pool_ == nullptr) {
        throw PortError(p.path + ": port.mbufs: cannot create a pool of " + std::to_string(p.port.mbufs * queues) +
                        " mbufs: " + rte_strerror(rte_errno) +
                        " (hugepages are shared by every DPDK process: lower port.mbufs or eal.memory_mb, or reserve more)");
    }
    for (std::uint16_t q = 0; q < queues; ++q) {
        if (int rc = rte_eth_tx_queue_setup(id_, q, p.port.tx_descriptors, rte_eth_dev_socket_id(id_), nullptr); rc != 0) {
            fail(p, "tx queue " + std::to_string(q) + " with " + std::to_string(p.port.tx_descriptors) + " descriptors", rc);
        }
        if (int rc = rte_eth_rx_queue_setup(id_, q, 128, rte_eth_dev_socket_id(id_), nullptr, pool_); rc != 0) {
            fail(p, "rx queue " + std::to_string(q), rc);
        }
    }
    rte_ether_addr addr{};
    if (p.dataplane.source_mac_set) {
        std::memcpy(mac_.data(), p.dataplane.source_mac.data(), 6);
    } else if (rte_eth_macaddr_get(id_, &addr) == 0) {
        std::memcpy(mac_.data(), addr.addr_bytes, 6);
    }
    if (int rc = rte_eth_dev_start(id_); rc != 0) fail(p, "start", rc);
    started_ = true;
}

Port::~Port() {
    if (started_) {
        rte_eth_dev_stop(id_);
        rte_eth_dev_close(id_);
    }
    if (pool_ != nullptr) {
        rte_mempool_free(pool_);
    }
}

bool Port::link_up() const noexcept {
    rte_eth_link link{};
    return rte_eth_link_get_nowait(id_, &link) == 0 && link.link_status == RTE_ETH_LINK_UP;
}

}  // namespace replicast::tx
