//===- ScheduleKernels.h - schedule ops one at a time, once per kind --------===//
//
// dl-cpu-schedule's way of keeping its cost linear in the model: an op is
// scheduled in a function of its own (the op, the constants, empty tensors
// and fills it reads; everything else an argument), and ops that make the
// same such function share one scheduled copy, which is inlined in their
// place.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TARGETS_CPU_SCHEDULEKERNELS_H
#define DLC_TARGETS_CPU_SCHEDULEKERNELS_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringMap.h"

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
  /// The scheduled kernel's body replaces `op`.
  LogicalResult schedule(Operation *op, StringRef key, Apply apply);

  /// Kernels scheduled so far, and ops that reused one.
  unsigned scheduled() const { return kernels.size(); }
  unsigned reused() const { return reuses; }

private:
  MLIRContext *context;
  /// Scheduled kernels by key: each in a module of its own.
  llvm::StringMap<OwningOpRef<ModuleOp>> kernels;
  unsigned reuses = 0;
};

} // namespace mlir::dlc::cpu

#endif // DLC_TARGETS_CPU_SCHEDULEKERNELS_H
