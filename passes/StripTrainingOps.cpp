//===- StripTrainingOps.cpp - dropout is the identity outside training ------===//
//
// The dl-strip-training-ops pass turns a training graph into an evaluation
// graph: dropout becomes the identity, and the step seed it consumed dies.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_STRIPTRAININGOPSPASS
#include "passes/Passes.h.inc"

void stripTrainingOps(Operation *root) {
  root->walk([](dl::DropoutOp op) {
    op.getResult().replaceAllUsesWith(op.getInput());
    op.erase();
  });
  root->walk([](dl::StepSeedOp op) {
    if (op->use_empty())
      op.erase();
  });
}

namespace {
struct StripTrainingOpsPass
    : public impl::StripTrainingOpsPassBase<StripTrainingOpsPass> {
  void runOnOperation() override { stripTrainingOps(getOperation()); }
};
} // namespace
} // namespace mlir::dlc
