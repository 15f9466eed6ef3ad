// An AF_PACKET socket on one interface: every frame it receives (promiscuous,
// its own sends ignored), and frames sent out of it as they are. With
// PACKET_VNET_HDR each frame starts with a struct virtio_net_hdr, so that a
// TCP super-packet (GSO) or a frame whose checksum the kernel has yet to
// complete crosses the relay as it came, instead of being refused as too big
// or arriving with a bad checksum.
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace replicast::chaos {

inline constexpr std::size_t kVnetHeaderBytes = 10;  // sizeof(struct virtio_net_hdr)

class PacketSocket {
public:
    /// Throws std::runtime_error naming the interface and the failed step.
    explicit PacketSocket(const std::string& interface);
    ~PacketSocket();
    PacketSocket(const PacketSocket&) = delete;
    PacketSocket& operator=(const PacketSocket&) = delete;

    int fd() const noexcept { return fd_; }
    const std::string& name() const noexcept { return name_; }

    enum class Rx { frame, again, truncated, error };
    /// One frame into `buf` without blocking; its length in `len`.
    Rx receive(std::span<std::byte> buf, std::size_t& len) noexcept;
    bool send(std::span<const std::byte> frame) noexcept;

private:
    std::string name_;
    int fd_ = -1;
};

}  // namespace replicast::chaos
