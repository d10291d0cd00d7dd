//===- MLIRGenExpr.cpp - expressions to dl ops ----------------------------===//
//
// Literals, constant arguments, names, unary and binary operators, and calls
// of defs (inlined with a CallSiteLoc). Number literals take the element type
// of the tensor they meet (f32 when alone); `x ** n` for a small natural n is
// repeated multiplication.
//
//===----------------------------------------------------------------------===//

#include "frontend/MLIRGenImpl.h"

#include <cmath>

namespace dlc::frontend::detail {

bool MLIRGenImpl::flattenLiteral(const ExprAST &e,
                                 llvm::SmallVectorImpl<double> &values,
                                 llvm::SmallVectorImpl<int64_t> &shape,
                                 unsigned depth, bool &allIntegers) {
  if (auto *list = dyn_cast<TensorLiteralExprAST>(&e)) {
    int64_t n = list->getElements().size();
    if (depth == shape.size())
      shape.push_back(n);
    else if (shape[depth] != n) {
      error(list->loc()) << "ragged tensor literal: expected " << shape[depth]
                         << " elements at depth " << depth << ", got " << n;
      return false;
    }
    if (n == 0) {
      error(list->loc()) << "empty tensor literal";
      return false;
    }
    for (const ExprPtr &el : list->getElements())
      if (!flattenLiteral(*el, values, shape, depth + 1, allIntegers))
        return false;
    return true;
  }
  if (depth != shape.size()) {
    error(e.loc()) << "ragged tensor literal: expected a list at depth "
                   << depth;
    return false;
  }
  std::optional<double> v = foldConstant(e);
  if (!v) {
    error(e.loc()) << "expected a number in a tensor literal";
    return false;
  }
  if (!std::isfinite(*v)) {
    error(e.loc()) << "tensor literal element is not finite";
    return false;
  }
  allIntegers &= *v == std::floor(*v);
  values.push_back(*v);
  return true;
}

mlir::DenseElementsAttr MLIRGenImpl::literalAttr(const ExprAST &e, Type elem) {
  llvm::SmallVector<double> values;
  llvm::SmallVector<int64_t> shape;
  bool allIntegers = true;
  if (!flattenLiteral(e, values, shape, 0, allIntegers))
    return nullptr;
  auto type = mlir::RankedTensorType::get(shape, elem);
  if (elem.isInteger(32)) {
    if (!allIntegers) {
      error(e.loc()) << "expected integers for an i32 tensor, got a "
                        "fractional number";
      return nullptr;
    }
    llvm::SmallVector<int32_t> ints(values.begin(), values.end());
    return mlir::DenseElementsAttr::get(type, llvm::ArrayRef<int32_t>(ints));
  }
  llvm::SmallVector<float> floats(values.begin(), values.end());
  return mlir::DenseElementsAttr::get(type, llvm::ArrayRef<float>(floats));
}

bool MLIRGenImpl::isLiteral(const ExprAST &e) {
  if (isa<NumberExprAST>(e) || foldConstant(e))
    return true;
  if (auto *list = dyn_cast<TensorLiteralExprAST>(&e))
    return llvm::all_of(list->getElements(),
                        [](const ExprPtr &el) { return isLiteral(*el); });
  return false;
}

std::string MLIRGenImpl::describeExpr(const ExprAST &e) {
  if (std::optional<double> v = foldConstant(e))
    return formatNumber(*v);
  switch (e.getKind()) {
  case ExprAST::Kind::Name:
    return "name '" + cast<NameExprAST>(e).getName().str() + "'";
  case ExprAST::Kind::Call:
    return "a call to '" + cast<CallExprAST>(e).getCallee().str() + "'";
  case ExprAST::Kind::String:
    return "a string";
  case ExprAST::Kind::Bool:
    return cast<BoolExprAST>(e).getValue() ? "true" : "false";
  case ExprAST::Kind::TensorLiteral:
    return "a list";
  default:
    return "an expression that is not constant";
  }
}

std::optional<int64_t> MLIRGenImpl::constInt(const ExprAST &e,
                                             const llvm::Twine &what) {
  std::optional<double> v = foldConstant(e);
  if (!v || *v != std::floor(*v) || std::fabs(*v) > 1e15) {
    error(e.loc()) << "expected an integer for " << what << ", got "
                   << describeExpr(e);
    return std::nullopt;
  }
  return static_cast<int64_t>(*v);
}

std::optional<double> MLIRGenImpl::constNumber(const ExprAST &e,
                                               const llvm::Twine &what) {
  std::optional<double> v = foldConstant(e);
  if (!v) {
    error(e.loc()) << "expected a number for " << what << ", got "
                   << describeExpr(e);
    return std::nullopt;
  }
  // Every constant argument (an op's alpha or rate, an initializer's, a data
  // scale) is a finite number: inf or NaN would only come back as NaNs.
  if (!std::isfinite(*v)) {
    error(e.loc()) << what << " must be finite, got "
                   << (std::isnan(*v) ? "nan" : *v > 0 ? "inf" : "-inf");
    return std::nullopt;
  }
  return v;
}

std::optional<std::array<int64_t, 2>>
MLIRGenImpl::intPair(const ExprAST &e, llvm::StringRef what) {
  if (auto *list = dyn_cast<TensorLiteralExprAST>(&e)) {
    if (list->getElements().size() != 2) {
      error(e.loc()) << "expected an integer or a pair [h, w] for " << what
                     << ", got a list of " << list->getElements().size();
      return std::nullopt;
    }
    auto a = constInt(*list->getElements()[0], what);
    if (!a)
      return std::nullopt;
    auto b = constInt(*list->getElements()[1], what);
    if (!b)
      return std::nullopt;
    return std::array<int64_t, 2>{*a, *b};
  }
  auto v = constInt(e, what);
  if (!v)
    return std::nullopt;
  return std::array<int64_t, 2>{*v, *v};
}

std::optional<llvm::SmallVector<int64_t>>
MLIRGenImpl::intList(const ExprAST &e, llvm::StringRef what) {
  llvm::SmallVector<int64_t> out;
  if (auto *list = dyn_cast<TensorLiteralExprAST>(&e)) {
    for (const ExprPtr &el : list->getElements()) {
      auto v = constInt(*el, what);
      if (!v)
        return std::nullopt;
      out.push_back(*v);
    }
    return out;
  }
  auto v = constInt(e, what);
  if (!v)
    return std::nullopt;
  out.push_back(*v);
  return out;
}

std::optional<bool> MLIRGenImpl::constBool(const ExprAST &e,
                                           llvm::StringRef what) {
  if (auto *b = dyn_cast<BoolExprAST>(&e))
    return b->getValue();
  error(e.loc()) << "expected true or false for " << what << ", got "
                 << describeExpr(e);
  return std::nullopt;
}

Value MLIRGenImpl::genExpr(const ExprAST &e, const Scope &scope, Type hint) {
  if (++exprsGenerated > kMaxExprsGenerated) {
    if (exprsGenerated == kMaxExprsGenerated + 1)
      error(e.loc()) << "the model expands to more than " << kMaxExprsGenerated
                     << " operations (every call of a def inlines its body; "
                        "defs that call defs more than once grow exponentially)";
    return nullptr;
  }
  if (isLiteral(e)) {
    Type elem = hint ? hint : builder.getF32Type();
    mlir::DenseElementsAttr value;
    if (auto *list = dyn_cast<TensorLiteralExprAST>(&e))
      value = literalAttr(*list, elem);
    else
      value = literalAttr(e, elem);
    if (!value)
      return nullptr;
    return constant(loc(e.loc()), value);
  }
  switch (e.getKind()) {
  case ExprAST::Kind::Name:
    return genName(cast<NameExprAST>(e), scope);
  case ExprAST::Kind::Unary: {
    auto &u = cast<UnaryExprAST>(e);
    Value operand = genExpr(u.getOperand(), scope, hint);
    if (!operand)
      return nullptr;
    return create("neg", loc(u.loc()), operand);
  }
  case ExprAST::Kind::Binary:
    return genBinary(cast<BinaryExprAST>(e), scope, hint);
  case ExprAST::Kind::Call:
    return genCall(cast<CallExprAST>(e), scope);
  case ExprAST::Kind::TensorLiteral:
    error(e.loc()) << "tensor literals may only hold numbers";
    return nullptr;
  case ExprAST::Kind::String:
    error(e.loc()) << "strings are only allowed as file paths in data blocks";
    return nullptr;
  case ExprAST::Kind::Bool:
    error(e.loc()) << "true/false are only allowed as keyword arguments";
    return nullptr;
  case ExprAST::Kind::Number:
    break;
  }
  llvm_unreachable("literals are handled above");
}

void MLIRGenImpl::reportUnknownName(const NameExprAST &n) {
  if (language::findOp(n.getName())) {
    error(n.loc()) << "'" << n.getName()
                   << "' is an op; call it with arguments";
    return;
  }
  if (auto later = allNames.find(n.getName()); later != allNames.end()) {
    mlir::InFlightDiagnostic diag = error(n.loc());
    diag << "'" << n.getName() << "' is used before it is bound";
    diag.attachNote(loc(later->second))
        << "'" << n.getName() << "' is bound here";
    return;
  }
  error(n.loc()) << "unknown name '" << n.getName() << "'";
}

void MLIRGenImpl::reportUnknownCallee(const CallExprAST &call,
                                      const DefDeclAST *within) {
  llvm::StringRef callee = call.getCallee();
  if (within && callee == within->getName()) {
    error(call.loc()) << "def '" << callee << "' cannot call itself";
    return;
  }
  if (auto later = allNames.find(callee); later != allNames.end()) {
    mlir::InFlightDiagnostic diag = error(call.loc());
    diag << "'" << callee << "' is used before it is defined";
    diag.attachNote(loc(later->second)) << "'" << callee << "' is defined here";
    return;
  }
  error(call.loc()) << "unknown op '" << callee << "'";
}

bool MLIRGenImpl::checkDefBody(const ExprAST &e, const DefDeclAST &def,
                               const llvm::StringSet<> &defParams) {
  auto visible = [&](llvm::StringRef name) {
    return defParams.contains(name) || globals.count(name);
  };
  if (auto *n = dyn_cast<NameExprAST>(&e)) {
    if (visible(n->getName()))
      return true;
    reportUnknownName(*n);
    return false;
  }
  if (auto *u = dyn_cast<UnaryExprAST>(&e))
    return checkDefBody(u->getOperand(), def, defParams);
  if (auto *b = dyn_cast<BinaryExprAST>(&e))
    return checkDefBody(b->getLHS(), def, defParams) &&
           checkDefBody(b->getRHS(), def, defParams);
  if (auto *t = dyn_cast<TensorLiteralExprAST>(&e))
    return llvm::all_of(t->getElements(), [&](const ExprPtr &el) {
      return checkDefBody(*el, def, defParams);
    });
  auto *call = dyn_cast<CallExprAST>(&e);
  if (!call)
    return true;
  llvm::StringRef callee = call->getCallee();
  if (!visible(callee) && !language::findOp(callee) &&
      !language::findInitializer(callee)) {
    reportUnknownCallee(*call, &def);
    return false;
  }
  for (const ExprPtr &arg : call->getArgs())
    if (!checkDefBody(*arg, def, defParams))
      return false;
  for (const NamedExprAST &kw : call->getKwargs())
    if (!isa<NameExprAST>(*kw.value) &&
        !checkDefBody(*kw.value, def, defParams))
      return false;
  return true;
}

Value MLIRGenImpl::genName(const NameExprAST &n, const Scope &scope) {
  auto it = scope.find(n.getName());
  if (it == scope.end()) {
    reportUnknownName(n);
    return nullptr;
  }
  if (it->second.def) {
    error(n.loc()) << "'" << n.getName()
                   << "' is a def; call it with arguments";
    return nullptr;
  }
  if (it->second.isDimSymbol) {
    error(n.loc()) << "'" << n.getName()
                   << "' is a dimension symbol; it can only be used in a "
                      "reshape shape";
    return nullptr;
  }
  return it->second.value;
}

Value MLIRGenImpl::genBinary(const BinaryExprAST &b, const Scope &scope,
                             Type hint) {
  // A literal side takes the element type of the other side.
  const ExprAST &lhsE = b.getLHS(), &rhsE = b.getRHS();
  Value lhs, rhs;
  if (isLiteral(lhsE) && !isLiteral(rhsE)) {
    rhs = genExpr(rhsE, scope, hint);
    if (!rhs)
      return nullptr;
    lhs = genExpr(lhsE, scope, elementTypeOf(rhs));
  } else {
    lhs = genExpr(lhsE, scope, hint);
    if (!lhs)
      return nullptr;
    rhs = genExpr(rhsE, scope, elementTypeOf(lhs));
  }
  if (!lhs || !rhs)
    return nullptr;
  mlir::Location l = loc(b.loc());
  using Op = BinaryExprAST::Op;
  if (BinaryExprAST::isComparison(b.getOp())) {
    mlir::dl::CmpPredicate p;
    switch (b.getOp()) {
    case Op::Eq:
      p = mlir::dl::CmpPredicate::eq;
      break;
    case Op::Ne:
      p = mlir::dl::CmpPredicate::ne;
      break;
    case Op::Lt:
      p = mlir::dl::CmpPredicate::lt;
      break;
    case Op::Le:
      p = mlir::dl::CmpPredicate::le;
      break;
    case Op::Gt:
      p = mlir::dl::CmpPredicate::gt;
      break;
    default:
      p = mlir::dl::CmpPredicate::ge;
      break;
    }
    return create(
        "cmp", l, {lhs, rhs},
        {attr("predicate", mlir::dl::CmpPredicateAttr::get(&context, p))});
  }
  switch (b.getOp()) {
  case Op::Add:
    return create("add", l, {lhs, rhs});
  case Op::Sub:
    return create("sub", l, {lhs, rhs});
  case Op::Mul:
    return create("mul", l, {lhs, rhs});
  case Op::Div:
    return create("div", l, {lhs, rhs});
  case Op::Pow:
    return genPow(b, lhs, rhs);
  default:
    break;
  }
  llvm_unreachable("comparisons are handled above");
}

Value MLIRGenImpl::genPow(const BinaryExprAST &b, Value lhs, Value rhs) {
  mlir::Location l = loc(b.loc());
  if (!elementTypeOf(lhs).isF32()) {
    error(b.loc()) << "'**' expects an f32 base, got "
                   << formatType(lhs.getType()) << "; convert with f32(...)";
    return nullptr;
  }
  std::optional<double> n = foldConstant(b.getRHS());
  if (n && *n == std::floor(*n) && *n >= 1 && *n <= 4) {
    Value acc = lhs;
    for (int i = 1; i < static_cast<int>(*n); ++i)
      acc = create("mul", l, {acc, lhs});
    return acc;
  }
  return create("pow", l, {lhs, rhs});
}

Value MLIRGenImpl::genDefCall(const CallExprAST &call, const DefDeclAST &def,
                              const Scope &scope) {
  if (!call.getKwargs().empty()) {
    error(call.getKwargs().front().nameLoc)
        << "def '" << def.getName() << "' takes no keyword arguments";
    return nullptr;
  }
  if (call.getArgs().size() != def.getParams().size()) {
    error(call.loc()) << "def '" << def.getName() << "' expects "
                      << def.getParams().size() << " argument"
                      << (def.getParams().size() == 1 ? "" : "s") << ", got "
                      << call.getArgs().size();
    return nullptr;
  }
  auto defScope = defScopes.find(&def);
  assert(defScope != defScopes.end() && "def scope captured at declaration");
  Scope inner = defScope->second;
  for (auto [param, arg] : llvm::zip(def.getParams(), call.getArgs())) {
    Value v = genExpr(*arg, scope);
    if (!v)
      return nullptr;
    inner[param.name] = Binding{v};
  }
  auto saved = callSite;
  callSite = loc(call.loc());
  Value result = genExpr(def.getBody(), inner);
  callSite = saved;
  return result;
}

} // namespace dlc::frontend::detail
