// `bench pace` on net_af_packet: a veth pair in a network namespace of the
// process's own (gone when it exits, so nothing to clean up and nothing shared
// with other labs), the sender's port on one end, and a capture of the other
// end with the kernel's receive timestamps: the gaps as the far end of the
// wire sees them, on a clock (CLOCK_REALTIME) independent of the sender's TSC.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace replicast::tools {

/// Moves the calling (single-threaded) process into a new network namespace
/// with `tx_end` <-> `rx_end` veth pair up. Threads created afterwards (the
/// EAL's lcores, the capture) inherit it. Throws std::runtime_error (needs root).
void enter_private_veth(const std::string& tx_end, const std::string& rx_end);

/// Records every replicast frame to `udp_port` arriving on `iface`: its
/// packet_seq, frame size and kernel receive time. Runs one thread until
/// destroyed; records past `capacity` are counted, not kept.
class VethCapture {
public:
    struct Record {
        std::uint64_t ns = 0;   // kernel receive time, CLOCK_REALTIME
        std::uint64_t seq = 0;  // replicast packet_seq
        std::uint32_t frame_bytes = 0;
    };

    VethCapture(const std::string& iface, std::uint16_t udp_port, std::size_t capacity);
    ~VethCapture();
    VethCapture(const VethCapture&) = delete;
    VethCapture& operator=(const VethCapture&) = delete;

    /// Records [0, size()) are complete and stay put.
    [[nodiscard]] std::size_t size() const noexcept { return count_.load(std::memory_order_acquire); }
    [[nodiscard]] const Record& at(std::size_t i) const noexcept { return records_[i]; }
    /// Receive time of the newest record (0: none yet).
    [[nodiscard]] std::uint64_t latest_ns() const noexcept { return latest_ns_.load(std::memory_order_acquire); }
    /// Frames the kernel dropped because this reader fell behind (PACKET_STATISTICS).
    [[nodiscard]] std::uint64_t kernel_drops() const noexcept { return drops_.load(std::memory_order_relaxed); }

private:
    void loop() noexcept;

    int fd_ = -1;
    std::uint16_t udp_port_;
    std::vector<Record> records_;
    std::atomic<std::size_t> count_{0};
    std::atomic<std::uint64_t> latest_ns_{0};
    std::atomic<std::uint64_t> drops_{0};
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

/// Now on CLOCK_REALTIME, the capture's clock.
[[nodiscard]] std::uint64_t realtime_now_ns() noexcept;

}  // namespace replicast::tools
