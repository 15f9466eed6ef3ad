// libbpf's headers and libpcap's both define `struct bpf_insn`, so libbpf is
// asked for its version in a translation unit of its own.
#pragma once

namespace replicast::tools {
const char* libbpf_runtime_version() noexcept;
}
