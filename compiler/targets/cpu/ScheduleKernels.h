//===- ScheduleKernels.h - schedule ops one at a time, once per kind --------===//
//
// dl-cpu-schedule's way of keeping its cost linear in the model: an op is
// scheduled in a function of its own (the op, the constants and fills it
// reads; everything else an argument, its empty outputs too), and ops that make the
// same such function share one scheduled copy. A function that calls one
// several times (the layers of a deep model) keeps calling it; the other
// kernels are inlined in their place.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TARGETS_CPU_SCHEDULEKERNELS_H
#define DLC_TARGETS_CPU_SCHEDULEKERNELS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringMap.h"
#include <memory>

namespace mlir::dlc::cpu {

/// Why: the transform interpreter's costs grow with the function that holds
/// the payload, not with the op it transforms. fuse_into_containing_op
/// prints its producer and container into a diagnostic before it tries
/// (printing an op numbers and verifies its whole isolated-from-above
/// parent: the function), and value-bounds queries (loop-invariant subset
/// hoisting, the tiling of a symbolic batch) follow a dimension back through
/// every earlier layer. Scheduled in the whole train step, a 64-layer MLP
/// spent 13 s of its 19 s of passes here, growing with the square of the
/// layers.
class KernelScheduler {
public:
  /// Applies the schedule to the kernel function `root` whose op `op`
  /// stands for the payload op.
  using Apply = llvm::function_ref<LogicalResult(Operation *root, Operation *op)>;

  explicit KernelScheduler(MLIRContext *context) : context(context) {}

  /// Schedules `op` (of the module being scheduled) as a kernel: `key`
  /// names the schedule `apply` runs (the sequence and its parameters), so
  /// ops that make the same kernel under the same key are scheduled once.
  /// A call of the scheduled kernel (a private function of `op`'s module)
  /// replaces `op`.
  LogicalResult schedule(Operation *op, StringRef key, Apply apply);

  /// Inlines every kernel that no function calls twice at its calls (a
  /// step's ops are mostly distinct, and LLVM optimizes them best inline,
  /// knowing which buffers are distinct); the others stay functions
  /// (markKernel), compiled once however many layers call them. To call
  /// once every op is scheduled.
  void finish();

  /// Whether `f` is a kernel this scheduler placed.
  bool isKernel(Operation *f) const { return placedSet.contains(f); }

  /// Kernels scheduled so far, and ops that reused one.
  unsigned scheduled() const { return kernels.size(); }
  unsigned reused() const { return reuses; }

private:
  MLIRContext *context;
  /// Scheduled kernels by key: each in a module of its own.
  llvm::StringMap<OwningOpRef<ModuleOp>> kernels;
  /// Their copies in the module being scheduled, and the calls of them.
  llvm::StringMap<func::FuncOp> placed;
  llvm::SmallPtrSet<Operation *, 16> placedSet;
  SmallVector<func::CallOp> calls;
  std::unique_ptr<SymbolTable> symbols;
  unsigned reuses = 0;
};

/// Marks `f` as a kernel of the step (`dlc.kernel`): private, internal to
/// the LLVM module (LLVM sees every call) and never inlined back into its
/// callers (what outlining it undoes).
void markKernel(func::FuncOp f);

} // namespace mlir::dlc::cpu

#endif // DLC_TARGETS_CPU_SCHEDULEKERNELS_H
