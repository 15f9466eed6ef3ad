#include "crypto/key_ring.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace replicast::crypto {

Key generate_key() {
    Key k;
    if (RAND_bytes(k.data(), static_cast<int>(k.size())) != 1) {
        throw std::runtime_error("OpenSSL RAND_bytes failed: " + std::to_string(ERR_get_error()));
    }
    return k;
}

bool KeyRing::add(std::uint32_t epoch, const Key& key) {
    if (epoch == 0) {
        return false;
    }
    Slot* target = nullptr;
    for (Slot& s : slots_) {
        if (s.key && s.epoch == epoch) target = &s;
    }
    if (target == nullptr) {
        for (Slot& s : slots_) {
            if (!s.key) {
                target = &s;
                break;
            }
        }
    }
    if (target == nullptr) {  // full: replace the oldest epoch
        target = &slots_[0];
        for (Slot& s : slots_) {
            if (s.epoch < target->epoch) target = &s;
        }
    }
    target->key = std::make_unique<GcmKey>(engine_, key);  // the old GcmKey zeroises itself
    target->epoch = epoch;
    return true;
}

const GcmKey* KeyRing::find(std::uint32_t epoch) const noexcept {
    for (const Slot& s : slots_) {
        if (s.key && s.epoch == epoch) return s.key.get();
    }
    return nullptr;
}

bool KeyRing::remove(std::uint32_t epoch) noexcept {
    for (Slot& s : slots_) {
        if (s.key && s.epoch == epoch) {
            s.key.reset();
            s.epoch = 0;
            return true;
        }
    }
    return false;
}

void KeyRing::retire_older_than(std::uint32_t epoch) noexcept {
    for (Slot& s : slots_) {
        if (s.key && s.epoch < epoch) {
            s.key.reset();
            s.epoch = 0;
        }
    }
}

std::size_t KeyRing::size() const noexcept {
    std::size_t n = 0;
    for (const Slot& s : slots_) n += s.key ? 1 : 0;
    return n;
}

std::uint32_t KeyRing::newest_epoch() const noexcept {
    std::uint32_t e = 0;
    for (const Slot& s : slots_) {
        if (s.key && s.epoch > e) e = s.epoch;
    }
    return e;
}

}  // namespace replicast::crypto
