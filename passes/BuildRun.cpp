//===- BuildRun.cpp - the inference entry point -----------------------------===//
//
// The dl-build-run pass builds `@run` from `@graph` for one set of fed
// inputs: dropout is the identity, and whatever needs an input that is not
// fed is dropped (results, then the ops and arguments nothing uses).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "runtime/Contracts.h"

#include "llvm/ADT/BitVector.h"

namespace contract = ::dlc::contract;

namespace mlir::dlc {
#define GEN_PASS_DEF_BUILDRUNPASS
#include "passes/Passes.h.inc"

namespace {
struct BuildRunPass : public impl::BuildRunPassBase<BuildRunPass> {
  using BuildRunPassBase::BuildRunPassBase;

  void runOnOperation() override {
    func::FuncOp graph = lookupGraph(getOperation());
    if (!graph)
      return signalPassFailure();
    func::FuncOp run = cloneGraph(graph, contract::kRunEntry);
    stripTrainingOps(run);

    // Values that depend on an input that is not fed.
    llvm::DenseSet<Value> missing;
    llvm::BitVector unfedArgs(run.getNumArguments());
    for (BlockArgument arg : run.getArguments()) {
      auto input = run.getArgAttrOfType<FlatSymbolRefAttr>(arg.getArgNumber(),
                                                           contract::kInputAttr);
      if (input && llvm::is_contained(unfed, input.getValue().str())) {
        missing.insert(arg);
        unfedArgs.set(arg.getArgNumber());
      }
    }
    run.walk([&](Operation *op) {
      if (llvm::any_of(op->getOperands(), [&](Value v) { return missing.count(v); }))
        for (Value r : op->getResults())
          missing.insert(r);
    });

    auto ret = cast<func::ReturnOp>(run.getBody().back().getTerminator());
    llvm::BitVector dropResults(ret.getNumOperands());
    for (auto [i, v] : llvm::enumerate(ret.getOperands()))
      if (missing.count(v))
        dropResults.set(i);
    if (failed(run.eraseResults(dropResults)))
      return signalPassFailure();
    ret->eraseOperands(dropResults);

    // Erase what no longer feeds a result, then the unfed inputs.
    SmallVector<Operation *> ops;
    run.walk([&](Operation *op) {
      if (op != ret.getOperation())
        ops.push_back(op);
    });
    for (Operation *op : llvm::reverse(ops))
      if (op->use_empty() && isPure(op))
        op->erase();
    for (int i = unfedArgs.size() - 1; i >= 0; --i)
      if (unfedArgs.test(i) && !run.getArgument(i).use_empty())
        unfedArgs.reset(i);
    if (failed(run.eraseArguments(unfedArgs)))
      return signalPassFailure();
  }
};
} // namespace
} // namespace mlir::dlc
