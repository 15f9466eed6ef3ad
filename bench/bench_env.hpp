// What every in-process benchmark here shares and nothing else: its knobs from
// the environment, its scratch directory, CPU clocks, and the median/range
// summary it reports for repeated rounds (the VM drifts, so one round proves
// little).
#pragma once

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

namespace replicast::bench {

/// A knob from the environment (REPLICAST_BENCH_*), or its default.
inline std::uint64_t env_u64(const char* name, std::uint64_t dflt) {
    const char* v = std::getenv(name);
    return v != nullptr ? std::strtoull(v, nullptr, 10) : dflt;
}

/// A fresh, empty rc-bench-WHAT-PID under REPLICAST_BENCH_DIR (default: the temp directory).
inline std::filesystem::path bench_dir(const std::string& what) {
    const char* base = std::getenv("REPLICAST_BENCH_DIR");
    auto dir = std::filesystem::path(base != nullptr ? base : std::filesystem::temp_directory_path().string()) /
               ("rc-bench-" + what + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

inline std::uint64_t now_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

/// CPU seconds of the calling thread.
inline double thread_cpu_s() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}
/// CPU seconds of the whole process (every thread).
inline double process_cpu_s() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

/// One figure over rounds, reported as NAME_median, NAME_min and NAME_max.
struct Spread {
    std::vector<double> v;
    void add(double x) { v.push_back(x); }
    void put(benchmark::State& state, const std::string& name) {
        if (v.empty()) return;
        std::sort(v.begin(), v.end());
        state.counters[name + "_median"] = v[v.size() / 2];
        state.counters[name + "_min"] = v.front();
        state.counters[name + "_max"] = v.back();
    }
};

}  // namespace replicast::bench
