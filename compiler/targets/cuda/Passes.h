//===- Passes.h - passes of the CUDA target ---------------------*- C++ -*-===//
//
// Declarations of the CUDA target's passes (generated from Passes.td).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_COMPILER_TARGETS_CUDA_PASSES_H
#define DLC_COMPILER_TARGETS_CUDA_PASSES_H

#include "passes/Passes.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Matchers.h"

namespace mlir::dlc::cuda {

#define GEN_PASS_DECL
#include "compiler/targets/cuda/Passes.h.inc"

/// The most buffers an op fused on tensors may take: each is a memref
/// descriptor among its kernel's parameters (a rank-4 one is 88 bytes).
constexpr unsigned kMaxKernelBuffers = 24;

/// PTX 8.0 limits a kernel's parameters to 4 KiB; kernels that fusion or
/// merging makes keep a margin below it.
constexpr int64_t kMaxKernelParameterBytes = 4096 - 256;

/// The bytes `values` (used by a kernel, defined on the host) take as the
/// kernel's parameters: a memref's descriptor, 8 bytes for a scalar;
/// constants are sunk into kernels before outlining and take none.
inline int64_t kernelParameterBytes(ArrayRef<Value> values) {
  int64_t bytes = 0;
  for (Value v : values) {
    if (matchPattern(v, m_Constant()))
      continue;
    if (auto type = dyn_cast<MemRefType>(v.getType()))
      bytes += (3 + 2 * type.getRank()) * 8;
    else
      bytes += 8;
  }
  return bytes;
}

/// Merges launches in sequence (single blocks) or side by side (independent
/// kernels) where the host code between them allows it; MergeLaunches.cpp.
void mergeLaunches(ModuleOp module);

} // namespace mlir::dlc::cuda

#endif // DLC_COMPILER_TARGETS_CUDA_PASSES_H
