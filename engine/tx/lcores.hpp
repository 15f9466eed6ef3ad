// The EAL's --lcores syntax (DPDK's EAL parameters guide), checked when a
// profile loads: rte_eal_init would print its whole usage text and say only
// "Invalid argument", and a tx lcore missing from the list would be found only
// after the EAL had started.
//
//   lcores  := element (',' element)*
//   element := id ['@' set] | id '-' id | group ['@' set]
//   set     := id | id '-' id | group         CPUs the lcores run on
//   group   := '(' item (',' item)* ')'
//   item    := id | id '-' id
//
// As the EAL reads it: a range may run either way ("3-1"), a repeated lcore is
// remapped rather than refused, blanks between tokens are skipped, and a bare
// range cannot take '@' (only a group can: "(1-3)@5"). Lcore ids are below
// RTE_MAX_LCORE (128 in Debian's DPDK), CPU ids below 1024 (CPU_SETSIZE).
// Whether the CPUs exist is left to the EAL. No DPDK here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace replicast::tx {

inline constexpr unsigned kMaxLcoreId = 127;  // RTE_MAX_LCORE - 1
inline constexpr unsigned kMaxCpuId = 1023;   // CPU_SETSIZE - 1

/// Parses `text`; on success returns "" and sets `lcores` to every lcore id it
/// names, once each, in the order first written. Otherwise returns why,
/// naming the position.
[[nodiscard]] std::string parse_lcores(std::string_view text, std::vector<unsigned>& lcores);

}  // namespace replicast::tx
