// Loads the known-answer vectors (shared/vectors/protocol-v1.json, pinned in
// tests/vectors/) through protobuf's JSON parser.
#pragma once

#include <string>

#include "vectors.pb.h"

namespace replicast::testing {

/// Path from $REPLICAST_VECTORS (set by meson test), else the pinned copy.
std::string vectors_path();

/// Throws std::runtime_error naming the file and protobuf's reason when it cannot be read.
testvectors::VectorFile load_vectors(const std::string& path = vectors_path());

}  // namespace replicast::testing
