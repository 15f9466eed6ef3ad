// Opens sealed packets for `replicast decode` with the keys of a key log
// (PROTOCOL.md section 3).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "crypto/gcm.hpp"
#include "tools/decode_report.hpp"

namespace replicast::tools {

class KeyLogOpener final : public PayloadOpener {
public:
    /// Throws std::runtime_error "PATH:LINE: reason" for a bad key log.
    explicit KeyLogOpener(const std::string& path);
    ~KeyLogOpener() override;  // zeroises the raw keys it kept to tell duplicates apart
    KeyLogOpener(const KeyLogOpener&) = delete;
    KeyLogOpener& operator=(const KeyLogOpener&) = delete;

    std::optional<bool> open(const wire::PacketView& view, std::vector<std::uint8_t>& out) const override;

    [[nodiscard]] std::size_t key_count() const noexcept { return key_count_; }

private:
    mutable crypto::GcmEngine engine_;
    // (stream, epoch) -> every distinct key logged for it: a key log kept
    // across a store that was made again holds two keys for one epoch, and
    // the tag tells which one sealed a packet.
    std::map<std::pair<std::uint32_t, std::uint32_t>, std::vector<std::pair<crypto::Key, std::unique_ptr<crypto::GcmKey>>>> keys_;
    std::size_t key_count_ = 0;
};

}  // namespace replicast::tools
