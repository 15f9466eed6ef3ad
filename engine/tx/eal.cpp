#include "engine/tx/eal.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_memory.h>
#include <unistd.h>

#include <sstream>

namespace replicast::tx {

namespace {

std::vector<std::string> arguments_for(const PmdProfile& p, const MemoryPlan& memory) {
    // --lcores takes what -l takes ("0,1") and also lcore@cpu maps ("0@0,1@1,2@0").
    std::vector<std::string> a = {"replicast", "--lcores", p.eal.lcores, "--file-prefix", p.eal.file_prefix,
                                  "--log-level", p.eal.log_level};
    if (memory.hugepages) {
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

// The smallest page size among the memory segment lists that hold memory.
int smallest_page(const rte_memseg_list* msl, void* arg) {
    auto& smallest = *static_cast<std::size_t*>(arg);
    if (msl->memseg_arr.count > 0 && (smallest == 0 || msl->page_sz < smallest)) {
        smallest = static_cast<std::size_t>(msl->page_sz);
    }
    return 0;
}

}  // namespace

std::vector<std::string> eal_arguments(const PmdProfile& p, const EalOverrides& o) {
    return arguments_for(p, plan_memory(p.eal, o.force_no_huge, free_hugepage_mb()));
}

Eal::Eal(const PmdProfile& profile, const EalOverrides& overrides) {
    const MemoryPlan plan = plan_memory(profile.eal, overrides.force_no_huge, free_hugepage_mb());
    args_ = arguments_for(profile, plan);
    const bool huge = plan.hugepages;
    memory_.megabytes = profile.eal.memory_mb;
    memory_.base_page_size = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    memory_.hugetlbfs_mounted = hugetlbfs_mounted();
    memory_.why_not = plan.why_not;
    std::vector<char*> argv;
    argv.reserve(args_.size() + 1);
    for (std::string& s : args_) argv.push_back(s.data());
    argv.push_back(nullptr);
    std::vector<std::string> keep = args_;  // rte_eal_init may permute argv
    if (rte_eal_init(static_cast<int>(args_.size()), argv.data()) < 0) {
        std::ostringstream s;
        s << profile.path << ": EAL initialisation failed: " << rte_strerror(rte_errno);
        if (rte_errno == ENOMEM && huge) {
            s << " (not enough hugepages: reserve more with scripts/setup, set eal.memory_mb lower, or run with --no-huge)";
        }
        s << "; arguments:";
        for (const std::string& x : keep) s << ' ' << x;
        throw EalError(s.str());
    }
    args_ = std::move(keep);
    rte_memseg_list_walk(smallest_page, &memory_.page_size);
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
