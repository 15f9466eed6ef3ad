// How the EAL gets its memory: decided from the profile before rte_eal_init,
// read back after it, and said in words an operator can act on. The EAL's own
// notices do not say it: with --in-memory and hugepages reserved but no
// hugetlbfs mounted it prints "no mounted hugetlbfs found for that size" and
// then maps the hugepages anonymously (fine), while with --no-huge it runs on
// 4 KiB pages without a word (slower, and no physical addresses for a NIC).
// Pure apart from the /proc readers; no DPDK.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "engine/tx/profile.hpp"

namespace replicast::tx {

struct MemoryPlan {
    bool hugepages = false;  // the EAL gets --in-memory (hugepages), else --no-huge
    std::string why_not;     // !hugepages: why, in a phrase ("--no-huge was given", ...)
};

/// The memory mode for `eal`: in_memory and no_huge as the profile says,
/// automatic by whether `free_hugepage_mb` covers eal.memory_mb; the operator's
/// --no-huge (`force_no_huge`) wins over all.
MemoryPlan plan_memory(const EalSettings& eal, bool force_no_huge, std::size_t free_hugepage_mb);

/// What the EAL's memory turned out to be.
struct EalMemory {
    std::size_t megabytes = 0;        // eal.memory_mb
    std::size_t page_size = 0;        // bytes, of the EAL's memory segments (the smallest if several); 0: unknown
    std::size_t base_page_size = 4096;
    bool hugetlbfs_mounted = false;   // any hugetlbfs in /proc/mounts
    std::string why_not;              // the plan's, when it chose --no-huge

    [[nodiscard]] bool hugepages() const noexcept { return page_size > base_page_size; }
};

/// One paragraph for the start-up log and `bench tx`: the pages the EAL runs
/// on, and when they are not hugepages, why, what it costs and how to fix it.
std::string describe(const EalMemory& m);

/// True when `proc_mounts` (the text of /proc/mounts) lists a hugetlbfs.
bool hugetlbfs_in(std::string_view proc_mounts);
/// hugetlbfs_in(/proc/mounts); false when unreadable.
bool hugetlbfs_mounted();

/// Free hugepage memory in MiB, from /proc/meminfo (0 when none or unreadable).
std::size_t free_hugepage_mb();

}  // namespace replicast::tx
