// Opens sealed packets for `replicast decode` with the keys of a key log
// (PROTOCOL.md section 3).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "crypto/gcm.hpp"
#include "tools/decode_report.hpp"

namespace replicast::tools {

class KeyLogOpener final : public PayloadOpener {
public:
    /// Throws std::runtime_error "PATH:LINE: reason" for a bad key log.
    explicit KeyLogOpener(const std::string& path);

    std::optional<bool> open(const wire::PacketView& view, std::vector<std::uint8_t>& out) const override;

    [[nodiscard]] std::size_t key_count() const noexcept { return keys_.size(); }

private:
    mutable crypto::GcmEngine engine_;
    std::map<std::pair<std::uint32_t, std::uint32_t>, std::unique_ptr<crypto::GcmKey>> keys_;  // (stream, epoch)
};

}  // namespace replicast::tools
