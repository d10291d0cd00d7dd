//===- MLIRGenCall.cpp - calls of ops to dl ops ---------------------------===//
//
// Binds a call's arguments to the op's signature (language::ops()), then
// hands it to the op's builder through one table, name -> builder: each
// builder reads its keyword arguments, checks what the op's type inference
// cannot say well, and creates the op.
//
//===----------------------------------------------------------------------===//

#include "frontend/MLIRGenImpl.h"

namespace dlc::frontend::detail {

std::optional<BoundArgs> MLIRGenImpl::bindArgs(const CallExprAST &call,
                                               const Signature &sig,
                                               llvm::StringRef kind) {
  BoundArgs bound;
  bound.args.resize(sig.params.size(), nullptr);
  if (call.getArgs().size() > sig.params.size()) {
    mlir::InFlightDiagnostic diag = error(call.loc());
    diag << kind << " '" << call.getCallee() << "' takes ";
    if (sig.params.empty())
      diag << "no arguments";
    else
      diag << "at most " << sig.params.size() << " argument"
           << (sig.params.size() == 1 ? "" : "s");
    diag << ", got " << call.getArgs().size();
    return std::nullopt;
  }
  for (auto [i, a] : llvm::enumerate(call.getArgs()))
    bound.args[i] = a.get();
  for (const NamedExprAST &kw : call.getKwargs()) {
    std::optional<unsigned> index = sig.indexOf(kw.name);
    if (!index || *index < sig.required) {
      mlir::InFlightDiagnostic diag = error(kw.nameLoc);
      diag << "unknown keyword '" << kw.name << "' for " << kind << " '"
           << call.getCallee() << "'";
      llvm::SmallVector<llvm::StringRef> keys;
      for (const language::Parameter &p :
           llvm::drop_begin(sig.params, sig.required))
        keys.push_back(p.name);
      if (keys.empty())
        diag << "; it takes no keyword arguments";
      else if (keys.size() == 1)
        diag << "; expected '" << keys[0] << "'";
      else
        diag << "; expected one of " << joinNames(keys);
      return std::nullopt;
    }
    unsigned i = *index;
    if (bound.args[i]) {
      error(kw.nameLoc) << "argument '" << kw.name << "' of '"
                        << call.getCallee() << "' is given twice";
      return std::nullopt;
    }
    bound.args[i] = kw.value.get();
  }
  for (unsigned i = 0; i < sig.required; ++i)
    if (!bound.args[i]) {
      error(call.loc()) << kind << " '" << call.getCallee() << "' expects "
                        << sig.required << " argument"
                        << (sig.required == 1 ? "" : "s") << ", got "
                        << call.getArgs().size();
      return std::nullopt;
    }
  return bound;
}

std::optional<int64_t> MLIRGenImpl::normAxis(int64_t axis, int64_t rank,
                                             const Location &l) {
  if (axis < -rank || axis >= rank || rank == 0) {
    error(l) << "axis " << axis << " is out of range for a tensor of rank "
             << rank;
    return std::nullopt;
  }
  return axis < 0 ? axis + rank : axis;
}

const llvm::StringMap<MLIRGenImpl::OpBuilderEntry> &MLIRGenImpl::opBuilders() {
  using G = MLIRGenImpl;
  static const llvm::StringMap<OpBuilderEntry> table = {
      {"matmul", {&G::genPlainOp}},
      {"conv2d", {&G::genWindowOp}},
      {"max_pool", {&G::genWindowOp}},
      {"avg_pool", {&G::genWindowOp}},
      {"relu", {&G::genFloatOp}},
      {"sigmoid", {&G::genFloatOp}},
      {"tanh", {&G::genFloatOp}},
      {"exp", {&G::genFloatOp}},
      {"log", {&G::genFloatOp}},
      {"sqrt", {&G::genFloatOp}},
      {"square", {&G::genPlainOp}},
      {"abs", {&G::genPlainOp}},
      {"leaky_relu", {&G::genAlphaOp}},
      {"elu", {&G::genAlphaOp}},
      {"maximum", {&G::genPlainOp}},
      {"minimum", {&G::genPlainOp}},
      {"softmax", {&G::genAxisOp}},
      {"log_softmax", {&G::genAxisOp}},
      {"sum", {&G::genReductionOp}},
      {"mean", {&G::genReductionOp}},
      {"max", {&G::genReductionOp}},
      {"argmax", {&G::genAxisOp}},
      {"reshape", {&G::genReshapeOp, 1}},
      {"flatten", {&G::genPlainOp}},
      {"transpose", {&G::genTransposeOp}},
      {"one_hot", {&G::genOneHotOp, 1}},
      {"f32", {&G::genCastOp}},
      {"i32", {&G::genCastOp}},
      {"dropout", {&G::genDropoutOp}},
      {"softmax_cross_entropy", {&G::genPlainOp}},
      {"mse", {&G::genPlainOp}},
      {"l2", {&G::genFloatOp}},
  };
  return table;
}

Value MLIRGenImpl::genCall(const CallExprAST &call, const Scope &scope) {
  auto it = scope.find(call.getCallee());
  if (it != scope.end() && it->second.def)
    return genDefCall(call, *it->second.def, scope);
  if (it != scope.end()) {
    error(call.loc()) << "'" << call.getCallee()
                      << "' is a value, not an op or def";
    return nullptr;
  }
  const Signature *sig = language::findOp(call.getCallee());
  if (!sig) {
    if (language::findInitializer(call.getCallee()))
      error(call.loc()) << "initializer '" << call.getCallee()
                        << "' can only initialize a param";
    else
      reportUnknownCallee(call, nullptr);
    return nullptr;
  }
  auto bound = bindArgs(call, *sig, "op");
  if (!bound)
    return nullptr;
  auto entry = opBuilders().find(call.getCallee());
  assert(entry != opBuilders().end() &&
         "every op of the language has a builder");

  OpCall op{call, *sig, *bound, call.getCallee(), loc(call.loc()), scope};
  unsigned tensorArgs = entry->second.tensorOperands.value_or(sig->required);
  for (unsigned i = 0; i < tensorArgs; ++i) {
    Type hint = i > 0 && !op.in.empty() ? elementTypeOf(op.in[0]) : Type();
    Value v = genExpr(*bound->args[i], scope, hint);
    if (!v)
      return nullptr;
    op.in.push_back(v);
  }
  op.opt1 = bound->get(tensorArgs == 1 ? 1 : 2);
  op.opt2 = bound->get(tensorArgs == 1 ? 2 : 3);
  return (this->*entry->second.build)(op);
}

//===----------------------------------------------------------------------===//
// Op builders
//===----------------------------------------------------------------------===//

Value MLIRGenImpl::genPlainOp(const OpCall &op) {
  return create(op.name, op.l, op.in);
}

bool MLIRGenImpl::checkFloatOperand(const OpCall &op) {
  if (elementTypeOf(op.in[0]).isF32())
    return true;
  error(op.call.loc()) << "'" << op.name << "' expects an f32 tensor, got "
                       << formatType(op.in[0].getType())
                       << "; convert with f32(...)";
  return false;
}

Value MLIRGenImpl::genFloatOp(const OpCall &op) {
  if (!checkFloatOperand(op))
    return nullptr;
  return create(op.name, op.l, op.in);
}

std::optional<double> MLIRGenImpl::firstOptionalNumber(const OpCall &op) {
  const language::Parameter &param = op.sig.params[op.in.size()];
  if (!op.opt1)
    return *param.defaultValue;
  return constNumber(*op.opt1, "'" + llvm::StringRef(param.name) + "'");
}

Value MLIRGenImpl::genAlphaOp(const OpCall &op) {
  std::optional<double> alpha = firstOptionalNumber(op);
  if (!alpha)
    return nullptr;
  return create(op.name, op.l, op.in,
                {attr("alpha", builder.getF64FloatAttr(*alpha))});
}

Value MLIRGenImpl::genCastOp(const OpCall &op) {
  Type t = op.name == "f32" ? Type(builder.getF32Type())
                            : Type(builder.getIntegerType(32));
  return create("cast", op.l, op.in,
                {attr("element_type", mlir::TypeAttr::get(t))});
}

Value MLIRGenImpl::genDropoutOp(const OpCall &op) {
  std::optional<double> given = firstOptionalNumber(op);
  if (!given)
    return nullptr;
  double rate = *given;
  if (rate < 0 || rate >= 1) {
    error(op.opt1 ? op.opt1->loc() : op.call.loc())
        << "dropout rate must be in [0, 1), got " << formatNumber(rate);
    return nullptr;
  }
  if (!stepSeed) {
    mlir::OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(body);
    stepSeed = create("step_seed", graph.getLoc(), {});
  }
  return create("dropout", op.l, {op.in[0], stepSeed},
                {attr("rate", builder.getF64FloatAttr(rate)),
                 attr("salt", builder.getI64IntegerAttr(dropoutCount++))});
}

Value MLIRGenImpl::genAxisOp(const OpCall &op) {
  auto axis = static_cast<int64_t>(*op.sig.params[1].defaultValue);
  if (op.opt1) {
    auto v = constInt(*op.opt1, "'axis'");
    if (!v)
      return nullptr;
    axis = *v;
  }
  auto a = normAxis(axis, rankOf(op.in[0]),
                    op.opt1 ? op.opt1->loc() : op.call.loc());
  if (!a)
    return nullptr;
  return create(op.name, op.l, op.in,
                {attr("axis", builder.getI64IntegerAttr(*a))});
}

Value MLIRGenImpl::genReductionOp(const OpCall &op) {
  int64_t rank = rankOf(op.in[0]);
  llvm::SmallVector<int64_t> axes;
  if (op.opt1) {
    auto list = intList(*op.opt1, "'axis'");
    if (!list)
      return nullptr;
    for (int64_t a : *list) {
      auto n = normAxis(a, rank, op.opt1->loc());
      if (!n)
        return nullptr;
      if (llvm::is_contained(axes, *n)) {
        error(op.opt1->loc()) << "axis " << a << " is repeated";
        return nullptr;
      }
      axes.push_back(*n);
    }
    llvm::sort(axes);
  } else {
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  }
  bool keepdims = false;
  if (op.opt2) {
    auto v = constBool(*op.opt2, "'keepdims'");
    if (!v)
      return nullptr;
    keepdims = *v;
  }
  if (!checkFloatOperand(op))
    return nullptr;
  return create(op.name, op.l, op.in,
                {attr("axes", builder.getDenseI64ArrayAttr(axes)),
                 attr("keepdims", builder.getBoolAttr(keepdims))});
}

Value MLIRGenImpl::genReshapeOp(const OpCall &op) {
  return genReshape(op.call, op.in[0], *op.bound.args[1], op.scope);
}

Value MLIRGenImpl::genTransposeOp(const OpCall &op) {
  llvm::SmallVector<int64_t> perm;
  int64_t rank = rankOf(op.in[0]);
  if (op.opt1) {
    auto list = intList(*op.opt1, "'perm'");
    if (!list)
      return nullptr;
    perm = *list;
  } else {
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  }
  return create(op.name, op.l, op.in,
                {attr("perm", builder.getDenseI64ArrayAttr(perm))});
}

Value MLIRGenImpl::genOneHotOp(const OpCall &op) {
  auto depth = constInt(*op.bound.args[1], "'depth'");
  if (!depth)
    return nullptr;
  if (!elementTypeOf(op.in[0]).isInteger(32)) {
    error(op.call.loc()) << "'one_hot' expects i32 labels, got "
                         << formatType(op.in[0].getType())
                         << "; convert with i32(...)";
    return nullptr;
  }
  return create(op.name, op.l, op.in,
                {attr("depth", builder.getI64IntegerAttr(*depth))});
}

Value MLIRGenImpl::genWindowOp(const OpCall &op) {
  const CallExprAST &call = op.call;
  llvm::StringRef name = op.name;
  llvm::ArrayRef<Value> in = op.in;
  const BoundArgs &bound = op.bound;
  bool conv = name == "conv2d";
  auto x = cast<mlir::RankedTensorType>(in[0].getType());
  if (x.getRank() != 4) {
    error(call.loc()) << "'" << name
                      << "' expects an input of rank 4 [N, H, W, "
                         "C], got rank "
                      << x.getRank();
    return nullptr;
  }
  std::array<int64_t, 2> window;
  const ExprAST *strideE, *paddingE;
  if (conv) {
    auto w = cast<mlir::RankedTensorType>(in[1].getType());
    if (w.getRank() != 4) {
      error(call.loc())
          << "'conv2d' expects a filter of rank 4 [KH, KW, C, F], "
             "got rank "
          << w.getRank();
      return nullptr;
    }
    window = {w.getDimSize(0), w.getDimSize(1)};
    strideE = bound.get(2);
    paddingE = bound.get(3);
  } else {
    window = {2, 2};
    if (const ExprAST *we = bound.get(1)) {
      auto v = intPair(*we, "'window'");
      if (!v)
        return nullptr;
      window = *v;
    }
    strideE = bound.get(2);
    paddingE = bound.get(3);
  }
  std::array<int64_t, 2> stride = conv ? std::array<int64_t, 2>{1, 1} : window;
  if (strideE) {
    auto v = intPair(*strideE, "'stride'");
    if (!v)
      return nullptr;
    stride = *v;
  }
  for (int64_t v : {stride[0], stride[1], window[0], window[1]})
    if (v <= 0) {
      error(strideE ? strideE->loc() : call.loc())
          << "'" << name << "' window and stride must be positive, got " << v;
      return nullptr;
    }
  bool same = conv;
  llvm::SmallVector<int64_t> pads(4, 0);
  if (paddingE && isa<TensorLiteralExprAST>(paddingE)) {
    // Explicit pads: [top, bottom, left, right].
    auto list = intList(*paddingE, "'padding'");
    if (!list)
      return nullptr;
    if (list->size() != 4 || llvm::any_of(*list, [](int64_t p) { return p < 0; })) {
      error(paddingE->loc()) << "explicit padding is [top, bottom, left, right], "
                                "four non-negative ints";
      return nullptr;
    }
    pads.assign(list->begin(), list->end());
    same = false;
  } else if (paddingE) {
    auto *n = dyn_cast<NameExprAST>(paddingE);
    if (!n || (n->getName() != "same" && n->getName() != "valid")) {
      error(paddingE->loc()) << "expected padding 'same', 'valid' or "
                                "[top, bottom, left, right], got "
                             << describeExpr(*paddingE);
      return nullptr;
    }
    same = n->getName() == "same";
  }
  if (same) {
    for (int i = 0; i < 2; ++i) {
      int64_t size = x.getDimSize(1 + i);
      if (mlir::ShapedType::isDynamic(size)) {
        error(call.loc()) << "'" << name
                          << "' with padding=same needs static "
                             "spatial dimensions";
        return nullptr;
      }
      auto [before, after] = mlir::dl::samePadding(size, window[i], stride[i]);
      pads[2 * i] = before;
      pads[2 * i + 1] = after;
    }
  }
  llvm::SmallVector<mlir::NamedAttribute> attrs = {
      attr("strides", builder.getDenseI64ArrayAttr(stride)),
      attr("pads", builder.getDenseI64ArrayAttr(pads))};
  if (!conv)
    attrs.push_back(attr("window", builder.getDenseI64ArrayAttr(window)));
  return create(name, loc(call.loc()), in, attrs);
}

Value MLIRGenImpl::genReshape(const CallExprAST &call, Value input,
                              const ExprAST &shapeE, const Scope &scope) {
  auto *list = dyn_cast<TensorLiteralExprAST>(&shapeE);
  if (!list) {
    error(shapeE.loc()) << "expected a shape list [d0, d1, ...] for reshape";
    return nullptr;
  }
  llvm::SmallVector<int64_t> shape;
  for (const ExprPtr &el : list->getElements()) {
    if (auto *n = dyn_cast<NameExprAST>(el.get())) {
      auto it = scope.find(n->getName());
      if (it == scope.end() || !it->second.isDimSymbol) {
        error(n->loc()) << "'" << n->getName()
                        << "' is not a dimension symbol of an input";
        return nullptr;
      }
      shape.push_back(-1);
      continue;
    }
    auto v = constInt(*el, "a reshape dimension");
    if (!v)
      return nullptr;
    shape.push_back(*v);
  }
  return create("reshape", loc(call.loc()), input,
                {attr("shape", builder.getDenseI64ArrayAttr(shape))});
}

} // namespace dlc::frontend::detail
