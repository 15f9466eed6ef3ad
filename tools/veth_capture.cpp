#include "tools/veth_capture.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <stdexcept>

extern char** environ;

namespace replicast::tools {

namespace {

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// Runs `ip ARGS...` (argv[0] is "ip"); throws naming the command when it fails.
void run_ip(const std::vector<const char*>& argv) {
    std::vector<char*> args;
    for (const char* x : argv) args.push_back(const_cast<char*>(x));  // posix_spawn does not write them
    args.push_back(nullptr);
    pid_t pid = -1;
    if (const int rc = posix_spawnp(&pid, "ip", nullptr, nullptr, args.data(), environ); rc != 0) {
        throw std::runtime_error(std::string("cannot run ip (iproute2): ") + std::strerror(rc));
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::string line = "`ip";
        for (std::size_t i = 1; i < argv.size(); ++i) line.append(" ").append(argv[i]);
        throw std::runtime_error(line + "` failed");
    }
}

std::uint64_t load_be64(const std::uint8_t* p) noexcept {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
    return v;
}

}  // namespace

std::uint64_t realtime_now_ns() noexcept {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

void enter_private_veth(const std::string& tx_end, const std::string& rx_end) {
    if (unshare(CLONE_NEWNET) != 0) throw std::runtime_error(errno_text("unshare(CLONE_NEWNET) (needs root)"));
    run_ip({"ip", "link", "add", tx_end.c_str(), "type", "veth", "peer", "name", rx_end.c_str()});
    run_ip({"ip", "link", "set", tx_end.c_str(), "up"});
    run_ip({"ip", "link", "set", rx_end.c_str(), "up"});
}

VethCapture::VethCapture(const std::string& iface, std::uint16_t udp_port, std::size_t capacity)
    : udp_port_(udp_port), records_(capacity) {
    fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd_ < 0) throw std::runtime_error(errno_text("capture: AF_PACKET socket"));
    const int one = 1;
    // Room for ~100 ms of 1 Gbit/s while this thread waits for a CPU.
    const int buf = 64 << 20;
    sockaddr_ll addr{};
    addr.sll_family = AF_PACKET;
    addr.sll_protocol = htons(ETH_P_ALL);
    addr.sll_ifindex = static_cast<int>(if_nametoindex(iface.c_str()));
    const timeval poll_every{.tv_sec = 0, .tv_usec = 50'000};  // to see stop_
    if (addr.sll_ifindex == 0 || setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) != 0 ||
        setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0 ||
        setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &poll_every, sizeof poll_every) != 0 ||
        bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        const std::string why = errno_text("capture: the veth's far end") + " (" + iface + ")";
        close(fd_);
        throw std::runtime_error(why);
    }
    thread_ = std::thread([this] { loop(); });
}

VethCapture::~VethCapture() {
    stop_.store(true);
    thread_.join();
    close(fd_);
}

void VethCapture::loop() noexcept {
    constexpr unsigned kBatch = 64;
    constexpr std::size_t kSnap = 14 + 20 + 8 + 16;  // Ethernet, IPv4, UDP, replicast header up to packet_seq
    std::uint8_t frames[kBatch][kSnap];
    alignas(cmsghdr) std::uint8_t controls[kBatch][CMSG_SPACE(sizeof(timespec))];
    iovec iov[kBatch];
    mmsghdr msgs[kBatch];
    while (!stop_.load(std::memory_order_relaxed)) {
        for (unsigned i = 0; i < kBatch; ++i) {
            iov[i] = {.iov_base = frames[i], .iov_len = kSnap};
            msgs[i] = {};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_control = controls[i];
            msgs[i].msg_hdr.msg_controllen = sizeof controls[i];
        }
        // MSG_TRUNC: msg_len is the frame's real length, only kSnap bytes are copied.
        const int n = recvmmsg(fd_, msgs, kBatch, MSG_TRUNC | MSG_WAITFORONE, nullptr);
        if (n <= 0) continue;  // the 50 ms timeout, or EINTR
        std::size_t count = count_.load(std::memory_order_relaxed);
        std::uint64_t latest = 0;
        for (int i = 0; i < n; ++i) {
            const std::uint8_t* f = frames[i];
            const std::size_t len = msgs[i].msg_len;
            // Ethernet II + IPv4 without options + UDP to our port: the sender's frames
            // (the lab profile sends untagged); the veth's own IPv6 chatter is skipped.
            if (len < kSnap || f[12] != 0x08 || f[13] != 0x00 || f[14] != 0x45 || f[23] != 17) continue;
            if ((f[36] << 8 | f[37]) != udp_port_) continue;
            std::uint64_t ns = 0;
            for (cmsghdr* c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c != nullptr; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                    timespec ts{};
                    std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
                    ns = static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
                }
            }
            latest = ns;
            if (count == records_.size()) continue;
            records_[count++] = {.ns = ns, .seq = load_be64(f + 42 + 8), .frame_bytes = static_cast<std::uint32_t>(len)};
        }
        count_.store(count, std::memory_order_release);
        if (latest != 0) latest_ns_.store(latest, std::memory_order_release);
        tpacket_stats st{};
        socklen_t st_len = sizeof st;
        if (getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &st, &st_len) == 0) {  // read and reset by the kernel
            drops_.store(drops_.load(std::memory_order_relaxed) + st.tp_drops, std::memory_order_relaxed);
        }
    }
}

}  // namespace replicast::tools
