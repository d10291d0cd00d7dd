//===- Parallel.h - the runtime's threads for compiled parallel loops -*- C++ -*-===//
//
// Compiled models run their parallel loops (the schedule's scf.forall tiles,
// lowered through MLIR's OpenMP dialect) by calling five entry points of the
// LLVM OpenMP runtime's ABI (`__kmpc_fork_call`, `__kmpc_for_static_init_8u`,
// `__kmpc_for_static_fini`, `__kmpc_barrier`, `__kmpc_global_thread_num`).
// The runtime implements them itself on one persistent pool of threads, so
// that neither dlc nor dlc-rt depends on libomp, a fork/join costs a fraction
// of a microsecond, and idle workers sleep instead of spinning for long
// (../shared/probes/threads.md measured both routes). Only what the compiled
// code uses is implemented: static schedules, one level of parallelism
// (a parallel loop inside another runs on the calling thread).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_PARALLEL_H
#define DLC_RUNTIME_PARALLEL_H

#include "runtime/Status.h"

#include <cstddef>
#include <utility>

namespace dlc::runtime {

/// The number of threads parallel loops use: what setNumThreads set, else the
/// cores this process may run on (its affinity mask).
int numThreads();

/// The most threads a user may ask for (--threads): more than any machine
/// dlc runs on has cores, far fewer than a process may start.
inline constexpr int kMaxThreads = 1024;

/// Sets the number of threads (1 runs every loop on the calling thread;
/// 0 means the cores in the affinity mask; at most kMaxThreads). When the
/// system cannot start that many, the pool keeps those it started. Not
/// while a model runs.
void setNumThreads(int n);

/// The cores in this process's affinity mask.
int availableCores();

/// The OpenMP entry points the compiled code calls, and dlc_aligned_alloc
/// and dlc_free (its buffers), by name and address, for a JIT to resolve them to (an AOT
/// module finds them in the process).
const std::pair<const char *, void *> *openMPEntryPoints(size_t &count);

/// Calls compiled code, `fn(args)`, on this thread. When the compiled code
/// cannot allocate a buffer (dlc_aligned_alloc), on this thread or a worker
/// of one of its parallel regions, the call ends there and returns that
/// error (the buffers the call's code allocated and had not freed are freed
/// then; those of a call that returns are its results); nothing is
/// written through a null pointer. `sharesPerThread` > 1 cuts each of its
/// parallel regions into that many shares per thread, which the threads
/// claim one at a time (ModelSpec::regionShares: only for code without
/// barriers, where a share never waits for another).
Status callCompiled(void (*fn)(void **), void **args, int sharesPerThread = 1);

/// Makes the library that holds the runtime (libdlc.so when a host loaded it
/// with RTLD_LOCAL, as Python's ctypes does) global, so that the shared
/// modules dlopen'ed later resolve their OpenMP entry points to it.
void exportRuntimeSymbols();

/// For the allocators of other targets (runtime/Cuda.cpp): ends the compiled
/// call this thread is in, as a failed allocation of dlc_aligned_alloc
/// does. recordCompiledCallError keeps the error the call returns (the
/// first one); leaveCompiledCall then jumps back to the call, and must be
/// called where nothing with a destructor is alive.
void recordCompiledCallError(Status error);
/// Whether this allocation of compiled code is the one DLC_FAIL_ALLOCATION=N
/// makes fail (the N-th of the process, counting every target's allocator).
bool allocationFailureInjected();
[[noreturn]] void leaveCompiledCall();

} // namespace dlc::runtime

#endif // DLC_RUNTIME_PARALLEL_H
