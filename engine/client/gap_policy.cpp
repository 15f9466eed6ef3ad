#include "engine/client/gap_policy.hpp"

#include <algorithm>

namespace replicast::client {

void GapPolicy::need_through(std::uint64_t lsn) noexcept {
    if (lsn < next_) return;
    if (need_to_ < next_) ++gaps_;  // nothing was missing before: a new gap
    need_to_ = std::max(need_to_, lsn);
}

GapPolicy::Verdict GapPolicy::on_chain(std::uint64_t first, std::uint32_t count, std::size_t bytes) noexcept {
    const std::uint64_t last = first + count - 1;
    known_last_ = std::max(known_last_, last);
    if (last < next_) return Verdict::duplicate;
    if (first <= next_) return Verdict::apply;
    if (chains_ < config_.max_buffered_chains && bytes_ + bytes <= config_.max_buffered_bytes) {
        need_through(first - 1);
        ++chains_;
        bytes_ += bytes;
        return Verdict::buffer;
    }
    need_through(last);  // dropped: recovered with the gap before it
    return Verdict::drop;
}

void GapPolicy::on_heartbeat(std::uint64_t last_lsn, bool chain_in_flight) noexcept {
    known_last_ = std::max(known_last_, last_lsn);
    // A chain being gathered may be the one that carries next: wait for it.
    if (!chain_in_flight && last_lsn >= next_) need_through(last_lsn);
}

void GapPolicy::on_known_last(std::uint64_t last_lsn) noexcept { known_last_ = std::max(known_last_, last_lsn); }

std::optional<LsnRange> GapPolicy::recover_due(std::uint64_t now_ns, std::uint64_t buffered_from) noexcept {
    if (in_flight_ || need_to_ < next_ || now_ns < retry_at_) return std::nullopt;
    const std::uint64_t to = buffered_from > next_ ? std::min(need_to_, buffered_from - 1) : need_to_;
    in_flight_ = true;
    return LsnRange{next_, to};
}

void GapPolicy::recover_done(bool ok, std::uint64_t now_ns) noexcept {
    in_flight_ = false;
    if (!ok) retry_at_ = now_ns + config_.retry_ns;
}

void GapPolicy::reset(std::uint64_t applied_lsn) noexcept {
    next_ = applied_lsn + 1;
    need_to_ = 0;
    in_flight_ = false;
    retry_at_ = 0;
    known_last_ = std::max(known_last_, applied_lsn);
}

void GapPolicy::applied(std::uint64_t last) noexcept {
    if (last + 1 > next_) next_ = last + 1;
}

void GapPolicy::unbuffered(std::size_t bytes) noexcept {
    if (chains_ > 0) --chains_;
    bytes_ = bytes_ >= bytes ? bytes_ - bytes : 0;
}

}  // namespace replicast::client
