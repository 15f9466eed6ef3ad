// How the process's heap treats the large buffers of control-plane streams.
#pragma once

#include <cstddef>

namespace replicast::control {

/// Freed heap memory below this is kept for reuse instead of being returned to
/// the kernel (glibc's M_TRIM_THRESHOLD; its default is 128 KiB and grows only
/// with freed mmap chunks).
inline constexpr std::size_t kKeptHeapBytes = std::size_t{256} << 20;

/// Keeps freed heap memory (up to kKeptHeapBytes) in the process. Why: every
/// RecoverBatch and SnapshotPage is a few hundred KiB that protobuf, gRPC and
/// TLS allocate, copy and free; with glibc's defaults the heap top is trimmed
/// after each and grown again for the next, so every message pays page faults
/// on fresh pages, which on this VM cost more than the TLS and the parse
/// together (bench/RESULTS.md, control plane: 3-4x the CPU per update).
/// Process-wide and idempotent; ControlServer and ControlClient call it when
/// built. The price: up to kKeptHeapBytes of freed memory stays resident.
/// No effect outside glibc.
void keep_freed_heap() noexcept;

}  // namespace replicast::control
