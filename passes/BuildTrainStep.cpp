//===- BuildTrainStep.cpp - one optimizer step as a function --------------===//
//
// The dl-build-train-step pass builds `@train_step` from `@graph_grad` and the
// module's `dl.train_config` (ABI.md): the forward and backward computation,
// then the optimizer update of every trained param, written with dl ops.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "runtime/Contracts.h"
#include "runtime/LanguageFacts.h"

#include "mlir/IR/IRMapping.h"

namespace contract = ::dlc::contract;
namespace language = ::dlc::language;

namespace mlir::dlc {
#define GEN_PASS_DEF_BUILDTRAINSTEPPASS
#include "passes/Passes.h.inc"

namespace {

/// The optimizer of `dl.train_config` with every hyperparameter filled in.
struct Optimizer {
  const language::Optimizer *facts = &language::defaultOptimizer();
  SmallVector<double, 4> args;

  /// The update it applies.
  language::OptimizerKind kind() const { return facts->kind; }
  /// The state each trained param carries, in argument order.
  ArrayRef<std::string_view> stateNames() const { return facts->stateSlots; }
};

/// Reads the optimizer from `dl.train_config` (the default optimizer with
/// its default hyperparameters without one).
FailureOr<Optimizer> readOptimizer(ModuleOp module) {
  Optimizer opt;
  auto configs = module.getOps<dl::TrainConfigOp>();
  if (configs.empty()) {
    std::vector<double> defaults = opt.facts->signature.defaults();
    opt.args.assign(defaults.begin(), defaults.end());
    return opt;
  }
  dl::TrainConfigOp config = *configs.begin();
  StringRef name = config.getOptimizer();
  opt.facts = language::findOptimizer(name);
  if (!opt.facts) {
    InFlightDiagnostic diag = config.emitOpError("expected optimizer ");
    ArrayRef<language::Optimizer> all = language::optimizers();
    for (auto [i, known] : llvm::enumerate(all)) {
      if (i > 0)
        diag << (i + 1 == all.size() ? " or " : ", ");
      diag << known.signature.name;
    }
    return diag << ", got " << name;
  }
  std::vector<double> defaults = opt.facts->signature.defaults();
  ArrayRef<double> given = config.getOptimizerArgs();
  if (given.size() > defaults.size())
    return config.emitOpError("expected at most ")
           << defaults.size() << " arguments for " << name << ", got "
           << given.size();
  opt.args.assign(given.begin(), given.end());
  opt.args.append(defaults.begin() + given.size(), defaults.end());
  return opt;
}

/// Where the optimizer's ops are: the train block (its line names the
/// optimizer), else the function.
Location trainLoc(ModuleOp module, func::FuncOp grad) {
  auto configs = module.getOps<dl::TrainConfigOp>();
  return configs.empty() ? grad.getLoc() : (*configs.begin()).getLoc();
}

/// Builds the dl ops of an update at one location.
class UpdateBuilder {
public:
  UpdateBuilder(OpBuilder &b, Location loc) : b(b), loc(loc) {}
  Value scalar(double v) {
    auto type = RankedTensorType::get({}, b.getF32Type());
    return dl::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, static_cast<float>(v)));
  }
  Value add(Value x, Value y) { return dl::AddOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return dl::SubOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return dl::MulOp::create(b, loc, x, y); }
  Value div(Value x, Value y) { return dl::DivOp::create(b, loc, x, y); }
  Value pow(Value x, Value y) { return dl::PowOp::create(b, loc, x, y); }
  Value sqrt(Value x) { return dl::SqrtOp::create(b, loc, x); }
  /// The sum of the squares of `x`'s elements, a scalar (buildSumAll: one
  /// l2 over every element is a serial chain of adds, which cost 8% of the
  /// CNN's step over its 3.2 M-element weight gradient).
  ///
  /// A large static matrix (64K elements or more: the CNN's 3136x1024 weight
  /// gradient) is summed by rows first: the CPU target then adds each row's
  /// squares in the loop of the optimizer's update, which reads the gradient
  /// anyway (dl-cpu-schedule), and each row keeps its order whatever the
  /// thread count.
  Value sumOfSquares(Value x) {
    auto type = cast<RankedTensorType>(x.getType());
    if (type.getRank() < 2)
      return dl::L2Op::create(b, loc, x);
    Value squares = dl::SquareOp::create(b, loc, x);
    if (type.getRank() == 2 && type.hasStaticShape() && type.getNumElements() >= 65536)
      return buildSumAll(b, loc, dl::SumOp::create(b, loc, squares, ArrayRef<int64_t>{1}, false));
    return buildSumAll(b, loc, squares);
  }

private:
  OpBuilder &b;
  Location loc;
};

/// One trained param of @train_step: its value, its gradient and its state.
struct TrainedParam {
  StringAttr name;
  Value value;
  Value grad;
  SmallVector<Value, 2> state;
};

DictionaryAttr dictOf(MLIRContext *ctx,
                      ArrayRef<std::pair<StringRef, Attribute>> entries) {
  SmallVector<NamedAttribute> attrs;
  for (auto [k, v] : entries)
    attrs.push_back(NamedAttribute(StringAttr::get(ctx, k), v));
  return DictionaryAttr::get(ctx, attrs);
}

/// Appends the update of `params` (LANGUAGE.md's formulas, at the end of
/// `b`'s block) to `results`: the new params, then their new state (named
/// `stateNames`), with their result attributes.
void buildUpdate(OpBuilder &b, Location loc, const Optimizer &opt,
                 MutableArrayRef<TrainedParam> params, Value stepNumber,
                 ArrayRef<std::string> stateNames, SmallVectorImpl<Value> &results,
                 SmallVectorImpl<DictionaryAttr> &resultAttrs) {
  MLIRContext *ctx = b.getContext();
  SmallVector<Value> newState;
  UpdateBuilder u(b, loc);
  ArrayRef<double> a = opt.args;
  switch (opt.kind()) {
  case language::OptimizerKind::SGD: {
    // a -= lr * g
    Value lr = u.scalar(a[0]);
    for (TrainedParam &p : params)
      results.push_back(u.sub(p.value, u.mul(lr, p.grad)));
    break;
  }
  case language::OptimizerKind::Momentum: {
    // d = -(1 - nu) * lr * g + nu * d; a += d
    Value scaledLr = u.scalar(-(1.0 - a[1]) * a[0]);
    Value nu = u.scalar(a[1]);
    for (TrainedParam &p : params) {
      // One op per statement: C++ leaves the order of sibling arguments
      // unspecified, and the IR must not depend on the host compiler.
      Value scaledGrad = u.mul(scaledLr, p.grad);
      Value decayed = u.mul(nu, p.state[0]);
      Value d = u.add(scaledGrad, decayed);
      results.push_back(u.add(p.value, d));
      newState.push_back(d);
    }
    break;
  }
  case language::OptimizerKind::Adam: {
    // lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
    // m = beta1 * m + (1 - beta1) * g; v = beta2 * v + (1 - beta2) * g * g
    // a -= lr_t * m / (sqrt(v) + eps)
    Value one = u.scalar(1.0);
    Value beta1 = u.scalar(a[1]), beta2 = u.scalar(a[2]);
    // One op per statement (see momentum).
    Value lr = u.scalar(a[0]);
    Value beta2t = u.pow(beta2, stepNumber);
    Value correction2 = u.sqrt(u.sub(one, beta2t));
    Value scaledLr = u.mul(lr, correction2);
    Value beta1t = u.pow(beta1, stepNumber);
    Value correction1 = u.sub(one, beta1t);
    Value lrT = u.div(scaledLr, correction1);
    Value oneMinusBeta1 = u.scalar(1.0 - a[1]);
    Value oneMinusBeta2 = u.scalar(1.0 - a[2]);
    Value eps = u.scalar(a[3]);
    for (TrainedParam &p : params) {
      Value mDecayed = u.mul(beta1, p.state[0]);
      Value mNew = u.mul(oneMinusBeta1, p.grad);
      Value m = u.add(mDecayed, mNew);
      Value vDecayed = u.mul(beta2, p.state[1]);
      Value vNew = u.mul(u.mul(oneMinusBeta2, p.grad), p.grad);
      Value v = u.add(vDecayed, vNew);
      Value update = u.mul(lrT, m);
      Value denom = u.add(u.sqrt(v), eps);
      results.push_back(u.sub(p.value, u.div(update, denom)));
      newState.push_back(m);
      newState.push_back(v);
    }
    break;
  }
  }
  for (TrainedParam &p : params)
    resultAttrs.push_back(dictOf(
        ctx, {{contract::kRoleAttr, StringAttr::get(ctx, contract::kRoleParam)},
              {contract::kNameAttr, p.name}}));
  for (auto [v, s] : llvm::zip(newState, stateNames)) {
    results.push_back(v);
    resultAttrs.push_back(dictOf(
        ctx, {{contract::kRoleAttr, StringAttr::get(ctx, contract::kRoleState)},
              {contract::kNameAttr, StringAttr::get(ctx, s)}}));
  }
}

/// Appends the global norm of the gradients of `params` (TensorFlow's
/// `tf.linalg.global_norm`: the square root of the sum of the squares of
/// every element of every gradient; 0 without trained params) to `results`,
/// with its result attributes.
void buildGradNorm(OpBuilder &b, Location loc, ArrayRef<TrainedParam> params,
                   SmallVectorImpl<Value> &results,
                   SmallVectorImpl<DictionaryAttr> &resultAttrs) {
  MLIRContext *ctx = b.getContext();
  UpdateBuilder u(b, loc);
  Value sum;
  for (const TrainedParam &p : params) {
    Value squares = u.sumOfSquares(p.grad);
    sum = sum ? u.add(sum, squares) : squares;
  }
  results.push_back(sum ? u.sqrt(sum) : u.scalar(0.0));
  StringAttr role = StringAttr::get(ctx, contract::kRoleGradNorm);
  resultAttrs.push_back(
      dictOf(ctx, {{contract::kRoleAttr, role}, {contract::kNameAttr, role}}));
}

/// Steps:
///  1. the signature: @graph_grad's arguments, then the optimizer state of
///     each param that @graph_grad returns a gradient for (`dl.state`), then
///     `%step` (`dl.step`) and `%seed` (`dl.seed`);
///  2. the body of @graph_grad, cloned, with `dl.step_seed` replaced by
///     `%seed`;
///  3. the update of each trained param (LANGUAGE.md's formulas), then the
///     return of the new params, the new state, the loss, the metrics and
///     the global norm of the gradients.
struct BuildTrainStepPass
    : public impl::BuildTrainStepPassBase<BuildTrainStepPass> {
  using BuildTrainStepPassBase::BuildTrainStepPassBase;

  void runOnOperation() override {
    if (failed(buildTrainStep()))
      return signalPassFailure();
    ModuleOp module = getOperation();
    // An @eval built before (by dl-build-eval) stands when @graph is gone.
    bool evalBuilt =
        !SymbolTable::lookupSymbolIn(module, contract::kGraphEntry) &&
        SymbolTable::lookupSymbolIn(module, contract::kEvalEntry);
    if (eval && !evalBuilt && !buildEval(module))
      return signalPassFailure();
    if (keepGraphs)
      return;
    SymbolTable symbols(module);
    for (StringRef name : {contract::kGraphEntry, contract::kGraphGradEntry})
      if (Operation *f = symbols.lookup(name))
        symbols.erase(f);
  }

  LogicalResult buildTrainStep() {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    SymbolTable symbols(module);
    auto grad = symbols.lookup<func::FuncOp>(contract::kGraphGradEntry);
    if (!grad || grad.isExternal()) {
      return module.emitError("expected a func.func @graph_grad (run "
                              "dl-derive-gradients first)");
    }
    FailureOr<Optimizer> opt = readOptimizer(module);
    if (failed(opt))
      return failure();

    // Param arguments by name, and the results of @graph_grad by role.
    llvm::DenseMap<StringAttr, unsigned> paramArg;
    for (unsigned i = 0, e = grad.getNumArguments(); i < e; ++i)
      if (auto ref =
              grad.getArgAttrOfType<FlatSymbolRefAttr>(i, contract::kParamAttr))
        paramArg[ref.getAttr()] = i;
    SmallVector<unsigned> gradResults, keptResults;
    for (unsigned i = 0, e = grad.getNumResults(); i < e; ++i) {
      auto role = grad.getResultAttrOfType<StringAttr>(i, contract::kRoleAttr);
      if (role && role.getValue() == contract::kRoleGrad)
        gradResults.push_back(i);
      else
        keptResults.push_back(i);
    }

    // 1. The signature.
    auto name = [&](StringRef s) { return StringAttr::get(ctx, s); };
    auto dict = [&](ArrayRef<std::pair<StringRef, Attribute>> entries) {
      return dictOf(ctx, entries);
    };
    SmallVector<Type> argTypes(grad.getArgumentTypes());
    SmallVector<DictionaryAttr> argAttrs;
    grad.getAllArgAttrs(argAttrs);
    SmallVector<std::string> stateNames;
    for (unsigned r : gradResults) {
      auto param = grad.getResultAttrOfType<StringAttr>(r, contract::kNameAttr);
      auto it = param ? paramArg.find(param) : paramArg.end();
      if (it == paramArg.end()) {
        return grad.emitError("gradient result ")
               << r << " does not name a param argument";
      }
      for (StringRef s : opt->stateNames()) {
        stateNames.push_back(("opt." + param.getValue() + "." + s).str());
        argTypes.push_back(grad.getArgumentTypes()[it->second]);
        argAttrs.push_back(dict(
            {{contract::kStateAttr, StringAttr::get(ctx, stateNames.back())}}));
      }
    }
    argTypes.push_back(RankedTensorType::get({}, Float32Type::get(ctx)));
    argAttrs.push_back(dict({{contract::kStepAttr, UnitAttr::get(ctx)}}));
    argTypes.push_back(RankedTensorType::get({}, IntegerType::get(ctx, 64)));
    argAttrs.push_back(dict({{contract::kSeedAttr, UnitAttr::get(ctx)}}));

    if (Operation *old = symbols.lookup(contract::kTrainStepEntry))
      symbols.erase(old);
    OpBuilder b(ctx);
    auto step =
        func::FuncOp::create(b, grad.getLoc(), contract::kTrainStepEntry,
                             FunctionType::get(ctx, argTypes, {}));
    symbols.insert(step, std::next(Block::iterator(grad)));
    Block *body = step.addEntryBlock();
    step.setAllArgAttrs(argAttrs);

    // 2. The body of @graph_grad.
    IRMapping map;
    Value seed = body->getArguments().back();
    Value stepNumber = body->getArgument(body->getNumArguments() - 2);
    Operation *gradReturn = cloneGradBody(b, grad, body, seed, map);

    // 3. The updates.
    SmallVector<TrainedParam> params;
    unsigned nextState = grad.getNumArguments();
    for (unsigned r : gradResults) {
      TrainedParam p;
      p.name = grad.getResultAttrOfType<StringAttr>(r, contract::kNameAttr);
      p.value = body->getArgument(paramArg[p.name]);
      p.grad = map.lookup(gradReturn->getOperand(r));
      for (size_t s = 0; s < opt->stateNames().size(); ++s)
        p.state.push_back(body->getArgument(nextState++));
      params.push_back(std::move(p));
    }

    SmallVector<Value> results;
    SmallVector<DictionaryAttr> resultAttrs;
    Location loc = NameLoc::get(name("optimizer"), trainLoc(module, grad));
    buildUpdate(b, loc, *opt, params, stepNumber, stateNames, results,
                resultAttrs);
    for (unsigned r : keptResults) {
      results.push_back(map.lookup(gradReturn->getOperand(r)));
      DictionaryAttr attrs = grad.getResultAttrDict(r);
      resultAttrs.push_back(attrs ? attrs : DictionaryAttr::get(ctx));
    }
    buildGradNorm(b, NameLoc::get(name("grad_norm"), grad.getLoc()), params,
                  results, resultAttrs);
    func::ReturnOp::create(b, grad.getLoc(), results);
    step.setType(
        FunctionType::get(ctx, argTypes, TypeRange(ValueRange(results))));
    step.setAllResultAttrs(resultAttrs);
    if (split)
      buildSplitSteps(grad, *opt, paramArg, gradResults, stateNames);
    return success();
  }

  /// Clones @graph_grad's body but its return to the end of `body`, its
  /// arguments mapped to the first ones of `body` and `dl.step_seed` to
  /// `seed`; returns @graph_grad's return.
  static Operation *cloneGradBody(OpBuilder &b, func::FuncOp grad, Block *body,
                                  Value seed, IRMapping &map) {
    Block &gradBody = grad.getBody().front();
    map.map(gradBody.getArguments(),
            body->getArguments().take_front(grad.getNumArguments()));
    b.setInsertionPointToEnd(body);
    for (Operation &op : gradBody.without_terminator()) {
      if (isa<dl::StepSeedOp>(op)) {
        map.map(op.getResult(0), seed);
        continue;
      }
      b.clone(op, map);
    }
    return gradBody.getTerminator();
  }

  /// Data-parallel training's two halves of @train_step:
  ///  - @grad: @graph_grad's arguments, `%seed` (`dl.seed`) and
  ///    `%offset: tensor<i64>` (`dl.batch_offset`, the first fed row's index
  ///    in the global batch, which every dropout over the batch counts its
  ///    mask from); @graph_grad's results;
  ///  - @apply: the trained params (`dl.param`), their gradients
  ///    (`dl.grad = "W"`), their optimizer state (`dl.state`) and `%step`
  ///    (`dl.step`); the new params and state, as @train_step returns them,
///    and the global norm of the summed gradients.
  void buildSplitSteps(func::FuncOp grad, const Optimizer &opt,
                       const llvm::DenseMap<StringAttr, unsigned> &paramArg,
                       ArrayRef<unsigned> gradResults,
                       ArrayRef<std::string> stateNames) {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    SymbolTable symbols(module);
    for (StringRef n : {contract::kGradEntry, contract::kApplyEntry})
      if (Operation *old = symbols.lookup(n))
        symbols.erase(old);
    OpBuilder b(ctx);
    auto i64 = RankedTensorType::get({}, IntegerType::get(ctx, 64));
    auto f32 = RankedTensorType::get({}, Float32Type::get(ctx));
    auto unit = [&](StringRef attr) {
      return dictOf(ctx, {{attr, UnitAttr::get(ctx)}});
    };

    // @grad.
    SmallVector<Type> argTypes(grad.getArgumentTypes());
    SmallVector<DictionaryAttr> argAttrs;
    grad.getAllArgAttrs(argAttrs);
    argTypes.append({i64, i64});
    argAttrs.push_back(unit(contract::kSeedAttr));
    argAttrs.push_back(unit(contract::kBatchOffsetAttr));
    auto gradFn = func::FuncOp::create(
        b, grad.getLoc(), contract::kGradEntry,
        FunctionType::get(ctx, argTypes, grad.getResultTypes()));
    symbols.insert(gradFn);
    Block *body = gradFn.addEntryBlock();
    gradFn.setAllArgAttrs(argAttrs);
    IRMapping map;
    Value offset = body->getArguments().back();
    Operation *gradReturn =
        cloneGradBody(b, grad, body, body->getArgument(body->getNumArguments() - 2), map);
    // Dropout over the batch (a dynamic leading dimension) counts its mask
    // from the shard's first row; a dropout over anything else is the same
    // in every process already.
    gradFn.walk([&](dl::DropoutOp op) {
      auto type = dyn_cast<RankedTensorType>(op.getInput().getType());
      if (type && type.getRank() > 0 && type.isDynamicDim(0))
        op.getOffsetMutable().assign(offset);
    });
    SmallVector<Value> results;
    for (Value v : gradReturn->getOperands())
      results.push_back(map.lookup(v));
    func::ReturnOp::create(b, grad.getLoc(), results);
    SmallVector<DictionaryAttr> resultAttrs;
    grad.getAllResultAttrs(resultAttrs);
    gradFn.setAllResultAttrs(resultAttrs);

    // @apply.
    SmallVector<Type> applyTypes;
    SmallVector<DictionaryAttr> applyAttrs;
    SmallVector<StringAttr> names;
    for (unsigned r : gradResults) {
      auto param = grad.getResultAttrOfType<StringAttr>(r, contract::kNameAttr);
      names.push_back(param);
      applyTypes.push_back(grad.getArgumentTypes()[paramArg.lookup(param)]);
      applyAttrs.push_back(grad.getArgAttrDict(paramArg.lookup(param)));
    }
    for (auto [i, r] : llvm::enumerate(gradResults)) {
      applyTypes.push_back(grad.getResultTypes()[r]);
      applyAttrs.push_back(dictOf(ctx, {{contract::kGradAttr, names[i]}}));
    }
    size_t slots = opt.stateNames().size();
    for (auto [i, s] : llvm::enumerate(stateNames)) {
      applyTypes.push_back(applyTypes[i / slots]);
      applyAttrs.push_back(
          dictOf(ctx, {{contract::kStateAttr, StringAttr::get(ctx, s)}}));
    }
    applyTypes.push_back(f32);
    applyAttrs.push_back(unit(contract::kStepAttr));
    b.clearInsertionPoint(); // the function stands alone until inserted
    auto apply = func::FuncOp::create(b, grad.getLoc(), contract::kApplyEntry,
                                      FunctionType::get(ctx, applyTypes, {}));
    symbols.insert(apply);
    Block *applyBody = apply.addEntryBlock();
    apply.setAllArgAttrs(applyAttrs);
    SmallVector<TrainedParam> params(names.size());
    size_t n = names.size();
    for (size_t i = 0; i < n; ++i) {
      params[i].name = names[i];
      params[i].value = applyBody->getArgument(i);
      params[i].grad = applyBody->getArgument(n + i);
      for (size_t k = 0; k < slots; ++k)
        params[i].state.push_back(applyBody->getArgument(2 * n + i * slots + k));
    }
    b.setInsertionPointToEnd(applyBody);
    SmallVector<Value> updated;
    SmallVector<DictionaryAttr> updatedAttrs;
    buildUpdate(b, NameLoc::get(StringAttr::get(ctx, "optimizer"), trainLoc(module, grad)),
                opt, params, applyBody->getArguments().back(), stateNames,
                updated, updatedAttrs);
    buildGradNorm(b, NameLoc::get(StringAttr::get(ctx, "grad_norm"), grad.getLoc()),
                  params, updated, updatedAttrs);
    func::ReturnOp::create(b, grad.getLoc(), updated);
    apply.setType(
        FunctionType::get(ctx, applyTypes, TypeRange(ValueRange(updated))));
    apply.setAllResultAttrs(updatedAttrs);
  }
};
} // namespace
} // namespace mlir::dlc
