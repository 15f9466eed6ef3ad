#include "tools/key_log_opener.hpp"

#include "crypto/key_log.hpp"

namespace replicast::tools {

KeyLogOpener::KeyLogOpener(const std::string& path) {
    for (const crypto::KeyLogEntry& e : crypto::load_key_log(path)) {
        keys_[{e.stream_id, e.epoch}] = std::make_unique<crypto::GcmKey>(engine_, e.key);
    }
}

std::optional<bool> KeyLogOpener::open(const wire::PacketView& view, std::vector<std::uint8_t>& out) const {
    const auto it = keys_.find({view.header.stream_id, view.header.key_epoch});
    if (it == keys_.end()) {
        return std::nullopt;
    }
    out.resize(view.payload.size());
    if (!crypto::open_packet(engine_, *it->second, view, out)) {
        out.clear();
        return false;
    }
    return true;
}

}  // namespace replicast::tools
