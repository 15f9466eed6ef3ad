// Adaptive bundling ([bundle] adaptive): the chain size (updates per chain)
// that minimises the server's expected egress per update, given the packet
// loss its receivers report (DESIGN.md: clients "report their loss statistics
// so the server can tune bundling and rate").
//
// Why it pays: a chain is lost whole when one of its packets is, and every
// receiver that lost it repairs it by unicast Recover. Long chains cost less on
// the wire (fewer chain heads and packet headers per update) but are lost more
// often; at 1 % packet loss and 8 receivers, 64-update chains (5-6 packets)
// cost 1.44 copies and 16-update chains 1.27 (bench/RESULTS.md, fanout).
//
// Expected egress per update for chains of n updates in k(n) packets:
//   multicast(n) = (n * update_bytes + chain_head + k(n) * packet_overhead) / n
//   repair(n)    = sum over receivers i of P_i(n) * (repair_update + repair_call / n)
//   P_i(n)       = 1 - (1 - p_i)^k(n)      (the chain is lost if any packet is)
// Pure arithmetic on the control core, once per tick, never on a tx worker.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace replicast::server {

/// What a chain costs on the wire and to repair, in bytes.
struct BundleModel {
    double update_bytes = 110;        // chain record bytes per update as carried (after compression)
    double body_update_bytes = 110;   // uncompressed body bytes per update (what [bundle] max_bytes bounds)
    double chain_head_bytes = 16;     // the chain record head (PROTOCOL.md 1.3)
    double packet_payload = 1432;     // payload per packet (MTU 1500)
    double packet_overhead = 82;      // Ethernet 14 + IPv4 20 + UDP 8 + replicast 24 + GCM tag 16
    // Unicast repair, estimated from bench/RESULTS.md's fanout run (64-update
    // chains at 1 % loss: 48.8 bytes per update of repairs for 8 receivers that
    // each repaired 5 % of the updates): the update's body plus its framing in
    // the Recover batch, and per Recover call its request, headers and trailer.
    double repair_framing_bytes = 16;
    double repair_call_bytes = 400;

    /// Packets a chain of `n` updates needs.
    [[nodiscard]] std::uint32_t packets(std::uint32_t n) const noexcept;
};

struct BundleBounds {
    std::uint32_t max_updates = 256;  // the ceiling: [bundle] max_updates
    std::uint64_t max_bytes = 65536;  // ... and max_bytes (uncompressed body)
    std::uint32_t min_updates = 4;    // the floor: [bundle] min_updates
    double hysteresis = 0.05;         // change only when the best is this much cheaper than the current size
};

/// Expected server egress per update (bytes) for chains of `n` updates when
/// the receivers lose packets at the rates in `loss` (one entry per receiver).
[[nodiscard]] double egress_per_update(std::uint32_t n, const BundleModel& m, std::span<const double> loss) noexcept;

class BundleController {
public:
    explicit BundleController(const BundleBounds& bounds) noexcept;

    /// The chain size the cutter uses now (updates per chain).
    [[nodiscard]] std::uint32_t current() const noexcept { return current_; }
    /// The largest size the bounds allow for updates of this size.
    [[nodiscard]] std::uint32_t ceiling(const BundleModel& m) const noexcept;
    /// The size of least expected egress in [floor, ceiling] (ties: the larger).
    [[nodiscard]] std::uint32_t best(const BundleModel& m, std::span<const double> loss) const;

    /// One decision from the receivers' current loss rates (empty: no receiver
    /// reported loss within the window). Without loss the size goes straight to
    /// the ceiling; with loss it moves to best() only when that saves more than
    /// `hysteresis` of the current size's expected egress, so that a loss
    /// estimate wobbling near a boundary does not flap the size.
    /// @return true when current() changed.
    bool update(const BundleModel& m, std::span<const double> loss);

private:
    BundleBounds bounds_;
    std::uint32_t current_;
};

}  // namespace replicast::server
