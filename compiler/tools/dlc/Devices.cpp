//===- Devices.cpp - `dlc devices` and `--device` ---------------------------===//
//
// Placement as the lecture's lab 8 showed it: which devices there are, and
// which one a command's compiled code runs on. `--device cuda[:N]` selects
// GPU N (after CUDA_VISIBLE_DEVICES, as the driver numbers them), makes the
// CUDA target generate the code, for that GPU's architecture unless
// `--gpu-arch` says otherwise, and limits the GPU memory the runtime hands
// out with `--gpu-memory-limit` (bytes with a suffix, or a fraction of the
// GPU's memory, as `--memory-limit`).
//
//===----------------------------------------------------------------------===//

#include "compiler/tools/dlc/Commands.h"

#include "runtime/Cuda.h"
#include "runtime/Memory.h"
#include "runtime/Parallel.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"

#include <cstdlib>

namespace dlc::tool {

static runtime::StatusOr<int> parseDevice(const std::string &device) {
  if (device == "cpu")
    return -1;
  if (device == "cuda")
    return 0;
  if (device.rfind("cuda:", 0) == 0 && device.size() > 5 && device.size() <= 9 &&
      device.find_first_not_of("0123456789", 5) == std::string::npos)
    return std::atoi(device.c_str() + 5);
  return runtime::Status::error("--device " + device +
                                ": expected cpu, cuda or cuda:N");
}

runtime::Status applyDevice(Flags &flags) {
  auto ordinal = parseDevice(flags.device);
  if (!ordinal.ok())
    return ordinal.status();
  if (*ordinal < 0) {
    if (!flags.gpuMemoryLimit.empty())
      return runtime::Status::error("--gpu-memory-limit needs --device cuda");
    if (flags.options.target == "cuda")
      return runtime::Status::error("--target=cuda runs on a GPU: add --device cuda");
    return runtime::Status::success();
  }
  if (flags.targetGiven && flags.options.target != "cuda")
    return runtime::Status::error("--device " + flags.device + " runs the cuda target, not " +
                                  flags.options.target);
  if (runtime::Status st = runtime::cuda::select(*ordinal); !st.ok())
    return st.withPrefix("--device " + flags.device + ": ");
  auto info = runtime::cuda::selectedDevice();
  if (!info.ok())
    return info.status().withPrefix("--device " + flags.device + ": ");
  flags.options.target = "cuda";
  flags.options.device = "cuda:" + std::to_string(*ordinal);
  if (!flags.gpuArchGiven)
    flags.options.gpuArch = info->arch();
  if (!flags.gpuMemoryLimit.empty()) {
    auto bytes = runtime::parseMemorySize(flags.gpuMemoryLimit, info->totalBytes);
    if (!bytes.ok())
      return bytes.status().withPrefix("--gpu-memory-limit ");
    runtime::cuda::setMemoryLimit(*bytes);
  }
  return runtime::Status::success();
}

int devices() {
  llvm::outs() << "cpu: " << llvm::sys::getHostCPUName() << ", "
               << runtime::availableCores() << " cores\n";
  auto gpus = runtime::cuda::devices();
  if (!gpus.ok()) {
    llvm::outs() << "cuda: none (" << gpus.status().message() << ")\n";
    return 0;
  }
  if (gpus->empty())
    llvm::outs() << "cuda: none (the driver sees no GPU; CUDA_VISIBLE_DEVICES?)\n";
  for (const runtime::cuda::DeviceInfo &d : *gpus) {
    llvm::outs() << "cuda:" << d.ordinal << ": " << d.name << ", ";
    llvm::outs() << llvm::format("%.1f", d.totalBytes / (1024.0 * 1024 * 1024))
                 << " GiB, compute capability " << d.major << "." << d.minor << " ("
                 << d.arch() << ")\n";
  }
  return 0;
}

} // namespace dlc::tool
