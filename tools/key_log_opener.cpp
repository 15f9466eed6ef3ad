#include "tools/key_log_opener.hpp"

#include "crypto/key_log.hpp"

#include <openssl/crypto.h>

namespace replicast::tools {

KeyLogOpener::KeyLogOpener(const std::string& path) {
    for (const crypto::KeyLogEntry& e : crypto::load_key_log(path)) {
        auto& known = keys_[{e.stream_id, e.epoch}];
        bool seen = false;
        for (const auto& k : known) seen |= k.first == e.key;
        if (seen) continue;
        known.emplace_back(e.key, std::make_unique<crypto::GcmKey>(engine_, e.key));
        ++key_count_;
    }
}

KeyLogOpener::~KeyLogOpener() {
    for (auto& [id, known] : keys_) {
        for (auto& k : known) OPENSSL_cleanse(k.first.data(), k.first.size());
    }
}

std::optional<bool> KeyLogOpener::open(const wire::PacketView& view, std::vector<std::uint8_t>& out) const {
    const auto it = keys_.find({view.header.stream_id, view.header.key_epoch});
    if (it == keys_.end()) {
        return std::nullopt;
    }
    out.resize(view.payload.size());
    for (const auto& k : it->second) {
        if (crypto::open_packet(engine_, *k.second, view, out)) return true;
    }
    out.clear();
    return false;
}

}  // namespace replicast::tools
