//===- AST.cpp - Abstract syntax tree of the dl language ------------------===//
//
// Implements the small helpers of the AST (operator spellings, constant
// folding) and the tree dump behind `dlc compile --emit=ast`. The dump prints
// one node per line, indented by depth, ending in `@file:line:col`.
//
//===----------------------------------------------------------------------===//

#include "frontend/AST.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/ErrorHandling.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

using namespace dlc::frontend;
using llvm::dyn_cast;

//===----------------------------------------------------------------------===//
// Node helpers
//===----------------------------------------------------------------------===//

llvm::StringRef UnaryExprAST::getOpSpelling(Op op) {
  switch (op) {
  case Op::Neg:
    return "-";
  }
  llvm_unreachable("unknown unary operator");
}

llvm::StringRef BinaryExprAST::getOpSpelling(Op op) {
  switch (op) {
  case Op::Eq:
    return "==";
  case Op::Ne:
    return "!=";
  case Op::Lt:
    return "<";
  case Op::Le:
    return "<=";
  case Op::Gt:
    return ">";
  case Op::Ge:
    return ">=";
  case Op::Add:
    return "+";
  case Op::Sub:
    return "-";
  case Op::Mul:
    return "*";
  case Op::Div:
    return "/";
  case Op::Pow:
    return "**";
  }
  llvm_unreachable("unknown binary operator");
}

const NamedExprAST *CallExprAST::getKwarg(llvm::StringRef name) const {
  for (const NamedExprAST &kwarg : kwargs)
    if (kwarg.name == name)
      return &kwarg;
  return nullptr;
}

llvm::StringRef TypeAST::getElementTypeName() const {
  switch (elementType) {
  case ElementType::F32:
    return "f32";
  case ElementType::I32:
    return "i32";
  }
  llvm_unreachable("unknown element type");
}

void TypeAST::print(llvm::raw_ostream &os) const {
  os << getElementTypeName() << '[';
  llvm::interleaveComma(dims, os, [&](const DimAST &dim) {
    if (dim.isSymbol())
      os << dim.symbol;
    else
      os << dim.size;
  });
  os << ']';
}

//===----------------------------------------------------------------------===//
// Constant folding
//===----------------------------------------------------------------------===//

std::optional<double> UnaryExprAST::fold() const {
  std::optional<double> v = operand->getConstant();
  if (!v)
    return std::nullopt;
  switch (op) {
  case Op::Neg:
    return -*v;
  }
  llvm_unreachable("unknown unary operator");
}

std::optional<double> BinaryExprAST::fold() const {
  std::optional<double> l = lhs->getConstant(), r = rhs->getConstant();
  if (!l || !r || isComparison(op))
    return std::nullopt;
  switch (op) {
  case Op::Add:
    return *l + *r;
  case Op::Sub:
    return *l - *r;
  case Op::Mul:
    return *l * *r;
  case Op::Div:
    return *l / *r;
  case Op::Pow:
    return std::pow(*l, *r);
  default:
    return std::nullopt;
  }
}

//===----------------------------------------------------------------------===//
// Dump
//===----------------------------------------------------------------------===//

namespace {

/// Formats a number with the fewest digits that read back as the same double;
/// a float literal with an integral value keeps a ".0" so that `3.0` and `3`
/// dump differently.
std::string formatNumber(double value, bool isInteger) {
  char buffer[32];
  // Integral values print in full (`50`, not `5e+01`) while they are exact.
  if (std::isfinite(value) && value == std::floor(value) &&
      std::fabs(value) < 1e15) {
    std::snprintf(buffer, sizeof(buffer), "%.0f", value);
    std::string text = buffer;
    if (text == "-0")
      text = "0";
    return isInteger ? text : text + ".0";
  }
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value)
      break;
  }
  std::string text = buffer;
  if (!isInteger && std::isfinite(value) &&
      text.find_first_of(".e") == std::string::npos)
    text += ".0";
  return text;
}

/// Prints nodes one per line, indented two spaces per depth.
class ASTDumper {
public:
  explicit ASTDumper(llvm::raw_ostream &os) : os(os) {}

  void dumpModule(const ModuleAST &m);
  void dumpDecl(const DeclAST &d);
  void dumpDeclBody(const DeclAST &d);
  void dumpExpr(const ExprAST &e);
  /// Prints `name` followed by its value, one level deeper.
  void dumpNamed(llvm::StringRef label, const NamedExprAST &named);

  unsigned depth = 0;

private:
  /// Starts a line at the current depth.
  llvm::raw_ostream &line() { return os.indent(2 * depth); }
  /// Ends a line with ` @file:line:col`.
  void end(const Location &loc) { os << " @" << loc << '\n'; }

  /// Increments the depth for the lifetime of the object.
  struct Nest {
    explicit Nest(ASTDumper &d) : d(d) { ++d.depth; }
    ~Nest() { --d.depth; }
    ASTDumper &d;
  };

  llvm::raw_ostream &os;
};

void ASTDumper::dumpModule(const ModuleAST &m) {
  line() << "Module";
  end(m.loc());
  Nest nest(*this);
  for (const DeclPtr &decl : m)
    dumpDecl(*decl);
}

void ASTDumper::dumpNamed(llvm::StringRef label, const NamedExprAST &named) {
  line() << label << ' ' << named.name;
  end(named.nameLoc);
  Nest nest(*this);
  dumpExpr(*named.value);
}

void ASTDumper::dumpDecl(const DeclAST &d) {
  if (!d.getDevice().empty()) {
    line() << "Device " << d.getDevice() << '\n';
    Nest nest(*this);
    return dumpDeclBody(d);
  }
  dumpDeclBody(d);
}

void ASTDumper::dumpDeclBody(const DeclAST &d) {
  llvm::TypeSwitch<const DeclAST *>(&d)
      .Case([&](const ModelDeclAST *model) {
        line() << "Model " << model->getName();
        end(model->loc());
      })
      .Case([&](const InputDeclAST *input) {
        line() << "Input " << input->getName() << ' ';
        input->getType().print(os);
        end(input->loc());
      })
      .Case([&](const ParamDeclAST *param) {
        line() << "Param " << param->getName() << ' ';
        param->getType().print(os);
        end(param->loc());
        Nest nest(*this);
        dumpExpr(param->getInit());
      })
      .Case([&](const LetDeclAST *let) {
        line() << "Let " << let->getName();
        end(let->loc());
        Nest nest(*this);
        dumpExpr(let->getValue());
      })
      .Case([&](const DefDeclAST *def) {
        line() << "Def " << def->getName() << '(';
        llvm::interleaveComma(def->getParams(), os,
                              [&](const DefParamAST &p) { os << p.name; });
        os << ')';
        end(def->loc());
        Nest nest(*this);
        dumpExpr(def->getBody());
      })
      .Case([&](const LossDeclAST *loss) {
        line() << "Loss";
        end(loss->loc());
        Nest nest(*this);
        dumpExpr(loss->getValue());
      })
      .Case([&](const MetricDeclAST *metric) {
        line() << "Metric " << metric->getName();
        end(metric->loc());
        Nest nest(*this);
        dumpExpr(metric->getValue());
      })
      .Case([&](const OutputDeclAST *output) {
        line() << "Output " << output->getName();
        end(output->loc());
        if (const ExprAST *value = output->getValue()) {
          Nest nest(*this);
          dumpExpr(*value);
        }
      })
      .Case([&](const DataDeclAST *data) {
        line() << "Data " << data->getSetName();
        end(data->loc());
        Nest nest(*this);
        for (const NamedExprAST &entry : data->getEntries())
          dumpNamed("Entry", entry);
      })
      .Case([&](const TrainDeclAST *train) {
        line() << "Train";
        end(train->loc());
        Nest nest(*this);
        for (const NamedExprAST &entry : train->getEntries())
          dumpNamed("Entry", entry);
      });
}

void ASTDumper::dumpExpr(const ExprAST &e) {
  llvm::TypeSwitch<const ExprAST *>(&e)
      .Case([&](const NumberExprAST *num) {
        line() << "Number " << formatNumber(num->getValue(), num->isInteger());
      })
      .Case([&](const StringExprAST *str) {
        line() << "String \"";
        llvm::printEscapedString(str->getValue(), os);
        os << '"';
      })
      .Case([&](const BoolExprAST *b) {
        line() << "Bool " << (b->getValue() ? "true" : "false");
      })
      .Case([&](const NameExprAST *name) {
        line() << "Name " << name->getName();
      })
      .Case([&](const TensorLiteralExprAST *) { line() << "Tensor"; })
      .Case([&](const UnaryExprAST *unary) {
        line() << "Unary " << UnaryExprAST::getOpSpelling(unary->getOp());
      })
      .Case([&](const BinaryExprAST *binary) {
        line() << "Binary " << BinaryExprAST::getOpSpelling(binary->getOp());
      })
      .Case([&](const CallExprAST *call) {
        line() << "Call " << call->getCallee();
      });
  end(e.loc());

  Nest nest(*this);
  if (auto *tensor = dyn_cast<TensorLiteralExprAST>(&e)) {
    for (const ExprPtr &element : tensor->getElements())
      dumpExpr(*element);
  } else if (auto *unary = dyn_cast<UnaryExprAST>(&e)) {
    dumpExpr(unary->getOperand());
  } else if (auto *binary = dyn_cast<BinaryExprAST>(&e)) {
    dumpExpr(binary->getLHS());
    dumpExpr(binary->getRHS());
  } else if (auto *call = dyn_cast<CallExprAST>(&e)) {
    for (const ExprPtr &arg : call->getArgs())
      dumpExpr(*arg);
    for (const NamedExprAST &kwarg : call->getKwargs())
      dumpNamed("Kwarg", kwarg);
  }
}

} // namespace

void dlc::frontend::dump(const ModuleAST &m, llvm::raw_ostream &os) {
  ASTDumper(os).dumpModule(m);
}

void dlc::frontend::dump(const ExprAST &e, llvm::raw_ostream &os,
                         unsigned indent) {
  ASTDumper dumper(os);
  dumper.depth = indent;
  dumper.dumpExpr(e);
}
