// Hex <-> bytes for tests and fixtures.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace replicast::testing {

/// Throws std::invalid_argument on an odd length or a non-hex digit.
std::vector<std::uint8_t> from_hex(std::string_view hex);
std::string to_hex(std::span<const std::uint8_t> bytes);
std::vector<std::uint8_t> bytes_of(std::string_view text);

}  // namespace replicast::testing
