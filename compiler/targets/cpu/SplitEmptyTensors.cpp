//===- SplitEmptyTensors.cpp - a tensor.empty for every use -----------------===//
//
// See dl-split-empty-tensors in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/cpu/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::dlc::cpu {
#define GEN_PASS_DEF_SPLITEMPTYTENSORSPASS
#include "compiler/targets/cpu/Passes.h.inc"

namespace {
/// Up to this many uses, a tensor.empty stays shared: the analysis of its
/// uses is cheap, and a use whose buffer the next one may overwrite shares
/// it (the CNN's code is the same as without the pass).
constexpr unsigned kMaxSharedUses = 16;

struct SplitEmptyTensorsPass : public impl::SplitEmptyTensorsPassBase<SplitEmptyTensorsPass> {
  void runOnOperation() override {
    SmallVector<tensor::EmptyOp> shared;
    getOperation().walk([&](tensor::EmptyOp empty) {
      if (!empty.getResult().hasNUsesOrMore(kMaxSharedUses + 1))
        return;
      shared.push_back(empty);
    });
    // The first use keeps the op; each other use gets a clone (never inside
    // a loop: one buffer a step, as bufferization allocated for a
    // conflicting use), where the empty's dynamic sizes are defined.
    for (tensor::EmptyOp empty : shared)
      splitUses(empty, [&](OpBuilder &b) { return b.clone(*empty)->getResult(0); });
    splitFills();
  }

  /// Gives every use of `op`'s result but the first the value `clone`
  /// builds right before the op of `op`'s block that holds the use.
  void splitUses(Operation *op, function_ref<Value(OpBuilder &)> clone) {
    SmallVector<OpOperand *> uses;
    for (OpOperand &use : op->getResult(0).getUses())
      uses.push_back(&use);
    OpBuilder builder(op->getContext());
    for (OpOperand *use : llvm::drop_begin(uses)) {
      builder.setInsertionPoint(op->getBlock()->findAncestorOpInBlock(*use->getOwner()));
      use->set(clone(builder));
    }
  }

  /// CSE also merges equal fills of empty tensors: in the CNN's step the
  /// zeros that the fully connected forward accumulates into are the
  /// zeros of the second dense layer's input gradient. Each use writes
  /// into them, so bufferization copied the fill for the first (a 200 KB
  /// copy, and two more after the forward's k loop, on the calling
  /// thread). A fill of an empty tensor costs less than a copy of it:
  /// every use after the first gets a fill (and empty tensor) of its own,
  /// right before the op of the fill's block that holds the use.
  void splitFills() {
    SmallVector<linalg::FillOp> shared;
    getOperation().walk([&](linalg::FillOp fill) {
      if (fill.hasPureTensorSemantics() && fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>() &&
          !fill->getResult(0).hasOneUse())
        shared.push_back(fill);
    });
    for (linalg::FillOp fill : shared)
      splitUses(fill, [&](OpBuilder &b) {
        IRMapping map;
        map.map(fill.getOutputs()[0], b.clone(*fill.getOutputs()[0].getDefiningOp())->getResult(0));
        return b.clone(*fill, map)->getResult(0);
      });
  }
};
} // namespace
} // namespace mlir::dlc::cpu
