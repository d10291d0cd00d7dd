//===- MLIRGen.cpp - dl AST to the dl dialect -------------------------------===//
//
// Walks the declarations in order with a scoped symbol table (names are
// bound once; def bodies see their arguments and the names bound before the
// def). Each expression becomes dl ops whose result types come from the ops'
// own InferTypeOpInterface, so shape errors are reported at the source
// location of the expression. Number literals take the element type of the
// tensor they meet (f32 when alone).
//
//===----------------------------------------------------------------------===//

#include "frontend/MLIRGen.h"

#include "dialects/DL/IR/DLOps.h"
#include "runtime/Contracts.h"
#include "runtime/LanguageFacts.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Path.h"

#include <cmath>
#include <cstdio>

using namespace dlc::frontend;
namespace contract = dlc::contract;
namespace language = dlc::language;
using llvm::cast;
using llvm::dyn_cast;
using llvm::isa;
using mlir::Type;
using mlir::Value;

mlir::Location dlc::frontend::toMLIRLocation(mlir::MLIRContext &context,
                                             const Location &loc) {
  return mlir::FileLineColLoc::get(&context, loc.file ? *loc.file : "<unknown>",
                                   loc.line, loc.col);
}

namespace {

/// What a name is bound to.
struct Binding {
  Value value;
  const DefDeclAST *def = nullptr;
  /// Symbols (such as `B`) usable as dimensions in reshape.
  bool isDimSymbol = false;
};

using Scope = llvm::StringMap<Binding>;

using language::Signature;

/// Formats a number for a diagnostic as `%g` does (`1.5`, not `1.500000e+00`).
std::string formatNumber(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", value);
  return buffer;
}

/// Formats a tensor type in the language's notation: `f32[?, 3]`, `i32[]`.
std::string formatType(mlir::Type type) {
  auto shaped = llvm::dyn_cast<mlir::RankedTensorType>(type);
  if (!shaped)
    return "a tensor of unknown rank";
  std::string s = shaped.getElementType().isF32() ? "f32[" : "i32[";
  for (auto [i, d] : llvm::enumerate(shaped.getShape())) {
    if (i)
      s += ", ";
    s += mlir::ShapedType::isDynamic(d) ? "?" : std::to_string(d);
  }
  return s + "]";
}

std::string joinNames(llvm::ArrayRef<llvm::StringRef> names) {
  std::string s;
  for (auto [i, n] : llvm::enumerate(names))
    s += (i ? ", " : "") + n.str();
  return s;
}

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

/// A call's arguments matched to a signature.
struct BoundArgs {
  llvm::SmallVector<const ExprAST *, 4> args;
  const ExprAST *get(unsigned i) const { return i < args.size() ? args[i] : nullptr; }
};

class MLIRGenImpl {
public:
  explicit MLIRGenImpl(mlir::MLIRContext &context)
      : context(context), builder(&context) {}

  mlir::OwningOpRef<mlir::ModuleOp> generate(const ModuleAST &ast);

private:
  mlir::MLIRContext &context;
  mlir::OpBuilder builder;
  mlir::ModuleOp module;
  mlir::func::FuncOp graph;
  mlir::Block *body = nullptr;
  Scope globals;
  /// Every name bound at top level, to reject rebinding.
  llvm::StringMap<Location> bound;
  /// Every name the module binds at top level, where it is first bound.
  llvm::StringMap<Location> allNames;
  llvm::StringMap<Location> declaredInputs;
  llvm::StringMap<std::pair<Location, mlir::RankedTensorType>> inputTypes;
  /// The declared type of each input, as written (`f32[B, 784]`).
  llvm::StringMap<const TypeAST *> inputTypeASTs;
  /// The inputs in declaration order.
  llvm::SmallVector<llvm::StringRef> inputNames;
  llvm::StringSet<> params;
  /// Dimension symbols (such as `B`) and where each was first declared.
  llvm::StringMap<Location> dimSymbols;
  llvm::SmallVector<mlir::Attribute> argAttrs;
  struct Result {
    Value value;
    std::string role, name;
  };
  std::optional<Result> loss;
  llvm::SmallVector<Result> metrics, outputs;
  Value stepSeed;
  int64_t dropoutCount = 0;
  bool sawTrain = false, sawModel = false;
  llvm::StringSet<> dataSets;
  /// Set while a def body is inlined: the call site, for CallSiteLocs.
  std::optional<mlir::Location> callSite;

  //===--------------------------------------------------------------------===//
  // Diagnostics
  //===--------------------------------------------------------------------===//

  mlir::Location loc(const Location &l) {
    mlir::Location fileLoc = toMLIRLocation(context, l);
    if (callSite)
      return mlir::CallSiteLoc::get(fileLoc, *callSite);
    return fileLoc;
  }

  mlir::InFlightDiagnostic error(const Location &l) {
    return mlir::emitError(loc(l));
  }

  //===--------------------------------------------------------------------===//
  // Op creation with inferred types
  //===--------------------------------------------------------------------===//

  /// Creates a dl op generically, infers its result type and verifies it;
  /// on failure the op is erased and null is returned (the error has been
  /// reported at `l`).
  Value create(llvm::StringRef name, mlir::Location l, mlir::ValueRange operands,
               llvm::ArrayRef<mlir::NamedAttribute> attrs = {}) {
    mlir::OperationState state(l, "dl." + name.str());
    state.addOperands(operands);
    state.addAttributes(attrs);
    state.addTypes(mlir::UnrankedTensorType::get(builder.getF32Type()));
    mlir::Operation *op = builder.create(state);
    auto infer = cast<mlir::InferTypeOpInterface>(op);
    llvm::SmallVector<Type> types;
    if (failed(infer.inferReturnTypes(&context, l, op->getOperands(),
                                      op->getRawDictionaryAttrs(),
                                      op->getPropertiesStorage(),
                                      op->getRegions(), types))) {
      op->erase();
      return nullptr;
    }
    op->getResult(0).setType(types[0]);
    if (failed(mlir::verify(op, /*verifyRecursively=*/false))) {
      op->erase();
      return nullptr;
    }
    return op->getResult(0);
  }

  mlir::NamedAttribute attr(llvm::StringRef name, mlir::Attribute value) {
    return builder.getNamedAttr(name, value);
  }

  Value constant(mlir::Location l, mlir::DenseElementsAttr value) {
    return create("constant", l, {}, {attr("value", value)});
  }

  //===--------------------------------------------------------------------===//
  // Constants and literals
  //===--------------------------------------------------------------------===//

  /// Collects the numbers and shape of a (nested) tensor literal.
  bool flattenLiteral(const ExprAST &e, llvm::SmallVectorImpl<double> &values,
                      llvm::SmallVectorImpl<int64_t> &shape, unsigned depth,
                      bool &allIntegers) {
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

  /// Builds the DenseElementsAttr of a literal (a number or a list) with
  /// element type `elem`.
  mlir::DenseElementsAttr literalAttr(const ExprAST &e, Type elem) {
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

  /// True for expressions that are literals (numbers, lists of numbers and
  /// literal arithmetic) and so adopt the element type of what they meet.
  static bool isLiteral(const ExprAST &e) {
    if (isa<NumberExprAST>(e) || foldConstant(e))
      return true;
    if (auto *list = dyn_cast<TensorLiteralExprAST>(&e))
      return llvm::all_of(list->getElements(),
                          [](const ExprPtr &el) { return isLiteral(*el); });
    return false;
  }

  /// Names what an expression is, for "expected X, got Y" messages.
  static std::string describeExpr(const ExprAST &e) {
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

  std::optional<int64_t> constInt(const ExprAST &e, const llvm::Twine &what) {
    std::optional<double> v = foldConstant(e);
    if (!v || *v != std::floor(*v) || std::fabs(*v) > 1e15) {
      error(e.loc()) << "expected an integer for " << what << ", got "
                     << describeExpr(e);
      return std::nullopt;
    }
    return static_cast<int64_t>(*v);
  }

  std::optional<double> constNumber(const ExprAST &e, const llvm::Twine &what) {
    std::optional<double> v = foldConstant(e);
    if (!v) {
      error(e.loc()) << "expected a number for " << what << ", got "
                     << describeExpr(e);
      return std::nullopt;
    }
    return v;
  }

  /// An int or a pair [a, b] (for strides and windows).
  std::optional<std::array<int64_t, 2>> intPair(const ExprAST &e,
                                                llvm::StringRef what) {
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

  std::optional<llvm::SmallVector<int64_t>> intList(const ExprAST &e,
                                                    llvm::StringRef what) {
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

  std::optional<bool> constBool(const ExprAST &e, llvm::StringRef what) {
    if (auto *b = dyn_cast<BoolExprAST>(&e))
      return b->getValue();
    error(e.loc()) << "expected true or false for " << what << ", got "
                   << describeExpr(e);
    return std::nullopt;
  }

  //===--------------------------------------------------------------------===//
  // Expressions
  //===--------------------------------------------------------------------===//

  static Type elementTypeOf(Value v) {
    return cast<mlir::ShapedType>(v.getType()).getElementType();
  }

  static int64_t rankOf(Value v) {
    return cast<mlir::RankedTensorType>(v.getType()).getRank();
  }

  /// Generates `e`; a literal becomes a constant of element type `hint`
  /// (f32 when null).
  Value genExpr(const ExprAST &e, const Scope &scope, Type hint = nullptr) {
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

  /// Reports a name that is not in scope: an op used as a value, a name
  /// bound further down, or an unknown name.
  void reportUnknownName(const NameExprAST &n) {
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

  /// Reports a call of something that is neither in scope nor an op.
  void reportUnknownCallee(const CallExprAST &call, const DefDeclAST *within) {
    llvm::StringRef callee = call.getCallee();
    if (within && callee == within->getName()) {
      error(call.loc()) << "def '" << callee << "' cannot call itself";
      return;
    }
    if (auto later = allNames.find(callee); later != allNames.end()) {
      mlir::InFlightDiagnostic diag = error(call.loc());
      diag << "'" << callee << "' is used before it is defined";
      diag.attachNote(loc(later->second))
          << "'" << callee << "' is defined here";
      return;
    }
    error(call.loc()) << "unknown op '" << callee << "'";
  }

  /// Checks the names in a def body when the def is declared, so that a def
  /// that is never called is checked too: each name must be a parameter or
  /// bound before the def, and each callee an op or an earlier def. Keyword
  /// values that are bare names (`padding=same`) are left to the op.
  bool checkDefBody(const ExprAST &e, const DefDeclAST &def,
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

  Value genName(const NameExprAST &n, const Scope &scope) {
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

  Value genBinary(const BinaryExprAST &b, const Scope &scope, Type hint) {
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
      case Op::Eq: p = mlir::dl::CmpPredicate::eq; break;
      case Op::Ne: p = mlir::dl::CmpPredicate::ne; break;
      case Op::Lt: p = mlir::dl::CmpPredicate::lt; break;
      case Op::Le: p = mlir::dl::CmpPredicate::le; break;
      case Op::Gt: p = mlir::dl::CmpPredicate::gt; break;
      default: p = mlir::dl::CmpPredicate::ge; break;
      }
      return create("cmp", l, {lhs, rhs},
                    {attr("predicate",
                          mlir::dl::CmpPredicateAttr::get(&context, p))});
    }
    switch (b.getOp()) {
    case Op::Add: return create("add", l, {lhs, rhs});
    case Op::Sub: return create("sub", l, {lhs, rhs});
    case Op::Mul: return create("mul", l, {lhs, rhs});
    case Op::Div: return create("div", l, {lhs, rhs});
    case Op::Pow: return genPow(b, lhs, rhs);
    default: break;
    }
    llvm_unreachable("comparisons are handled above");
  }

  /// `x ** n` for a small natural n is repeated multiplication (exact for
  /// negative bases and cheap to differentiate); otherwise dl.pow.
  Value genPow(const BinaryExprAST &b, Value lhs, Value rhs) {
    mlir::Location l = loc(b.loc());
    if (rankOf(rhs) != 0 &&
        cast<mlir::RankedTensorType>(rhs.getType()).getNumElements() != 1) {
      error(b.loc()) << "'**' expects a scalar exponent, got "
                     << formatType(rhs.getType());
      return nullptr;
    }
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

  /// Matches a call's arguments to `sig`, reporting count and keyword errors.
  std::optional<BoundArgs> bindArgs(const CallExprAST &call, const Signature &sig,
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

  /// Normalizes a possibly negative axis for a tensor of `rank`.
  std::optional<int64_t> normAxis(int64_t axis, int64_t rank, const Location &l) {
    if (axis < -rank || axis >= rank || rank == 0) {
      error(l) << "axis " << axis << " is out of range for a tensor of rank "
               << rank;
      return std::nullopt;
    }
    return axis < 0 ? axis + rank : axis;
  }

  Value genCall(const CallExprAST &call, const Scope &scope) {
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
    llvm::StringRef name = call.getCallee();
    mlir::Location l = loc(call.loc());

    // Tensor operands: the first `required` parameters (except the shape of
    // reshape and the depth of one_hot, which are constants).
    unsigned tensorArgs = sig->required;
    if (name == "reshape" || name == "one_hot")
      tensorArgs = 1;
    llvm::SmallVector<Value, 2> in;
    for (unsigned i = 0; i < tensorArgs; ++i) {
      Type hint = i > 0 && !in.empty() ? elementTypeOf(in[0]) : Type();
      Value v = genExpr(*bound->args[i], scope, hint);
      if (!v)
        return nullptr;
      in.push_back(v);
    }
    const ExprAST *opt1 = bound->get(tensorArgs == 1 ? 1 : 2);
    const ExprAST *opt2 = bound->get(tensorArgs == 1 ? 2 : 3);

    // Elementwise and simple ops.
    static const llvm::StringSet<> unary = {"relu", "sigmoid", "tanh", "exp",
                                            "log",  "sqrt",    "square", "abs",
                                            "flatten", "l2"};
    if (unary.contains(name)) {
      if (name != "square" && name != "abs" && name != "flatten" &&
          !elementTypeOf(in[0]).isF32()) {
        error(call.loc()) << "'" << name << "' expects an f32 tensor, got "
                          << formatType(in[0].getType())
                          << "; convert with f32(...)";
        return nullptr;
      }
      return create(name, l, in);
    }
    if (name == "matmul" || name == "maximum" || name == "minimum" ||
        name == "mse" || name == "softmax_cross_entropy")
      return create(name, l, in);
    if (name == "leaky_relu" || name == "elu") {
      double alpha = *sig->params[1].defaultValue;
      if (opt1) {
        auto v = constNumber(*opt1, "'alpha'");
        if (!v)
          return nullptr;
        alpha = *v;
      }
      return create(name, l, in, {attr("alpha", builder.getF64FloatAttr(alpha))});
    }
    if (name == "f32" || name == "i32") {
      Type t = name == "f32" ? Type(builder.getF32Type())
                             : Type(builder.getIntegerType(32));
      return create("cast", l, in, {attr("element_type", mlir::TypeAttr::get(t))});
    }
    if (name == "dropout") {
      double rate = *sig->params[1].defaultValue;
      if (opt1) {
        auto v = constNumber(*opt1, "'rate'");
        if (!v)
          return nullptr;
        rate = *v;
      }
      if (rate < 0 || rate >= 1) {
        error(opt1 ? opt1->loc() : call.loc())
            << "dropout rate must be in [0, 1), got " << formatNumber(rate);
        return nullptr;
      }
      if (!stepSeed) {
        mlir::OpBuilder::InsertionGuard guard(builder);
        builder.setInsertionPointToStart(body);
        stepSeed = create("step_seed", graph.getLoc(), {});
      }
      return create("dropout", l, {in[0], stepSeed},
                    {attr("rate", builder.getF64FloatAttr(rate)),
                     attr("salt", builder.getI64IntegerAttr(dropoutCount++))});
    }
    if (name == "softmax" || name == "log_softmax" || name == "argmax") {
      auto axis = static_cast<int64_t>(*sig->params[1].defaultValue);
      if (opt1) {
        auto v = constInt(*opt1, "'axis'");
        if (!v)
          return nullptr;
        axis = *v;
      }
      auto a = normAxis(axis, rankOf(in[0]), opt1 ? opt1->loc() : call.loc());
      if (!a)
        return nullptr;
      return create(name, l, in, {attr("axis", builder.getI64IntegerAttr(*a))});
    }
    if (name == "sum" || name == "mean" || name == "max") {
      int64_t rank = rankOf(in[0]);
      llvm::SmallVector<int64_t> axes;
      if (opt1) {
        auto list = intList(*opt1, "'axis'");
        if (!list)
          return nullptr;
        for (int64_t a : *list) {
          auto n = normAxis(a, rank, opt1->loc());
          if (!n)
            return nullptr;
          if (llvm::is_contained(axes, *n)) {
            error(opt1->loc()) << "axis " << a << " is repeated";
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
      if (opt2) {
        auto v = constBool(*opt2, "'keepdims'");
        if (!v)
          return nullptr;
        keepdims = *v;
      }
      if (!elementTypeOf(in[0]).isF32()) {
        error(call.loc()) << "'" << name << "' expects an f32 tensor, got "
                          << formatType(in[0].getType())
                          << "; convert with f32(...)";
        return nullptr;
      }
      return create(name, l, in,
                    {attr("axes", builder.getDenseI64ArrayAttr(axes)),
                     attr("keepdims", builder.getBoolAttr(keepdims))});
    }
    if (name == "reshape")
      return genReshape(call, in[0], *bound->args[1], scope);
    if (name == "transpose") {
      llvm::SmallVector<int64_t> perm;
      int64_t rank = rankOf(in[0]);
      if (opt1) {
        auto list = intList(*opt1, "'perm'");
        if (!list)
          return nullptr;
        perm = *list;
      } else {
        for (int64_t i = rank - 1; i >= 0; --i)
          perm.push_back(i);
      }
      return create(name, l, in, {attr("perm", builder.getDenseI64ArrayAttr(perm))});
    }
    if (name == "one_hot") {
      auto depth = constInt(*bound->args[1], "'depth'");
      if (!depth)
        return nullptr;
      if (!elementTypeOf(in[0]).isInteger(32)) {
        error(call.loc()) << "'one_hot' expects i32 labels, got "
                          << formatType(in[0].getType())
                          << "; convert with i32(...)";
        return nullptr;
      }
      return create(name, l, in, {attr("depth", builder.getI64IntegerAttr(*depth))});
    }
    if (name == "conv2d" || name == "max_pool" || name == "avg_pool")
      return genWindowOp(call, name, in, *bound);
    llvm_unreachable("every op of the signature table is handled");
  }

  /// conv2d, max_pool and avg_pool: resolve stride/window and padding.
  Value genWindowOp(const CallExprAST &call, llvm::StringRef name,
                    llvm::ArrayRef<Value> in, const BoundArgs &bound) {
    bool conv = name == "conv2d";
    auto x = cast<mlir::RankedTensorType>(in[0].getType());
    if (x.getRank() != 4) {
      error(call.loc()) << "'" << name << "' expects an input of rank 4 [N, H, W, "
                           "C], got rank " << x.getRank();
      return nullptr;
    }
    std::array<int64_t, 2> window;
    const ExprAST *strideE, *paddingE;
    if (conv) {
      auto w = cast<mlir::RankedTensorType>(in[1].getType());
      if (w.getRank() != 4) {
        error(call.loc()) << "'conv2d' expects a filter of rank 4 [KH, KW, C, F], "
                             "got rank " << w.getRank();
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
    if (paddingE) {
      auto *n = dyn_cast<NameExprAST>(paddingE);
      if (!n || (n->getName() != "same" && n->getName() != "valid")) {
        error(paddingE->loc()) << "expected padding 'same' or 'valid', got "
                               << describeExpr(*paddingE);
        return nullptr;
      }
      same = n->getName() == "same";
    }
    llvm::SmallVector<int64_t> pads(4, 0);
    if (same) {
      for (int i = 0; i < 2; ++i) {
        int64_t size = x.getDimSize(1 + i);
        if (mlir::ShapedType::isDynamic(size)) {
          error(call.loc()) << "'" << name << "' with padding=same needs static "
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

  /// reshape(x, [d...]): one -1 or symbol (such as B) may be used.
  Value genReshape(const CallExprAST &call, Value input, const ExprAST &shapeE,
                   const Scope &scope) {
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

  Value genDefCall(const CallExprAST &call, const DefDeclAST &def,
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

  llvm::DenseMap<const DefDeclAST *, Scope> defScopes;

  //===--------------------------------------------------------------------===//
  // Declarations
  //===--------------------------------------------------------------------===//

  /// Reports an error unless `name` may be bound at top level: it must not
  /// be bound already, be a dimension symbol or name an op or initializer.
  bool checkBindable(llvm::StringRef name, const Location &l) {
    if (auto it = bound.find(name); it != bound.end()) {
      mlir::InFlightDiagnostic diag = error(l);
      diag << "'" << name << "' is already bound";
      diag.attachNote(loc(it->second)) << "'" << name << "' was bound here";
      return false;
    }
    if (auto it = dimSymbols.find(name); it != dimSymbols.end()) {
      error(l) << "'" << name << "' is already bound as a dimension symbol";
      return false;
    }
    if (language::findOp(name) || language::findInitializer(name)) {
      error(l) << "'" << name << "' is the name of an "
               << (language::findOp(name) ? "op" : "initializer")
               << " and cannot be rebound";
      return false;
    }
    return true;
  }

  /// Binds a top-level name, rejecting rebinding.
  bool bindName(llvm::StringRef name, const Location &l, Binding binding) {
    if (!checkBindable(name, l))
      return false;
    bound.try_emplace(name, l);
    globals[name] = binding;
    return true;
  }

  std::optional<mlir::RankedTensorType> genType(const TypeAST &t,
                                                llvm::SmallVectorImpl<mlir::Attribute> *dimNames) {
    llvm::SmallVector<int64_t> shape;
    for (const DimAST &d : t.getDims()) {
      if (d.isSymbol()) {
        shape.push_back(mlir::ShapedType::kDynamic);
        if (dimNames)
          dimNames->push_back(builder.getStringAttr(d.symbol));
        continue;
      }
      if (d.size <= 0) {
        error(d.loc) << "dimension must be positive, got " << d.size;
        return std::nullopt;
      }
      shape.push_back(d.size);
      if (dimNames)
        dimNames->push_back(builder.getStringAttr(""));
    }
    Type elem = t.getElementType() == TypeAST::ElementType::F32
                    ? Type(builder.getF32Type())
                    : Type(builder.getIntegerType(32));
    return mlir::RankedTensorType::get(shape, elem);
  }

  bool genInput(const InputDeclAST &d) {
    llvm::SmallVector<mlir::Attribute> dimNames;
    auto type = genType(d.getType(), &dimNames);
    if (!type)
      return false;
    for (const DimAST &dim : d.getType().getDims())
      if (dim.isSymbol() && !dimSymbols.contains(dim.symbol)) {
        if (bound.count(dim.symbol)) {
          error(dim.loc) << "dimension symbol '" << dim.symbol
                         << "' is already bound as a value";
          return false;
        }
        dimSymbols.try_emplace(dim.symbol, dim.loc);
        globals[dim.symbol] = Binding{Value(), nullptr, true};
      }
    Value arg = body->addArgument(*type, loc(d.getNameLoc()));
    if (!bindName(d.getName(), d.getNameLoc(), Binding{arg}))
      return false;
    {
      mlir::OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPoint(graph);
      mlir::dl::InputOp::create(builder, loc(d.loc()), d.getName(), *type,
                                builder.getArrayAttr(dimNames));
    }
    argAttrs.push_back(builder.getDictionaryAttr(
        attr(contract::kInputAttr,
             mlir::FlatSymbolRefAttr::get(&context, d.getName()))));
    inputTypes[d.getName()] = {d.getNameLoc(), *type};
    inputTypeASTs[d.getName()] = &d.getType();
    inputNames.push_back(d.getName());
    return true;
  }

  bool genParam(const ParamDeclAST &d) {
    for (const DimAST &dim : d.getType().getDims())
      if (dim.isSymbol()) {
        error(dim.loc) << "param '" << d.getName()
                       << "' needs a static shape; '" << dim.symbol
                       << "' is a symbol";
        return false;
      }
    auto type = genType(d.getType(), nullptr);
    if (!type)
      return false;
    llvm::StringRef init;
    llvm::SmallVector<double> args;
    mlir::DenseElementsAttr value;
    const ExprAST &initE = d.getInit();
    if (isLiteral(initE)) {
      init = language::kLiteralInitializer;
      value = literalAttr(initE, type->getElementType());
      if (!value)
        return false;
      auto vt = cast<mlir::ShapedType>(value.getType());
      if (vt.getNumElements() == 1 && type->getNumElements() != 1)
        value = mlir::DenseElementsAttr::get(
            *type, value.getValues<mlir::Attribute>()[0]);
      else if (vt.getNumElements() != type->getNumElements()) {
        error(initE.loc()) << "literal initializer has " << vt.getNumElements()
                           << " elements but param '" << d.getName()
                           << "' has " << type->getNumElements();
        return false;
      } else {
        value = value.reshape(*type);
      }
    } else if (auto *call = dyn_cast<CallExprAST>(&initE)) {
      const language::Initializer *initializer =
          language::findInitializer(call->getCallee());
      if (!initializer) {
        mlir::InFlightDiagnostic diag = error(call->loc());
        diag << "unknown initializer '" << call->getCallee() << "'; expected ";
        llvm::interleave(
            language::initializers(),
            [&](const language::Initializer &known) {
              diag << llvm::StringRef(known.signature.name);
            },
            [&] { diag << ", "; });
        diag << " or a literal tensor";
        return false;
      }
      const Signature &sig = initializer->signature;
      auto bound = bindArgs(*call, sig, "initializer");
      if (!bound)
        return false;
      init = sig.name;
      std::vector<double> defaults = sig.defaults();
      args.assign(defaults.begin(), defaults.end());
      for (unsigned i = 0; i < sig.params.size(); ++i)
        if (const ExprAST *a = bound->get(i)) {
          auto v = constNumber(*a, "'" + llvm::StringRef(sig.params[i].name) +
                                       "' of '" + call->getCallee() + "'");
          if (!v)
            return false;
          args[i] = *v;
        }
      using Kind = language::InitializerKind;
      if ((initializer->kind == Kind::Normal ||
           initializer->kind == Kind::TruncatedNormal) &&
          args[1] < 0) {
        const ExprAST *stddev = bound->get(1);
        error(stddev ? stddev->loc() : call->loc())
            << "stddev must not be negative, got " << formatNumber(args[1]);
        return false;
      }
      if (initializer->kind == Kind::Uniform && args[0] > args[1]) {
        error(call->loc()) << "uniform expects low <= high, got "
                           << formatNumber(args[0]) << " > "
                           << formatNumber(args[1]);
        return false;
      }
      if (initializer->kind == Kind::GlorotUniform && type->getRank() < 1) {
        error(call->loc()) << "glorot_uniform needs a param of rank 1 or more";
        return false;
      }
    } else {
      error(initE.loc()) << "expected an initializer (such as zeros() or "
                            "truncated_normal(stddev=0.1)) or a literal tensor";
      return false;
    }
    Value arg = body->addArgument(*type, loc(d.getNameLoc()));
    if (!bindName(d.getName(), d.getNameLoc(), Binding{arg}))
      return false;
    {
      mlir::OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPoint(graph);
      auto op = mlir::dl::ParamOp::create(builder, loc(d.loc()), d.getName(), *type,
                                          init, args, value);
      (void)op;
    }
    params.insert(d.getName());
    argAttrs.push_back(builder.getDictionaryAttr(
        attr(contract::kParamAttr,
             mlir::FlatSymbolRefAttr::get(&context, d.getName()))));
    return true;
  }

  /// Checks that a literal data set `literal` (of type `dataType`) fits the
  /// declared type of its input: the same rank and fixed dimensions, and one
  /// size for each dimension symbol across the data set (`symbolSizes`).
  bool checkDataShape(
      const NamedExprAST &literal, mlir::ShapedType dataType,
      llvm::StringRef set,
      llvm::StringMap<std::pair<int64_t, llvm::StringRef>> &symbolSizes) {
    const TypeAST &declared = *inputTypeASTs.lookup(literal.name);
    auto describe = [&] {
      std::string text;
      llvm::raw_string_ostream os(text);
      declared.print(os);
      return text;
    };
    llvm::ArrayRef<int64_t> shape = dataType.getShape();
    bool fits = shape.size() == declared.getDims().size();
    for (unsigned i = 0; fits && i < shape.size(); ++i)
      fits = declared.getDims()[i].isSymbol() ||
             declared.getDims()[i].size == shape[i];
    if (!fits) {
      std::string got = "[";
      for (auto [i, d] : llvm::enumerate(shape))
        got += (i ? ", " : "") + std::to_string(d);
      error(literal.value->loc())
          << "data for input '" << literal.name << "' has shape " << got
          << "] but the input is " << describe();
      return false;
    }
    for (auto [i, dim] : llvm::enumerate(declared.getDims())) {
      if (!dim.isSymbol())
        continue;
      auto [it, inserted] =
          symbolSizes.try_emplace(dim.symbol, shape[i], literal.name);
      if (!inserted && it->second.first != shape[i]) {
        error(literal.value->loc())
            << "symbol '" << dim.symbol << "' is " << it->second.first
            << " in input '" << it->second.second << "' but " << shape[i]
            << " in input '" << literal.name << "' of data " << set;
        return false;
      }
    }
    return true;
  }

  bool genData(const DataDeclAST &d) {
    llvm::StringRef set = d.getSetName();
    if (set != "train" && set != "validation" && set != "test") {
      error(d.getSetLoc()) << "unknown data set '" << set
                           << "'; expected train, validation or test";
      return false;
    }
    if (!dataSets.insert(set).second) {
      error(d.getSetLoc()) << "data set '" << set << "' is defined twice";
      return false;
    }
    llvm::StringSet<> seen;
    llvm::StringMap<std::pair<int64_t, llvm::StringRef>> symbolSizes;
    mlir::OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPoint(graph);
    for (const NamedExprAST &e : d.getEntries()) {
      auto input = inputTypes.find(e.name);
      if (input == inputTypes.end()) {
        mlir::InFlightDiagnostic diag = error(e.nameLoc);
        if (params.contains(e.name))
          diag << "'" << e.name << "' is a param; data binds inputs";
        else
          diag << "unknown input '" << e.name << "' in data " << set;
        if (inputNames.empty())
          diag << "; the model has no inputs";
        else
          diag << "; expected one of " << joinNames(inputNames);
        return false;
      }
      if (!seen.insert(e.name).second) {
        error(e.nameLoc) << "input '" << e.name << "' is bound twice in data "
                         << set;
        return false;
      }
      auto inputRef = mlir::FlatSymbolRefAttr::get(&context, e.name);
      mlir::Location l = loc(e.value->loc());
      if (auto *call = dyn_cast<CallExprAST>(e.value.get())) {
        if (call->getCallee() != "idx") {
          error(call->loc()) << "unknown data source '" << call->getCallee()
                             << "'; expected idx(\"file\", scale=S) or a "
                                "literal tensor";
          return false;
        }
        static const Signature idxSig = {
            "idx", {{"path", std::nullopt}, {"scale", std::nullopt}}, 1};
        auto bound = bindArgs(*call, idxSig, "data source");
        if (!bound)
          return false;
        auto *path = dyn_cast<StringExprAST>(bound->args[0]);
        if (!path) {
          error(bound->args[0]->loc())
              << "expected a file path string for idx, got "
              << describeExpr(*bound->args[0]);
          return false;
        }
        mlir::FloatAttr scale;
        if (const ExprAST *s = bound->get(1)) {
          auto v = constNumber(*s, "'scale'");
          if (!v)
            return false;
          scale = builder.getF64FloatAttr(*v);
        }
        mlir::dl::DataSourceOp::create(builder, l, builder.getStringAttr(set), inputRef,
                                       builder.getStringAttr("idx"),
                                       builder.getStringAttr(path->getValue()),
                                       scale, nullptr);
        continue;
      }
      if (!isLiteral(*e.value)) {
        error(e.value->loc()) << "expected a data source idx(\"file\") or a "
                                 "literal tensor, got "
                              << describeExpr(*e.value);
        return false;
      }
      auto value = literalAttr(*e.value, input->second.second.getElementType());
      if (!value || !checkDataShape(e, value.getType(), set, symbolSizes))
        return false;
      mlir::dl::DataSourceOp::create(builder, l, builder.getStringAttr(set), inputRef,
                                     builder.getStringAttr("literal"),
                                     nullptr, nullptr, value);
    }
    return true;
  }

  bool genTrain(const TrainDeclAST &d) {
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
    static const llvm::StringRef keys[] = {"optimizer", "batch", "steps", "epochs",
                                           "shuffle", "validation", "freeze",
                                           "log_every", "eval_every", "seed"};
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
            auto n = constNumber(*a, "'" + param + "' of '" +
                                         call->getCallee() + "'");
            if (!n)
              return false;
            if (*n < 0 || (i == 0 && *n == 0)) {
              error(a->loc()) << "'" << param << "' must be positive, got "
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
          error(v.loc()) << "expected a list of params for 'freeze', such as [W1, b1]";
          return false;
        }
        for (const ExprPtr &el : list->getElements()) {
          auto *n = dyn_cast<NameExprAST>(el.get());
          if (!n || !params.contains(n->getName())) {
            error(el->loc()) << "'freeze' expects param names"
                             << (n ? "; '" + n->getName().str() + "' is not a param" : "");
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

  /// loss/metric must be f32 scalars (a mean over the batch, for instance).
  bool checkScalar(Value v, const Location &l, llvm::StringRef what) {
    auto t = cast<mlir::RankedTensorType>(v.getType());
    if (t.getRank() != 0 || !t.getElementType().isF32()) {
      error(l) << what << " must be an f32 scalar (f32[]), got "
               << formatType(t)
               << (t.getRank() != 0 ? "; reduce it with mean(...) or sum(...)"
                                    : "; convert it with f32(...)");
      return false;
    }
    return true;
  }

  bool genDecl(const DeclAST &decl) {
    switch (decl.getKind()) {
    case DeclAST::Kind::Model: {
      auto &m = cast<ModelDeclAST>(decl);
      if (sawModel) {
        error(m.loc()) << "the model is named twice";
        return false;
      }
      sawModel = true;
      module.setSymName(m.getName());
      return true;
    }
    case DeclAST::Kind::Input:
      return genInput(cast<InputDeclAST>(decl));
    case DeclAST::Kind::Param:
      return genParam(cast<ParamDeclAST>(decl));
    case DeclAST::Kind::Let: {
      auto &let = cast<LetDeclAST>(decl);
      if (!checkBindable(let.getName(), let.getNameLoc()))
        return false;
      Value v = genExpr(let.getValue(), globals);
      return v && bindName(let.getName(), let.getNameLoc(), Binding{v});
    }
    case DeclAST::Kind::Def: {
      auto &def = cast<DefDeclAST>(decl);
      llvm::StringSet<> names;
      for (const DefParamAST &p : def.getParams())
        if (!names.insert(p.name).second) {
          error(p.loc) << "parameter '" << p.name << "' is repeated";
          return false;
        }
      if (!checkDefBody(def.getBody(), def, names))
        return false;
      defScopes[&def] = globals;
      return bindName(def.getName(), def.getNameLoc(), Binding{Value(), &def});
    }
    case DeclAST::Kind::Loss: {
      auto &l = cast<LossDeclAST>(decl);
      if (loss) {
        error(l.loc()) << "the loss is defined twice";
        return false;
      }
      Value v = genExpr(l.getValue(), globals);
      if (!v || !checkScalar(v, l.getValue().loc(), "the loss"))
        return false;
      loss = Result{v, contract::kRoleLoss, contract::kRoleLoss};
      return true;
    }
    case DeclAST::Kind::Metric: {
      auto &m = cast<MetricDeclAST>(decl);
      if (llvm::any_of(
              metrics,
              [&](const Result &r) { return r.name == m.getName(); }) ||
          m.getName() == contract::kRoleLoss) {
        error(m.getNameLoc()) << "metric '" << m.getName() << "' is defined twice";
        return false;
      }
      Value v = genExpr(m.getValue(), globals);
      if (!v || !checkScalar(v, m.getValue().loc(), "a metric"))
        return false;
      metrics.push_back(Result{v, contract::kRoleMetric, m.getName().str()});
      return true;
    }
    case DeclAST::Kind::Output: {
      auto &o = cast<OutputDeclAST>(decl);
      if (llvm::any_of(outputs, [&](const Result &r) { return r.name == o.getName(); })) {
        error(o.getNameLoc()) << "output '" << o.getName() << "' is defined twice";
        return false;
      }
      Value v;
      if (o.getValue()) {
        if (!checkBindable(o.getName(), o.getNameLoc()))
          return false;
        v = genExpr(*o.getValue(), globals);
        if (!v)
          return false;
        // `output NAME = EXPR` also binds NAME; like `NAME = EXPR` it cannot
        // rebind a name (use `output NAME` to output a bound value).
        if (!bindName(o.getName(), o.getNameLoc(), Binding{v}))
          return false;
      } else {
        NameExprAST ref(o.getNameLoc(), o.getName().str());
        v = genName(ref, globals);
        if (!v)
          return false;
      }
      outputs.push_back(Result{v, contract::kRoleOutput, o.getName().str()});
      return true;
    }
    case DeclAST::Kind::Data:
      return genData(cast<DataDeclAST>(decl));
    case DeclAST::Kind::Train:
      return genTrain(cast<TrainDeclAST>(decl));
    }
    llvm_unreachable("every declaration kind is handled");
  }
};

mlir::OwningOpRef<mlir::ModuleOp> MLIRGenImpl::generate(const ModuleAST &ast) {
  context.loadDialect<mlir::dl::DLDialect, mlir::func::FuncDialect>();
  mlir::Location moduleLoc = loc(ast.loc());
  module = mlir::ModuleOp::create(moduleLoc);
  // The model's default name is the file's stem.
  std::string stem = ast.loc().file
                         ? llvm::sys::path::stem(*ast.loc().file).str()
                         : "model";
  for (char &c : stem)
    if (!std::isalnum(static_cast<unsigned char>(c)))
      c = '_';
  module.setSymName(stem);

  builder.setInsertionPointToEnd(module.getBody());
  graph = mlir::func::FuncOp::create(builder, moduleLoc, contract::kGraphEntry,
                                     builder.getFunctionType({}, {}));
  body = graph.addEntryBlock();
  builder.setInsertionPointToEnd(body);

  // Every top-level name, for "used before it is bound" diagnostics.
  for (const DeclPtr &decl : ast.getDecls()) {
    if (auto *d = dyn_cast<LetDeclAST>(decl.get()))
      allNames.try_emplace(d->getName(), d->getNameLoc());
    else if (auto *d = dyn_cast<InputDeclAST>(decl.get()))
      allNames.try_emplace(d->getName(), d->getNameLoc());
    else if (auto *d = dyn_cast<ParamDeclAST>(decl.get()))
      allNames.try_emplace(d->getName(), d->getNameLoc());
    else if (auto *d = dyn_cast<DefDeclAST>(decl.get()))
      allNames.try_emplace(d->getName(), d->getNameLoc());
    else if (auto *d = dyn_cast<OutputDeclAST>(decl.get()); d && d->getValue())
      allNames.try_emplace(d->getName(), d->getNameLoc());
  }

  for (const DeclPtr &decl : ast.getDecls())
    if (!genDecl(*decl)) {
      module->erase();
      return nullptr;
    }

  llvm::SmallVector<Value> results;
  llvm::SmallVector<mlir::Attribute> resultAttrs;
  auto addResult = [&](const Result &r) {
    results.push_back(r.value);
    resultAttrs.push_back(builder.getDictionaryAttr(
        {attr(contract::kRoleAttr, builder.getStringAttr(r.role)),
         attr(contract::kNameAttr, builder.getStringAttr(r.name))}));
  };
  if (loss)
    addResult(*loss);
  for (const Result &r : metrics)
    addResult(r);
  for (const Result &r : outputs)
    addResult(r);
  mlir::func::ReturnOp::create(builder, moduleLoc, results);
  llvm::SmallVector<Type> argTypes(body->getArgumentTypes());
  llvm::SmallVector<Type> resultTypes;
  for (Value v : results)
    resultTypes.push_back(v.getType());
  graph.setType(builder.getFunctionType(argTypes, resultTypes));
  graph.setAllArgAttrs(argAttrs);
  graph.setAllResultAttrs(resultAttrs);

  if (failed(mlir::verify(module))) {
    module->erase();
    return nullptr;
  }
  return module;
}

} // namespace

mlir::OwningOpRef<mlir::ModuleOp>
dlc::frontend::mlirGen(mlir::MLIRContext &context, const ModuleAST &model) {
  return MLIRGenImpl(context).generate(model);
}
