//===- CPUTarget.h - the host CPU target ------------------------*- C++ -*-===//
//
// The CPU target: schedules linalg on tensors for the host with the
// transform dialect (CPUSchedule.mlir), bufferizes, lowers to the LLVM
// dialect, translates to LLVM IR for the host CPU (its real features, from
// LLVM's host detection), adds the packed entry-point wrappers of
// docs/ABI.md and the embedded model description, then JIT-compiles it
// in-process or writes an object file or a shared module.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_COMPILER_TARGETS_CPU_CPUTARGET_H
#define DLC_COMPILER_TARGETS_CPU_CPUTARGET_H

#include "compiler/targets/Target.h"

namespace dlc::cpu {

/// The CPU target.
const Target *getTarget();

/// Registers the CPU target's passes (dl-cpu-schedule, dl-prefetch-panels).
void registerPasses();

} // namespace dlc::cpu

#endif // DLC_COMPILER_TARGETS_CPU_CPUTARGET_H
