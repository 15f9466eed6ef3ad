// Every JSON the command line prints goes through nlohmann-json, one object a
// line (JSON lines), keys in the order they were set so that a person reading
// the output sees them grouped as the text report groups them.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>

namespace replicast::tools {

using Json = nlohmann::ordered_json;

/// Prints `j` compact on one line. Bytes that are not UTF-8 (none of ours
/// should be) are replaced rather than thrown on.
inline void print_json_line(const Json& j) {
    const std::string text = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    std::printf("%s\n", text.c_str());
}

}  // namespace replicast::tools
