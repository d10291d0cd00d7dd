//===- CPUTarget.cpp - linalg on tensors to native code for the host --------===//
//
// The CPU target's pipelines (schedule, bufferization, loops, LLVM dialect)
// and its code generation. One LLVM module builder serves the JIT and the
// AOT paths, so both see the same wrappers, the same embedded model
// description and the same optimization pipeline (-O3 for the host's CPU
// features).
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/cpu/CPUTarget.h"
#include "compiler/targets/cpu/HostCode.h"

#include "compiler/targets/cpu/Passes.h"
#include "runtime/Contracts.h"
#include "runtime/Parallel.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/X86TargetParser.h"

#include <unistd.h>

using namespace dlc;
namespace contract = ::dlc::contract;
using llvm::Error;
using llvm::Expected;

namespace {

void initializeNativeTarget() {
  static bool done = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
    return true;
  }();
  (void)done;
}

llvm::CodeGenOptLevel codeGenLevel(unsigned opt) {
  switch (opt) {
  case 0: return llvm::CodeGenOptLevel::None;
  case 1: return llvm::CodeGenOptLevel::Less;
  case 2: return llvm::CodeGenOptLevel::Default;
  default: return llvm::CodeGenOptLevel::Aggressive;
  }
}

/// A TargetMachine for this host, with its CPU name and features.
Expected<std::unique_ptr<llvm::TargetMachine>> hostMachine(const CompileOptions &options) {
  initializeNativeTarget();
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return builder.takeError();
  builder->setCodeGenOptLevel(codeGenLevel(options.optLevel));
  builder->setRelocationModel(llvm::Reloc::PIC_);
  if (!options.mcpu.empty()) {
    // Another x86-64 CPU (AOT modules for other machines): its features,
    // not this host's.
    if (llvm::X86::parseArchX86(options.mcpu, /*Only64Bit=*/true) == llvm::X86::CK_None)
      return llvm::createStringError("--mcpu " + options.mcpu +
                                     ": not an x86-64 CPU that LLVM knows "
                                     "(x86-64-v2, x86-64-v3, x86-64-v4, znver4, ...)");
    builder->setCPU(options.mcpu);
    builder->setFeatures("");
  }
  if (options.mattr.empty())
    return builder->createTargetMachine();
  // Features over the CPU's: each +NAME or -NAME, NAME one that LLVM's x86
  // backend has (it would only warn about an unknown one, and ignore it).
  llvm::SmallVector<llvm::StringRef> features;
  llvm::StringRef(options.mattr).split(features, ',', -1, /*KeepEmpty=*/false);
  auto machine = builder->createTargetMachine();
  if (!machine)
    return machine.takeError();
  const llvm::MCSubtargetInfo *info = (*machine)->getMCSubtargetInfo();
  for (llvm::StringRef feature : features) {
    feature = feature.trim();
    llvm::StringRef name = feature.drop_front();
    bool known = llvm::any_of(info->getAllProcessorFeatures(),
                              [&](const llvm::SubtargetFeatureKV &kv) { return name == kv.Key; });
    if ((!feature.starts_with("+") && !feature.starts_with("-")) || !known)
      return llvm::createStringError("--mattr " + options.mattr + ": '" + feature.str() +
                                     "' is not +FEATURE or -FEATURE of a feature LLVM's "
                                     "x86-64 backend knows (+avx2, -avx512f, ...)");
    builder->getFeatures().AddFeature(feature);
  }
  return builder->createTargetMachine();
}

/// `void dlc_NAME(void **args)` calling `_mlir_ciface_NAME`: args[i] is the
/// i-th argument's descriptor; the last element is the result storage.
void addPackedWrapper(llvm::Module &module, const runtime::EntrySpec &entry) {
  llvm::Function *ciface = module.getFunction("_mlir_ciface_" + entry.name);
  assert(ciface && "entry points are compiled with llvm.emit_c_interface");
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptrTy = llvm::PointerType::get(ctx, 0);
  auto *type = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptrTy}, false);
  auto *wrapper = llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage,
                                         std::string(contract::kEntryWrapperPrefix) + entry.name, module);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", wrapper));
  llvm::Value *args = wrapper->getArg(0);
  auto load = [&](unsigned i) -> llvm::Value * {
    llvm::Value *slot = b.CreateConstGEP1_64(ptrTy, args, i);
    return b.CreateLoad(ptrTy, slot);
  };
  llvm::SmallVector<llvm::Value *> callArgs;
  unsigned nargs = entry.args.size();
  if (!entry.results.empty())
    callArgs.push_back(load(nargs));
  for (unsigned i = 0; i < nargs; ++i)
    callArgs.push_back(load(i));
  b.CreateCall(ciface, callArgs);
  b.CreateRetVoid();
}

/// The glue around an entry point (`_mlir_ciface_NAME`, which unpacks the
/// descriptors of every argument and result into the call of NAME, and the
/// packed `dlc_NAME`) runs once per call of the entry point, but its one
/// basic block grows with the number of tensors (7 fields a 2-D memref: 4600
/// instructions for a 32-layer MLP with Adam), and instruction selection and
/// scheduling of a block cost its size squared: 3.3 s of the 32-layer MLP's
/// codegen went there. Compiled without optimization (fast instruction
/// selection, no scheduling) it takes 0.25 s and costs nanoseconds a step.
void compileGlueCold(llvm::Module &module) {
  for (llvm::Function &f : module) {
    if (f.isDeclaration() ||
        !(f.getName().starts_with("_mlir_ciface_") ||
          f.getName().starts_with(contract::kEntryWrapperPrefix)))
      continue;
    f.removeFnAttr(llvm::Attribute::AlwaysInline);
    f.addFnAttr(llvm::Attribute::NoInline);
    f.addFnAttr(llvm::Attribute::OptimizeNone);
  }
}

/// Translates to LLVM IR, adds the wrappers and `dlc_model_spec`.
std::unique_ptr<llvm::Module> buildLLVMModule(mlir::Operation *op,
                                              llvm::LLVMContext &ctx,
                                              const runtime::ModelSpec &spec,
                                              llvm::TargetMachine &tm) {
  auto module = mlir::translateModuleToLLVMIR(op, ctx, spec.name);
  if (!module)
    return nullptr;
  module->setDataLayout(tm.createDataLayout());
  module->setTargetTriple(tm.getTargetTriple());
  for (const runtime::EntrySpec &entry : spec.entries)
    addPackedWrapper(*module, entry);
  compileGlueCold(*module);
  runtime::ModelSpec described = spec;
  described.regionShares = mlir::dlc::cpu::regionSharesPerThread(op);
  llvm::Constant *text = llvm::ConstantDataArray::getString(ctx, described.toJSON());
  auto *textVar = new llvm::GlobalVariable(*module, text->getType(), true,
                                           llvm::GlobalValue::PrivateLinkage, text,
                                           "dlc_model_spec_text");
  new llvm::GlobalVariable(*module, llvm::PointerType::get(ctx, 0), true,
                           llvm::GlobalValue::ExternalLinkage, textVar,
                           contract::kModelSpecSymbol);
  return module;
}

/// Optimizes `module`, then sends its buffers to the runtime, which turns a
/// failed allocation into an error the call returns (runtime/Parallel.h),
/// not a null pointer the code would write through, and frees the buffers a
/// failed call had allocated (it sees the frees too). The call is renamed
/// after optimizing: the optimizer knows aligned_alloc (no aliasing, the
/// alignment), and code optimized without that knowledge computed
/// different rounding.
Error optimize(llvm::Module &module, const CompileOptions &options,
               llvm::TargetMachine &tm) {
  auto transformer = mlir::makeOptimizingTransformer(options.optLevel, 0, &tm);
  if (Error e = transformer(&module))
    return e;
  if (llvm::Function *alloc = module.getFunction("aligned_alloc"))
    alloc->setName(contract::kAllocFunction);
  if (llvm::Function *release = module.getFunction("free"))
    release->setName(contract::kFreeFunction);
  return Error::success();
}

/// Builds and optimizes the LLVM module of `module`.
Expected<std::unique_ptr<llvm::Module>>
prepare(mlir::ModuleOp module, const runtime::ModelSpec &spec,
        const CompileOptions &options, llvm::LLVMContext &ctx,
        llvm::TargetMachine &tm) {
  auto llvmModule = buildLLVMModule(module, ctx, spec, tm);
  if (!llvmModule)
    return llvm::createStringError("cannot translate the module to LLVM IR");
  if (Error e = optimize(*llvmModule, options, tm))
    return std::move(e);
  return llvmModule;
}

} // namespace

Expected<std::unique_ptr<runtime::Executable>>
cpu::jitCompileHost(mlir::ModuleOp module, runtime::ModelSpec spec,
                    const CompileOptions &options,
                    llvm::ArrayRef<runtime::SymbolTable> symbolTables) {
  auto tm = hostMachine(options);
  if (!tm)
    return tm.takeError();
  spec.regionShares = mlir::dlc::cpu::regionSharesPerThread(module);
  // The functions the module defines before mlir::ExecutionEngine adds its
  // own packed wrapper (`_mlir_NAME(void **)`) of each of them: dlc calls
  // its entry points through `dlc_NAME`, so those wrappers are dropped before
  // they are compiled (each unpacks every argument and result of its
  // function, one basic block whose codegen costs its size squared: 4 of
  // the 32-layer MLP's 9 s of codegen).
  llvm::StringSet<> defined;
  auto builder = [&](mlir::Operation *op, llvm::LLVMContext &ctx)
      -> std::unique_ptr<llvm::Module> {
    auto llvmModule = buildLLVMModule(op, ctx, spec, **tm);
    if (llvmModule)
      for (const llvm::Function &f : *llvmModule)
        if (!f.isDeclaration())
          defined.insert(f.getName());
    return llvmModule;
  };
  auto transformer = [&](llvm::Module *m) {
    for (llvm::Function &f : llvm::make_early_inc_range(*m))
      if (!f.isDeclaration() && !defined.contains(f.getName()) && f.use_empty())
        f.eraseFromParent();
    return optimize(*m, options, **tm);
  };
  mlir::ExecutionEngineOptions engineOptions;
  engineOptions.llvmModuleBuilder = builder;
  engineOptions.transformer = transformer;
  engineOptions.jitCodeGenOptLevel = codeGenLevel(options.optLevel);
  auto engine = mlir::ExecutionEngine::create(module, engineOptions);
  if (!engine)
    return engine.takeError();
  // The generated code calls into the runtime (the parallel loops' OpenMP
  // entry points; a GPU target's driver calls).
  (*engine)->registerSymbols([&](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    for (const runtime::SymbolTable &table : symbolTables)
      for (size_t i = 0; i < table.count; ++i)
        symbols[interner(table.entries[i].first)] = {
            llvm::orc::ExecutorAddr::fromPtr(table.entries[i].second),
            llvm::JITSymbolFlags::Exported};
    return symbols;
  });
  // Run the module's constructors now (a GPU module loads its kernels in
  // them), with the runtime's symbols resolvable.
  (*engine)->initialize();
  std::shared_ptr<mlir::ExecutionEngine> owned(std::move(*engine));
  std::map<std::string, runtime::PackedFunction> functions;
  for (const runtime::EntrySpec &entry : spec.entries) {
    auto fn = owned->lookup(std::string(contract::kEntryWrapperPrefix) + entry.name);
    if (!fn)
      return fn.takeError();
    functions[entry.name] = reinterpret_cast<runtime::PackedFunction>(*fn);
  }
  return std::make_unique<runtime::Executable>(std::move(spec), std::move(functions),
                                               std::static_pointer_cast<void>(owned));
}

namespace {
/// An optimized LLVM module for this host, with the machine that compiles it.
struct HostModule {
  std::unique_ptr<llvm::TargetMachine> tm;
  llvm::LLVMContext ctx;
  std::unique_ptr<llvm::Module> module;
};

Expected<std::unique_ptr<HostModule>> buildHostModule(mlir::ModuleOp module,
                                                      const runtime::ModelSpec &spec,
                                                      const CompileOptions &options) {
  auto host = std::make_unique<HostModule>();
  auto tm = hostMachine(options);
  if (!tm)
    return tm.takeError();
  host->tm = std::move(*tm);
  auto llvmModule = prepare(module, spec, options, host->ctx, *host->tm);
  if (!llvmModule)
    return llvmModule.takeError();
  host->module = std::move(*llvmModule);
  return host;
}

} // namespace

Error cpu::emitHostLLVMIR(mlir::ModuleOp module, const runtime::ModelSpec &spec,
                          const CompileOptions &options, llvm::raw_ostream &os) {
  auto host = buildHostModule(module, spec, options);
  if (!host)
    return host.takeError();
  (*host)->module->print(os, nullptr);
  return Error::success();
}

namespace {
Error writeObject(llvm::Module &module, llvm::TargetMachine &tm,
                  llvm::StringRef path) {
  std::error_code ec;
  llvm::ToolOutputFile out(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return llvm::createStringError(ec, ec.message());
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, out.os(), nullptr, llvm::CodeGenFileType::ObjectFile))
    return llvm::createStringError("the target cannot emit object files");
  pm.run(module);
  out.os().flush();
  if (out.os().has_error()) {
    std::error_code error = out.os().error();
    out.os().clear_error(); // Reported here, not as an LLVM fatal error.
    return llvm::createStringError(error, error.message());
  }
  out.keep();
  return Error::success();
}

} // namespace

Error cpu::emitHostBinary(mlir::ModuleOp module, const runtime::ModelSpec &spec,
                          const CompileOptions &options, llvm::StringRef path,
                          bool shared) {
  auto host = buildHostModule(module, spec, options);
  if (!host)
    return host.takeError();
  // Write next to the destination, then rename: never a half-written file.
  std::string tmp = (path + ".tmp" + llvm::Twine(::getpid())).str();
  std::string obj = shared ? tmp + ".o" : tmp;
  // Interrupted (SIGINT, SIGTERM), dlc leaves no temporary file behind.
  llvm::sys::RemoveFileOnSignal(tmp);
  llvm::scope_exit forget([&] { llvm::sys::DontRemoveFileOnSignal(tmp); });
  // Errors name the output the user asked for, not the temporary file.
  if (Error e = writeObject(*(*host)->module, *(*host)->tm, obj))
    return llvm::createStringError("cannot write '" + path + "': " +
                                   llvm::toString(std::move(e)));
  if (shared) {
    // Any C compiler driver links a shared object; LLVM 22's clang is there
    // whenever dlc was built with it.
    llvm::ErrorOr<std::string> cc = std::make_error_code(std::errc::no_such_file_or_directory);
    for (llvm::StringRef name : {"cc", "gcc", "clang", "clang-22"})
      if ((cc = llvm::sys::findProgramByName(name)))
        break;
    if (!cc)
      cc = llvm::sys::findProgramByName("clang", {"/usr/lib/llvm-22/bin"});
    if (!cc) {
      llvm::sys::fs::remove(obj);
      return llvm::createStringError(
          "cannot find a C compiler (cc, gcc or clang) to link the shared module");
    }
    std::string err;
    llvm::SmallVector<llvm::StringRef> argv = {*cc, "-shared", "-o", tmp, obj, "-lm"};
    int rc = llvm::sys::ExecuteAndWait(*cc, argv, std::nullopt, {}, 0, 0, &err);
    llvm::sys::fs::remove(obj);
    if (rc != 0) {
      llvm::sys::fs::remove(tmp);
      return llvm::createStringError("linking the shared module failed: " + err);
    }
  }
  if (std::error_code ec = llvm::sys::fs::rename(tmp, path)) {
    llvm::sys::fs::remove(tmp);
    return llvm::createStringError(ec, "cannot write '" + path + "': " + ec.message());
  }
  return Error::success();
}

std::string cpu::hostCacheKey() {
  std::string key = llvm::sys::getHostCPUName().str();
  for (const auto &feature : llvm::sys::getHostCPUFeatures())
    if (feature.second)
      key += "," + feature.first().str();
  return key;
}

//===----------------------------------------------------------------------===//
// The target
//===----------------------------------------------------------------------===//

namespace {
class CPUTarget final : public Target {
public:
  llvm::StringRef name() const override { return "cpu"; }

  void buildLoopsPipeline(mlir::OpPassManager &pm,
                          const CompileOptions &options) const override {
    // The transform-dialect schedule tiles and vectorizes matmuls and
    // convolutions; without it they become plain loops (LLVM still
    // vectorizes their innermost loop).
    // The optimizer's new params and state go into their arguments'
    // buffers (docs/ABI.md), not fresh ones each step.
    mlir::dlc::addPassPipeline(pm, "dl-update-in-place");
    // scf-for-loop-canonicalization: each tensor.dim of a loop's result
    // becomes the dim it started from, so every dimension of a symbolic
    // batch is one dim of the argument: the value-bounds queries of
    // bufferization (are two slices the same?) then stop there instead of
    // walking back through every layer (0.84 -> 0.35 s for a 32-layer MLP;
    // the code is the same up to CSE of those dims).
    if (options.vectorize)
      mlir::dlc::addPassPipeline(pm, options.strictSchedule
                              ? "dl-cpu-schedule{strict=1},scf-for-loop-canonicalization,canonicalize,cse"
                              : "dl-cpu-schedule,scf-for-loop-canonicalization,canonicalize,cse");
    mlir::dlc::addPassPipeline(pm, "one-shot-bufferize{bufferize-function-boundaries "
                        "function-boundary-type-conversion=identity-layout-map},"
                        "dl-drop-in-place-results,"
                        "canonicalize,cse,drop-equivalent-buffer-results,"
                        // The schedule's scf.forall tiles run on the
                        // runtime's threads (OpenMP, below).
                        "scf-forall-to-parallel,dl-prefetch-panels,"
                        // Buffers leave serial loops (not parallel ones: a
                        // fused block's tile buffer is allocated in each
                        // iteration of its parallel loop, so every thread
                        // has its own) and go on the stack.
                        "func.func(buffer-loop-hoisting),"
                        "func.func(promote-buffers-to-stack{max-alloc-size-in-bytes=65536}),"
                        "buffer-deallocation-pipeline,convert-bufferization-to-memref,"
                        "dl-restore-in-place-results,dl-lower-strided-copies,convert-linalg-to-loops,"
                        // Each distinct loop nest compiled once.
                        "dl-outline-kernels");
  }

  void buildLLVMPipeline(mlir::OpPassManager &pm,
                         const CompileOptions &) const override {
    // Parallel loops become OpenMP regions (each iteration's stack buffers
    // in an alloca scope); memrefs are lowered before scf.for becomes
    // branches, which the alloca scopes need.
    mlir::dlc::addPassPipeline(pm, "convert-scf-to-openmp,dl-omp-nowait,convert-vector-to-scf{full-unroll=true},"
                        "expand-strided-metadata,lower-affine,"
                        "finalize-memref-to-llvm{use-aligned-alloc=1},convert-scf-to-cf,"
                        "convert-math-to-llvm,convert-math-to-libm,convert-vector-to-llvm,"
                        "convert-to-llvm,reconcile-unrealized-casts");
  }

  bool hasStage(Stage stage) const override { return stage != Stage::PTX; }

  Error emitText(mlir::ModuleOp module, const runtime::ModelSpec &spec,
                 const CompileOptions &options, Stage stage,
                 llvm::raw_ostream &os) const override {
    assert(stage == Stage::LLVM && "the CPU target writes no other text stage");
    return cpu::emitHostLLVMIR(module, spec, options, os);
  }

  Error emitBinary(mlir::ModuleOp module, const runtime::ModelSpec &spec,
                   const CompileOptions &options, Stage stage,
                   llvm::StringRef path) const override {
    return cpu::emitHostBinary(module, inPlace(spec), options, path, stage == Stage::Module);
  }

  Expected<std::unique_ptr<runtime::Executable>>
  jitCompile(mlir::ModuleOp module, runtime::ModelSpec spec,
             const CompileOptions &options) const override {
    size_t count = 0;
    const auto *entries = runtime::openMPEntryPoints(count);
    return cpu::jitCompileHost(module, inPlace(std::move(spec)), options, {{entries, count}});
  }

  /// The loops pipeline writes every entry's new params and state into
  /// their arguments (dl-update-in-place, dl-drop-in-place-results).
  static runtime::ModelSpec inPlace(runtime::ModelSpec spec) {
    for (runtime::EntrySpec &e : spec.entries)
      e.inPlace = true;
    return spec;
  }

  /// The host CPU and its features: LLVM generates code for exactly these.
  std::string cacheKey(const CompileOptions &) const override {
    return "cpu " + cpu::hostCacheKey();
  }
  // (CompileOptions::mcpu is in the key through DLC_MODULE_OPTIONS.)
};
} // namespace

const Target *cpu::getTarget() {
  static const CPUTarget target;
  return &target;
}

namespace mlir::dlc::cpu {
namespace {
#define GEN_PASS_REGISTRATION
#include "compiler/targets/cpu/Passes.h.inc"
} // namespace
} // namespace mlir::dlc::cpu

void cpu::registerPasses() { mlir::dlc::cpu::registerCPUTargetPasses(); }
