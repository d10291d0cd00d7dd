//===- DeriveGradients.cpp - reverse-mode differentiation of @graph -------===//
//
// The dl-derive-gradients pass builds `@graph_grad` from `@graph` (ABI.md):
// the same arguments; results the loss, the metrics, then the gradient of the
// loss with respect to each trained param. Each op knows its own derivative
// (DifferentiableOpInterface); this pass only orders the calls and sums the
// contributions, so it never looks at op names.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "runtime/Contracts.h"

#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseSet.h"

namespace contract = ::dlc::contract;

namespace mlir::dlc {
#define GEN_PASS_DEF_DERIVEGRADIENTSPASS
#include "passes/Passes.h.inc"

namespace {

/// The names of the params that `dl.train_config`'s `freeze` lists.
llvm::DenseSet<StringAttr> frozenParams(ModuleOp module) {
  llvm::DenseSet<StringAttr> frozen;
  for (auto config : module.getOps<dl::TrainConfigOp>())
    if (ArrayAttr freeze = config.getFreezeAttr())
      for (auto ref : freeze.getAsRange<FlatSymbolRefAttr>())
        frozen.insert(ref.getAttr());
  return frozen;
}

/// Reverse-mode differentiation of one function, in place:
///  1. mark the values forward-reachable from the trained params and the
///     values the loss depends on; only their intersection (the values on a
///     path from a trained param to the loss) gets an adjoint;
///  2. seed the loss's adjoint with 1 and visit the ops in reverse program
///     order; an op whose result has an adjoint and that implements
///     DifferentiableOpInterface builds its operands' gradients at the end of
///     the block; contributions to one value are summed with dl.add; an op
///     without the interface stops the gradient;
///  3. return the loss, the metrics and one gradient per trained param (zero
///     where the loss does not depend on it), then erase what became dead
///     (the outputs' computation and gradients of untrained operands).
class Differentiator {
public:
  Differentiator(func::FuncOp func, unsigned lossIndex,
                 ArrayRef<BlockArgument> trained)
      : func(func), lossIndex(lossIndex), trained(trained) {}

  LogicalResult run() {
    Block &body = func.getBody().front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    Value loss = ret.getOperand(lossIndex);
    markRelevant(body, loss);

    OpBuilder b(ret);
    if (relevant.contains(loss))
      adjoints[loss] = seed(b, loss);

    SmallVector<Operation *> ops;
    for (Operation &op : body.without_terminator())
      ops.push_back(&op);
    for (Operation *op : llvm::reverse(ops))
      if (failed(visit(b, op)))
        return failure();

    finish(b, ret);
    return success();
  }

private:
  /// Fills `relevant` with the values on a path from a trained param to
  /// `loss`. dl has no regions in @graph, so program order suffices.
  void markRelevant(Block &body, Value loss) {
    llvm::DenseSet<Value> forward(trained.begin(), trained.end());
    for (Operation &op : body.without_terminator())
      if (llvm::any_of(op.getOperands(),
                       [&](Value v) { return forward.contains(v); }))
        forward.insert(op.result_begin(), op.result_end());

    llvm::DenseSet<Value> backward{loss};
    for (Operation &op : llvm::reverse(body.without_terminator()))
      if (llvm::any_of(op.getResults(),
                       [&](Value v) { return backward.contains(v); }))
        backward.insert(op.operand_begin(), op.operand_end());

    for (Value v : forward)
      if (backward.contains(v))
        relevant.insert(v);
  }

  /// d(loss)/d(loss) = 1, of the loss's type.
  Value seed(OpBuilder &b, Value loss) {
    Location loc = NameLoc::get(b.getStringAttr("grad"), loss.getLoc());
    auto type = cast<RankedTensorType>(loss.getType());
    if (type.hasStaticShape())
      return dl::ConstantOp::create(b, loc, DenseElementsAttr::get(type, 1.0f));
    auto scalar = RankedTensorType::get({}, type.getElementType());
    Value one =
        dl::ConstantOp::create(b, loc, DenseElementsAttr::get(scalar, 1.0f));
    return dl::BroadcastToOp::create(b, loc, one, loss);
  }

  /// The gradient flows from an op's first result: other results (the
  /// arg-max of a fused max pool) are integers and carry none.
  LogicalResult visit(OpBuilder &b, Operation *op) {
    if (op->getNumResults() == 0)
      return success();
    Value grad = adjoints.lookup(op->getResult(0));
    auto diff = dyn_cast<dl::DifferentiableOpInterface>(op);
    if (!grad || !diff)
      return success();
    SmallVector<Value> operandGrads;
    if (failed(diff.buildGradients(b, grad, operandGrads)))
      return failure();
    assert(operandGrads.size() == op->getNumOperands() &&
           "buildGradients must give one gradient per operand");
    Location loc = NameLoc::get(b.getStringAttr("grad"), op->getLoc());
    for (auto [operand, g] : llvm::zip(op->getOperands(), operandGrads)) {
      if (!g || !relevant.contains(operand))
        continue;
      Value &adjoint = adjoints[operand];
      adjoint = adjoint ? dl::AddOp::create(b, loc, adjoint, g).getResult() : g;
    }
    return success();
  }

  /// Returns the loss, the metrics and the gradients, and erases dead ops.
  void finish(OpBuilder &b, func::ReturnOp ret) {
    MLIRContext *ctx = func.getContext();
    SmallVector<Value> results;
    SmallVector<DictionaryAttr> resultAttrs;
    for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
      auto role = func.getResultAttrOfType<StringAttr>(i, contract::kRoleAttr);
      if (role && (role.getValue() == contract::kRoleLoss ||
                   role.getValue() == contract::kRoleMetric)) {
        results.push_back(v);
        resultAttrs.push_back(func.getResultAttrDict(i));
      }
    }
    for (BlockArgument arg : trained) {
      Value g = adjoints.lookup(arg);
      if (!g) {
        auto type = cast<RankedTensorType>(arg.getType());
        g = dl::ConstantOp::create(b, arg.getLoc(),
                                   DenseElementsAttr::get(type, 0.0f));
      }
      auto name = func.getArgAttrOfType<FlatSymbolRefAttr>(
          arg.getArgNumber(), contract::kParamAttr);
      results.push_back(g);
      NamedAttribute attrs[] = {
          NamedAttribute(StringAttr::get(ctx, contract::kRoleAttr),
                         StringAttr::get(ctx, contract::kRoleGrad)),
          NamedAttribute(StringAttr::get(ctx, contract::kNameAttr),
                         name.getAttr())};
      resultAttrs.push_back(DictionaryAttr::get(ctx, attrs));
    }
    func::ReturnOp::create(b, ret.getLoc(), results);
    ret.erase();
    func.setType(FunctionType::get(ctx, func.getArgumentTypes(),
                                   TypeRange(ValueRange(results))));
    func.setAllResultAttrs(resultAttrs);

    // Outputs and gradients of operands nobody trains are dead now.
    Block &body = func.getBody().front();
    SmallVector<Operation *> ops;
    for (Operation &op : body.without_terminator())
      ops.push_back(&op);
    for (Operation *op : llvm::reverse(ops))
      if (isOpTriviallyDead(op))
        op->erase();
  }

  func::FuncOp func;
  unsigned lossIndex;
  ArrayRef<BlockArgument> trained;
  llvm::DenseSet<Value> relevant;
  DenseMap<Value, Value> adjoints;
};

struct DeriveGradientsPass
    : public impl::DeriveGradientsPassBase<DeriveGradientsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp graph = lookupGraph(module);
    if (!graph)
      return signalPassFailure();

    std::optional<unsigned> lossIndex;
    for (unsigned i = 0, e = graph.getNumResults(); i < e; ++i) {
      auto role = graph.getResultAttrOfType<StringAttr>(i, contract::kRoleAttr);
      if (role && role.getValue() == contract::kRoleLoss) {
        lossIndex = i;
        break;
      }
    }
    if (!lossIndex) {
      graph.emitError("cannot derive gradients: @graph has no result with "
                      "dl.role = \"loss\"");
      return signalPassFailure();
    }

    auto lossType = dyn_cast<RankedTensorType>(
        graph.getFunctionType().getResult(*lossIndex));
    if (!lossType || !lossType.getElementType().isF32()) {
      graph.emitError("cannot derive gradients: expected an f32 loss, got ")
          << graph.getFunctionType().getResult(*lossIndex);
      return signalPassFailure();
    }

    func::FuncOp grad = cloneGraph(graph, contract::kGraphGradEntry);

    llvm::DenseSet<StringAttr> frozen = frozenParams(module);
    SmallVector<BlockArgument> trained;
    for (BlockArgument arg : grad.getArguments()) {
      auto name = grad.getArgAttrOfType<FlatSymbolRefAttr>(
          arg.getArgNumber(), contract::kParamAttr);
      auto type = dyn_cast<RankedTensorType>(arg.getType());
      if (name && type && type.getElementType().isF32() &&
          !frozen.contains(name.getAttr()))
        trained.push_back(arg);
    }

    if (failed(Differentiator(grad, *lossIndex, trained).run()))
      return signalPassFailure();
  }
};
} // namespace
} // namespace mlir::dlc
