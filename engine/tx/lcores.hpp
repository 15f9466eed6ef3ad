// The EAL's --lcores syntax (DPDK's EAL parameters guide), checked when a
// profile loads: rte_eal_init would print its whole usage text and say only
// "Invalid argument", and a tx lcore missing from the list would be found only
// after the EAL had started.
//
//   lcores  := element (',' element)*
//   element := set ['@' set]          lcores, optionally mapped onto CPUs
//   set     := id | id '-' id | '(' item (',' item)* ')'
//   item    := id | id '-' id
//
// Lcore ids are below RTE_MAX_LCORE (128 in Debian's DPDK), CPU ids below 1024
// (CPU_SETSIZE). Whether the CPUs exist is left to the EAL. No DPDK here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace replicast::tx {

inline constexpr unsigned kMaxLcoreId = 127;  // RTE_MAX_LCORE - 1
inline constexpr unsigned kMaxCpuId = 1023;   // CPU_SETSIZE - 1

/// Parses `text`; on success returns "" and sets `lcores` to every lcore id it
/// names, in the order written. Otherwise returns why, naming the position.
[[nodiscard]] std::string parse_lcores(std::string_view text, std::vector<unsigned>& lcores);

}  // namespace replicast::tx
