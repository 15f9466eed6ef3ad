// Loads the known-answer vectors (shared/vectors/protocol-v1.json, pinned in
// tests/vectors/) through protobuf's JSON parser.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vectors.pb.h"

namespace replicast::testing {

/// Path from $REPLICAST_VECTORS (set by meson test), else the pinned copy.
std::string vectors_path();

/// Throws std::runtime_error naming the file and protobuf's reason when it cannot be read.
testvectors::VectorFile load_vectors(const std::string& path = vectors_path());

/// An update's value bytes, from `value` (text) or `value_hex`.
std::vector<std::uint8_t> update_value(const testvectors::Update& u);

}  // namespace replicast::testing
