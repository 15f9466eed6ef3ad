#include "vectors.hpp"

#include <google/protobuf/util/json_util.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "hex.hpp"
#include "replicast_config.h"

namespace replicast::testing {

std::string vectors_path() {
    if (const char* env = std::getenv("REPLICAST_VECTORS"); env != nullptr && *env != '\0') {
        return env;
    }
    return std::string(REPLICAST_SOURCE_ROOT) + "/tests/vectors/protocol-v1.json";
}

testvectors::VectorFile load_vectors(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        throw std::runtime_error("cannot open vector file " + path);
    }
    std::stringstream text;
    text << in.rdbuf();
    testvectors::VectorFile file;
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;  // a new field in the vectors must be looked at, not skipped
    const auto status = google::protobuf::util::JsonStringToMessage(text.str(), &file, options);
    if (!status.ok()) {
        throw std::runtime_error(path + ": " + std::string(status.message()));
    }
    return file;
}

std::vector<std::uint8_t> update_value(const testvectors::Update& u) {
    if (!u.value_hex().empty()) {
        return from_hex(u.value_hex());
    }
    return bytes_of(u.value());
}

}  // namespace replicast::testing
