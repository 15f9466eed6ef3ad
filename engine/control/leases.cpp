#include "engine/control/leases.hpp"

#include <algorithm>

namespace replicast::control {

std::uint64_t LeaseTable::horizon(std::uint32_t stream, std::uint64_t now_ns, std::uint64_t floor_ns) {
    std::uint64_t latest = floor_ns;
    auto it = expires_.lower_bound(Key{stream, std::string()});
    while (it != expires_.end() && it->first.first == stream) {
        if (it->second <= now_ns) {
            it = expires_.erase(it);  // lapsed: the table stays as small as the leases running
            continue;
        }
        latest = std::max(latest, it->second);
        ++it;
    }
    return latest;
}

std::uint64_t LeaseTable::take(std::string_view identity, std::uint32_t stream, std::uint64_t now_ns) {
    expires_[Key{stream, std::string(identity)}] = now_ns + length_ns_;
    return horizon(stream, now_ns, now_ns);
}

bool LeaseTable::renew(std::string_view identity, std::uint32_t stream, std::uint64_t now_ns,
                       std::uint64_t& horizon_ns) {
    auto it = expires_.find(Key{stream, std::string(identity)});
    if (it == expires_.end() || it->second <= now_ns) return false;  // lapsed: only a Subscribe takes it again
    it->second = now_ns + length_ns_;
    horizon_ns = horizon(stream, now_ns, now_ns);
    return true;
}

bool LeaseTable::end(std::string_view identity, std::uint32_t stream, std::uint64_t now_ns, std::uint64_t& horizon_ns) {
    auto it = expires_.find(Key{stream, std::string(identity)});
    if (it == expires_.end()) return false;
    const bool running = it->second > now_ns;
    expires_.erase(it);
    if (!running) return false;  // it had lapsed already: the horizon was its expiry, and stays
    // Ended now: nobody held the stream past now unless another lease runs on.
    horizon_ns = horizon(stream, now_ns, now_ns);
    return true;
}

std::vector<std::pair<std::uint32_t, std::uint64_t>> LeaseTable::end_all(std::string_view identity,
                                                                         std::uint64_t now_ns) {
    std::vector<std::uint32_t> streams;
    for (const auto& [key, expiry] : expires_) {
        if (key.second == identity && expiry > now_ns) streams.push_back(key.first);
    }
    std::vector<std::pair<std::uint32_t, std::uint64_t>> out;
    for (std::uint32_t s : streams) {
        std::uint64_t h = 0;
        if (end(identity, s, now_ns, h)) out.emplace_back(s, h);
    }
    return out;
}

std::uint64_t LeaseTable::remaining_ns(std::string_view identity, std::uint32_t stream, std::uint64_t now_ns) const {
    const auto it = expires_.find(Key{stream, std::string(identity)});
    return it == expires_.end() || it->second <= now_ns ? 0 : it->second - now_ns;
}

std::vector<LeaseTable::Holder> LeaseTable::holders(std::uint32_t stream, std::uint64_t now_ns) const {
    std::vector<Holder> out;
    for (auto it = expires_.lower_bound(Key{stream, std::string()}); it != expires_.end() && it->first.first == stream;
         ++it) {
        if (it->second > now_ns) out.push_back({it->first.second, it->second});
    }
    return out;
}

}  // namespace replicast::control
