#include "engine/client/stats.hpp"

#include <nlohmann/json.hpp>

#include <bit>
#include <cstdio>

namespace replicast::client {

void LatencyHistogram::add(std::uint64_t ns) noexcept {
    const std::size_t i = ns == 0 ? 0 : static_cast<std::size_t>(std::bit_width(ns) - 1);
    ++buckets[i < kBuckets ? i : kBuckets - 1];
    ++count;
}

std::uint64_t LatencyHistogram::quantile(double q) const noexcept {
    if (count == 0) return 0;
    const auto want = static_cast<std::uint64_t>(q * static_cast<double>(count));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
        seen += buckets[i];
        if (seen > want || seen == count) return std::uint64_t{2} << i;
    }
    return std::uint64_t{2} << (kBuckets - 1);
}

ReceiveStats FollowerStats::receive_stats(std::uint64_t now_ns) const noexcept {
    return {.packets = packets,
            .bytes = bytes,
            .chains_applied = chains_applied,
            .chains_dropped = chains_dropped_broken + chains_dropped_buffer_full,
            .gaps = gaps,
            .lsns_recovered = lsns_recovered,
            .decrypt_failures = open_failures,
            .window_ms = now_ns > started_ns ? (now_ns - started_ns) / 1'000'000 : 0,
            .applied_lsn = applied_lsn,
            .lag_lsns = lag_lsns,
            .replays = replays + too_old,
            .wrong_source = wrong_source,
            .queue_overflows = queue_overflows,
            .snapshots = snapshots,
            .packets_missed = packets_missed,
            .socket_drops = socket_drops,
            .buffer_fill_pct = buffer_fill_pct};
}

std::string to_json(const FollowerStats& s) {
    nlohmann::json hist = nlohmann::json::array();
    for (std::size_t i = 0; i < LatencyHistogram::kBuckets; ++i) {
        if (s.apply_latency.buckets[i] != 0) {
            hist.push_back({{"le_ns", std::uint64_t{2} << i}, {"count", s.apply_latency.buckets[i]}});
        }
    }
    const nlohmann::json j = {
        {"name", s.database},
        {"state", s.state},
        {"stream_id", s.stream_id},
        {"key_epoch", s.key_epoch},
        {"receive",
         {{"datagrams", s.datagrams},
          {"packets", s.packets},
          {"bytes", s.bytes},
          {"malformed", s.malformed},
          {"truncated", s.truncated},
          {"bad_length", s.bad_length},
          {"wrong_source", s.wrong_source},
          {"wrong_stream", s.wrong_stream},
          {"replays", s.replays},
          {"too_old", s.too_old},
          {"unknown_epoch", s.unknown_epoch},
          {"open_failures", s.open_failures},
          {"queue_overflows", s.queue_overflows},
          {"packets_missed", s.packets_missed},
          {"socket_drops", s.socket_drops},
          {"buffer_fill_pct", s.buffer_fill_pct},
          {"slot_bytes", s.slot_bytes}}},
        {"chains",
         {{"applied", s.chains_applied},
          {"updates_applied", s.updates_applied},
          {"duplicate", s.chains_duplicate},
          {"buffered", s.chains_buffered},
          {"dropped_broken", s.chains_dropped_broken},
          {"dropped_buffer_full", s.chains_dropped_buffer_full}}},
        {"repair",
         {{"gaps", s.gaps},
          {"recoveries", s.recoveries},
          {"recover_failures", s.recover_failures},
          {"lsns_recovered", s.lsns_recovered},
          {"bytes_recovered", s.bytes_recovered},
          {"snapshots", s.snapshots},
          {"snapshot_records", s.snapshot_records}}},
        {"control", {{"key_fetches", s.key_fetches}, {"reports", s.reports}, {"resubscribes", s.resubscribes}, {"unicast_periods", s.unicast_periods}}},
        {"store_errors", s.store_errors},
        {"applied_lsn", s.applied_lsn},
        {"known_last_lsn", s.known_last_lsn},
        {"lag_lsns", s.lag_lsns},
        {"lag_seconds", s.lag_seconds},
        {"apply_latency",
         {{"count", s.apply_latency.count},
          {"p50_ns", s.apply_latency.quantile(0.5)},
          {"p99_ns", s.apply_latency.quantile(0.99)},
          {"histogram", hist}}},
    };
    return j.dump();
}

std::string summary_line(const FollowerStats& s) {
    char line[512];
    std::snprintf(line, sizeof line,
                  "%s: %s lsn=%llu lag=%llu packets=%llu chains=%llu dropped=%llu gaps=%llu recovered=%llu "
                  "snapshots=%llu open_failures=%llu overflows=%llu",
                  s.database.c_str(), s.state.c_str(), static_cast<unsigned long long>(s.applied_lsn),
                  static_cast<unsigned long long>(s.lag_lsns), static_cast<unsigned long long>(s.packets),
                  static_cast<unsigned long long>(s.chains_applied),
                  static_cast<unsigned long long>(s.chains_dropped_broken + s.chains_dropped_buffer_full),
                  static_cast<unsigned long long>(s.gaps), static_cast<unsigned long long>(s.lsns_recovered),
                  static_cast<unsigned long long>(s.snapshots), static_cast<unsigned long long>(s.open_failures),
                  static_cast<unsigned long long>(s.queue_overflows));
    return line;
}

}  // namespace replicast::client
