#include "tools/pcap_source.hpp"

#include <pcap/pcap.h>

#include <stdexcept>

namespace replicast::tools {

namespace {
constexpr std::size_t kLinuxSllHeader = 16;
constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
}  // namespace

PcapSource::PcapSource(const std::string& path) : path_(path) {
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    handle_ = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (handle_ == nullptr) {
        throw std::runtime_error(path + ": " + errbuf);
    }
    link_type_ = pcap_datalink(handle_);
    if (link_type_ != DLT_EN10MB && link_type_ != DLT_RAW && link_type_ != DLT_IPV4 && link_type_ != DLT_LINUX_SLL) {
        const std::string name = pcap_datalink_val_to_name(link_type_) ? pcap_datalink_val_to_name(link_type_) : "?";
        pcap_close(handle_);
        throw std::runtime_error(path + ": unsupported link type " + name + " (need Ethernet, raw IPv4 or Linux cooked)");
    }
}

PcapSource::~PcapSource() {
    if (handle_ != nullptr) {
        pcap_close(handle_);
    }
}

bool PcapSource::next(CapturedDatagram& out) {
    for (;;) {
        pcap_pkthdr* hdr = nullptr;
        const u_char* data = nullptr;
        const int rc = pcap_next_ex(handle_, &hdr, &data);
        if (rc == PCAP_ERROR_BREAK) {
            return false;
        }
        if (rc != 1) {
            throw std::runtime_error(path_ + ": read error after frame " + std::to_string(frame_number_) + ": " +
                                     pcap_geterr(handle_));
        }
        ++frame_number_;
        if (hdr->caplen < hdr->len) {
            // The capture kept only the first caplen bytes (its snap length):
            // the frame is not whole, which says nothing about the sender.
            ++cut_short_;
            ++skipped_;
            continue;
        }
        const std::span<const std::uint8_t> bytes(data, hdr->caplen);
        out = CapturedDatagram{};
        out.frame_number = frame_number_;
        out.timestamp_ns = static_cast<std::uint64_t>(hdr->ts.tv_sec) * 1'000'000'000u +
                           static_cast<std::uint64_t>(hdr->ts.tv_usec);  // nanoseconds: opened with NANO precision
        wire::FrameError err = wire::FrameError::not_ipv4;
        switch (link_type_) {
        case DLT_EN10MB:
            err = wire::parse_ethernet_frame(bytes, out.frame);
            out.has_ethernet = true;
            break;
        case DLT_LINUX_SLL:
            if (bytes.size() >= kLinuxSllHeader &&
                ((std::uint16_t{bytes[14]} << 8) | bytes[15]) == kEtherTypeIpv4) {
                err = wire::parse_ipv4_udp(bytes.subspan(kLinuxSllHeader), out.frame);
            }
            break;
        default:
            err = wire::parse_ipv4_udp(bytes, out.frame);
            break;
        }
        if (err == wire::FrameError::not_ipv4 || err == wire::FrameError::not_udp) {
            ++skipped_;  // ARP, IGMP, IPv6 neighbour discovery...: not ours
            continue;
        }
        out.frame_error = err;
        out.datagram = err == wire::FrameError::ok ? out.frame.udp_payload : std::span<const std::uint8_t>{};
        return true;
    }
}

}  // namespace replicast::tools
