//===- MLIRGenTrain.cpp - the train block ---------------------------------===//
//
// The `train { ... }` block becomes dl.train_config: each key checked, the
// optimizer bound to language::optimizers() with its defaults filled in.
//
//===----------------------------------------------------------------------===//

#include "frontend/MLIRGenImpl.h"

namespace dlc::frontend::detail {

namespace {

/// Lists the optimizers as diagnostics show them: `sgd(lr=...),
/// momentum(lr=..., nu=...) or adam(lr=...)`.
std::string describeOptimizers() {
  std::string s;
  llvm::ArrayRef<language::Optimizer> all = language::optimizers();
  for (auto [i, o] : llvm::enumerate(all)) {
    if (i > 0)
      s += i + 1 == all.size() ? " or " : ", ";
    s += std::string(o.signature.name) + "(";
    for (unsigned p = 0; p < o.shownParams; ++p)
      s += (p ? ", " : "") + std::string(o.signature.params[p].name) + "=...";
    s += ")";
  }
  return s;
}

} // namespace

bool MLIRGenImpl::genTrain(const TrainDeclAST &d) {
  if (sawTrain) {
    error(d.loc()) << "the train block is defined twice";
    return false;
  }
  sawTrain = true;
  const language::Optimizer &defaultOptimizer = language::defaultOptimizer();
  std::string optimizer(defaultOptimizer.signature.name);
  std::vector<double> optArgs = defaultOptimizer.signature.defaults();
  std::optional<int64_t> batch, steps, epochs, evalEvery;
  std::optional<bool> shuffle;
  int64_t validation = 0, logEvery = 100, seed = 0;
  llvm::SmallVector<mlir::Attribute> freeze;
  llvm::StringSet<> seen;
  static const llvm::StringRef keys[] = {
      "optimizer",  "batch",  "steps",     "epochs",     "shuffle",
      "validation", "freeze", "log_every", "eval_every", "seed"};
  for (const NamedExprAST &e : d.getEntries()) {
    if (!llvm::is_contained(keys, e.name)) {
      error(e.nameLoc) << "unknown train key '" << e.name
                       << "'; expected one of " << joinNames(keys);
      return false;
    }
    if (!seen.insert(e.name).second) {
      error(e.nameLoc) << "train key '" << e.name << "' is given twice";
      return false;
    }
    if ((e.name == "steps" && seen.contains("epochs")) ||
        (e.name == "epochs" && seen.contains("steps"))) {
      error(e.nameLoc) << "give either 'steps' or 'epochs', not both";
      return false;
    }
    const ExprAST &v = *e.value;
    auto positive = [&](std::optional<int64_t> &out) {
      auto n = constInt(v, "'" + e.name + "'");
      if (!n)
        return false;
      if (*n <= 0) {
        error(v.loc()) << "'" << e.name << "' must be positive, got " << *n;
        return false;
      }
      out = *n;
      return true;
    };
    if (e.name == "optimizer") {
      auto *call = dyn_cast<CallExprAST>(&v);
      const language::Optimizer *found =
          call ? language::findOptimizer(call->getCallee()) : nullptr;
      if (!found) {
        mlir::InFlightDiagnostic diag = error(v.loc());
        if (call)
          diag << "unknown optimizer '" << call->getCallee() << "'; expected ";
        else
          diag << "expected an optimizer ";
        diag << describeOptimizers();
        if (!call)
          diag << ", got " << describeExpr(v);
        return false;
      }
      const Signature &sig = found->signature;
      auto bound = bindArgs(*call, sig, "optimizer");
      if (!bound)
        return false;
      optimizer = std::string(sig.name);
      optArgs = sig.defaults();
      for (unsigned i = 0; i < sig.params.size(); ++i)
        if (const ExprAST *a = bound->get(i)) {
          llvm::StringRef param = sig.params[i].name;
          auto n =
              constNumber(*a, "'" + param + "' of '" + call->getCallee() + "'");
          if (!n)
            return false;
          if (!sig.params[i].range.contains(*n)) {
            error(a->loc()) << "'" << param << "' must be "
                            << sig.params[i].range.describe() << ", got "
                            << formatNumber(*n);
            return false;
          }
          optArgs[i] = *n;
        }
    } else if (e.name == "batch") {
      if (!positive(batch))
        return false;
    } else if (e.name == "steps") {
      if (!positive(steps))
        return false;
    } else if (e.name == "epochs") {
      if (!positive(epochs))
        return false;
    } else if (e.name == "eval_every") {
      if (!positive(evalEvery))
        return false;
    } else if (e.name == "log_every") {
      std::optional<int64_t> n;
      if (!positive(n))
        return false;
      logEvery = *n;
    } else if (e.name == "validation" || e.name == "seed") {
      auto n = constInt(v, "'" + e.name + "'");
      if (!n)
        return false;
      if (*n < 0) {
        error(v.loc()) << "'" << e.name << "' must not be negative, got " << *n;
        return false;
      }
      (e.name == "seed" ? seed : validation) = *n;
    } else if (e.name == "shuffle") {
      shuffle = constBool(v, "'shuffle'");
      if (!shuffle)
        return false;
    } else if (e.name == "freeze") {
      auto *list = dyn_cast<TensorLiteralExprAST>(&v);
      if (!list) {
        error(v.loc())
            << "expected a list of params for 'freeze', such as [W1, b1]";
        return false;
      }
      for (const ExprPtr &el : list->getElements()) {
        auto *n = dyn_cast<NameExprAST>(el.get());
        if (!n || !params.contains(n->getName())) {
          error(el->loc()) << "'freeze' expects param names"
                           << (n ? "; '" + n->getName().str() +
                                       "' is not a param"
                                 : "");
          return false;
        }
        freeze.push_back(mlir::FlatSymbolRefAttr::get(&context, n->getName()));
      }
    }
  }
  mlir::OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPoint(graph);
  auto opt = [&](std::optional<int64_t> v) -> mlir::IntegerAttr {
    return v ? builder.getI64IntegerAttr(*v) : nullptr;
  };
  mlir::dl::TrainConfigOp::create(
      builder, loc(d.loc()), builder.getStringAttr(optimizer),
      builder.getDenseF64ArrayAttr(optArgs), opt(batch), opt(steps),
      opt(epochs), shuffle ? builder.getBoolAttr(*shuffle) : nullptr,
      builder.getI64IntegerAttr(validation),
      freeze.empty() ? nullptr : builder.getArrayAttr(freeze),
      builder.getI64IntegerAttr(logEvery), opt(evalEvery),
      builder.getI64IntegerAttr(seed));
  return true;
}

} // namespace dlc::frontend::detail
