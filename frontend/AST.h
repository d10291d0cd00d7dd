//===- AST.h - Abstract syntax tree of the dl language ----------*- C++ -*-===//
//
// Node classes for dl model files: expressions, types and declarations, each
// with the Location of the source text it came from. The tree is purely
// syntactic: names are not resolved and nothing is type-checked (MLIRGen does
// that). Nodes use LLVM-style RTTI (`isa`, `cast`, `dyn_cast`) through their
// Kind enums.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_FRONTEND_AST_H
#define DLC_FRONTEND_AST_H

#include "frontend/Lexer.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dlc::frontend {

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

/// Base class of all expressions.
class ExprAST {
public:
  /// The concrete class of an expression, for LLVM-style RTTI.
  enum class Kind { Number, String, Bool, Name, TensorLiteral, Unary, Binary, Call };

  ExprAST(Kind kind, Location loc) : kind(kind), location(std::move(loc)) {}
  virtual ~ExprAST() = default;

  /// The concrete class of this expression.
  Kind getKind() const { return kind; }
  /// Where the expression starts; for a binary expression, its operator.
  const Location &loc() const { return location; }
  /// The height of the tree under this node (1 for a leaf), computed when the
  /// node is built, so that the parser can bound what recursive walks see.
  unsigned getDepth() const { return depth; }
  /// The value of a constant arithmetic expression (numbers and + - * / **
  /// over them), computed once when the node is built; see foldConstant().
  const std::optional<double> &getConstant() const { return constant; }

protected:
  /// Sets the depth to one more than the deepest of `children`.
  void setDepthAbove(llvm::ArrayRef<const ExprAST *> children) {
    for (const ExprAST *c : children)
      if (c)
        depth = std::max(depth, c->depth + 1);
  }
  void setConstant(std::optional<double> value) { constant = value; }

private:
  const Kind kind;
  Location location;
  unsigned depth = 1;
  std::optional<double> constant;
};

/// An owned expression.
using ExprPtr = std::unique_ptr<ExprAST>;

/// A number literal: `3`, `3.0`, `1e-4`, `.5`. A leading minus is a separate
/// UnaryExprAST.
class NumberExprAST : public ExprAST {
public:
  NumberExprAST(Location loc, double value, bool isInteger)
      : ExprAST(Kind::Number, std::move(loc)), value(value),
        integer(isInteger) {
    setConstant(value);
  }

  /// The literal's value.
  double getValue() const { return value; }
  /// True if the literal was written without '.' or an exponent, e.g. `3`.
  bool isInteger() const { return integer; }

  /// LLVM-style RTTI.
  static bool classof(const ExprAST *e) { return e->getKind() == Kind::Number; }

private:
  double value;
  bool integer;
};

/// A string literal: `"train-images-idx3-ubyte.gz"`.
class StringExprAST : public ExprAST {
public:
  StringExprAST(Location loc, std::string value)
      : ExprAST(Kind::String, std::move(loc)), value(std::move(value)) {}

  /// The contents, without quotes and with escapes resolved.
  llvm::StringRef getValue() const { return value; }

  /// LLVM-style RTTI.
  static bool classof(const ExprAST *e) { return e->getKind() == Kind::String; }

private:
  std::string value;
};

/// A boolean literal: `true` or `false`.
class BoolExprAST : public ExprAST {
public:
  BoolExprAST(Location loc, bool value)
      : ExprAST(Kind::Bool, std::move(loc)), value(value) {}

  /// The literal's value.
  bool getValue() const { return value; }

  /// LLVM-style RTTI.
  static bool classof(const ExprAST *e) { return e->getKind() == Kind::Bool; }

private:
  bool value;
};

/// A use of a name: a value (`x`), a symbol (`B`) or a word such as `same`.
class NameExprAST : public ExprAST {
public:
  NameExprAST(Location loc, std::string name)
      : ExprAST(Kind::Name, std::move(loc)), name(std::move(name)) {}

  /// The identifier.
  llvm::StringRef getName() const { return name; }

  /// LLVM-style RTTI.
  static bool classof(const ExprAST *e) { return e->getKind() == Kind::Name; }

private:
  std::string name;
};

/// A bracketed list: `[1, 2]`, `[[1, 2], [3, 4]]`, `[B, 784]`, `[W1, b1]`.
/// Nested lists are elements that are themselves TensorLiteralExprASTs.
class TensorLiteralExprAST : public ExprAST {
public:
  TensorLiteralExprAST(Location loc, std::vector<ExprPtr> elements)
      : ExprAST(Kind::TensorLiteral, std::move(loc)),
        elements(std::move(elements)) {
    for (const ExprPtr &e : this->elements)
      setDepthAbove(e.get());
  }

  /// The elements, in source order (possibly none: `[]`).
  llvm::ArrayRef<ExprPtr> getElements() const { return elements; }

  /// LLVM-style RTTI.
  static bool classof(const ExprAST *e) {
    return e->getKind() == Kind::TensorLiteral;
  }

private:
  std::vector<ExprPtr> elements;
};

/// A prefix operator applied to an operand. The only one is negation, `-x`.
class UnaryExprAST : public ExprAST {
public:
  /// The prefix operators.
  enum class Op { Neg };

  UnaryExprAST(Location loc, Op op, ExprPtr operand)
      : ExprAST(Kind::Unary, std::move(loc)), op(op),
        operand(std::move(operand)) {
    setDepthAbove(this->operand.get());
    setConstant(fold());
  }

  /// The operator.
  Op getOp() const { return op; }
  /// The operand.
  const ExprAST &getOperand() const { return *operand; }

  /// Returns the operator's spelling, e.g. "-".
  static llvm::StringRef getOpSpelling(Op op);

  /// LLVM-style RTTI.
  static bool classof(const ExprAST *e) { return e->getKind() == Kind::Unary; }

private:
  /// The value if the operand is constant.
  std::optional<double> fold() const;

  Op op;
  ExprPtr operand;
};

/// An infix operator applied to two operands. Its location is the operator's.
class BinaryExprAST : public ExprAST {
public:
  /// The infix operators, loosest first.
  enum class Op { Eq, Ne, Lt, Le, Gt, Ge, Add, Sub, Mul, Div, Pow };

  BinaryExprAST(Location loc, Op op, ExprPtr lhs, ExprPtr rhs)
      : ExprAST(Kind::Binary, std::move(loc)), op(op), lhs(std::move(lhs)),
        rhs(std::move(rhs)) {
    setDepthAbove({this->lhs.get(), this->rhs.get()});
    setConstant(fold());
  }

  /// The operator.
  Op getOp() const { return op; }
  /// The left operand.
  const ExprAST &getLHS() const { return *lhs; }
  /// The right operand.
  const ExprAST &getRHS() const { return *rhs; }

  /// Returns the operator's spelling, e.g. "**".
  static llvm::StringRef getOpSpelling(Op op);
  /// True for `== != < <= > >=`.
  static bool isComparison(Op op) { return op <= Op::Ge; }

  /// LLVM-style RTTI.
  static bool classof(const ExprAST *e) { return e->getKind() == Kind::Binary; }

private:
  /// The value if both operands are constant and the operator arithmetic.
  std::optional<double> fold() const;

  Op op;
  ExprPtr lhs, rhs;
};

/// A name bound to an expression, with the name's location. Used for keyword
/// arguments (`stride=1`), data entries (`x = idx(...)`) and train entries
/// (`batch = 50`).
struct NamedExprAST {
  /// The name before '='.
  std::string name;
  /// Where the name is.
  Location nameLoc;
  /// The expression after '='.
  ExprPtr value;
};

/// A call: `conv2d(h, W, stride=1, padding=same)`. Its location is the
/// callee's. Positional arguments come before keyword arguments.
class CallExprAST : public ExprAST {
public:
  CallExprAST(Location calleeLoc, std::string callee, std::vector<ExprPtr> args,
              std::vector<NamedExprAST> kwargs)
      : ExprAST(Kind::Call, std::move(calleeLoc)), callee(std::move(callee)),
        args(std::move(args)), kwargs(std::move(kwargs)) {
    for (const ExprPtr &a : this->args)
      setDepthAbove(a.get());
    for (const NamedExprAST &k : this->kwargs)
      setDepthAbove(k.value.get());
  }

  /// The called function's name.
  llvm::StringRef getCallee() const { return callee; }
  /// Where the callee's name is (the same as loc()).
  const Location &getCalleeLoc() const { return loc(); }
  /// The positional arguments, in order.
  llvm::ArrayRef<ExprPtr> getArgs() const { return args; }
  /// The keyword arguments, in source order.
  llvm::ArrayRef<NamedExprAST> getKwargs() const { return kwargs; }
  /// Returns the keyword argument named `name`, or null (the first one if the
  /// name is repeated).
  const NamedExprAST *getKwarg(llvm::StringRef name) const;

  /// LLVM-style RTTI.
  static bool classof(const ExprAST *e) { return e->getKind() == Kind::Call; }

private:
  std::string callee;
  std::vector<ExprPtr> args;
  std::vector<NamedExprAST> kwargs;
};

/// Evaluates an expression made only of number literals, unary minus and
/// `+ - * / **` (e.g. `1/255`, `7*7*64`, `-0.5`, `2**-3`) in double precision,
/// with IEEE semantics (`1/0` is infinity). Returns std::nullopt for any other
/// expression. The value is computed bottom-up as the tree is built, so this
/// takes constant time (it was a walk of the subtree, called at every node).
inline std::optional<double> foldConstant(const ExprAST &e) {
  return e.getConstant();
}

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

/// One dimension of a tensor type: an integer size or a symbol such as `B`.
struct DimAST {
  /// The symbol's name; empty for an integer dimension.
  std::string symbol;
  /// The size of an integer dimension; 0 for a symbol.
  int64_t size = 0;
  /// Where the dimension is written.
  Location loc;

  /// True if the dimension is a symbol.
  bool isSymbol() const { return !symbol.empty(); }
};

/// A tensor type: `f32[B, 28, 28, 1]`, `i32[B]`, `f32[]` (a scalar).
class TypeAST {
public:
  /// The element types.
  enum class ElementType { F32, I32 };

  TypeAST(Location loc, ElementType elementType, std::vector<DimAST> dims)
      : location(std::move(loc)), elementType(elementType),
        dims(std::move(dims)) {}

  /// The element type's location (where the type starts).
  const Location &loc() const { return location; }
  /// The element type.
  ElementType getElementType() const { return elementType; }
  /// The element type's spelling: "f32" or "i32".
  llvm::StringRef getElementTypeName() const;
  /// The dimensions, outermost first; empty for a scalar.
  llvm::ArrayRef<DimAST> getDims() const { return dims; }

  /// Prints the type as written, e.g. `f32[B, 28, 28, 1]`.
  void print(llvm::raw_ostream &os) const;

private:
  Location location;
  ElementType elementType;
  std::vector<DimAST> dims;
};

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

/// Base class of the top-level statements of a model file.
class DeclAST {
public:
  /// The concrete class of a declaration, for LLVM-style RTTI.
  enum class Kind { Model, Input, Param, Let, Def, Loss, Metric, Output, Data, Train };

  DeclAST(Kind kind, Location loc) : kind(kind), location(std::move(loc)) {}
  virtual ~DeclAST() = default;

  /// The concrete class of this declaration.
  Kind getKind() const { return kind; }
  /// Where the declaration starts: its keyword, or for `NAME = EXPR` its name.
  const Location &loc() const { return location; }

  /// The device of the innermost `device NAME { ... }` block around the
  /// declaration ("cpu", "cuda:N"; "" outside every block): the ops it
  /// creates are pinned there.
  const std::string &getDevice() const { return device; }
  void setDevice(std::string name) { device = std::move(name); }

private:
  const Kind kind;
  Location location;
  std::string device;
};

/// `model NAME`.
class ModelDeclAST : public DeclAST {
public:
  ModelDeclAST(Location loc, std::string name, Location nameLoc)
      : DeclAST(Kind::Model, std::move(loc)), name(std::move(name)),
        nameLoc(std::move(nameLoc)) {}

  /// The model's name.
  llvm::StringRef getName() const { return name; }
  /// Where the name is.
  const Location &getNameLoc() const { return nameLoc; }

  /// LLVM-style RTTI.
  static bool classof(const DeclAST *d) { return d->getKind() == Kind::Model; }

private:
  std::string name;
  Location nameLoc;
};

/// `input NAME: TYPE`.
class InputDeclAST : public DeclAST {
public:
  InputDeclAST(Location loc, std::string name, Location nameLoc, TypeAST type)
      : DeclAST(Kind::Input, std::move(loc)), name(std::move(name)),
        nameLoc(std::move(nameLoc)), type(std::move(type)) {}

  /// The input's name.
  llvm::StringRef getName() const { return name; }
  /// Where the name is.
  const Location &getNameLoc() const { return nameLoc; }
  /// The declared type.
  const TypeAST &getType() const { return type; }

  /// LLVM-style RTTI.
  static bool classof(const DeclAST *d) { return d->getKind() == Kind::Input; }

private:
  std::string name;
  Location nameLoc;
  TypeAST type;
};

/// `param NAME: TYPE = INIT`.
class ParamDeclAST : public DeclAST {
public:
  ParamDeclAST(Location loc, std::string name, Location nameLoc, TypeAST type,
               ExprPtr init)
      : DeclAST(Kind::Param, std::move(loc)), name(std::move(name)),
        nameLoc(std::move(nameLoc)), type(std::move(type)),
        init(std::move(init)) {}

  /// The param's name.
  llvm::StringRef getName() const { return name; }
  /// Where the name is.
  const Location &getNameLoc() const { return nameLoc; }
  /// The declared type.
  const TypeAST &getType() const { return type; }
  /// The initializer: a call such as `fill(0.1)` or a literal tensor.
  const ExprAST &getInit() const { return *init; }

  /// LLVM-style RTTI.
  static bool classof(const DeclAST *d) { return d->getKind() == Kind::Param; }

private:
  std::string name;
  Location nameLoc;
  TypeAST type;
  ExprPtr init;
};

/// `NAME = EXPR`. Its location is the name's.
class LetDeclAST : public DeclAST {
public:
  LetDeclAST(Location loc, std::string name, ExprPtr value)
      : DeclAST(Kind::Let, std::move(loc)), name(std::move(name)),
        value(std::move(value)) {}

  /// The bound name.
  llvm::StringRef getName() const { return name; }
  /// Where the name is (the same as loc()).
  const Location &getNameLoc() const { return loc(); }
  /// The bound expression.
  const ExprAST &getValue() const { return *value; }

  /// LLVM-style RTTI.
  static bool classof(const DeclAST *d) { return d->getKind() == Kind::Let; }

private:
  std::string name;
  ExprPtr value;
};

/// A parameter of a `def`: its name and where it is.
struct DefParamAST {
  /// The parameter's name.
  std::string name;
  /// Where the name is.
  Location loc;
};

/// `def NAME(A, B, ...) = EXPR`.
class DefDeclAST : public DeclAST {
public:
  DefDeclAST(Location loc, std::string name, Location nameLoc,
             std::vector<DefParamAST> params, ExprPtr body)
      : DeclAST(Kind::Def, std::move(loc)), name(std::move(name)),
        nameLoc(std::move(nameLoc)), params(std::move(params)),
        body(std::move(body)) {}

  /// The function's name.
  llvm::StringRef getName() const { return name; }
  /// Where the name is.
  const Location &getNameLoc() const { return nameLoc; }
  /// The parameters, in order (possibly none).
  llvm::ArrayRef<DefParamAST> getParams() const { return params; }
  /// The body.
  const ExprAST &getBody() const { return *body; }

  /// LLVM-style RTTI.
  static bool classof(const DeclAST *d) { return d->getKind() == Kind::Def; }

private:
  std::string name;
  Location nameLoc;
  std::vector<DefParamAST> params;
  ExprPtr body;
};

/// `loss = EXPR`.
class LossDeclAST : public DeclAST {
public:
  LossDeclAST(Location loc, ExprPtr value)
      : DeclAST(Kind::Loss, std::move(loc)), value(std::move(value)) {}

  /// The expression to minimise.
  const ExprAST &getValue() const { return *value; }

  /// LLVM-style RTTI.
  static bool classof(const DeclAST *d) { return d->getKind() == Kind::Loss; }

private:
  ExprPtr value;
};

/// `metric NAME = EXPR`.
class MetricDeclAST : public DeclAST {
public:
  MetricDeclAST(Location loc, std::string name, Location nameLoc, ExprPtr value)
      : DeclAST(Kind::Metric, std::move(loc)), name(std::move(name)),
        nameLoc(std::move(nameLoc)), value(std::move(value)) {}

  /// The metric's name.
  llvm::StringRef getName() const { return name; }
  /// Where the name is.
  const Location &getNameLoc() const { return nameLoc; }
  /// The metric's expression.
  const ExprAST &getValue() const { return *value; }

  /// LLVM-style RTTI.
  static bool classof(const DeclAST *d) { return d->getKind() == Kind::Metric; }

private:
  std::string name;
  Location nameLoc;
  ExprPtr value;
};

/// `output NAME = EXPR` or `output NAME` (an output of a value bound earlier).
class OutputDeclAST : public DeclAST {
public:
  OutputDeclAST(Location loc, std::string name, Location nameLoc, ExprPtr value)
      : DeclAST(Kind::Output, std::move(loc)), name(std::move(name)),
        nameLoc(std::move(nameLoc)), value(std::move(value)) {}

  /// The output's name.
  llvm::StringRef getName() const { return name; }
  /// Where the name is.
  const Location &getNameLoc() const { return nameLoc; }
  /// The output's expression, or null for `output NAME`.
  const ExprAST *getValue() const { return value.get(); }

  /// LLVM-style RTTI.
  static bool classof(const DeclAST *d) { return d->getKind() == Kind::Output; }

private:
  std::string name;
  Location nameLoc;
  ExprPtr value;
};

/// `data SET { INPUT = SOURCE; ... }`. The set name is not checked here.
class DataDeclAST : public DeclAST {
public:
  DataDeclAST(Location loc, std::string setName, Location setLoc,
              std::vector<NamedExprAST> entries)
      : DeclAST(Kind::Data, std::move(loc)), setName(std::move(setName)),
        setLoc(std::move(setLoc)), entries(std::move(entries)) {}

  /// The data set's name, e.g. "train".
  llvm::StringRef getSetName() const { return setName; }
  /// Where the set name is.
  const Location &getSetLoc() const { return setLoc; }
  /// The entries: an input name and its source, in source order.
  llvm::ArrayRef<NamedExprAST> getEntries() const { return entries; }

  /// LLVM-style RTTI.
  static bool classof(const DeclAST *d) { return d->getKind() == Kind::Data; }

private:
  std::string setName;
  Location setLoc;
  std::vector<NamedExprAST> entries;
};

/// `train { KEY = VALUE ... }`. Keys are not checked here.
class TrainDeclAST : public DeclAST {
public:
  TrainDeclAST(Location loc, std::vector<NamedExprAST> entries)
      : DeclAST(Kind::Train, std::move(loc)), entries(std::move(entries)) {}

  /// The entries: a key and its value, in source order.
  llvm::ArrayRef<NamedExprAST> getEntries() const { return entries; }

  /// LLVM-style RTTI.
  static bool classof(const DeclAST *d) { return d->getKind() == Kind::Train; }

private:
  std::vector<NamedExprAST> entries;
};

/// An owned declaration.
using DeclPtr = std::unique_ptr<DeclAST>;

/// A whole model file: its declarations in source order.
class ModuleAST {
public:
  ModuleAST(Location loc, std::vector<DeclPtr> decls)
      : location(std::move(loc)), decls(std::move(decls)) {}

  /// The start of the file (line 1, column 1).
  const Location &loc() const { return location; }
  /// The declarations, in source order.
  llvm::ArrayRef<DeclPtr> getDecls() const { return decls; }

  /// Iterates over the declarations.
  auto begin() const { return decls.begin(); }
  auto end() const { return decls.end(); }

private:
  Location location;
  std::vector<DeclPtr> decls;
};

//===----------------------------------------------------------------------===//
// Dump
//===----------------------------------------------------------------------===//

/// Prints the tree for `dlc compile --emit=ast`: one node per line, indented
/// two spaces per depth, each ending in `@file:line:col`.
void dump(const ModuleAST &m, llvm::raw_ostream &os);
/// Prints one expression tree as dump(ModuleAST) does, starting at `indent`
/// levels of indentation.
void dump(const ExprAST &e, llvm::raw_ostream &os, unsigned indent = 0);

} // namespace dlc::frontend

#endif // DLC_FRONTEND_AST_H
