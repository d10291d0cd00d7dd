//===- CUDATarget.h - NVIDIA GPUs through PTX -------------------*- C++ -*-===//
//
// The CUDA target: kernels in PTX (LLVM's NVPTX backend), host code that
// launches them through the runtime's CUDA driver layer (runtime/Cuda.h),
// and `cuda-emulated`, its mapped loops run on the host for testing.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_COMPILER_TARGETS_CUDA_CUDATARGET_H
#define DLC_COMPILER_TARGETS_CUDA_CUDATARGET_H

#include "compiler/targets/Target.h"

namespace dlc::cuda {

/// The CUDA target.
const Target *getTarget();

/// The CUDA target's loops run on the host (no GPU needed).
const Target *getEmulatedTarget();

/// Registers the CUDA target's passes (dl-gpu-prepare-loops,
/// dl-gpu-map-loops).
void registerPasses();

/// The CUDA toolkit's folder ($CUDA_HOME, $CUDA_PATH, else /usr/local/cuda):
/// libdevice and ptxas come from it.
std::string toolkitPath();

/// ptxas from the toolkit or the PATH, or "" when there is none.
std::string findPtxas();

} // namespace dlc::cuda

#endif // DLC_COMPILER_TARGETS_CUDA_CUDATARGET_H
