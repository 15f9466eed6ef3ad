#include "tools/version_bpf.hpp"

#include <bpf/libbpf.h>

namespace replicast::tools {
const char* libbpf_runtime_version() noexcept { return libbpf_version_string(); }
}  // namespace replicast::tools
