//===- HostCode.h - native code for the host, for every target ---*- C++ -*-===//
//
// Every target's host code is CPU code: the CPU target's whole module, the
// launching side of a GPU target. These turn a module in the LLVM dialect
// into code for this host (LLVM IR, an object file or shared module, or a
// JIT-compiled executable), with the packed entry-point wrappers of
// docs/ABI.md and the embedded model description.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_COMPILER_TARGETS_CPU_HOSTCODE_H
#define DLC_COMPILER_TARGETS_CPU_HOSTCODE_H

#include "compiler/CompileOptions.h"
#include "runtime/Executable.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <memory>

namespace llvm {
class Module;
} // namespace llvm

namespace dlc::cpu {

/// Writes the optimized LLVM IR of `module` for this host.
llvm::Error emitHostLLVMIR(mlir::ModuleOp module, const runtime::ModelSpec &spec,
                           const CompileOptions &options, llvm::raw_ostream &os);

/// Writes an object file, or with `shared` a shared module, to `path`
/// (atomically: a temporary file renamed).
llvm::Error emitHostBinary(mlir::ModuleOp module, const runtime::ModelSpec &spec,
                           const CompileOptions &options, llvm::StringRef path,
                           bool shared);

/// JIT-compiles `module`; the runtime functions it calls are resolved from
/// `symbolTables`.
llvm::Expected<std::unique_ptr<runtime::Executable>>
jitCompileHost(mlir::ModuleOp module, runtime::ModelSpec spec,
               const CompileOptions &options,
               llvm::ArrayRef<runtime::SymbolTable> symbolTables);

/// Loops of more iterations than this that LLVM may not unroll
/// (keepColdLoopsRolled).
constexpr unsigned kMaxUnrolledTrips = 4;
/// In a parallel region, only loops at most this deep (keepColdLoopsRolled).
constexpr unsigned kMaxRegionDepth = 2;

/// Marks `llvm.loop.unroll.disable` on every loop of `module` that runs a
/// known number of iterations above kMaxUnrolledTrips (in a parallel
/// region's body, only its loops at most kMaxRegionDepth deep: the deeper
/// ones are the hot packing and copy loops of the FC layer's panels and
/// the convolutions' tiles, whose unrolling the CNN's step lost 3% without)
/// and has no
/// reassociable floating-point op and no floating-point max or min. The
/// schedule has already tiled, vectorized and unrolled the hot loops
/// (matmuls and convolutions reach LLVM as straight-line vector code in
/// loops whose multiply-adds reassociate); what LLVM's -O3 still unrolled
/// completely were the cold loops around them: the sum of a gradient's
/// partial sums, copies, a softmax over 10 classes. Their blocks then cost
/// instruction selection and the schedulers their size squared: one such
/// block of the CNN's step had 3000 instructions. The loops left to LLVM
/// are those whose results depend on how it unrolls and vectorizes them
/// (the order of reassociated sums; a vectorizer bug in max reductions), so
/// the change costs no bits there.
void keepColdLoopsRolled(llvm::Module &module);

/// A function with at least this many instructions outside its loops is
/// glue (markGlue).
constexpr unsigned kGlueInstructions = 2000;
/// The attribute of glue functions.
constexpr const char *kGlueAttribute = "dlc-glue";

/// Marks the glue of the (not yet optimized) `module`: every function with
/// at least kGlueInstructions outside its loops once the descriptors that
/// MLIR's lowering builds field by field are folded (an entry point of a
/// deep model: kernel calls, allocations, descriptors), whose loops can all
/// move to functions of their own (CodeExtractor; the loops are then
/// optimized as any function). The glue is kept from the optimizer
/// (`optnone`) and from the inliner (`noinline`): -O3 spent on its straight
/// line (11,000 instructions for a 128-layer MLP's step) what it spends on
/// hot code, for code that runs once a step.
void markGlue(llvm::Module &module);

/// Takes the glue functions out of the optimized `module` into a module of
/// their own, which declares what it uses of `module` (a local symbol that
/// both use becomes hidden), or null where `module` has no glue. Code
/// generation without optimization (-O0: fast instruction selection and
/// register allocation, no schedulers) takes a fraction of -O3's time over
/// such code.
std::unique_ptr<llvm::Module> splitGlue(llvm::Module &module);

/// The host CPU and its enabled features (what LLVM generates code for).
std::string hostCacheKey();

} // namespace dlc::cpu

#endif // DLC_COMPILER_TARGETS_CPU_HOSTCODE_H
