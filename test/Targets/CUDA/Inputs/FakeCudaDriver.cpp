//===- FakeCudaDriver.cpp - a CUDA driver without a GPU, for tests --------===//
//
// The driver entry points the runtime uses (runtime/Cuda.cpp), loaded
// through the same dlopen seam (DLC_CUDA_DRIVER). It "has" the GPUs that
// FAKE_CUDA_DEVICES says (default 2), allocates managed memory from the
// host heap and launches nothing, so the host side of a CUDA module runs
// end to end; FAKE_CUDA_FAIL=NAME makes entry point NAME fail, to test
// that every failure is reported with the call's name and the error text.
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {
using CUresult = int;
constexpr CUresult kSuccess = 0, kInvalidValue = 1, kOutOfMemory = 2,
                   kInvalidImage = 200, kLaunchFailed = 719, kNoDevice = 100;

CUresult fails(const char *name, CUresult error) {
  const char *which = std::getenv("FAKE_CUDA_FAIL");
  return which && std::strcmp(which, name) == 0 ? error : kSuccess;
}
int devices() {
  const char *n = std::getenv("FAKE_CUDA_DEVICES");
  return n ? std::atoi(n) : 2;
}
int context, stream, event;
} // namespace

#define FAIL_IF(name, error)                                                   \
  if (CUresult r = fails(#name, error))                                        \
  return r

extern "C" {
CUresult cuInit(unsigned) {
  FAIL_IF(cuInit, kNoDevice);
  return kSuccess;
}
CUresult cuGetErrorName(CUresult r, const char **s) {
  switch (r) {
  case kInvalidValue: *s = "CUDA_ERROR_INVALID_VALUE"; break;
  case kOutOfMemory: *s = "CUDA_ERROR_OUT_OF_MEMORY"; break;
  case kNoDevice: *s = "CUDA_ERROR_NO_DEVICE"; break;
  case kInvalidImage: *s = "CUDA_ERROR_INVALID_IMAGE"; break;
  case kLaunchFailed: *s = "CUDA_ERROR_LAUNCH_FAILED"; break;
  default: *s = nullptr; return kInvalidValue;
  }
  return kSuccess;
}
CUresult cuGetErrorString(CUresult r, const char **s) {
  switch (r) {
  case kInvalidValue: *s = "invalid argument"; break;
  case kOutOfMemory: *s = "out of memory"; break;
  case kNoDevice: *s = "no CUDA-capable device is detected"; break;
  case kInvalidImage: *s = "device kernel image is invalid"; break;
  case kLaunchFailed: *s = "unspecified launch failure"; break;
  default: *s = nullptr; return kInvalidValue;
  }
  return kSuccess;
}
CUresult cuDeviceGetCount(int *n) {
  *n = devices();
  return kSuccess;
}
CUresult cuDeviceGet(int *d, int ordinal) {
  if (ordinal < 0 || ordinal >= devices())
    return kInvalidValue;
  *d = ordinal;
  return kSuccess;
}
CUresult cuDeviceGetName(char *name, int len, int d) {
  std::strncpy(name, d == 0 ? "Fake GPU A" : "Fake GPU B", len);
  return kSuccess;
}
CUresult cuDeviceTotalMem_v2(size_t *bytes, int) {
  *bytes = size_t(16) << 30;
  return kSuccess;
}
CUresult cuDeviceGetAttribute(int *v, int attr, int d) {
  // sm_90 and sm_80; the first lets the host use managed memory while
  // kernels run (the runtime then waits once a call), the second does not
  // (a wait after every launch).
  *v = attr == 75 ? (d == 0 ? 9 : 8) : attr == 89 ? (d == 0 ? 1 : 0) : 0;
  return kSuccess;
}
CUresult cuDevicePrimaryCtxRetain(void **c, int) {
  FAIL_IF(cuDevicePrimaryCtxRetain, kOutOfMemory);
  *c = &context;
  return kSuccess;
}
CUresult cuCtxSetCurrent(void *) { return kSuccess; }
CUresult cuCtxSynchronize() { return kSuccess; }
CUresult cuModuleLoadData(void **m, const void *) {
  FAIL_IF(cuModuleLoadData, kInvalidImage);
  *m = new int(0); // a handle of its own, as the driver gives
  return kSuccess;
}
CUresult cuModuleLoadDataEx(void **m, const void *, unsigned, int *, void **) {
  FAIL_IF(cuModuleLoadDataEx, kInvalidImage);
  *m = new int(0); // a handle of its own, as the driver gives
  return kSuccess;
}
CUresult cuModuleUnload(void *) { return kSuccess; }
CUresult cuModuleGetFunction(void **f, void *, const char *) {
  FAIL_IF(cuModuleGetFunction, kInvalidValue);
  *f = new int(0);
  return kSuccess;
}
CUresult cuLaunchKernel(void *, unsigned, unsigned, unsigned, unsigned, unsigned,
                        unsigned, unsigned, void *, void **, void **) {
  FAIL_IF(cuLaunchKernel, kLaunchFailed);
  return kSuccess;
}
CUresult cuStreamCreate(void **s, unsigned) {
  *s = &stream;
  return kSuccess;
}
CUresult cuStreamSynchronize(void *) {
  FAIL_IF(cuStreamSynchronize, kLaunchFailed); // a kernel that faulted
  return kSuccess;
}
CUresult cuEventCreate(void **e, unsigned) {
  FAIL_IF(cuEventCreate, kOutOfMemory);
  *e = &event;
  return kSuccess;
}
CUresult cuEventRecord(void *, void *) { return kSuccess; }
CUresult cuEventSynchronize(void *) { return kSuccess; }
CUresult cuEventElapsedTime(float *ms, void *, void *) {
  *ms = 0.25f; // every fake kernel takes 250 us
  return kSuccess;
}
// FAKE_CUDA_TRACE=1 says what moves (the runtime's prefetch is best
// effort, and its failure is no error).
CUresult cuMemPrefetchAsync(uintptr_t, size_t bytes, int device, void *) {
  if (std::getenv("FAKE_CUDA_TRACE"))
    std::fprintf(stderr, "fake cuda: prefetch %zu bytes to device %d\n", bytes, device);
  FAIL_IF(cuMemPrefetchAsync, kInvalidValue);
  return kSuccess;
}
// Pinned host memory and copies from it (the runtime's staging buffers).
CUresult cuMemAllocHost_v2(void **p, size_t bytes) {
  FAIL_IF(cuMemAllocHost_v2, kOutOfMemory);
  *p = std::malloc(bytes ? bytes : 1);
  return *p ? kSuccess : kOutOfMemory;
}
CUresult cuMemFreeHost(void *p) {
  std::free(p);
  return kSuccess;
}
CUresult cuMemcpyHtoDAsync_v2(uintptr_t dst, const void *src, size_t bytes, void *) {
  if (std::getenv("FAKE_CUDA_TRACE"))
    std::fprintf(stderr, "fake cuda: copy %zu bytes to the device\n", bytes);
  FAIL_IF(cuMemcpyHtoDAsync_v2, kInvalidValue);
  std::memcpy(reinterpret_cast<void *>(dst), src, bytes);
  return kSuccess;
}
CUresult cuMemAllocManaged(uintptr_t *p, size_t bytes, unsigned) {
  FAIL_IF(cuMemAllocManaged, kOutOfMemory);
  // Aligned to 256 bytes, as the driver's allocations are (compiled code
  // aligns its buffers within them and relies on that).
  size_t rounded = (bytes + 255) / 256 * 256;
  void *m = std::aligned_alloc(256, rounded ? rounded : 256);
  if (!m)
    return kOutOfMemory;
  std::memset(m, 0, rounded);
  *p = reinterpret_cast<uintptr_t>(m);
  return kSuccess;
}
CUresult cuMemFree_v2(uintptr_t p) {
  std::free(reinterpret_cast<void *>(p));
  return kSuccess;
}
} // extern "C"
