// What `bench tx` and `bench pace` share to time a tx worker slice by slice:
// the worker launched on its lcore with its thread's CPU clock published, so
// that the control core can read the worker's own CPU time around a slice.
#pragma once

#include <pthread.h>
#include <time.h>

#include <atomic>

#include "engine/tx/worker.hpp"

namespace replicast::tools {

inline double cpu_seconds(clockid_t clock) noexcept {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// CPU time this thread was given (user and system): on a shared core the
// other processes take wall time from a slice, not CPU time.
inline double thread_cpu_seconds() noexcept { return cpu_seconds(CLOCK_THREAD_CPUTIME_ID); }

struct WorkerLaunch {
    tx::TxWorker* worker = nullptr;
    clockid_t clock{};
    std::atomic<bool> ready{false};

    static int run(void* self) noexcept {
        auto& l = *static_cast<WorkerLaunch*>(self);
        if (pthread_getcpuclockid(pthread_self(), &l.clock) != 0) l.clock = CLOCK_MONOTONIC;  // then wall time
        l.ready.store(true, std::memory_order_release);
        return l.worker->run();
    }
};

}  // namespace replicast::tools
