//===- Cuda.h - the CUDA driver, loaded at run time --------------*- C++ -*-===//
//
// The runtime's whole contact with NVIDIA GPUs. The driver library is
// opened with dlopen("libcuda.so.1") when a GPU is first asked for, so one
// dlc and one dlc-rt run on machines with and without one; DLC_CUDA_DRIVER
// names another library with the same entry points (the tests' fake
// driver). Every driver call is checked, and a failure names the call and
// the driver's error string.
//
// Compiled CUDA modules call the `mgpu*` functions below to load their
// kernels and launch them, and allocate every buffer through the runtime
// (`_mlir_memref_to_llvm_*`): buffers are CUDA managed memory, which the
// kernels address and the host reads (checkpoints, metrics) without
// explicit copies; params and optimizer state stay on the device between
// steps, as each step's results are the next step's arguments. A call's
// kernels are queued on one stream without waiting; the runtime waits once,
// when the call returns.
//
// DLC_CUDA_PROFILE=FILE (or `-`, stderr; `%p` in FILE is the process id)
// times every launch alone (CUDA
// events around it, waited for) and writes, at exit, a line a kernel: its
// number in `dlc compile --target=cuda --emit=ptx` ("#12"), its name, the
// calls, the total and mean time, its share, its last grid and block.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_CUDA_H
#define DLC_RUNTIME_CUDA_H

#include "runtime/Status.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dlc::runtime::cuda {

/// One GPU as the driver reports it (after CUDA_VISIBLE_DEVICES).
struct DeviceInfo {
  int ordinal = 0;
  std::string name;
  uint64_t totalBytes = 0;
  int major = 0, minor = 0;
  /// "sm_90" for compute capability 9.0.
  std::string arch() const {
    return "sm_" + std::to_string(major) + std::to_string(minor);
  }
};

/// The GPUs there are; an error when the driver cannot be loaded.
StatusOr<std::vector<DeviceInfo>> devices();

/// Makes GPU `ordinal` the device compiled modules run on, with its primary
/// context current; an error when there is no such GPU.
Status select(int ordinal);

/// The selected device (select() or, when no one called it, GPU 0 on first
/// use).
StatusOr<DeviceInfo> selectedDevice();

/// Limits the managed memory the runtime hands out (0: the device's memory).
void setMemoryLimit(uint64_t bytes);

/// Allocates `bytes` of managed memory; null (and the error kept for
/// takeError) when the driver or the limit refuses. `what` names the
/// buffer in that error.
void *allocate(size_t bytes, const char *what = "a buffer");
/// Frees memory from allocate().
void release(void *ptr);

/// Starts moving `bytes` of managed memory at `ptr` (an input the host just
/// wrote) to the selected GPU, on the runtime's stream, ahead of the
/// kernels that read it, which would otherwise fault its pages over one by
/// one. Best effort: without cuMemPrefetchAsync in the driver, or on a GPU
/// without concurrent managed access, the memory stays where it is.
void prefetch(const void *ptr, size_t bytes);

/// Copies `bytes` at `src` (host memory) to `dst` (memory from allocate())
/// for the kernels queued after: through pinned host memory and the GPU's
/// copy engine, on the runtime's stream (two staging buffers in turn, so
/// the host fills one while the other is read); where the driver offers no
/// pinned memory, the host writes `dst` and it is prefetched. The copy may
/// still run when this returns: `src` may be reused at once, `dst` read by
/// the host only after the call's wait.
void copyToDevice(void *dst, const void *src, size_t bytes);

/// Brackets a call of compiled code (Executable::call). endCall waits for
/// the kernels the call queued (they run asynchronously; an error they hit
/// is kept for takeError(), and the buffers freed meanwhile are reused only
/// after this). The buffers the call's code allocated and did not free are
/// its results, or, when the call failed, released.
void beginCall();
void endCall(bool failed);

/// The first driver error since the last call (the mgpu* functions cannot
/// return one), or success.
Status takeError();

/// The functions compiled CUDA modules call, by name and address (the JIT
/// resolves them; AOT modules find them in the process).
const std::pair<const char *, void *> *entryPoints(size_t &count);

} // namespace dlc::runtime::cuda

#endif // DLC_RUNTIME_CUDA_H
