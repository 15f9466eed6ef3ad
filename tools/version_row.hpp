// One library's line in `replicast version` and `replicast-dpdk version`.
#pragma once

#include <cstdio>
#include <string>

namespace replicast::tools {

inline void version_row(const char* name, const std::string& built, const std::string& runtime) {
    if (runtime.empty() || runtime == built) {
        std::printf("  %-13s %s\n", name, built.c_str());
    } else {
        std::printf("  %-13s %s (running %s)\n", name, built.c_str(), runtime.c_str());
    }
}

}  // namespace replicast::tools
