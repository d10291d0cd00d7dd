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

} // namespace mlir::dlc::cpu

#endif // DLC_COMPILER_TARGETS_CPU_PASSES_H
