#include "engine/tx/eal.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace replicast::tx {

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

std::vector<std::string> eal_arguments(const PmdProfile& p, const EalOverrides& o) {
    // --lcores takes what -l takes ("0,1") and also lcore@cpu maps ("0@0,1@1,2@0").
    std::vector<std::string> a = {"replicast", "--lcores", p.eal.lcores, "--file-prefix", p.eal.file_prefix,
                                  "--log-level", p.eal.log_level};
    bool huge = false;
    switch (p.eal.memory) {
    case MemoryMode::in_memory: huge = true; break;
    case MemoryMode::no_huge: huge = false; break;
    case MemoryMode::automatic: huge = free_hugepage_mb() >= p.eal.memory_mb; break;
    }
    if (o.force_no_huge) huge = false;
    if (huge) {
        a.insert(a.end(), {"--in-memory", "-m", std::to_string(p.eal.memory_mb)});
    } else {
        a.insert(a.end(), {"--no-huge", "-m", std::to_string(p.eal.memory_mb)});
    }
    for (const std::string& v : p.eal.vdevs) a.insert(a.end(), {"--vdev", v});
    if (p.eal.pci_allow.empty()) {
        a.push_back("--no-pci");  // vdev-only profiles: do not probe (or grab) the host's NICs
    }
    for (const std::string& d : p.eal.pci_allow) a.insert(a.end(), {"-a", d});
    a.insert(a.end(), p.eal.extra_args.begin(), p.eal.extra_args.end());
    return a;
}

Eal::Eal(const PmdProfile& profile, const EalOverrides& overrides) : args_(eal_arguments(profile, overrides)) {
    hugepages_ = std::find(args_.begin(), args_.end(), "--in-memory") != args_.end();
    std::vector<char*> argv;
    argv.reserve(args_.size() + 1);
    for (std::string& s : args_) argv.push_back(s.data());
    argv.push_back(nullptr);
    std::vector<std::string> keep = args_;  // rte_eal_init may permute argv
    if (rte_eal_init(static_cast<int>(args_.size()), argv.data()) < 0) {
        std::ostringstream s;
        s << profile.path << ": EAL initialisation failed: " << rte_strerror(rte_errno);
        if (rte_errno == ENOMEM && hugepages_) {
            s << " (not enough hugepages: reserve more with scripts/setup, set eal.memory_mb lower, or run with --no-huge)";
        }
        s << "; arguments:";
        for (const std::string& x : keep) s << ' ' << x;
        throw EalError(s.str());
    }
    args_ = std::move(keep);
    for (unsigned lcore : profile.tx_lcores) {
        if (!rte_lcore_is_enabled(lcore) || lcore == rte_get_main_lcore()) {
            rte_eal_cleanup();
            throw EalError(profile.path + ": workers.tx_lcores: lcore " + std::to_string(lcore) +
                           " is not a worker lcore of eal.lcores \"" + profile.eal.lcores +
                           "\" (the first lcore is the control core)");
        }
    }
}

Eal::~Eal() { rte_eal_cleanup(); }

}  // namespace replicast::tx
