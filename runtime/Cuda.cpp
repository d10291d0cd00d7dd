//===- Cuda.cpp - the CUDA driver, loaded at run time ----------------------===//
//
// The driver API is declared here by hand (no CUDA headers are needed to
// build dlc): handles are opaque pointers, results ints, and only the entry
// points below are used. Names are the ones libcuda.so.1 exports (the _v2
// versions where cuda.h maps a name to one).
//
//===----------------------------------------------------------------------===//

#include "runtime/Cuda.h"
#include "runtime/Parallel.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <unistd.h>
#include <map>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

using namespace dlc::runtime;
using cuda::DeviceInfo;

namespace {
using CUresult = int;
using CUdevice = int;
using CUcontext = void *;
using CUmodule = void *;
using CUfunction = void *;
using CUstream = void *;
using CUevent = void *;
using CUdeviceptr = uintptr_t;

constexpr CUresult CUDA_SUCCESS = 0;
constexpr unsigned CU_MEM_ATTACH_GLOBAL = 1;
constexpr unsigned CU_EVENT_DISABLE_TIMING = 2;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr int CU_DEVICE_ATTRIBUTE_CONCURRENT_MANAGED_ACCESS = 89;
/// Freed bytes waiting for a wait before an allocation waits for the queued
/// kernels to reuse them (a call's buffers are otherwise not reused within
/// it, and managed memory over-subscribes rather than failing).
constexpr uint64_t kPendingBytesBeforeWait = uint64_t(1) << 30;
constexpr int CU_JIT_OPTIMIZATION_LEVEL = 7;

/// The driver's entry points: X(name in the library, type).
#define DLC_CUDA_DRIVER_FUNCTIONS(X)                                           \
  X(cuInit, CUresult (*)(unsigned))                                            \
  X(cuGetErrorName, CUresult (*)(CUresult, const char **))                     \
  X(cuGetErrorString, CUresult (*)(CUresult, const char **))                   \
  X(cuDeviceGetCount, CUresult (*)(int *))                                     \
  X(cuDeviceGet, CUresult (*)(CUdevice *, int))                                \
  X(cuDeviceGetName, CUresult (*)(char *, int, CUdevice))                      \
  X(cuDeviceTotalMem_v2, CUresult (*)(size_t *, CUdevice))                     \
  X(cuDeviceGetAttribute, CUresult (*)(int *, int, CUdevice))                  \
  X(cuDevicePrimaryCtxRetain, CUresult (*)(CUcontext *, CUdevice))             \
  X(cuCtxSetCurrent, CUresult (*)(CUcontext))                                  \
  X(cuCtxSynchronize, CUresult (*)())                                          \
  X(cuModuleLoadData, CUresult (*)(CUmodule *, const void *))                  \
  X(cuModuleLoadDataEx,                                                        \
    CUresult (*)(CUmodule *, const void *, unsigned, int *, void **))          \
  X(cuModuleUnload, CUresult (*)(CUmodule))                                    \
  X(cuModuleGetFunction, CUresult (*)(CUfunction *, CUmodule, const char *))   \
  X(cuLaunchKernel,                                                            \
    CUresult (*)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, \
                 unsigned, unsigned, CUstream, void **, void **))              \
  X(cuStreamCreate, CUresult (*)(CUstream *, unsigned))                        \
  X(cuStreamSynchronize, CUresult (*)(CUstream))                               \
  X(cuMemAllocManaged, CUresult (*)(CUdeviceptr *, size_t, unsigned))          \
  X(cuMemFree_v2, CUresult (*)(CUdeviceptr))                                   \
  X(cuEventCreate, CUresult (*)(CUevent *, unsigned))                          \
  X(cuEventRecord, CUresult (*)(CUevent, CUstream))                            \
  X(cuEventSynchronize, CUresult (*)(CUevent))                                 \
  X(cuEventElapsedTime, CUresult (*)(float *, CUevent, CUevent))

template <class T> using Id = T;

struct Driver {
#define DLC_DRIVER_FIELD(name, type) Id<type> name = nullptr;
  DLC_CUDA_DRIVER_FUNCTIONS(DLC_DRIVER_FIELD)
#undef DLC_DRIVER_FIELD
  /// Optional (null when the driver lacks it): the pre-CUDA-13 signature,
  /// which drivers keep exporting under this name.
  CUresult (*cuMemPrefetchAsync)(CUdeviceptr, size_t, CUdevice, CUstream) = nullptr;
  /// Optional too: pinned host memory and copies from it (copyToDevice).
  CUresult (*cuMemAllocHost)(void **, size_t) = nullptr;
  CUresult (*cuMemFreeHost)(void *) = nullptr;
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr, const void *, size_t, CUstream) = nullptr;
  void *handle = nullptr;
};

/// Everything the runtime keeps about the GPU, behind one lock.
struct State {
  std::mutex mutex;
  bool loadTried = false;
  Status loadStatus = Status::success();
  Driver driver;
  int selected = -1;
  CUdevice device = 0;
  CUcontext context = nullptr;
  CUstream stream = nullptr;
  uint64_t limit = 0, inUse = 0;
  /// Live buffers and their sizes; freed ones kept for reuse, by size.
  std::unordered_map<const void *, size_t> buffers;
  std::unordered_map<size_t, std::vector<void *>> cache;
  /// Freed since the last synchronization: a kernel still queued on the
  /// stream may use them, so they are reused only after the next one.
  std::vector<std::pair<void *, size_t>> pending;
  uint64_t pendingBytes = 0;
  /// What the compiled code of the current call allocated and has not
  /// freed: its results if it returns, released if it fails.
  std::unordered_set<void *> callBuffers;
  /// Pinned host buffers that copies to the GPU go through, used in turn
  /// (the host fills one while the GPU's copy engine reads the other), each
  /// with an event recorded after the copy that last read it.
  struct Staging {
    void *host = nullptr;
    size_t bytes = 0;
    CUevent copied = nullptr;
    bool inFlight = false;
  };
  Staging staging[2];
  unsigned nextStaging = 0;
  /// Whether the host may touch managed memory while kernels run (not on
  /// GPUs before Pascal, nor on some platforms): if not, every launch is
  /// waited for.
  bool concurrentManaged = false;
  /// Kernels by module and name (compiled code asks at every launch).
  /// (Keyed by the name's address: each launch site passes its own
  /// constant, and no string is built per launch.)
  std::map<std::pair<void *, const char *>, CUfunction> functions;
  /// Modules in load order (the order of `dlc compile --emit=ptx`).
  std::unordered_map<void *, int> moduleIndex;
  /// The kernel profile (DLC_CUDA_PROFILE): each launch timed alone.
  struct KernelTime {
    uint64_t calls = 0;
    double ms = 0;
    unsigned grid[3] = {0, 0, 0}, block = 0;
  };
  std::string profilePath;
  std::unordered_map<CUfunction, std::string> kernelNames;
  std::map<std::string, KernelTime> profile;
  CUevent profileStart = nullptr, profileStop = nullptr;
  Status sticky = Status::success();
};

State &state() {
  static State *s = new State; // never destroyed: modules may outlive main
  return *s;
}

/// "cuLaunchKernel failed: CUDA_ERROR_INVALID_VALUE (invalid argument)".
std::string describe(const Driver &d, const char *call, CUresult r) {
  const char *name = nullptr, *text = nullptr;
  if (d.cuGetErrorName)
    d.cuGetErrorName(r, &name);
  if (d.cuGetErrorString)
    d.cuGetErrorString(r, &text);
  std::string s = std::string(call) + " failed: ";
  s += name ? name : "CUDA error " + std::to_string(r);
  if (text)
    s += std::string(" (") + text + ")";
  return s;
}

/// Keeps the first error for takeError().
void keep(State &s, Status status) {
  if (s.sticky.ok())
    s.sticky = std::move(status);
}

#define DLC_CHECK(s, call, ...)                                                \
  [&]() -> Status {                                                            \
    CUresult r = (s).driver.call(__VA_ARGS__);                                 \
    return r == CUDA_SUCCESS ? Status::success()                               \
                             : Status::error(describe((s).driver, #call, r));  \
  }()

/// Writes the kernel profile (at exit): one line a kernel, the most time
/// first.
void writeProfile() {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.profilePath.empty())
    return;
  FILE *out = s.profilePath == "-" ? stderr : std::fopen(s.profilePath.c_str(), "w");
  if (!out) {
    std::fprintf(stderr, "dlc: cannot write the kernel profile to %s\n", s.profilePath.c_str());
    return;
  }
  std::vector<std::pair<std::string, State::KernelTime>> rows(s.profile.begin(),
                                                              s.profile.end());
  std::sort(rows.begin(), rows.end(), [](const auto &a, const auto &b) {
    return a.second.ms != b.second.ms ? a.second.ms > b.second.ms : a.first < b.first;
  });
  double total = 0;
  uint64_t launches = 0;
  for (const auto &row : rows) {
    total += row.second.ms;
    launches += row.second.calls;
  }
  std::fprintf(out, "# kernel profile: %llu launches, %.3f ms on the GPU (each launch timed alone)\n",
               static_cast<unsigned long long>(launches), total);
  std::fprintf(out, "%-28s %8s %12s %10s %6s  %s\n", "kernel", "calls", "total_ms", "mean_us",
               "share", "grid x block");
  for (const auto &[name, k] : rows)
    std::fprintf(out, "%-28s %8llu %12.3f %10.2f %5.1f%%  %ux%ux%u x %u\n", name.c_str(),
                 static_cast<unsigned long long>(k.calls), k.ms, 1000 * k.ms / double(k.calls),
                 total > 0 ? 100 * k.ms / total : 0.0, k.grid[0], k.grid[1], k.grid[2], k.block);
  if (out != stderr)
    std::fclose(out);
}

Status loadLocked(State &s) {
  if (s.loadTried)
    return s.loadStatus;
  s.loadTried = true;
  const char *override = std::getenv("DLC_CUDA_DRIVER");
  const char *file = override && *override ? override : "libcuda.so.1";
  void *handle = dlopen(file, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    s.loadStatus = makeError("no CUDA driver: ", why ? why : file);
    return s.loadStatus;
  }
  Driver d;
  d.handle = handle;
#define DLC_DRIVER_LOOKUP(name, type)                                          \
  d.name = reinterpret_cast<Id<type>>(dlsym(handle, #name));                       \
  if (!d.name) {                                                               \
    s.loadStatus = makeError("the CUDA driver ", file, " has no " #name);      \
    return s.loadStatus;                                                       \
  }
  DLC_CUDA_DRIVER_FUNCTIONS(DLC_DRIVER_LOOKUP)
#undef DLC_DRIVER_LOOKUP
  d.cuMemPrefetchAsync = reinterpret_cast<decltype(d.cuMemPrefetchAsync)>(
      dlsym(handle, "cuMemPrefetchAsync"));
  d.cuMemAllocHost =
      reinterpret_cast<decltype(d.cuMemAllocHost)>(dlsym(handle, "cuMemAllocHost_v2"));
  d.cuMemFreeHost = reinterpret_cast<decltype(d.cuMemFreeHost)>(dlsym(handle, "cuMemFreeHost"));
  d.cuMemcpyHtoDAsync =
      reinterpret_cast<decltype(d.cuMemcpyHtoDAsync)>(dlsym(handle, "cuMemcpyHtoDAsync_v2"));
  s.driver = d;
  if (const char *path = std::getenv("DLC_CUDA_PROFILE"); path && *path) {
    // "%p": the process id (one file per MPI rank).
    s.profilePath = path;
    if (size_t at = s.profilePath.find("%p"); at != std::string::npos)
      s.profilePath.replace(at, 2, std::to_string(getpid()));
    std::atexit(writeProfile);
  }
  if (Status st = DLC_CHECK(s, cuInit, 0); !st.ok()) {
    s.loadStatus = makeError("the CUDA driver cannot start: ", st.message());
    return s.loadStatus;
  }
  return s.loadStatus;
}

/// Returns the buffers kept for reuse to the driver.
void dropCache(State &s) {
  for (auto &[size, list] : s.cache)
    for (void *p : list) {
      if (Status st = DLC_CHECK(s, cuMemFree_v2, reinterpret_cast<CUdeviceptr>(p)); !st.ok())
        keep(s, st);
      s.inUse -= size;
    }
  s.cache.clear();
}

StatusOr<DeviceInfo> describeDevice(State &s, int ordinal) {
  CUdevice dev = 0;
  if (Status st = DLC_CHECK(s, cuDeviceGet, &dev, ordinal); !st.ok())
    return st;
  DeviceInfo info;
  info.ordinal = ordinal;
  char name[256] = {};
  size_t total = 0;
  if (Status st = DLC_CHECK(s, cuDeviceGetName, name, sizeof name - 1, dev); !st.ok())
    return st;
  if (Status st = DLC_CHECK(s, cuDeviceTotalMem_v2, &total, dev); !st.ok())
    return st;
  if (Status st = DLC_CHECK(s, cuDeviceGetAttribute, &info.major,
                            CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
      !st.ok())
    return st;
  if (Status st = DLC_CHECK(s, cuDeviceGetAttribute, &info.minor,
                            CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
      !st.ok())
    return st;
  info.name = name;
  info.totalBytes = total;
  return info;
}

int deviceCount(State &s, Status &status) {
  int count = 0;
  status = DLC_CHECK(s, cuDeviceGetCount, &count);
  return count;
}

Status selectLocked(State &s, int ordinal) {
  if (Status st = loadLocked(s); !st.ok())
    return st;
  if (s.selected == ordinal)
    return Status::success();
  Status st;
  int count = deviceCount(s, st);
  if (!st.ok())
    return st;
  if (ordinal < 0 || ordinal >= count)
    return count == 0 ? makeError("no CUDA device is visible (CUDA_VISIBLE_DEVICES, or no GPU)")
                      : makeError("there is no CUDA device ", ordinal, " (", count,
                                  count == 1 ? " device is" : " devices are",
                                  " visible: cuda:0",
                                  count > 1 ? "..cuda:" + std::to_string(count - 1) : "",
                                  ")");
  CUdevice dev = 0;
  if (Status e = DLC_CHECK(s, cuDeviceGet, &dev, ordinal); !e.ok())
    return e;
  CUcontext ctx = nullptr;
  if (Status e = DLC_CHECK(s, cuDevicePrimaryCtxRetain, &ctx, dev); !e.ok())
    return e;
  if (Status e = DLC_CHECK(s, cuCtxSetCurrent, ctx); !e.ok())
    return e;
  int concurrentManaged = 0;
  if (Status e = DLC_CHECK(s, cuDeviceGetAttribute, &concurrentManaged,
                           CU_DEVICE_ATTRIBUTE_CONCURRENT_MANAGED_ACCESS, dev);
      !e.ok())
    return e;
  CUstream stream = nullptr;
  // A blocking stream: it orders with the legacy default stream as well.
  if (Status e = DLC_CHECK(s, cuStreamCreate, &stream, 0u); !e.ok())
    return e;
  s.selected = ordinal;
  s.device = dev;
  s.profileStart = s.profileStop = nullptr; // events belong to a context
  s.context = ctx;
  s.stream = stream;
  s.concurrentManaged = concurrentManaged != 0;
  return Status::success();
}

/// Waits for every kernel queued on the stream (an error is kept), then
/// lets the buffers freed meanwhile be reused.
void synchronizeLocked(State &s) {
  if (s.stream)
    if (Status st = DLC_CHECK(s, cuStreamSynchronize, s.stream); !st.ok())
      keep(s, st.withPrefix("running the kernels: "));
  for (auto [p, size] : s.pending)
    s.cache[size].push_back(p);
  s.pending.clear();
  s.pendingBytes = 0;
}

/// The selected device's context made current on this thread (the
/// runtime's worker threads and a host's threads may call in); GPU 0 when
/// nothing was selected. False (error kept) when there is none.
bool ready(State &s) {
  if (s.selected < 0) {
    if (Status st = selectLocked(s, 0); !st.ok()) {
      keep(s, st);
      return false;
    }
    return true;
  }
  if (Status st = DLC_CHECK(s, cuCtxSetCurrent, s.context); !st.ok()) {
    keep(s, st);
    return false;
  }
  return true;
}
} // namespace

StatusOr<std::vector<cuda::DeviceInfo>> cuda::devices() {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (Status st = loadLocked(s); !st.ok())
    return st;
  Status st;
  int count = deviceCount(s, st);
  if (!st.ok())
    return st;
  std::vector<DeviceInfo> list;
  for (int i = 0; i < count; ++i) {
    auto info = describeDevice(s, i);
    if (!info.ok())
      return info.status();
    list.push_back(*info);
  }
  return list;
}

Status cuda::select(int ordinal) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return selectLocked(s, ordinal);
}

StatusOr<cuda::DeviceInfo> cuda::selectedDevice() {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.selected < 0)
    if (Status st = selectLocked(s, 0); !st.ok())
      return st;
  return describeDevice(s, s.selected);
}

void cuda::setMemoryLimit(uint64_t bytes) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.limit = bytes;
}

void *cuda::allocate(size_t bytes, const char *what) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (!ready(s))
    return nullptr;
  // Sizes are rounded up to 256 bytes (the driver's alignment), and freed
  // buffers are kept by size for the next step, which allocates the same.
  size_t size = ((bytes ? bytes : 1) + 255) / 256 * 256;
  auto fromCache = [&]() -> void * {
    auto cached = s.cache.find(size);
    if (cached == s.cache.end() || cached->second.empty())
      return nullptr;
    void *p = cached->second.back();
    cached->second.pop_back();
    s.buffers[p] = size;
    return p;
  };
  if (void *p = fromCache())
    return p;
  if (s.pendingBytes >= kPendingBytesBeforeWait) {
    synchronizeLocked(s);
    if (void *p = fromCache())
      return p;
  }
  // Short of memory: wait for the queued kernels, so that what they free
  // can be reused or returned to the driver.
  if (s.limit && s.inUse + size > s.limit) {
    synchronizeLocked(s);
    if (void *p = fromCache())
      return p;
    dropCache(s);
  }
  if (s.limit && s.inUse + size > s.limit) {
    keep(s, makeError("out of GPU memory: ", what, " needs ", size, " bytes, ",
                      s.inUse, " of the ", s.limit, " bytes allowed are in use "
                      "(--gpu-memory-limit)"));
    return nullptr;
  }
  CUdeviceptr ptr = 0;
  Status st = DLC_CHECK(s, cuMemAllocManaged, &ptr, size, CU_MEM_ATTACH_GLOBAL);
  if (!st.ok()) {
    synchronizeLocked(s);
    if (void *p = fromCache())
      return p;
    dropCache(s);
    st = DLC_CHECK(s, cuMemAllocManaged, &ptr, size, CU_MEM_ATTACH_GLOBAL);
  }
  if (!st.ok()) {
    keep(s, makeError("out of GPU memory: ", what, " needs ", size, " bytes: ",
                      st.message()));
    return nullptr;
  }
  void *p = reinterpret_cast<void *>(ptr);
  s.buffers[p] = size;
  s.inUse += size;
  return p;
}

void cuda::release(void *ptr) {
  if (!ptr)
    return;
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  auto it = s.buffers.find(ptr);
  if (it == s.buffers.end()) {
    keep(s, makeError("freeing memory that the CUDA runtime did not allocate"));
    return;
  }
  // Kernels queued before may still read or write it.
  s.pending.emplace_back(ptr, it->second);
  s.pendingBytes += it->second;
  s.buffers.erase(it);
}

namespace {
void prefetchLocked(State &s, const void *ptr, size_t bytes) {
  if (!ptr || !bytes || !s.driver.cuMemPrefetchAsync || !s.concurrentManaged || !ready(s))
    return;
  // Best effort: memory that stays on the host is still correct.
  (void)s.driver.cuMemPrefetchAsync(reinterpret_cast<CUdeviceptr>(ptr), bytes, s.device,
                                    s.stream);
}

/// Queues the copy of `bytes` at `src` to `dst` through the next pinned
/// staging buffer; false where there is none (an old driver, no pinned
/// memory to be had), which is no error: the caller copies another way.
bool copyPinnedLocked(State &s, void *dst, const void *src, size_t bytes) {
  Driver &d = s.driver;
  if (!d.cuMemAllocHost || !d.cuMemFreeHost || !d.cuMemcpyHtoDAsync || !ready(s))
    return false;
  State::Staging &st = s.staging[s.nextStaging];
  // The copy that last read this buffer must be done before it is refilled.
  if (st.inFlight && d.cuEventSynchronize(st.copied) != CUDA_SUCCESS)
    return false;
  st.inFlight = false;
  if (st.bytes < bytes) {
    if (st.host)
      (void)d.cuMemFreeHost(st.host);
    st.host = nullptr;
    st.bytes = 0;
    if (d.cuMemAllocHost(&st.host, bytes) != CUDA_SUCCESS) {
      st.host = nullptr;
      return false;
    }
    st.bytes = bytes;
  }
  if (!st.copied && d.cuEventCreate(&st.copied, CU_EVENT_DISABLE_TIMING) != CUDA_SUCCESS) {
    st.copied = nullptr;
    return false;
  }
  std::memcpy(st.host, src, bytes);
  if (d.cuMemcpyHtoDAsync(reinterpret_cast<CUdeviceptr>(dst), st.host, bytes, s.stream) !=
      CUDA_SUCCESS)
    return false;
  (void)d.cuEventRecord(st.copied, s.stream);
  st.inFlight = true;
  s.nextStaging ^= 1;
  return true;
}
} // namespace

void cuda::prefetch(const void *ptr, size_t bytes) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  prefetchLocked(s, ptr, bytes);
}

void cuda::copyToDevice(void *dst, const void *src, size_t bytes) {
  if (!bytes)
    return;
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (copyPinnedLocked(s, dst, src, bytes))
    return;
  // The host writes the managed memory, which then moves to the GPU.
  std::memcpy(dst, src, bytes);
  prefetchLocked(s, dst, bytes);
}

void cuda::beginCall() {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.callBuffers.clear();
}

void cuda::endCall(bool failed) {
  std::vector<void *> left;
  {
    State &s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    synchronizeLocked(s); // the call's kernels ran asynchronously
    if (failed)
      left.assign(s.callBuffers.begin(), s.callBuffers.end());
    s.callBuffers.clear();
  }
  for (void *p : left)
    release(p);
}

Status cuda::takeError() {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  Status st = std::move(s.sticky);
  s.sticky = Status::success();
  return st;
}

//===----------------------------------------------------------------------===//
// What compiled modules call (the signatures MLIR 22's gpu-to-llvm and the
// gpu.binary translation emit; docs/ABI.md)
//===----------------------------------------------------------------------===//

extern "C" {

__attribute__((visibility("default"))) void *mgpuModuleLoad(void *data, size_t) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (!ready(s))
    return nullptr;
  CUmodule module = nullptr;
  if (Status st = DLC_CHECK(s, cuModuleLoadData, &module, data); !st.ok())
    keep(s, st.withPrefix("loading the kernels: "));
  else
    s.moduleIndex[module] = int(s.moduleIndex.size());
  return module;
}

__attribute__((visibility("default"))) void *mgpuModuleLoadJIT(void *data, int optLevel) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (!ready(s))
    return nullptr;
  CUmodule module = nullptr;
  int option = CU_JIT_OPTIMIZATION_LEVEL;
  void *value = reinterpret_cast<void *>(static_cast<intptr_t>(optLevel));
  if (Status st = DLC_CHECK(s, cuModuleLoadDataEx, &module, data, 1u, &option, &value);
      !st.ok())
    keep(s, st.withPrefix("compiling the kernels' PTX: "));
  else
    s.moduleIndex[module] = int(s.moduleIndex.size());
  return module;
}

__attribute__((visibility("default"))) void mgpuModuleUnload(void *module) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (module && s.driver.cuModuleUnload)
    s.driver.cuModuleUnload(module); // at exit: nothing left to report to
  // A later module may get the same handle: forget this one's kernels.
  for (auto it = s.functions.begin(); it != s.functions.end();)
    if (it->first.first == module) {
      s.kernelNames.erase(it->second);
      it = s.functions.erase(it);
    } else {
      ++it;
    }
  s.moduleIndex.erase(module);
}

__attribute__((visibility("default"))) void *mgpuModuleGetFunction(void *module,
                                                                  const char *name) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (!module) {
    // Loading failed (that error is kept), or never ran.
    keep(s, makeError("kernel ", name, ": its module was not loaded"));
    return nullptr;
  }
  auto [cached, fresh] = s.functions.try_emplace({module, name}, CUfunction(nullptr));
  if (!fresh)
    return cached->second;
  CUfunction fn = nullptr;
  if (Status st = DLC_CHECK(s, cuModuleGetFunction, &fn, module, name); !st.ok()) {
    keep(s, st.withPrefix(std::string("kernel ") + name + ": "));
    s.functions.erase(cached);
    return nullptr;
  }
  cached->second = fn;
  // "#12 train_step_kernel": the 13th kernel module of --emit=ptx.
  auto index = s.moduleIndex.find(module);
  s.kernelNames[fn] = "#" + std::to_string(index == s.moduleIndex.end() ? -1 : index->second) +
                      " " + name;
  return fn;
}

/// Every launch goes to the runtime's one stream of the selected device.
__attribute__((visibility("default"))) void *mgpuStreamCreate() {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return ready(s) ? s.stream : nullptr;
}

__attribute__((visibility("default"))) void mgpuStreamDestroy(void *) {}

/// Waits for the kernels queued so far: compiled code calls it before host
/// code that reads what they wrote (ops placed on the CPU in a step on a
/// GPU).
__attribute__((visibility("default"))) void dlcCudaSynchronize() {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  synchronizeLocked(s);
}

/// Compiled code calls this after every launch; it does not wait (where
/// the device lets the host use managed memory while kernels run). The
/// launches of a call are ordered on the runtime's one stream, the host
/// code between them touches only buffers no queued kernel uses (freed
/// buffers wait in `pending`), and the runtime synchronizes once, when the
/// call returns (cuda::endCall), so the host queues the next kernels
/// while the GPU runs the earlier ones.
__attribute__((visibility("default"))) void mgpuStreamSynchronize(void *) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (!s.concurrentManaged && s.stream)
    synchronizeLocked(s); // the host may not touch managed memory meanwhile
}

__attribute__((visibility("default"))) void
mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY, intptr_t gridZ,
                 intptr_t blockX, intptr_t blockY, intptr_t blockZ, int32_t smem,
                 void *stream, void **params, void **extra, size_t) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  // After an error, later kernels would read what failed to be written.
  if (!function || !s.sticky.ok())
    return;
  if (gridX == 0 || gridY == 0 || gridZ == 0)
    return; // an empty loop nest
  if (gridX > 0x7fffffff || gridY > 65535 || gridZ > 65535) {
    keep(s, makeError("a kernel needs ", gridX, "x", gridY, "x", gridZ,
                      " blocks, more than a launch may have"));
    return;
  }
  bool timed = !s.profilePath.empty();
  if (timed && !s.profileStart) {
    CUevent start = nullptr, stop = nullptr;
    if (!DLC_CHECK(s, cuEventCreate, &start, 0u).ok() ||
        !DLC_CHECK(s, cuEventCreate, &stop, 0u).ok()) {
      keep(s, makeError("the kernel profile cannot create CUDA events"));
      return;
    }
    s.profileStart = start, s.profileStop = stop;
  }
  if (timed)
    if (Status st = DLC_CHECK(s, cuEventRecord, s.profileStart, stream); !st.ok()) {
      keep(s, st);
      return;
    }
  if (Status st = DLC_CHECK(s, cuLaunchKernel, function, unsigned(gridX), unsigned(gridY),
                            unsigned(gridZ), unsigned(blockX), unsigned(blockY),
                            unsigned(blockZ), unsigned(smem), stream, params, extra);
      !st.ok()) {
    keep(s, st);
    return;
  }
  if (!timed)
    return;
  // Profiling: this launch alone, waited for.
  float ms = 0;
  if (Status st = DLC_CHECK(s, cuEventRecord, s.profileStop, stream); !st.ok())
    return keep(s, st);
  if (Status st = DLC_CHECK(s, cuEventSynchronize, s.profileStop); !st.ok())
    return keep(s, st.withPrefix("running the kernels: "));
  if (Status st = DLC_CHECK(s, cuEventElapsedTime, &ms, s.profileStart, s.profileStop);
      !st.ok())
    return keep(s, st);
  State::KernelTime &k = s.profile[s.kernelNames[function]];
  k.calls += 1;
  k.ms += ms;
  k.grid[0] = unsigned(gridX), k.grid[1] = unsigned(gridY), k.grid[2] = unsigned(gridZ);
  k.block = unsigned(blockX * blockY * blockZ);
}

/// A buffer of the compiled step; when there is none, the call ends with
/// the error (as the CPU target's dlc_aligned_alloc does): its host code
/// must not go on with a null buffer. DLC_FAIL_ALLOCATION=N makes the N-th
/// such allocation fail, for the tests.
__attribute__((visibility("default"))) void *_mlir_memref_to_llvm_alloc(size_t bytes) {
  void *p = nullptr;
  if (allocationFailureInjected())
    recordCompiledCallError(makeError("out of GPU memory: a buffer of the compiled step needs ",
                                      bytes, " bytes (DLC_FAIL_ALLOCATION)"));
  else if (!(p = cuda::allocate(bytes, "a buffer of the compiled step")))
    recordCompiledCallError(cuda::takeError());
  if (!p)
    leaveCompiledCall(); // nothing with a destructor is alive here
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.callBuffers.insert(p);
  return p;
}

__attribute__((visibility("default"))) void *
_mlir_memref_to_llvm_aligned_alloc(size_t, size_t bytes) {
  // Managed memory is aligned to at least 256 bytes.
  return _mlir_memref_to_llvm_alloc(bytes);
}

__attribute__((visibility("default"))) void _mlir_memref_to_llvm_free(void *ptr) {
  {
    State &s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    s.callBuffers.erase(ptr);
  }
  cuda::release(ptr);
}

} // extern "C"

const std::pair<const char *, void *> *cuda::entryPoints(size_t &count) {
  static const std::pair<const char *, void *> table[] = {
      {"mgpuModuleLoad", reinterpret_cast<void *>(&mgpuModuleLoad)},
      {"mgpuModuleLoadJIT", reinterpret_cast<void *>(&mgpuModuleLoadJIT)},
      {"mgpuModuleUnload", reinterpret_cast<void *>(&mgpuModuleUnload)},
      {"mgpuModuleGetFunction", reinterpret_cast<void *>(&mgpuModuleGetFunction)},
      {"mgpuStreamCreate", reinterpret_cast<void *>(&mgpuStreamCreate)},
      {"mgpuStreamDestroy", reinterpret_cast<void *>(&mgpuStreamDestroy)},
      {"mgpuStreamSynchronize", reinterpret_cast<void *>(&mgpuStreamSynchronize)},
      {"mgpuLaunchKernel", reinterpret_cast<void *>(&mgpuLaunchKernel)},
      {"dlcCudaSynchronize", reinterpret_cast<void *>(&dlcCudaSynchronize)},
      {"_mlir_memref_to_llvm_alloc", reinterpret_cast<void *>(&_mlir_memref_to_llvm_alloc)},
      {"_mlir_memref_to_llvm_aligned_alloc",
       reinterpret_cast<void *>(&_mlir_memref_to_llvm_aligned_alloc)},
      {"_mlir_memref_to_llvm_free", reinterpret_cast<void *>(&_mlir_memref_to_llvm_free)},
  };
  count = sizeof table / sizeof table[0];
  return table;
}
