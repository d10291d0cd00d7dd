//===- Passes.h - passes of the CUDA target ---------------------*- C++ -*-===//
//
// Declarations of the CUDA target's passes (generated from Passes.td).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_COMPILER_TARGETS_CUDA_PASSES_H
#define DLC_COMPILER_TARGETS_CUDA_PASSES_H

#include "passes/Passes.h"

namespace mlir::dlc::cuda {

#define GEN_PASS_DECL
#include "compiler/targets/cuda/Passes.h.inc"

/// The most buffers a fused kernel may take: each is a memref descriptor
/// among its parameters, which PTX 8.0 limits to 4 KiB (a rank-4
/// descriptor is 88 bytes).
constexpr unsigned kMaxKernelBuffers = 24;

} // namespace mlir::dlc::cuda

#endif // DLC_COMPILER_TARGETS_CUDA_PASSES_H
