//===- MLIRGenDecl.cpp - input, param and data declarations ---------------===//
//
// `input` and `param` become dl.input/dl.param declarations and arguments of
// @graph (named by dl.input/dl.param argument attributes); initializers are
// checked against language::initializers(). `data` blocks become
// dl.data_source ops, literal data checked against the inputs' types.
//
//===----------------------------------------------------------------------===//

#include "frontend/MLIRGenImpl.h"

#include "runtime/Contracts.h"

#include <cmath>
#include <limits>

namespace dlc::frontend::detail {

std::optional<mlir::RankedTensorType>
MLIRGenImpl::genType(const TypeAST &t,
                     llvm::SmallVectorImpl<mlir::Attribute> *dimNames) {
  llvm::SmallVector<int64_t> shape;
  // The bytes of the static dimensions must be countable (4-byte elements).
  int64_t bytes = 4;
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
    if (bytes > std::numeric_limits<int64_t>::max() / d.size) {
      error(d.loc) << "the tensor is too large: its size in bytes overflows "
                      "64 bits at this dimension";
      return std::nullopt;
    }
    bytes *= d.size;
    shape.push_back(d.size);
    if (dimNames)
      dimNames->push_back(builder.getStringAttr(""));
  }
  Type elem = t.getElementType() == TypeAST::ElementType::F32
                  ? Type(builder.getF32Type())
                  : Type(builder.getIntegerType(32));
  return mlir::RankedTensorType::get(shape, elem);
}

bool MLIRGenImpl::genInput(const InputDeclAST &d) {
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

bool MLIRGenImpl::genParam(const ParamDeclAST &d) {
  for (const DimAST &dim : d.getType().getDims())
    if (dim.isSymbol()) {
      error(dim.loc) << "param '" << d.getName() << "' needs a static shape; '"
                     << dim.symbol << "' is a symbol";
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
                         << " elements but param '" << d.getName() << "' has "
                         << type->getNumElements();
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
    auto op = mlir::dl::ParamOp::create(builder, loc(d.loc()), d.getName(),
                                        *type, init, args, value);
    (void)op;
  }
  params.insert(d.getName());
  argAttrs.push_back(builder.getDictionaryAttr(
      attr(contract::kParamAttr,
           mlir::FlatSymbolRefAttr::get(&context, d.getName()))));
  return true;
}

bool MLIRGenImpl::checkDataShape(
    const NamedExprAST &literal, mlir::ShapedType dataType, llvm::StringRef set,
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

bool MLIRGenImpl::genData(const DataDeclAST &d) {
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
      const ::dlc::language::Signature *source =
          ::dlc::language::findDataSource(call->getCallee());
      if (!source) {
        error(call->loc()) << "unknown data source '" << call->getCallee()
                           << "'; expected idx(\"file\", scale=S), "
                              "npy(\"file.npy\", scale=S) or a literal tensor";
        return false;
      }
      auto bound = bindArgs(*call, *source, "data source");
      if (!bound)
        return false;
      auto *path = dyn_cast<StringExprAST>(bound->args[0]);
      if (!path) {
        error(bound->args[0]->loc())
            << "expected a file path string for " << call->getCallee() << ", got "
            << describeExpr(*bound->args[0]);
        return false;
      }
      mlir::FloatAttr scale;
      if (const ExprAST *s = bound->get(1)) {
        // (constNumber refuses inf and NaN, which would train on NaNs.)
        auto v = constNumber(*s, "'scale'");
        if (!v)
          return false;
        scale = builder.getF64FloatAttr(*v);
      }
      mlir::dl::DataSourceOp::create(builder, l, builder.getStringAttr(set),
                                     inputRef, builder.getStringAttr(call->getCallee()),
                                     builder.getStringAttr(path->getValue()),
                                     scale, nullptr);
      continue;
    }
    if (!isLiteral(*e.value)) {
      error(e.value->loc()) << "expected a data source idx(\"file\"), "
                               "npy(\"file.npy\") or a literal tensor, got "
                            << describeExpr(*e.value);
      return false;
    }
    auto value = literalAttr(*e.value, input->second.second.getElementType());
    if (!value || !checkDataShape(e, value.getType(), set, symbolSizes))
      return false;
    mlir::dl::DataSourceOp::create(builder, l, builder.getStringAttr(set),
                                   inputRef, builder.getStringAttr("literal"),
                                   nullptr, nullptr, value);
  }
  return true;
}

} // namespace dlc::frontend::detail
