// Printers for `replicast decode`: human text or JSON lines. Both end with a
// summary, and finish() turns what was seen into the exit code.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "engine/wire/frame.hpp"
#include "tools/decode_report.hpp"

namespace replicast::tools {

struct CapturedDatagram;

struct PacketSource {
    std::uint64_t number = 0;
    std::string_view number_label;              // "frame" (pcap) or "line" (hex)
    const CapturedDatagram* capture = nullptr;  // null for hex input
};

class DecodeOutput {
public:
    virtual ~DecodeOutput() = default;
    void packet(const PacketSource& src, const PacketReport& report);
    void frame_fault(const PacketSource& src, wire::FrameError error);
    /// Prints the summary. @return kExitOk, or kExitFindings when anything was malformed.
    int finish(std::uint64_t skipped_frames);

protected:
    virtual void print_packet(const PacketSource& src, const PacketReport& report) = 0;
    virtual void print_frame_fault(const PacketSource& src, wire::FrameError error) = 0;
    virtual void print_summary(std::uint64_t skipped_frames) = 0;

    std::uint64_t packets_ = 0;
    std::uint64_t good_ = 0;
    std::uint64_t malformed_ = 0;  // header, frame or payload faults
    std::uint64_t unopened_ = 0;   // sealed with no key known
    std::uint64_t forged_ = 0;     // tag does not verify
};

std::unique_ptr<DecodeOutput> make_decode_output(bool json);

}  // namespace replicast::tools
