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
#include "runtime/Tensor.h"

#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/Analysis/AssumptionCache.h"
#include "llvm/Analysis/LoopInfo.h"
#include "llvm/Analysis/ScalarEvolution.h"
#include "llvm/Analysis/TargetLibraryInfo.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/IR/Dominators.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Passes/StandardInstrumentations.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/SmallVectorMemoryBuffer.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Transforms/Utils/Cloning.h"
#include "llvm/Transforms/Utils/SplitModule.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/X86TargetParser.h"

#include <algorithm>
#include <atomic>
#include <numeric>
#include <thread>
#include <tuple>
#include <unistd.h>

using namespace dlc;
namespace contract = ::dlc::contract;
using llvm::Error;
using llvm::Expected;

namespace {

/// The machine schedulers' dependence graph of a block relates every memory
/// access to the block's earlier ones until it holds `dag-maps-huge-region`
/// of them (1000 by default): a block of N stores costs N times that. The
/// step's return block stores every result descriptor (7 words a 2-D
/// memref: 1400 stores for a 32-layer MLP with Adam, 5600 for 128 layers),
/// and the scheduling of that one block cost half of the 32-layer step's
/// code generation. At 400 the CNN's code is the same byte for byte (its
/// largest blocks are smaller); the 32-layer step compiles in 0.66 s
/// instead of 1.05 s. A value the user gave LLVM (-dag-maps-huge-region)
/// stays.
void boundSchedulerRegions() {
  constexpr unsigned kHugeRegion = 400;
  auto &options = llvm::cl::getRegisteredOptions();
  auto it = options.find("dag-maps-huge-region");
  if (it == options.end() || it->second->getNumOccurrences())
    return;
  if (auto *huge = static_cast<llvm::cl::opt<unsigned> *>(it->second); huge->getValue() > kHugeRegion)
    huge->setValue(kHugeRegion);
}

/// Loop strength reduction rewrites the induction variables of every loop
/// for the machine's addressing modes. The loops that reach LLVM are MLIR's
/// (the schedule's tiles, unrolled and vectorized: hundreds of loads and
/// stores off one index), where it took 0.09 s of the CNN's 0.46 s of
/// machine code (0.15 s with the passes after it that it gave more work), and
/// it gained nothing measurable: the CNN's step on 1 and 2 threads, the
/// softmax step, the 32-layer and the large MLP ran as fast without it
/// (interleaved, within 1-2%), the arithmetic the same. A value the user
/// gave LLVM (-disable-lsr) stays.
void skipLoopStrengthReduction() {
  auto &options = llvm::cl::getRegisteredOptions();
  auto it = options.find("disable-lsr");
  if (it == options.end() || it->second->getNumOccurrences())
    return;
  static_cast<llvm::cl::opt<bool> *>(it->second)->setValue(true);
}

void initializeNativeTarget() {
  static bool done = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
    boundSchedulerRegions();
    skipLoopStrengthReduction();
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

/// A TargetMachine for this host, with its CPU name and features; for the
/// glue (cpu::splitGlue), one that does not optimize.
Expected<std::unique_ptr<llvm::TargetMachine>> hostMachine(const CompileOptions &options,
                                                           bool forGlue = false) {
  initializeNativeTarget();
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return builder.takeError();
  builder->setCodeGenOptLevel(forGlue ? llvm::CodeGenOptLevel::None
                                      : codeGenLevel(options.optLevel));
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

/// The entry point as the runtime calls it, `void dlc_NAME(void **args)`:
/// args[i] points to the i-th argument's descriptor; the last element to
/// the storage of the results' descriptors (docs/ABI.md).
///
/// It loads every field of every descriptor, calls NAME (whose parameters
/// are those fields, MLIR's memref calling convention) and stores NAME's
/// results; then NAME is inlined into it and goes. A deep model's step has
/// thousands of fields (7 a 2-D memref: 5400 for a 128-layer MLP with Adam),
/// and LLVM handled a call with that many arguments badly: called-value propagation alone took 0.9
/// s of a 128-layer MLP's compile, instruction selection and register
/// allocation of the step's arguments more. Inlined, the fields of static
/// descriptors that the step never reads are never loaded.
///
/// A result that the entry writes into an argument (EntrySpec::inPlaceArg)
/// is not returned by NAME (dl-drop-in-place-results dropped it):
/// `dlc_NAME.results` writes the argument's descriptor at its place in the
/// storage, and the other results go there from NAME's (shorter) result
/// struct. Returning them cost a 512-field struct for a 128-layer MLP with
/// Adam, built and stored in one basic block that instruction selection and
/// scheduling took seconds over. That copy is compiled without optimization
/// (fast instruction selection, no scheduling): its one basic block grows
/// with the number of tensors, and instruction selection and scheduling of
/// a block cost its size squared; it costs nanoseconds a step.
Error addPackedWrapper(llvm::Module &module, const runtime::EntrySpec &entry) {
  llvm::Function *callee = module.getFunction(entry.name);
  assert(callee && "the entry point is in the module");
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptrTy = llvm::PointerType::get(ctx, 0);
  auto *i64Ty = llvm::Type::getInt64Ty(ctx);
  auto *voidTy = llvm::Type::getVoidTy(ctx);
  auto internalError = [&](const llvm::Twine &what) {
    return llvm::createStringError("internal error: entry '" + entry.name + "': " + what.str());
  };
  unsigned nargs = entry.args.size();
  size_t fields = 0;
  for (const runtime::ValueSpec &arg : entry.args)
    fields += runtime::memRefDescriptorWords(arg.shape.size());
  if (callee->arg_size() != fields)
    return internalError("takes " + llvm::Twine(callee->arg_size()) + " descriptor fields, its description " +
                         llvm::Twine(fields));
  // Where each result's descriptor is in the storage and in NAME's struct.
  size_t returned = 0, returnedWords = 0;
  bool anyInPlace = false;
  for (size_t r = 0; r < entry.results.size(); ++r) {
    if (entry.inPlaceArg(r) >= 0) {
      anyInPlace = true;
      continue;
    }
    ++returned;
    returnedWords += runtime::memRefDescriptorWords(entry.results[r].shape.size());
  }
  // NAME returns nothing, one descriptor, or a struct of descriptors.
  llvm::Type *ret = callee->getReturnType();
  size_t compiled = ret->isVoidTy() ? 0
                    : ret->getStructNumElements() && ret->getStructElementType(0)->isStructTy()
                        ? ret->getStructNumElements()
                        : 1;
  if (compiled != returned)
    return internalError("returns " + llvm::Twine(compiled) + " results, its description " +
                         llvm::Twine(returned) + " (besides those updated in place)");

  auto *type = llvm::FunctionType::get(voidTy, {ptrTy}, false);
  auto *wrapper = llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage,
                                         std::string(contract::kEntryWrapperPrefix) + entry.name, module);
  wrapper->setAttributes(llvm::AttributeList::get(ctx, llvm::AttributeList::FunctionIndex,
                                                  llvm::AttrBuilder(ctx, callee->getAttributes().getFnAttrs())));
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", wrapper));
  llvm::Value *args = wrapper->getArg(0);
  // The i-th pointer of the array at `base`.
  auto load = [&](llvm::IRBuilder<> &b, llvm::Value *base, unsigned i, llvm::Type *type) -> llvm::Value * {
    return b.CreateLoad(type, b.CreateConstGEP1_64(ptrTy, base, i));
  };
  llvm::SmallVector<llvm::Value *> callArgs;
  for (unsigned i = 0; i < nargs; ++i) {
    llvm::Value *descriptor = load(b, args, i, ptrTy);
    size_t words = runtime::memRefDescriptorWords(entry.args[i].shape.size());
    for (size_t w = 0; w < words; ++w) {
      llvm::Type *fieldTy = callee->getArg(callArgs.size())->getType();
      if (fieldTy != ptrTy && fieldTy != i64Ty)
        return internalError("a descriptor field of argument '" + entry.args[i].name + "' is not 64-bit");
      callArgs.push_back(b.CreateLoad(fieldTy, b.CreateConstGEP1_64(i64Ty, descriptor, w)));
    }
  }
  llvm::CallInst *call = b.CreateCall(callee, callArgs);
  llvm::Value *storage = entry.results.empty() ? nullptr : load(b, args, nargs, ptrTy);
  llvm::Value *own = storage;
  if (anyInPlace && returned)
    own = b.CreateAlloca(i64Ty, b.getInt64(returnedWords));
  // Field by field: -O0's fast instruction selection, which compiles a
  // deep model's wrapper (cpu::splitGlue), cannot store a struct, and the
  // slow one then takes the rest of the block.
  if (returned) {
    size_t word = 0;
    std::function<void(llvm::Value *)> store = [&](llvm::Value *value) {
      llvm::Type *type = value->getType();
      if (!type->isAggregateType()) {
        b.CreateStore(value, b.CreateConstGEP1_64(i64Ty, own, word++));
        return;
      }
      unsigned count = type->isStructTy() ? type->getStructNumElements() : type->getArrayNumElements();
      for (unsigned i = 0; i < count; ++i)
        store(b.CreateExtractValue(value, i));
    };
    store(call);
  }
  if (anyInPlace) {
    auto *copyType = llvm::FunctionType::get(voidTy, {ptrTy, ptrTy, ptrTy}, false);
    auto *copy = llvm::Function::Create(copyType, llvm::GlobalValue::InternalLinkage,
                                        wrapper->getName() + ".results", module);
    copy->addFnAttr(llvm::Attribute::NoInline);
    copy->addFnAttr(llvm::Attribute::OptimizeNone);
    llvm::IRBuilder<> c(llvm::BasicBlock::Create(ctx, "entry", copy));
    size_t at = 0, from = 0;
    for (size_t r = 0; r < entry.results.size(); ++r) {
      size_t words = runtime::memRefDescriptorWords(entry.results[r].shape.size());
      llvm::Value *source;
      if (int a = entry.inPlaceArg(r); a >= 0) {
        source = load(c, copy->getArg(0), static_cast<unsigned>(a), ptrTy);
      } else {
        source = c.CreateConstGEP1_64(i64Ty, copy->getArg(2), from);
        from += words;
      }
      c.CreateMemCpy(c.CreateConstGEP1_64(i64Ty, copy->getArg(1), at), llvm::Align(8), source,
                     llvm::Align(8), words * 8);
      at += words;
    }
    c.CreateRetVoid();
    b.CreateCall(copy, {args, storage, own ? own : llvm::ConstantPointerNull::get(ptrTy)});
  }
  b.CreateRetVoid();
  // NAME's body into the wrapper; NAME goes.
  llvm::InlineFunctionInfo info;
  if (llvm::InlineResult inlined = llvm::InlineFunction(*call, info); !inlined.isSuccess())
    return internalError(llvm::Twine("cannot be inlined into its wrapper: ") + inlined.getFailureReason());
  if (callee->use_empty())
    callee->eraseFromParent();
  return Error::success();
}

/// Whether `loop` (its inner loops included) has an op whose result
/// depends on how LLVM unrolls and vectorizes the loop: a reassociable
/// floating-point op (the contractions' multiply-adds, the vectorized row
/// sums: the order of their sums), or a floating-point max or min. LLVM
/// 22's loop vectorizer skips the remainder of a `maxnum` reduction whose
/// iterations are not a multiple of its vector width when no element is a
/// NaN (a max over 5 elements read 4); -O3 unrolled the short ones
/// completely before it could.
bool orderMatters(const llvm::Loop &loop) {
  for (llvm::BasicBlock *block : loop.blocks())
    for (llvm::Instruction &inst : *block) {
      if (llvm::isa<llvm::FPMathOperator>(inst) && inst.hasAllowReassoc())
        return true;
      if (auto *intrinsic = llvm::dyn_cast<llvm::IntrinsicInst>(&inst))
        switch (intrinsic->getIntrinsicID()) {
        case llvm::Intrinsic::maxnum:
        case llvm::Intrinsic::minnum:
        case llvm::Intrinsic::maximum:
        case llvm::Intrinsic::minimum:
        case llvm::Intrinsic::maximumnum:
        case llvm::Intrinsic::minimumnum:
          return true;
        default:
          break;
        }
    }
  return false;
}

} // namespace

void cpu::keepColdLoopsRolled(llvm::Module &module) {
  llvm::LLVMContext &ctx = module.getContext();
  llvm::MDNode *disable =
      llvm::MDNode::get(ctx, llvm::MDString::get(ctx, "llvm.loop.unroll.disable"));
  llvm::TargetLibraryInfoImpl libraryInfo(module.getTargetTriple());
  for (llvm::Function &f : module) {
    if (f.isDeclaration())
      continue;
    // A parallel region's body (OpenMP's outlined `..omp_par` function):
    // its outer loops (tiles, groups of images) are cold, its inner ones the
    // hot copies and packs of the kernels.
    bool region = f.getName().contains("..omp_par");
    llvm::DominatorTree dominators(f);
    llvm::LoopInfo loops(dominators);
    if (loops.empty())
      continue;
    llvm::TargetLibraryInfo library(libraryInfo, &f);
    llvm::AssumptionCache assumptions(f);
    llvm::ScalarEvolution scev(f, library, assumptions, dominators, loops);
    for (llvm::Loop *loop : loops.getLoopsInPreorder()) {
      // The trip count counts the exit tests: one more than the body's runs
      // where the test is at the top, as MLIR's loops have it.
      unsigned tests = scev.getSmallConstantTripCount(loop);
      unsigned iterations = loop->isRotatedForm() || tests == 0 ? tests : tests - 1;
      if (iterations <= kMaxUnrolledTrips || (region && loop->getLoopDepth() > kMaxRegionDepth) ||
          orderMatters(*loop))
        continue;
      llvm::SmallVector<llvm::Metadata *> operands = {nullptr};
      if (llvm::MDNode *id = loop->getLoopID())
        operands.append(id->op_begin() + 1, id->op_end());
      operands.push_back(disable);
      llvm::MDNode *id = llvm::MDNode::getDistinct(ctx, operands);
      id->replaceOperandWith(0, id);
      loop->setLoopID(id);
    }
  }
}

namespace {

/// Translates to LLVM IR, adds the wrappers and `dlc_model_spec`.
Expected<std::unique_ptr<llvm::Module>> buildLLVMModule(mlir::Operation *op,
                                                        llvm::LLVMContext &ctx,
                                                        const runtime::ModelSpec &spec,
                                                        llvm::TargetMachine &tm) {
  auto module = mlir::translateModuleToLLVMIR(op, ctx, spec.name);
  if (!module)
    return llvm::createStringError("cannot translate the module to LLVM IR");
  module->setDataLayout(tm.createDataLayout());
  module->setTargetTriple(tm.getTargetTriple());
  cpu::keepColdLoopsRolled(*module);
  for (const runtime::EntrySpec &entry : spec.entries)
    if (Error e = addPackedWrapper(*module, entry))
      return std::move(e);
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

/// Optimizes `module` (all but the glue that cpu::markGlue finds: its loops
/// moved out are optimized, the rest is kept from the optimizer and the
/// inliner), then sends its buffers to the runtime, which turns a
/// failed allocation into an error the call returns (runtime/Parallel.h),
/// not a null pointer the code would write through, and frees the buffers a
/// failed call had allocated (it sees the frees too). The call is renamed
/// after optimizing: the optimizer knows aligned_alloc (no aliasing, the
/// alignment), and code optimized without that knowledge computed
/// different rounding.
Error optimize(llvm::Module &module, const CompileOptions &options,
               llvm::TargetMachine &tm) {
  if (options.optLevel > 0) {
    if (options.fastGlue)
      cpu::markGlue(module);
    // MLIR's makeOptimizingTransformer builds the same pipeline, but without
    // the instrumentation that keeps passes off `optnone` functions.
    llvm::LoopAnalysisManager loopAnalyses;
    llvm::FunctionAnalysisManager functionAnalyses;
    llvm::CGSCCAnalysisManager sccAnalyses;
    llvm::ModuleAnalysisManager moduleAnalyses;
    llvm::PassInstrumentationCallbacks callbacks;
    llvm::OptNoneInstrumentation optNone(/*DebugLogging=*/false);
    optNone.registerCallbacks(callbacks);
    llvm::PipelineTuningOptions tuning;
    tuning.LoopUnrolling = true;
    tuning.LoopInterleaving = true;
    tuning.LoopVectorization = true;
    tuning.SLPVectorization = true;
    llvm::PassBuilder builder(&tm, tuning, std::nullopt, &callbacks);
    builder.registerModuleAnalyses(moduleAnalyses);
    builder.registerCGSCCAnalyses(sccAnalyses);
    builder.registerFunctionAnalyses(functionAnalyses);
    builder.registerLoopAnalyses(loopAnalyses);
    builder.crossRegisterProxies(loopAnalyses, functionAnalyses, sccAnalyses, moduleAnalyses);
    llvm::OptimizationLevel level = options.optLevel == 1   ? llvm::OptimizationLevel::O1
                                    : options.optLevel == 2 ? llvm::OptimizationLevel::O2
                                                            : llvm::OptimizationLevel::O3;
    builder.buildPerModuleDefaultPipeline(level).run(module, moduleAnalyses);
  }
  if (llvm::Function *alloc = module.getFunction("aligned_alloc"))
    alloc->setName(contract::kAllocFunction);
  if (llvm::Function *release = module.getFunction("free"))
    release->setName(contract::kFreeFunction);
  return Error::success();
}

} // namespace

namespace {
/// The LLVM module of a module for this host, with the machine that
/// compiles it.
struct HostModule {
  std::unique_ptr<llvm::TargetMachine> tm;
  llvm::LLVMContext ctx;
  std::unique_ptr<llvm::Module> module;
};

/// Translates `module` to LLVM IR, optimized unless `optimized` is false
/// (compileObjects optimizes it in parts).
Expected<std::unique_ptr<HostModule>> buildHostModule(mlir::ModuleOp module,
                                                      const runtime::ModelSpec &spec,
                                                      const CompileOptions &options,
                                                      bool optimized = true) {
  auto host = std::make_unique<HostModule>();
  auto tm = hostMachine(options);
  if (!tm)
    return tm.takeError();
  host->tm = std::move(*tm);
  auto built = buildLLVMModule(module, host->ctx, spec, *host->tm);
  if (!built)
    return built.takeError();
  host->module = std::move(*built);
  if (optimized)
    if (Error e = optimize(*host->module, options, *host->tm))
      return std::move(e);
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
/// Writes the object code of `module` to `os`.
Error emitObject(llvm::Module &module, llvm::TargetMachine &tm, llvm::raw_pwrite_stream &os) {
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile))
    return llvm::createStringError("the target cannot emit object files");
  pm.run(module);
  return Error::success();
}

/// The threads that generate machine code: CompileOptions::compileThreads,
/// else the runtime's (--threads, or the cores this process may use).
unsigned codegenThreads(const CompileOptions &options) {
  int threads = options.compileThreads > 0 ? static_cast<int>(options.compileThreads)
                                           : runtime::numThreads();
  return static_cast<unsigned>(std::max(1, threads));
}

/// Below this many instructions a part, a module is not split further: a
/// part costs a bitcode round trip, a target machine and (AOT) an object
/// file to link, a few milliseconds.
constexpr size_t kMinPartInstructions = 4000;

/// Parts a thread: the threads take them one at a time, so that a thread
/// whose parts compile faster (machine code costs more for some functions
/// than their size says) takes more of them.
constexpr size_t kPartsPerThread = 2;

/// How many parts `module` is compiled in with `threads` threads (one
/// thread compiles it whole).
unsigned partCount(const llvm::Module &module, unsigned threads) {
  size_t instructions = 0, functions = 0;
  for (const llvm::Function &f : module)
    if (!f.isDeclaration()) {
      instructions += f.getInstructionCount();
      ++functions;
    }
  size_t parts = threads == 1 ? 1
                              : std::min<size_t>({threads * kPartsPerThread, functions,
                                                  instructions / kMinPartInstructions});
  return static_cast<unsigned>(std::max<size_t>(parts, 1));
}

/// Runs `work(i)` for i in [0, count) on `threads` threads (this one among
/// them), each taking the next i when done with one.
void parallelFor(unsigned count, unsigned threads, llvm::function_ref<void(unsigned)> work) {
  std::atomic<unsigned> next{0};
  auto run = [&] {
    for (unsigned i; (i = next++) < count;)
      work(i);
  };
  std::vector<std::thread> workers;
  for (unsigned i = 1; i < std::min(threads, count); ++i)
    workers.emplace_back(run);
  run();
  for (std::thread &worker : workers)
    worker.join();
}

/// Splits `module` into `count` parts of about equal size, each as bitcode.
/// With `keepLocals`, a function stays with the local functions and globals
/// it uses (an entry point with its kernels and parallel regions); without,
/// those become hidden symbols that another part may use.
std::vector<llvm::SmallVector<char, 0>> splitToBitcode(llvm::Module &module, unsigned count,
                                                       bool keepLocals) {
  std::vector<llvm::SmallVector<char, 0>> parts;
  llvm::SplitModule(module, count, [&](std::unique_ptr<llvm::Module> part) {
    bool empty = llvm::all_of(*part, [](const llvm::Function &f) { return f.isDeclaration(); });
    if (empty && part->global_empty())
      return;
    llvm::raw_svector_ostream os(parts.emplace_back());
    llvm::WriteBitcodeToFile(*part, os, /*ShouldPreserveUseListOrder=*/true);
  }, /*PreserveLocals=*/keepLocals);
  return parts;
}

/// Makes hidden symbols of the local constants that the code only passes
/// to calls (the OpenMP source location every parallel region passes to
/// the runtime), and of those only such constants point to: as local
/// symbols they would hold every function that uses them in one group of
/// compileObjects (train_step with eval and run). The optimizer reads
/// nothing of them, so their linkage does not change the code.
void shareCallConstants(llvm::Module &module) {
  auto onlyPassed = [](llvm::GlobalVariable &global) {
    return llvm::all_of(global.uses(), [](const llvm::Use &use) {
      const llvm::User *user = use.getUser();
      if (const auto *call = llvm::dyn_cast<llvm::CallBase>(user))
        return call->isArgOperand(&use);
      return llvm::isa<llvm::Constant>(user) && !llvm::isa<llvm::GlobalValue>(user) &&
             llvm::all_of(user->users(),
                          [](const llvm::User *u) { return llvm::isa<llvm::GlobalVariable>(u); });
    });
  };
  for (llvm::GlobalVariable &global : module.globals())
    if (global.hasLocalLinkage() && global.isConstant() && onlyPassed(global)) {
      global.setLinkage(llvm::GlobalValue::ExternalLinkage);
      global.setVisibility(llvm::GlobalValue::HiddenVisibility);
    }
}

/// The object code of the (not yet optimized) `module`, in one object file
/// or, with several threads (and enough code), in several, in two rounds
/// on those threads, each part in an LLVM context of its own (they travel
/// as bitcode) with a target machine of its own:
/// 1. Optimization: the module is split into groups of functions that share
///    no local symbol (an entry point with its kernels and parallel regions;
///    the entry glue): the optimizer sees each function with everything it
///    could see in the whole module. On the CNN (opt -O3 on llvm-split's
///    groups against the whole module) every function comes out the same
///    but the glue, whose calls of an entry point pass the arguments the
///    entry point does not use, where the whole module passed poison.
/// 2. Machine code: each optimized group is split by function into parts of
///    about equal size (a function or global that another part uses becomes
///    a hidden symbol); machine code is generated function by function.
/// Registers may come out assigned differently than in one piece (the
/// functions went through bitcode), never the arithmetic: the lit test
/// Targets/CPU/parallel-codegen.test checks that the params trained by
/// code compiled on 1 and on 2 threads are the same bit for bit.
Expected<std::vector<llvm::SmallVector<char, 0>>>
compileObjects(HostModule &host, const CompileOptions &options) {
  llvm::Module &module = *host.module;
  unsigned threads = codegenThreads(options);
  // The glue of `optimized` (if it has any) as an object file of its own.
  auto emitGlue = [&](llvm::Module &optimized, std::vector<llvm::SmallVector<char, 0>> &objects) -> Error {
    std::unique_ptr<llvm::Module> glue = cpu::splitGlue(optimized);
    if (!glue)
      return Error::success();
    auto machine = hostMachine(options, /*forGlue=*/true);
    if (!machine)
      return machine.takeError();
    llvm::raw_svector_ostream os(objects.emplace_back());
    return emitObject(*glue, **machine, os);
  };
  if (partCount(module, threads) == 1) {
    std::vector<llvm::SmallVector<char, 0>> objects(1);
    if (Error e = optimize(module, options, *host.tm))
      return std::move(e);
    if (Error e = emitGlue(module, objects))
      return std::move(e);
    llvm::raw_svector_ostream os(objects[0]);
    if (Error e = emitObject(module, *host.tm, os))
      return std::move(e);
    return objects;
  }
  // Every local symbol gets a name of its own in the whole module, so that
  // the hidden symbols of round 2 never collide; a local one the optimizer
  // of a group makes is renamed after its group.
  llvm::StringSet<> original;
  unsigned unnamed = 0;
  for (llvm::GlobalValue &value : module.global_values()) {
    if (!value.hasName())
      value.setName("dlc.anon." + llvm::Twine(unnamed++));
    original.insert(value.getName());
  }
  shareCallConstants(module);
  std::vector<llvm::SmallVector<char, 0>> groups =
      splitToBitcode(module, threads, /*keepLocals=*/true);
  // The groups are all there is of the module from here on, and each
  // group's bitcode goes once it is parsed (peak memory).
  host.module.reset();
  std::vector<std::vector<llvm::SmallVector<char, 0>>> partsOfGroup(groups.size());
  std::vector<std::vector<llvm::SmallVector<char, 0>>> glueOfGroup(groups.size());
  std::vector<std::string> errors(groups.size());
  // Parses piece `i` of `pieces` into `ctx` and frees its bitcode; null
  // (with the reason in errors[i]) when it does not parse.
  auto parse = [&](std::vector<llvm::SmallVector<char, 0>> &pieces, unsigned i,
                   llvm::LLVMContext &ctx) -> std::unique_ptr<llvm::Module> {
    auto parsed = llvm::parseBitcodeFile(
        llvm::MemoryBufferRef(llvm::StringRef(pieces[i].data(), pieces[i].size()), "part"), ctx);
    pieces[i] = {};
    if (!parsed) {
      errors[i] = llvm::toString(parsed.takeError());
      return nullptr;
    }
    return std::move(*parsed);
  };
  std::vector<std::unique_ptr<llvm::TargetMachine>> machines;
  // A target machine for each group, then for each part.
  auto addMachines = [&](size_t count) -> Error {
    while (machines.size() < count) {
      auto machine = hostMachine(options);
      if (!machine)
        return machine.takeError();
      machines.push_back(std::move(*machine));
    }
    return Error::success();
  };
  if (Error e = addMachines(groups.size()))
    return std::move(e);
  parallelFor(groups.size(), threads, [&](unsigned i) {
    llvm::LLVMContext ctx;
    std::unique_ptr<llvm::Module> group = parse(groups, i, ctx);
    if (!group)
      return;
    if (Error e = optimize(*group, options, *machines[i])) {
      errors[i] = llvm::toString(std::move(e));
      return;
    }
    for (llvm::GlobalValue &value : group->global_values())
      if (value.hasLocalLinkage() && !original.contains(value.getName()))
        value.setName("dlc.part" + llvm::Twine(i) + "." + value.getName());
    if (Error e = emitGlue(*group, glueOfGroup[i])) {
      errors[i] = llvm::toString(std::move(e));
      return;
    }
    partsOfGroup[i] = splitToBitcode(*group, partCount(*group, threads), /*keepLocals=*/false);
  });
  for (const std::string &error : errors)
    if (!error.empty())
      return llvm::createStringError(error);
  std::vector<llvm::SmallVector<char, 0>> parts;
  for (auto &groupParts : partsOfGroup)
    for (auto &part : groupParts)
      parts.push_back(std::move(part));
  if (Error e = addMachines(parts.size()))
    return std::move(e);
  std::vector<llvm::SmallVector<char, 0>> objects(parts.size());
  for (auto &glue : glueOfGroup)
    for (auto &object : glue)
      objects.push_back(std::move(object));
  errors.assign(parts.size(), "");
  parallelFor(parts.size(), threads, [&](unsigned i) {
    llvm::LLVMContext ctx;
    std::unique_ptr<llvm::Module> part = parse(parts, i, ctx);
    if (!part)
      return;
    llvm::raw_svector_ostream os(objects[i]);
    if (Error e = emitObject(*part, *machines[i], os))
      errors[i] = llvm::toString(std::move(e));
  });
  for (const std::string &error : errors)
    if (!error.empty())
      return llvm::createStringError(error);
  return objects;
}

/// Writes `bytes` to `path`.
Error writeFile(llvm::StringRef path, llvm::ArrayRef<char> bytes) {
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return llvm::createStringError(ec, ec.message());
  out.write(bytes.data(), bytes.size());
  out.close();
  if (out.has_error()) {
    std::error_code error = out.error();
    out.clear_error(); // Reported here, not as an LLVM fatal error.
    return llvm::createStringError(error, error.message());
  }
  return Error::success();
}

/// The JIT-compiled code of a module, and the destructors it runs when the
/// executable goes.
struct JITCode {
  std::unique_ptr<llvm::orc::LLJIT> jit;
  std::vector<void (*)()> destructors;
  ~JITCode() {
    for (void (*dtor)() : destructors)
      dtor();
  }
};

/// The module's constructors or destructors by name, in the order of their
/// priorities; their list is removed (the JIT runs them itself) and each
/// becomes a symbol the JIT can look up.
std::vector<std::string> takeCtorsDtors(llvm::Module &module, bool ctors) {
  std::vector<std::pair<unsigned, std::string>> found;
  for (const auto &element : ctors ? llvm::orc::getConstructors(module)
                                   : llvm::orc::getDestructors(module)) {
    llvm::Function *fn = element.Func;
    if (!fn)
      continue;
    if (!fn->hasName())
      fn->setName(ctors ? "dlc_jit_ctor" : "dlc_jit_dtor");
    if (fn->hasLocalLinkage()) {
      fn->setLinkage(llvm::GlobalValue::ExternalLinkage);
      fn->setVisibility(llvm::GlobalValue::HiddenVisibility);
    }
    found.emplace_back(element.Priority, fn->getName().str());
  }
  if (llvm::GlobalVariable *list =
          module.getGlobalVariable(ctors ? "llvm.global_ctors" : "llvm.global_dtors"))
    list->eraseFromParent();
  // By priority, the list's order among equals (as stable_sort).
  std::vector<size_t> order(found.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::tie(found[a].first, a) < std::tie(found[b].first, b);
  });
  std::vector<std::string> names;
  for (size_t i : order)
    names.push_back(std::move(found[i].second));
  return names;
}
} // namespace

Expected<std::unique_ptr<runtime::Executable>>
cpu::jitCompileHost(mlir::ModuleOp module, runtime::ModelSpec spec,
                    const CompileOptions &options,
                    llvm::ArrayRef<runtime::SymbolTable> symbolTables) {
  spec.regionShares = mlir::dlc::cpu::regionSharesPerThread(module);
  auto host = buildHostModule(module, spec, options, /*optimized=*/false);
  if (!host)
    return host.takeError();
  llvm::Module &llvmModule = *(*host)->module;
  // The object files are linked by ORC, which does not run the
  // constructors of objects (a GPU module loads its kernels in them): they
  // are called here, once the code is linked.
  std::vector<std::string> ctors = takeCtorsDtors(llvmModule, true);
  std::vector<std::string> dtors = takeCtorsDtors(llvmModule, false);
  auto objects = compileObjects(**host, options);
  if (!objects)
    return objects.takeError();
  auto jit = llvm::orc::LLJITBuilder()
                 .setPlatformSetUp(llvm::orc::setUpInactivePlatform)
                 .create();
  if (!jit)
    return jit.takeError();
  auto code = std::make_shared<JITCode>();
  code->jit = std::move(*jit);
  llvm::orc::LLJIT &lljit = *code->jit;
  llvm::orc::JITDylib &lib = lljit.getMainJITDylib();
  // libc and libm from the process; the runtime's entry points (the
  // parallel loops' OpenMP calls, a GPU target's driver calls) from the
  // tables.
  auto process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      lljit.getDataLayout().getGlobalPrefix());
  if (!process)
    return process.takeError();
  lib.addGenerator(std::move(*process));
  llvm::orc::SymbolMap symbols;
  for (const runtime::SymbolTable &table : symbolTables)
    for (size_t i = 0; i < table.count; ++i)
      symbols[lljit.mangleAndIntern(table.entries[i].first)] = {
          llvm::orc::ExecutorAddr::fromPtr(table.entries[i].second),
          llvm::JITSymbolFlags::Exported};
  if (Error e = lib.define(llvm::orc::absoluteSymbols(std::move(symbols))))
    return std::move(e);
  for (llvm::SmallVector<char, 0> &object : *objects)
    if (Error e = lljit.addObjectFile(std::make_unique<llvm::SmallVectorMemoryBuffer>(
            std::move(object), spec.name, /*RequiresNullTerminator=*/false)))
      return std::move(e);
  auto function = [&](llvm::StringRef name) -> Expected<void *> {
    auto address = lljit.lookup(name);
    if (!address)
      return address.takeError();
    return address->toPtr<void *>();
  };
  for (const std::string &name : ctors) {
    auto fn = function(name);
    if (!fn)
      return fn.takeError();
    reinterpret_cast<void (*)()>(*fn)();
  }
  for (const std::string &name : dtors) {
    auto fn = function(name);
    if (!fn)
      return fn.takeError();
    code->destructors.push_back(reinterpret_cast<void (*)()>(*fn));
  }
  std::map<std::string, runtime::PackedFunction> functions;
  for (const runtime::EntrySpec &entry : spec.entries) {
    auto fn = function(std::string(contract::kEntryWrapperPrefix) + entry.name);
    if (!fn)
      return fn.takeError();
    functions[entry.name] = reinterpret_cast<runtime::PackedFunction>(*fn);
  }
  return std::make_unique<runtime::Executable>(std::move(spec), std::move(functions),
                                               std::static_pointer_cast<void>(code));
}

Error cpu::emitHostBinary(mlir::ModuleOp module, const runtime::ModelSpec &spec,
                          const CompileOptions &options, llvm::StringRef path,
                          bool shared) {
  auto host = buildHostModule(module, spec, options, /*optimized=*/false);
  if (!host)
    return host.takeError();
  auto objects = compileObjects(**host, options);
  if (!objects)
    return objects.takeError();
  // Write next to the destination, then rename: never a half-written file.
  std::string tmp = (path + ".tmp" + llvm::Twine(::getpid())).str();
  // One object file is the output or the shared module's input; several
  // (a part each) are linked into the shared module, or into one object
  // file (a relocatable link).
  bool link = shared || objects->size() > 1;
  std::vector<std::string> inputs;
  for (size_t i = 0; i < objects->size(); ++i)
    inputs.push_back(link ? tmp + "." + std::to_string(i) + ".o" : tmp);
  // Interrupted (SIGINT, SIGTERM), dlc leaves no temporary file behind.
  llvm::sys::RemoveFileOnSignal(tmp);
  for (const std::string &input : inputs)
    llvm::sys::RemoveFileOnSignal(input);
  auto removeInputs = [&] {
    if (link)
      for (const std::string &input : inputs)
        llvm::sys::fs::remove(input);
  };
  llvm::scope_exit forget([&] {
    removeInputs();
    for (const std::string &input : inputs)
      llvm::sys::DontRemoveFileOnSignal(input);
    llvm::sys::DontRemoveFileOnSignal(tmp);
  });
  // Errors name the output the user asked for, not the temporary file.
  for (size_t i = 0; i < objects->size(); ++i)
    if (Error e = writeFile(inputs[i], (*objects)[i])) {
      llvm::sys::fs::remove(tmp);
      return llvm::createStringError("cannot write '" + path + "': " +
                                     llvm::toString(std::move(e)));
    }
  if (link) {
    // Any C compiler driver links a shared object; LLVM 22's clang is there
    // whenever dlc was built with it.
    llvm::ErrorOr<std::string> cc = std::make_error_code(std::errc::no_such_file_or_directory);
    for (llvm::StringRef name : {"cc", "gcc", "clang", "clang-22"})
      if ((cc = llvm::sys::findProgramByName(name)))
        break;
    if (!cc)
      cc = llvm::sys::findProgramByName("clang", {"/usr/lib/llvm-22/bin"});
    if (!cc)
      return llvm::createStringError(
          "cannot find a C compiler (cc, gcc or clang) to link the " +
          llvm::Twine(shared ? "shared module" : "object file"));
    std::string err;
    llvm::SmallVector<llvm::StringRef> argv = {*cc};
    if (shared)
      argv.push_back("-shared");
    else
      argv.append({"-r", "-nostdlib"});
    argv.append({"-o", tmp});
    for (const std::string &input : inputs)
      argv.push_back(input);
    if (shared)
      argv.push_back("-lm");
    int rc = llvm::sys::ExecuteAndWait(*cc, argv, std::nullopt, {}, 0, 0, &err);
    if (rc != 0) {
      llvm::sys::fs::remove(tmp);
      return llvm::createStringError("linking the " +
                                     llvm::Twine(shared ? "shared module" : "object file") +
                                     " failed: " + err);
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
                              ? "dl-cpu-schedule{strict=1}"
                              : "dl-cpu-schedule");
    mlir::dlc::addPassPipeline(pm, "scf-for-loop-canonicalization,canonicalize,cse");
    // A padded tensor's producer writes into the padded buffer
    // (dl-pad-in-place): no serial fill and copy of the whole of it.
    mlir::dlc::addPassPipeline(pm, "dl-pad-in-place,dl-split-empty-tensors,"
                        "one-shot-bufferize{bufferize-function-boundaries "
                        "function-boundary-type-conversion=identity-layout-map},"
                        "dl-drop-in-place-results,"
                        "canonicalize,cse,drop-equivalent-buffer-results,"
                        // The schedule's scf.forall tiles run on the
                        // runtime's threads (OpenMP, below); one inside
                        // another runs serially.
                        "scf-forall-to-parallel,dl-prefetch-panels,dl-serial-nested-parallel,"
                        // Buffers leave serial loops (not parallel ones: a
                        // fused block's tile buffer is allocated in each
                        // iteration of its parallel loop, so every thread
                        // has its own) and go on the stack.
                        "func.func(buffer-loop-hoisting),"
                        "func.func(promote-buffers-to-stack{max-alloc-size-in-bytes=65536}),"
                        // buffer-deallocation-pipeline, with the buffers that
                        // nothing retained can alias freed one by one first.
                        "expand-realloc{emit-deallocs=false},canonicalize,"
                        "ownership-based-buffer-deallocation,canonicalize,"
                        "dl-split-local-deallocs,buffer-deallocation-simplification,"
                        "bufferization-lower-deallocations,cse,canonicalize,"
                        "convert-bufferization-to-memref,"
                        "dl-lower-strided-copies,convert-linalg-to-loops,"
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
    return cpu::emitHostLLVMIR(module, inPlace(spec), options, os);
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
