//===- CUDATarget.cpp - linalg on tensors to PTX and host code --------------===//
//
// The CUDA target: bufferizes, turns every linalg op into a parallel loop
// nest and every nest into one kernel (MapLoops.cpp), outlines the kernels
// into a gpu.module, lowers them to NVVM and through LLVM's NVPTX backend to
// PTX for the chosen architecture (libdevice from the CUDA toolkit provides
// the math functions), and lowers the host side, which launches them through
// the runtime's `mgpu*` functions (runtime/Cuda.h), like the CPU target's
// code. An AOT module carries a cubin for the architecture when ptxas is
// found (no JIT at load), else the PTX.
//
// `cuda-emulated` is the same target up to the mapped loops, which it runs
// on the host as loops over blocks and threads: CI checks the mapping
// against the CPU target without a GPU.
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/cuda/CUDATarget.h"

#include "compiler/targets/cpu/CPUTarget.h"
#include "compiler/targets/cpu/HostCode.h"
#include "compiler/targets/cuda/Passes.h"
#include "runtime/Cuda.h"
#include "runtime/Parallel.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

#include <cstdlib>

using namespace dlc;
using llvm::Error;
using llvm::Expected;

std::string cuda::toolkitPath() {
  for (const char *var : {"CUDA_HOME", "CUDA_PATH"})
    if (const char *dir = std::getenv(var); dir && *dir)
      return dir;
  return "/usr/local/cuda";
}

std::string cuda::findPtxas() {
  std::string inToolkit = toolkitPath() + "/bin/ptxas";
  if (llvm::sys::fs::can_execute(inToolkit))
    return inToolkit;
  if (auto onPath = llvm::sys::findProgramByName("ptxas"))
    return *onPath;
  return "";
}

namespace {

/// Bufferization shared by both forms of the target: no schedule (the
/// mapping is the schedule), every buffer on the heap (the device cannot
/// read the host's stack).
constexpr const char *kBufferize =
    "dl-gpu-fuse-elementwise,canonicalize,cse,"
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},"
    "canonicalize,cse,drop-equivalent-buffer-results,"
    "buffer-deallocation-pipeline,convert-bufferization-to-memref,"
    "dl-gpu-prepare-loops";

/// Assembles `ptx` for `arch` with ptxas; the cubin, or an error.
Expected<std::string> assemble(llvm::StringRef ptxas, llvm::StringRef ptx,
                               llvm::StringRef arch) {
  llvm::SmallString<128> in, out;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile("dlc-kernels", "ptx", in))
    return llvm::createStringError(ec, "cannot create a temporary file: " + ec.message());
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile("dlc-kernels", "cubin", out)) {
    llvm::sys::fs::remove(in);
    return llvm::createStringError(ec, "cannot create a temporary file: " + ec.message());
  }
  llvm::scope_exit cleanup([&] {
    llvm::sys::fs::remove(in);
    llvm::sys::fs::remove(out);
  });
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(in, ec);
    if (ec)
      return llvm::createStringError(ec, "cannot write '" + in + "'");
    os << ptx;
  }
  std::string archFlag = ("-arch=" + arch).str();
  llvm::SmallVector<llvm::StringRef> argv = {ptxas, "-O3", archFlag, in, "-o", out};
  std::string err;
  if (llvm::sys::ExecuteAndWait(ptxas, argv, std::nullopt, {}, 0, 0, &err) != 0)
    return llvm::createStringError("ptxas rejected the kernels for " + arch +
                                   (err.empty() ? "" : ": " + err));
  auto cubin = llvm::MemoryBuffer::getFile(out);
  if (!cubin)
    return llvm::createStringError("cannot read the cubin from ptxas");
  return (*cubin)->getBuffer().str();
}

class CUDATarget final : public Target {
public:
  explicit CUDATarget(bool emulate) : emulate(emulate) {}

  llvm::StringRef name() const override {
    return emulate ? "cuda-emulated" : "cuda";
  }

  void buildLoopsPipeline(mlir::OpPassManager &pm,
                          const CompileOptions &) const override {
    // Ops placed on the CPU become host loops; contractions and reductions
    // get kernels of their own; every other linalg op becomes a parallel
    // loop nest, and each nest one kernel.
    std::string mode = emulate ? "{emulate=1}" : "";
    mlir::dlc::addPassPipeline(pm, kBufferize);
    mlir::dlc::addPassPipeline(pm, "dl-gpu-host-ops" + mode + ",dl-gpu-tile-contractions" +
                                       mode + ",dl-gpu-reductions" +
                                       mode + ",convert-linalg-to-parallel-loops,"
                                       "canonicalize,cse,dl-gpu-fuse-loops,dl-gpu-map-loops" + mode +
                                       ",canonicalize,cse");
  }

  void buildLLVMPipeline(mlir::OpPassManager &pm,
                         const CompileOptions &options) const override {
    if (emulate)
      return cpu::getTarget()->buildLLVMPipeline(pm, options);
    // Kernels: outlined, lowered to NVVM (math through libdevice) and to
    // PTX. Host: buffers from the runtime's allocator (memory the device
    // can address), launches through the runtime's mgpu* functions.
    std::string toolkit = cuda::toolkitPath();
    mlir::dlc::addPassPipeline(
        pm, "gpu-launch-sink-index-computations,gpu-kernel-outlining,"
            "nvvm-attach-target{chip=" + options.gpuArch + " features=+ptx80 O=3},"
            "expand-strided-metadata,lower-affine,"
            "gpu.module(convert-scf-to-cf,convert-gpu-to-nvvm,canonicalize,cse,"
            "reconcile-unrealized-casts),"
            "gpu-module-to-binary{format=isa toolkit=" + toolkit + "},"
            "finalize-memref-to-llvm{use-generic-functions=1},convert-scf-to-cf,"
            "convert-math-to-llvm,convert-math-to-libm,gpu-to-llvm,"
            "convert-to-llvm,reconcile-unrealized-casts");
  }

  bool hasStage(Stage stage) const override {
    return !emulate || stage != Stage::PTX;
  }

  Error emitText(mlir::ModuleOp module, const runtime::ModelSpec &spec,
                 const CompileOptions &options, Stage stage,
                 llvm::raw_ostream &os) const override {
    if (stage == Stage::LLVM)
      return cpu::emitHostLLVMIR(module, deviceSpec(spec), options, os);
    assert(stage == Stage::PTX && "the CUDA target writes LLVM IR and PTX");
    // "#N": the kernel's number in the runtime's kernel profile
    // (DLC_CUDA_PROFILE), which counts modules in load order, this order.
    bool any = false;
    int number = 0;
    for (auto binary : module.getOps<mlir::gpu::BinaryOp>()) {
      for (mlir::Attribute attr : binary.getObjects()) {
        auto object = llvm::cast<mlir::gpu::ObjectAttr>(attr);
        os << "// gpu.module @" << binary.getSymName() << " (kernel #" << number << ")\n"
           << object.getObject().getValue() << "\n";
        any = true;
      }
      ++number;
    }
    if (!any)
      os << "// no kernels\n";
    return Error::success();
  }

  Error emitBinary(mlir::ModuleOp module, const runtime::ModelSpec &spec,
                   const CompileOptions &options, Stage stage,
                   llvm::StringRef path) const override {
    if (!emulate)
      if (Error e = assembleKernels(module, options))
        return e;
    return cpu::emitHostBinary(module, deviceSpec(spec), options, path,
                               stage == Stage::Module);
  }

  Expected<std::unique_ptr<runtime::Executable>>
  jitCompile(mlir::ModuleOp module, runtime::ModelSpec spec,
             const CompileOptions &options) const override {
    size_t ompCount = 0, cudaCount = 0;
    const auto *omp = runtime::openMPEntryPoints(ompCount);
    const auto *cudaSymbols = runtime::cuda::entryPoints(cudaCount);
    llvm::SmallVector<runtime::SymbolTable> tables = {{omp, ompCount}};
    if (!emulate)
      tables.push_back({cudaSymbols, cudaCount});
    auto exe = cpu::jitCompileHost(module, deviceSpec(std::move(spec)), options, tables);
    // The module's constructors loaded its kernels.
    if (exe && !emulate)
      if (runtime::Status st = runtime::cuda::takeError(); !st.ok())
        return llvm::createStringError(st.message());
    return exe;
  }

  std::string cacheKey(const CompileOptions &options) const override {
    std::string key = name().str() + " " + cpu::hostCacheKey();
    if (!emulate)
      key += " " + options.gpuArch + " ptxas=" + cuda::findPtxas();
    return key;
  }

private:
  bool emulate;

  /// The spec a module of this target carries: its buffers must be in
  /// device-addressable memory (not for the emulation, which is CPU code).
  runtime::ModelSpec deviceSpec(runtime::ModelSpec spec) const {
    if (!emulate)
      spec.device = "cuda";
    return spec;
  }

  /// Replaces the PTX of every kernel module by a cubin for the chosen
  /// architecture when ptxas is there (the driver then loads it without
  /// compiling); without ptxas the module keeps the PTX.
  Error assembleKernels(mlir::ModuleOp module, const CompileOptions &options) const {
    std::string ptxas = cuda::findPtxas();
    if (ptxas.empty())
      return Error::success();
    for (auto binary : module.getOps<mlir::gpu::BinaryOp>()) {
      llvm::SmallVector<mlir::Attribute> objects;
      for (mlir::Attribute attr : binary.getObjects()) {
        auto object = llvm::cast<mlir::gpu::ObjectAttr>(attr);
        if (object.getFormat() != mlir::gpu::CompilationTarget::Assembly) {
          objects.push_back(object);
          continue;
        }
        auto cubin = assemble(ptxas, object.getObject().getValue(), options.gpuArch);
        if (!cubin)
          return cubin.takeError();
        objects.push_back(mlir::gpu::ObjectAttr::get(
            module.getContext(), object.getTarget(), mlir::gpu::CompilationTarget::Binary,
            mlir::StringAttr::get(module.getContext(), *cubin), object.getProperties(),
            object.getKernels()));
      }
      binary.setObjectsAttr(mlir::ArrayAttr::get(module.getContext(), objects));
    }
    return Error::success();
  }
};
} // namespace

const Target *cuda::getTarget() {
  static const CUDATarget target(/*emulate=*/false);
  return &target;
}

const Target *cuda::getEmulatedTarget() {
  static const CUDATarget target(/*emulate=*/true);
  return &target;
}

namespace mlir::dlc::cuda {
namespace {
#define GEN_PASS_REGISTRATION
#include "compiler/targets/cuda/Passes.h.inc"
} // namespace
} // namespace mlir::dlc::cuda

void cuda::registerPasses() { mlir::dlc::cuda::registerCUDATargetPasses(); }
