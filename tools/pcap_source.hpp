// Reads UDP datagrams out of a capture file with libpcap: Ethernet (with an
// optional 802.1Q tag), raw IPv4 and Linux cooked captures. Frames that are not
// IPv4/UDP (ARP, IGMP, IPv6) are counted and skipped; broken IPv4/UDP framing is
// reported with the frame, since it may be ours.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "engine/wire/frame.hpp"

struct pcap;

namespace replicast::tools {

struct CapturedDatagram {
    std::uint64_t frame_number = 0;  // 1-based, as Wireshark counts
    std::uint64_t timestamp_ns = 0;
    bool has_ethernet = false;  // MAC and VLAN fields of `frame` are meaningful
    wire::FrameInfo frame;
    wire::FrameError frame_error = wire::FrameError::ok;  // IPv4/UDP framing fault: `datagram` is empty
    std::span<const std::uint8_t> datagram;  // the UDP payload; valid until the next call
};

class PcapSource {
public:
    /// Throws std::runtime_error naming the file and libpcap's reason.
    explicit PcapSource(const std::string& path);
    ~PcapSource();
    PcapSource(const PcapSource&) = delete;
    PcapSource& operator=(const PcapSource&) = delete;

    /// @return false at the end of the capture. Throws std::runtime_error on a read error
    ///         (a truncated file), naming the frame where it stopped.
    bool next(CapturedDatagram& out);

    [[nodiscard]] std::uint64_t skipped_frames() const noexcept { return skipped_; }
    /// Of those, frames the capture cut short (caplen < len: a snap length).
    [[nodiscard]] std::uint64_t cut_short_frames() const noexcept { return cut_short_; }

private:
    std::string path_;
    pcap* handle_ = nullptr;
    int link_type_ = 0;
    std::uint64_t frame_number_ = 0;
    std::uint64_t skipped_ = 0;
    std::uint64_t cut_short_ = 0;
};

}  // namespace replicast::tools
