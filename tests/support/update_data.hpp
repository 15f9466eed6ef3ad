// Seeded generators of realistic update data for chain tests and benchmarks:
// JSON-like records (compressible, as real application values are) and random
// bytes (incompressible).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "engine/wire/update.hpp"

namespace replicast::testing {

inline std::string json_like_record(std::mt19937_64& rng, std::size_t target) {
    static const char* const fields[] = {"account", "symbol", "price", "quantity", "side", "venue", "status", "ts"};
    static const char* const words[] = {"NYSE", "XLON", "buy", "sell", "filled", "open", "EURUSD", "AAPL", "MSFT"};
    std::string s = "{";
    while (s.size() < target) {
        s += "\"";
        s += fields[rng() % 8];
        s += "\":";
        if (rng() % 2) {
            s += std::to_string(rng() % 1000000);
        } else {
            s += "\"";
            s += words[rng() % 9];
            s += "\"";
        }
        s += ",";
    }
    s.back() = '}';
    return s;
}

inline std::vector<std::uint8_t> random_bytes(std::mt19937_64& rng, std::size_t n) {
    std::vector<std::uint8_t> v(n);
    for (auto& b : v) b = static_cast<std::uint8_t>(rng());
    return v;
}

/// Owns the bytes behind a bundle of UpdateViews.
struct Bundle {
    std::vector<std::vector<std::uint8_t>> keys;
    std::vector<std::vector<std::uint8_t>> values;
    std::vector<wire::UpdateView> updates;
};

/// `count` updates: puts (values 0..max_value bytes, JSON-like or random) and
/// deletes, in reader groups 0..3.
inline Bundle make_bundle(std::mt19937_64& rng, std::size_t count, std::size_t max_value) {
    Bundle b;
    b.keys.reserve(count);
    b.values.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        const std::string key = "key/" + std::to_string(rng() % 100000) + "/" + std::to_string(i);
        b.keys.emplace_back(key.begin(), key.end());
        const bool del = rng() % 8 == 0;
        if (del) {
            b.values.emplace_back();
        } else if (rng() % 2) {
            const std::string v = json_like_record(rng, max_value == 0 ? 0 : rng() % (max_value + 1));
            b.values.emplace_back(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(std::min(v.size(), max_value)));
        } else {
            b.values.push_back(random_bytes(rng, max_value == 0 ? 0 : rng() % (max_value + 1)));
        }
        b.updates.push_back({.op = del ? wire::Op::del : wire::Op::put,
                             .reader_group = static_cast<std::uint16_t>(rng() % 4),
                             .key = b.keys.back(), .value = b.values.back()});
    }
    return b;
}

}  // namespace replicast::testing
