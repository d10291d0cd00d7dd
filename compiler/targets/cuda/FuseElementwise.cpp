//===- FuseElementwise.cpp - one kernel for what the CPU keeps apart -------===//
//
// dl-fuse-elementwise (passes/) fuses elementwise ops for every target but
// leaves the ops the CPU schedule tiles by their tags apart: a fused conv
// block's bias + activation and its pool with arg-max are two linalg ops,
// which on a GPU are two kernels and a pass over the activations between
// them. Here, on tensors before bufferization, an elementwise op whose one
// use is another linalg op is fused into it (its body recomputed at each of
// the consumer's reads: the activation four times a 2x2 window, cheaper
// than writing and reading it back), except into a contraction, which keeps
// its block-tiled kernel (TileContractions.cpp), never across devices, and
// within dl-fuse-elementwise's cap on a fused body (and a cap on operands).
// Named pooling ops (an evaluation's pools, which keep no arg-max) are made
// generic first, so that their activation fuses into them as in the step.
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/cuda/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::dlc::cuda {
#define GEN_PASS_DEF_GPUFUSEELEMENTWISEPASS
#include "compiler/targets/cuda/Passes.h.inc"

namespace {

/// Whether `op` is a contraction (reductions, a multiply-add body), which
/// must keep its body to become a tiled kernel.
bool isContraction(Operation *op) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp || linalgOp.getNumReductionLoops() == 0)
    return false;
  bool mul = false;
  linalgOp.getBlock()->walk([&](Operation *inner) { mul = mul || isa<arith::MulFOp>(inner); });
  return mul;
}

struct GPUFuseElementwisePass
    : impl::GPUFuseElementwisePassBase<GPUFuseElementwisePass> {
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> pools;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (isa<linalg::PoolingNhwcMaxOp, linalg::PoolingNhwcSumOp>(op))
        pools.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp pool : pools) {
      rewriter.setInsertionPoint(pool);
      if (failed(linalg::generalizeNamedOp(rewriter, pool)))
        return signalPassFailure();
    }
    linalg::ControlFusionFn control = [](OpOperand *operand) {
      Operation *producer = operand->get().getDefiningOp();
      Operation *consumer = operand->getOwner();
      // The body cap of dl-fuse-elementwise, and a cap on operands: each is
      // a memref descriptor among the kernel's parameters (4 KiB at most).
      return producer && producer->hasOneUse() && !isContraction(consumer) &&
             isOnHost(producer->getLoc()) == isOnHost(consumer->getLoc()) &&
             fusedBodyFits(producer, consumer) &&
             producer->getNumOperands() + consumer->getNumOperands() <= kMaxKernelBuffers;
    };
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(patterns, control);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
} // namespace mlir::dlc::cuda
