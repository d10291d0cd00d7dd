//===- MLIRGenImpl.h - the generator shared by MLIRGen*.cpp -----*- C++ -*-===//
//
// The generator class behind mlirGen(), private to frontend/: MLIRGen.cpp
// holds its core (module and @graph, scopes, op creation, the declaration
// dispatch), MLIRGenExpr.cpp the expressions, MLIRGenCall.cpp the calls of
// ops, MLIRGenDecl.cpp the input/param/data declarations and MLIRGenTrain.cpp
// the train block. Nothing outside these files includes it.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_FRONTEND_MLIRGENIMPL_H
#define DLC_FRONTEND_MLIRGENIMPL_H

#include "frontend/MLIRGen.h"

#include "dialects/DL/IR/DLOps.h"
#include "runtime/LanguageFacts.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include <array>
#include <optional>
#include <string>

namespace dlc::frontend::detail {

using language::Signature;
using llvm::cast;
using llvm::dyn_cast;
using llvm::isa;
using mlir::Type;
using mlir::Value;

/// What a name is bound to.
struct Binding {
  Value value;
  const DefDeclAST *def = nullptr;
  /// Symbols (such as `B`) usable as dimensions in reshape.
  bool isDimSymbol = false;
};

/// Names in scope: the globals, or a def body's.
using Scope = llvm::StringMap<Binding>;

/// A call's arguments matched to a signature.
struct BoundArgs {
  /// One per parameter; null where none was given.
  llvm::SmallVector<const ExprAST *, 4> args;
  /// Returns argument `i`, or null.
  const ExprAST *get(unsigned i) const {
    return i < args.size() ? args[i] : nullptr;
  }
};

/// A call of an op as genCall hands it to the op's builder.
struct OpCall {
  /// The call as written.
  const CallExprAST &call;
  /// The op's signature.
  const Signature &sig;
  /// The call's arguments, one per parameter of `sig`.
  const BoundArgs &bound;
  /// The op's name.
  llvm::StringRef name;
  /// The call's location.
  mlir::Location l;
  /// The names in scope at the call.
  const Scope &scope;
  /// The tensor operands, generated.
  llvm::SmallVector<Value, 2> in = {};
  /// The first and second arguments after the tensor operands, if given.
  const ExprAST *opt1 = nullptr, *opt2 = nullptr;
};

/// Formats a number for a diagnostic as `%g` does (`1.5`, not `1.500000e+00`).
std::string formatNumber(double value);

/// Formats a tensor type in the language's notation: `f32[?, 3]`, `i32[]`.
std::string formatType(mlir::Type type);

/// Joins names with ", " for "expected one of" messages.
std::string joinNames(llvm::ArrayRef<llvm::StringRef> names);

/// Turns a ModuleAST into a dl module; see MLIRGen.h.
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
  /// Expressions generated so far, counting each inlined def body again at
  /// every call, and the most a model may have: defs that call a def twice
  /// double at every level, so 40 of them would expand to 2^40 ops.
  uint64_t exprsGenerated = 0;
  static constexpr uint64_t kMaxExprsGenerated = 1000000;

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
  // Op creation with inferred types (MLIRGen.cpp)
  //===--------------------------------------------------------------------===//

  /// Creates a dl op generically, infers its result type and verifies it;
  /// on failure the op is erased and null is returned (the error has been
  /// reported at `l`).
  Value create(llvm::StringRef name, mlir::Location l,
               mlir::ValueRange operands,
               llvm::ArrayRef<mlir::NamedAttribute> attrs = {});

  mlir::NamedAttribute attr(llvm::StringRef name, mlir::Attribute value) {
    return builder.getNamedAttr(name, value);
  }

  Value constant(mlir::Location l, mlir::DenseElementsAttr value) {
    return create("constant", l, {}, {attr("value", value)});
  }

  //===--------------------------------------------------------------------===//
  // Constants and literals (MLIRGenExpr.cpp)
  //===--------------------------------------------------------------------===//

  /// Collects the numbers and shape of a (nested) tensor literal.
  bool flattenLiteral(const ExprAST &e, llvm::SmallVectorImpl<double> &values,
                      llvm::SmallVectorImpl<int64_t> &shape, unsigned depth,
                      bool &allIntegers);

  /// Builds the DenseElementsAttr of a literal (a number or a list) with
  /// element type `elem`.
  mlir::DenseElementsAttr literalAttr(const ExprAST &e, Type elem);

  /// True for expressions that are literals (numbers, lists of numbers and
  /// literal arithmetic) and so adopt the element type of what they meet.
  static bool isLiteral(const ExprAST &e);

  /// Names what an expression is, for "expected X, got Y" messages.
  static std::string describeExpr(const ExprAST &e);

  std::optional<int64_t> constInt(const ExprAST &e, const llvm::Twine &what);

  std::optional<double> constNumber(const ExprAST &e, const llvm::Twine &what);

  /// An int or a pair [a, b] (for strides and windows).
  std::optional<std::array<int64_t, 2>> intPair(const ExprAST &e,
                                                llvm::StringRef what);

  std::optional<llvm::SmallVector<int64_t>> intList(const ExprAST &e,
                                                    llvm::StringRef what);

  std::optional<bool> constBool(const ExprAST &e, llvm::StringRef what);

  //===--------------------------------------------------------------------===//
  // Expressions (MLIRGenExpr.cpp)
  //===--------------------------------------------------------------------===//

  static Type elementTypeOf(Value v) {
    return cast<mlir::ShapedType>(v.getType()).getElementType();
  }

  static int64_t rankOf(Value v) {
    return cast<mlir::RankedTensorType>(v.getType()).getRank();
  }

  /// Generates `e`; a literal becomes a constant of element type `hint`
  /// (f32 when null).
  Value genExpr(const ExprAST &e, const Scope &scope, Type hint = nullptr);

  /// Reports a name that is not in scope: an op used as a value, a name
  /// bound further down, or an unknown name.
  void reportUnknownName(const NameExprAST &n);

  /// Reports a call of something that is neither in scope nor an op.
  void reportUnknownCallee(const CallExprAST &call, const DefDeclAST *within);

  /// Checks the names in a def body when the def is declared, so that a def
  /// that is never called is checked too: each name must be a parameter or
  /// bound before the def, and each callee an op or an earlier def. Keyword
  /// values that are bare names (`padding=same`) are left to the op.
  bool checkDefBody(const ExprAST &e, const DefDeclAST &def,
                    const llvm::StringSet<> &defParams);

  Value genName(const NameExprAST &n, const Scope &scope);

  Value genBinary(const BinaryExprAST &b, const Scope &scope, Type hint);

  /// `x ** n` for a small natural n is repeated multiplication (exact for
  /// negative bases and cheap to differentiate); otherwise dl.pow.
  Value genPow(const BinaryExprAST &b, Value lhs, Value rhs);

  //===--------------------------------------------------------------------===//
  // Calls of ops (MLIRGenCall.cpp)
  //===--------------------------------------------------------------------===//

  /// Matches a call's arguments to `sig`, reporting count and keyword errors.
  std::optional<BoundArgs> bindArgs(const CallExprAST &call,
                                    const Signature &sig, llvm::StringRef kind);

  /// Normalizes a possibly negative axis for a tensor of `rank`.
  std::optional<int64_t> normAxis(int64_t axis, int64_t rank,
                                  const Location &l);

  Value genCall(const CallExprAST &call, const Scope &scope);

  /// conv2d, max_pool and avg_pool: resolve stride/window and padding.
  Value genWindowOp(const OpCall &op);

  /// reshape(x, [d...]): one -1 or symbol (such as B) may be used.
  Value genReshape(const CallExprAST &call, Value input, const ExprAST &shapeE,
                   const Scope &scope);

  /// How genCall builds one op: the member that builds it and how many
  /// leading arguments are tensor operands (the op's required parameters
  /// unless said otherwise: the shape of reshape and the depth of one_hot
  /// are constants).
  struct OpBuilderEntry {
    Value (MLIRGenImpl::*build)(const OpCall &);
    std::optional<unsigned> tensorOperands = std::nullopt;
  };
  /// The builder of every op of language::ops(), by name.
  static const llvm::StringMap<OpBuilderEntry> &opBuilders();

  /// The number given for the first parameter after the tensor operands,
  /// or its default from the table; null after reporting a non-number.
  std::optional<double> firstOptionalNumber(const OpCall &op);
  /// Reports unless the first operand of `op` is an f32 tensor.
  bool checkFloatOperand(const OpCall &op);
  /// The op named as called, on the tensor operands alone.
  Value genPlainOp(const OpCall &op);
  /// As genPlainOp, for ops defined on f32 tensors only.
  Value genFloatOp(const OpCall &op);
  /// leaky_relu and elu: `alpha`.
  Value genAlphaOp(const OpCall &op);
  /// f32(x) and i32(x): dl.cast.
  Value genCastOp(const OpCall &op);
  /// dropout: `rate` and a salt; the step seed is made on first use.
  Value genDropoutOp(const OpCall &op);
  /// softmax, log_softmax and argmax: one normalized `axis`.
  Value genAxisOp(const OpCall &op);
  /// sum, mean and max: sorted distinct `axis` (every axis by default) and
  /// `keepdims`.
  Value genReductionOp(const OpCall &op);
  /// reshape: see genReshape.
  Value genReshapeOp(const OpCall &op);
  /// transpose: `perm`, reversed axes by default.
  Value genTransposeOp(const OpCall &op);
  /// one_hot: a constant `depth` and i32 labels.
  Value genOneHotOp(const OpCall &op);

  Value genDefCall(const CallExprAST &call, const DefDeclAST &def,
                   const Scope &scope);

  llvm::DenseMap<const DefDeclAST *, Scope> defScopes;

  //===--------------------------------------------------------------------===//
  // Declarations (MLIRGen.cpp, MLIRGenDecl.cpp, MLIRGenTrain.cpp)
  //===--------------------------------------------------------------------===//

  /// Reports an error unless `name` may be bound at top level: it must not
  /// be bound already, be a dimension symbol or name an op or initializer.
  bool checkBindable(llvm::StringRef name, const Location &l);

  /// Binds a top-level name, rejecting rebinding.
  bool bindName(llvm::StringRef name, const Location &l, Binding binding);

  std::optional<mlir::RankedTensorType>
  genType(const TypeAST &t, llvm::SmallVectorImpl<mlir::Attribute> *dimNames);

  bool genInput(const InputDeclAST &d);

  bool genParam(const ParamDeclAST &d);

  /// Checks that a literal data set `literal` (of type `dataType`) fits the
  /// declared type of its input: the same rank and fixed dimensions, and one
  /// size for each dimension symbol across the data set (`symbolSizes`).
  bool checkDataShape(
      const NamedExprAST &literal, mlir::ShapedType dataType,
      llvm::StringRef set,
      llvm::StringMap<std::pair<int64_t, llvm::StringRef>> &symbolSizes);

  bool genData(const DataDeclAST &d);

  bool genTrain(const TrainDeclAST &d);

  /// loss/metric must be f32 scalars (a mean over the batch, for instance).
  bool checkScalar(Value v, const Location &l, llvm::StringRef what);

  bool genDecl(const DeclAST &decl);
};

} // namespace dlc::frontend::detail

#endif // DLC_FRONTEND_MLIRGENIMPL_H
