#include "engine/tx/memory.hpp"

#include <fstream>
#include <iterator>
#include <sstream>

namespace replicast::tx {

MemoryPlan plan_memory(const EalSettings& eal, bool force_no_huge, std::size_t free_mb) {
    if (force_no_huge) return {.hugepages = false, .why_not = "--no-huge was given"};
    switch (eal.memory) {
    case MemoryMode::in_memory: return {.hugepages = true, .why_not = {}};
    case MemoryMode::no_huge: return {.hugepages = false, .why_not = "the profile sets eal.memory = \"no-huge\""};
    case MemoryMode::automatic: break;
    }
    if (free_mb >= eal.memory_mb) return {.hugepages = true, .why_not = {}};
    std::string why = free_mb == 0 ? "no hugepages are free (none reserved, or all in use)"
                                   : "only " + std::to_string(free_mb) + " MiB of hugepages are free";
    return {.hugepages = false,
            .why_not = why + " and the profile needs eal.memory_mb = " + std::to_string(eal.memory_mb)};
}

std::string describe(const EalMemory& m) {
    std::ostringstream s;
    if (m.page_size == 0) {
        s << "EAL memory: " << m.megabytes << " MiB on pages of unknown size";
        return s.str();
    }
    if (m.hugepages()) {
        s << "EAL memory: " << m.megabytes << " MiB on " << m.page_size / 1024 << " KiB hugepages";
        if (!m.hugetlbfs_mounted) {
            s << " (mapped anonymously: --in-memory needs no hugetlbfs mount, whatever the EAL's notice about one says)";
        }
        return s.str();
    }
    s << "EAL memory: " << m.megabytes << " MiB on ordinary " << m.page_size / 1024 << " KiB pages, NOT hugepages";
    if (!m.why_not.empty()) s << " (" << m.why_not << ")";
    s << ". This costs speed: every mbuf, ring and descriptor the sender touches spreads over many more TLB"
         " entries, so each packet costs more (compare `replicast bench tx` with and without --no-huge); and the"
         " memory has no physical addresses, so only virtual ports (null, pcap, af_packet, tap) work, not a NIC"
         " that DMAs. Reserve and mount hugepages with `scripts/setup --huge-only`.";
    return s.str();
}

bool hugetlbfs_in(std::string_view mounts) {
    // Lines of "device mountpoint fstype options 0 0": the third field.
    std::size_t at = 0;
    while (at < mounts.size()) {
        std::size_t end = mounts.find('\n', at);
        if (end == std::string_view::npos) end = mounts.size();
        std::istringstream line{std::string(mounts.substr(at, end - at))};
        std::string device, point, type;
        if (line >> device >> point >> type && type == "hugetlbfs") return true;
        at = end + 1;
    }
    return false;
}

bool hugetlbfs_mounted() {
    std::ifstream in("/proc/mounts");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return hugetlbfs_in(text);
}

std::size_t free_hugepage_mb() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    std::size_t free_pages = 0, page_kb = 0;
    while (in >> key) {
        if (key == "HugePages_Free:") in >> free_pages;
        else if (key == "Hugepagesize:") in >> page_kb;
        in.ignore(256, '\n');
    }
    return free_pages * page_kb / 1024;
}

}  // namespace replicast::tx
