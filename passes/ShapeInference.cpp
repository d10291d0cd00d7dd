//===- ShapeInference.cpp - refine dl result types ---------------------------===//
//
// The dl-shape-inference pass: each op computes its own result type through
// InferTypeOpInterface (the same code the frontend uses while building ops),
// so this pass only walks the function and applies the refinements.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_SHAPEINFERENCEPASS
#include "passes/Passes.h.inc"

LogicalResult refineResultTypes(Operation *op) {
  auto infer = dyn_cast<InferTypeOpInterface>(op);
  if (!infer)
    return success();
  SmallVector<Type> inferred;
  if (failed(infer.inferReturnTypes(
          op->getContext(), op->getLoc(), op->getOperands(),
          op->getRawDictionaryAttrs(), op->getPropertiesStorage(),
          op->getRegions(), inferred)))
    return failure();
  for (auto [result, type] : llvm::zip(op->getResults(), inferred)) {
    auto have = dyn_cast<ShapedType>(result.getType());
    auto want = dyn_cast<ShapedType>(type);
    if (!have || !want || have == want)
      continue;
    // Only ever refine: a declared static dim that inference leaves dynamic
    // stays as declared.
    if (have.hasRank() && want.hasRank() && have.getRank() == want.getRank()) {
      SmallVector<int64_t> dims;
      for (auto [h, w] : llvm::zip(have.getShape(), want.getShape()))
        dims.push_back(ShapedType::isDynamic(w) ? h : w);
      want = want.clone(dims);
    }
    result.setType(want);
  }
  return success();
}

namespace {
/// Worklist: the function body in program order, which visits every
/// operand's producer before its users (dl has no control flow), so one sweep
/// reaches the fixed point. Results then flow into func.return, and the
/// function type is rewritten from the returned values.
struct ShapeInferencePass
    : public impl::ShapeInferencePassBase<ShapeInferencePass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    WalkResult walk = func.walk([](Operation *op) {
      if (failed(refineResultTypes(op)))
        return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
    if (func.isExternal())
      return;
    auto ret = cast<func::ReturnOp>(func.getBody().back().getTerminator());
    func.setType(FunctionType::get(&getContext(), func.getArgumentTypes(),
                                   ret.getOperandTypes()));
  }
};
} // namespace
} // namespace mlir::dlc
