//===- Passes.h - passes of the CPU target ----------------------*- C++ -*-===//
//
// Declarations of the CPU target's passes (generated from Passes.td).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_COMPILER_TARGETS_CPU_PASSES_H
#define DLC_COMPILER_TARGETS_CPU_PASSES_H

#include "passes/Passes.h"

namespace mlir::dlc::cpu {

#define GEN_PASS_DECL
#include "compiler/targets/cpu/Passes.h.inc"

/// The shares per thread that the runtime may cut the parallel regions of
/// `module` (OpenMP dialect, after dl-omp-nowait) into: more than one only
/// when no region waits in a barrier (every workshare loop is `nowait`, no
/// `omp.barrier`), where a share never waits for another
/// (runtime::ModelSpec::regionShares).
int regionSharesPerThread(Operation *module);

} // namespace mlir::dlc::cpu

#endif // DLC_COMPILER_TARGETS_CPU_PASSES_H
