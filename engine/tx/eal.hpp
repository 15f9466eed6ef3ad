// EAL bring-up from a profile. The EAL can be initialised once per process, so
// this is a scope object owned by main() (the server, `replicast bench tx`):
// its constructor builds the EAL argument list, runs rte_eal_init and throws
// with DPDK's reason; its destructor runs rte_eal_cleanup.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "engine/tx/memory.hpp"
#include "engine/tx/profile.hpp"

namespace replicast::tx {

class EalError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct EalOverrides {
    bool force_no_huge = false;  // the operator's --no-huge: ignore hugepages even when reserved
};

/// The argument list rte_eal_init gets for `profile` (argv[0] included), with
/// the memory mode resolved. Pure apart from reading /proc/meminfo for "auto".
std::vector<std::string> eal_arguments(const PmdProfile& profile, const EalOverrides& overrides);

class Eal {
public:
    /// Throws EalError naming the profile and DPDK's reason (no hugepages, an
    /// unknown vdev, too few lcores for the workers...).
    Eal(const PmdProfile& profile, const EalOverrides& overrides);
    ~Eal();
    Eal(const Eal&) = delete;
    Eal& operator=(const Eal&) = delete;

    [[nodiscard]] const std::vector<std::string>& arguments() const noexcept { return args_; }
    [[nodiscard]] bool hugepages() const noexcept { return memory_.hugepages(); }
    /// The pages the EAL's memory segments turned out to be on, and why
    /// (describe() gives the sentence the server and `bench tx` print).
    [[nodiscard]] const EalMemory& memory() const noexcept { return memory_; }

private:
    std::vector<std::string> args_;
    EalMemory memory_;
};

}  // namespace replicast::tx
