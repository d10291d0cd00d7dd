//===- MLIRGen.cpp - dl AST to the dl dialect -----------------------------===//
//
// Walks the declarations in order with a scoped symbol table (names are
// bound once; def bodies see their arguments and the names bound before the
// def). Each expression becomes dl ops whose result types come from the ops'
// own InferTypeOpInterface, so shape errors are reported at the source
// location of the expression. This file holds the core: the module and
// @graph, op creation, binding names and the declaration dispatch; the
// other MLIRGen*.cpp files hold one concern each (see MLIRGenImpl.h).
//
//===----------------------------------------------------------------------===//

#include "frontend/MLIRGen.h"
#include "frontend/MLIRGenImpl.h"

#include "runtime/Contracts.h"

#include "mlir/IR/Verifier.h"
#include "llvm/Support/Path.h"

#include <cstdio>

using namespace dlc::frontend;

mlir::Location dlc::frontend::toMLIRLocation(mlir::MLIRContext &context,
                                             const Location &loc) {
  return mlir::FileLineColLoc::get(&context, loc.file ? *loc.file : "<unknown>",
                                   loc.line, loc.col);
}

mlir::Value dlc::frontend::createDLOp(mlir::OpBuilder &builder,
                                      llvm::StringRef name, mlir::Location l,
                                      mlir::ValueRange operands,
                                      llvm::ArrayRef<mlir::NamedAttribute> attrs) {
  mlir::OperationState state(l, "dl." + name.str());
  state.addOperands(operands);
  state.addAttributes(attrs);
  state.addTypes(mlir::UnrankedTensorType::get(builder.getF32Type()));
  mlir::Operation *op = builder.create(state);
  auto infer = llvm::cast<mlir::InferTypeOpInterface>(op);
  llvm::SmallVector<mlir::Type> types;
  if (failed(infer.inferReturnTypes(
          builder.getContext(), l, op->getOperands(), op->getRawDictionaryAttrs(),
          op->getPropertiesStorage(), op->getRegions(), types))) {
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

mlir::DictionaryAttr dlc::frontend::resultAttrs(mlir::OpBuilder &builder,
                                                llvm::StringRef role,
                                                llvm::StringRef name) {
  return builder.getDictionaryAttr(
      {builder.getNamedAttr(contract::kRoleAttr, builder.getStringAttr(role)),
       builder.getNamedAttr(contract::kNameAttr, builder.getStringAttr(name))});
}

mlir::LogicalResult dlc::frontend::finishGraph(
    mlir::OpBuilder &builder, mlir::Operation *graphOp, mlir::Location loc,
    mlir::ValueRange results, llvm::ArrayRef<mlir::Attribute> argAttrs,
    llvm::ArrayRef<mlir::Attribute> resultAttrs) {
  auto graph = llvm::cast<mlir::func::FuncOp>(graphOp);
  mlir::Block &body = graph.getBody().front();
  mlir::OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(&body);
  mlir::func::ReturnOp::create(builder, loc, results);
  llvm::SmallVector<mlir::Type> argTypes(body.getArgumentTypes());
  llvm::SmallVector<mlir::Type> resultTypes;
  for (mlir::Value v : results)
    resultTypes.push_back(v.getType());
  graph.setType(builder.getFunctionType(argTypes, resultTypes));
  graph.setAllArgAttrs(argAttrs);
  graph.setAllResultAttrs(resultAttrs);
  return mlir::verify(graph->getParentOp());
}

namespace dlc::frontend::detail {

std::string formatNumber(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", value);
  return buffer;
}

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

Value MLIRGenImpl::create(llvm::StringRef name, mlir::Location l,
                          mlir::ValueRange operands,
                          llvm::ArrayRef<mlir::NamedAttribute> attrs) {
  return createDLOp(builder, name, l, operands, attrs);
}

bool MLIRGenImpl::checkBindable(llvm::StringRef name, const Location &l) {
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

bool MLIRGenImpl::bindName(llvm::StringRef name, const Location &l,
                           Binding binding) {
  if (!checkBindable(name, l))
    return false;
  bound.try_emplace(name, l);
  globals[name] = binding;
  return true;
}

bool MLIRGenImpl::checkScalar(Value v, const Location &l,
                              llvm::StringRef what) {
  auto t = cast<mlir::RankedTensorType>(v.getType());
  if (t.getRank() != 0 || !t.getElementType().isF32()) {
    error(l) << what << " must be an f32 scalar (f32[]), got " << formatType(t)
             << (t.getRank() != 0 ? "; reduce it with mean(...) or sum(...)"
                                  : "; convert it with f32(...)");
    return false;
  }
  return true;
}

bool MLIRGenImpl::genDecl(const DeclAST &decl) {
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
    if (llvm::any_of(metrics,
                     [&](const Result &r) { return r.name == m.getName(); }) ||
        m.getName() == contract::kRoleLoss) {
      error(m.getNameLoc())
          << "metric '" << m.getName() << "' is defined twice";
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
    if (llvm::any_of(outputs,
                     [&](const Result &r) { return r.name == o.getName(); })) {
      error(o.getNameLoc())
          << "output '" << o.getName() << "' is defined twice";
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

mlir::OwningOpRef<mlir::ModuleOp> MLIRGenImpl::generate(const ModuleAST &ast) {
  context.loadDialect<mlir::dl::DLDialect, mlir::func::FuncDialect>();
  mlir::Location moduleLoc = loc(ast.loc());
  module = mlir::ModuleOp::create(moduleLoc);
  // The model's default name is the file's stem.
  std::string stem =
      ast.loc().file ? llvm::sys::path::stem(*ast.loc().file).str() : "model";
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

  for (const DeclPtr &decl : ast.getDecls()) {
    mlir::Operation *before = body->empty() ? nullptr : &body->back();
    if (!genDecl(*decl)) {
      module->erase();
      return nullptr;
    }
    // A declaration in a device block pins every op it created.
    if (!decl->getDevice().empty())
      for (mlir::Operation &op : llvm::make_range(
               before ? std::next(before->getIterator()) : body->begin(), body->end()))
        op.setAttr(contract::kDeviceAttr, builder.getStringAttr(decl->getDevice()));
  }

  llvm::SmallVector<Value> results;
  llvm::SmallVector<mlir::Attribute> resultAttrs;
  auto addResult = [&](const Result &r) {
    results.push_back(r.value);
    resultAttrs.push_back(dlc::frontend::resultAttrs(builder, r.role, r.name));
  };
  if (loss)
    addResult(*loss);
  for (const Result &r : metrics)
    addResult(r);
  for (const Result &r : outputs)
    addResult(r);
  if (failed(finishGraph(builder, graph, moduleLoc, results, argAttrs, resultAttrs))) {
    module->erase();
    return nullptr;
  }
  return module;
}

} // namespace dlc::frontend::detail

mlir::OwningOpRef<mlir::ModuleOp>
dlc::frontend::mlirGen(mlir::MLIRContext &context, const ModuleAST &model) {
  return detail::MLIRGenImpl(context).generate(model);
}
