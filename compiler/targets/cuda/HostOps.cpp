//===- HostOps.cpp - ops placed on the CPU in a step on a GPU -------------===//
//
// LANGUAGE.md's Placement lets one step mix devices: `device cpu { ... }`
// in a step on a GPU. dl-place marks those ops' locations, and the marks
// survive lowering (every op lowered or derived from a marked op, its
// gradient included, keeps its location), so here, after bufferization,
// each marked linalg op becomes sequential loops on the host. The host's
// view of a buffer needs no copy (buffers are managed memory, which the
// driver moves between host and device as either side touches it), but it
// does need the kernels queued before to have finished: a run of host ops
// starts with a call to the runtime's dlcCudaSynchronize, which waits for
// them. That wait is the "copy to the host" of a mixed step; the kernels
// queued after the host code read what it wrote.
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/cuda/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::dlc::cuda {
#define GEN_PASS_DEF_GPUHOSTOPSPASS
#include "compiler/targets/cuda/Passes.h.inc"

namespace {

/// The runtime function that waits for the queued kernels (runtime/Cuda.h).
constexpr const char kSynchronize[] = "dlcCudaSynchronize";

struct GPUHostOpsPass : impl::GPUHostOpsPassBase<GPUHostOpsPass> {
  using GPUHostOpsPassBase::GPUHostOpsPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<linalg::LinalgOp> host;
    module.walk([&](linalg::LinalgOp op) {
      if (op.hasPureBufferSemantics() && isOnHost(op.getLoc()))
        host.push_back(op);
    });
    if (host.empty())
      return;
    func::FuncOp wait;
    if (!emulate) {
      wait = module.lookupSymbol<func::FuncOp>(kSynchronize);
      if (!wait) {
        OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
        wait = func::FuncOp::create(b, module.getLoc(), kSynchronize,
                                    b.getFunctionType({}, {}));
        wait.setPrivate();
      }
    }
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : host) {
      rewriter.setInsertionPoint(op);
      if (wait && needsWait(op))
        func::CallOp::create(rewriter, op.getLoc(), wait, ValueRange{});
      if (failed(linalg::linalgOpToLoops(rewriter, op))) {
        op.emitError("cannot run this op on the host");
        return signalPassFailure();
      }
      rewriter.eraseOp(op);
    }
  }

  /// Whether a kernel may have been queued since the last wait before `op`:
  /// a linalg op (a kernel-to-be) or a call comes first, walking back.
  static bool needsWait(Operation *op) {
    for (Operation *prev = op->getPrevNode(); prev; prev = prev->getPrevNode()) {
      if (auto call = dyn_cast<func::CallOp>(prev))
        if (call.getCallee() == kSynchronize)
          return false;
      bool kernel = false;
      prev->walk([&](Operation *inner) {
        kernel = kernel || isa<linalg::LinalgOp, func::CallOp>(inner);
      });
      if (kernel)
        return true;
    }
    // At the top of a region: whatever ran before it may have queued some.
    return true;
  }
};

} // namespace
} // namespace mlir::dlc::cuda
