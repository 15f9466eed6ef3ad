// The key epochs of one stream: the current key, the next one once it is
// announced, and the previous one for a short overlap (packets sealed just
// before a switch may still be in flight). A fixed ring: looking up an epoch
// is a scan of three slots, and nothing is allocated after construction.
// Keys are zeroised when dropped.
//
// Threading: not synchronised. One owner (the control thread that learns keys)
// adds and retires; a hot thread may keep a GcmKey* from find() only while the
// owner guarantees that epoch is not retired (the owner hands keys to workers
// by message, engine/tx/messages.hpp, and retires after the overlap).
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "crypto/gcm.hpp"

namespace replicast::crypto {

/// 32 bytes from OpenSSL's CSPRNG (RAND_bytes). Throws std::runtime_error when it fails.
Key generate_key();

class KeyRing {
public:
    static constexpr std::size_t kSlots = 3;

    explicit KeyRing(GcmEngine& engine) : engine_(engine) {}

    /// Adds (or replaces) the key of `epoch`; the oldest epoch is dropped when
    /// the ring is full. Epoch 0 means "not sealed" and is refused (returns false).
    /// Allocates (control path only); throws std::bad_alloc.
    bool add(std::uint32_t epoch, const Key& key);

    /// @return the key of `epoch`, or nullptr when unknown.
    [[nodiscard]] const GcmKey* find(std::uint32_t epoch) const noexcept;

    /// Drops (and zeroises) every key older than `epoch`; pointers from find()
    /// to those keys dangle afterwards.
    void retire_older_than(std::uint32_t epoch) noexcept;

    /// Drops (and zeroises) the key of `epoch` alone: one added but never
    /// handed out (the server's key change could not be posted), so that it
    /// does not take a slot that the oldest epoch, still sealing, needs.
    /// @return whether `epoch` was there.
    bool remove(std::uint32_t epoch) noexcept;

    [[nodiscard]] std::size_t size() const noexcept;
    [[nodiscard]] std::uint32_t newest_epoch() const noexcept;

private:
    struct Slot {
        std::uint32_t epoch = 0;
        std::unique_ptr<GcmKey> key;
    };
    GcmEngine& engine_;
    std::array<Slot, kSlots> slots_{};
};

}  // namespace replicast::crypto
