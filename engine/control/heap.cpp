#include "engine/control/heap.hpp"

#include <atomic>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace replicast::control {

void keep_freed_heap() noexcept {
#if defined(__GLIBC__)
    static std::atomic<bool> done{false};
    if (done.exchange(true)) return;
    // Setting the trim threshold also fixes glibc's mmap threshold at its
    // default (128 KiB), which measured no worse for these buffers.
    mallopt(M_TRIM_THRESHOLD, static_cast<int>(kKeptHeapBytes));
#endif
}

}  // namespace replicast::control
