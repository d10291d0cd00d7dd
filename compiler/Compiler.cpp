//===- Compiler.cpp - from model source to entry points ---------------------===//
//
// Glue between the frontend, the passes and the targets. Errors are MLIR
// diagnostics, reported through whatever handler the caller installed.
//
//===----------------------------------------------------------------------===//

#include "compiler/Compiler.h"

#include "dialects/DL/IR/DLOps.h"
#include "frontend/MLIRGen.h"
#include "frontend/Parser.h"
#include "passes/Passes.h"
#include "runtime/Contracts.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/ADT/BitVector.h"

using namespace mlir;

namespace dlc {

void registerCompilerDialects(MLIRContext &context) {
  static bool passesRegistered = [] {
    registerAllPasses();
    mlir::dlc::registerDLCPasses();
    return true;
  }();
  (void)passesRegistered;
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
  registry.insert<dl::DLDialect>();
  context.appendDialectRegistry(registry);
  context.loadDialect<dl::DLDialect, func::FuncDialect>();
}

std::unique_ptr<frontend::ModuleAST>
parseModel(MLIRContext &context, llvm::SourceMgr &sourceMgr) {
  const llvm::MemoryBuffer *buffer =
      sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
  return frontend::parseModule(
      buffer->getBuffer(), buffer->getBufferIdentifier(),
      [&](const frontend::Location &loc, const llvm::Twine &message) {
        emitError(frontend::toMLIRLocation(context, loc)) << message;
      });
}

OwningOpRef<ModuleOp> buildDLModule(MLIRContext &context,
                                         llvm::SourceMgr &sourceMgr,
                                         const CompileOptions &options) {
  auto ast = parseModel(context, sourceMgr);
  if (!ast)
    return nullptr;
  OwningOpRef<ModuleOp> module = frontend::mlirGen(context, *ast);
  if (!module)
    return nullptr;
  PassManager pm(&context);
  buildDLPipeline(pm, options);
  if (failed(pm.run(*module)))
    return nullptr;
  return module;
}

//===----------------------------------------------------------------------===//
// Model description
//===----------------------------------------------------------------------===//

static runtime::SourceLoc sourceLoc(Location loc) {
  if (auto fused = dyn_cast<CallSiteLoc>(loc))
    return sourceLoc(fused.getCallee());
  if (auto named = dyn_cast<NameLoc>(loc))
    return sourceLoc(named.getChildLoc());
  if (auto file = dyn_cast<FileLineColLoc>(loc))
    return {file.getFilename().str(), file.getLine(), file.getColumn()};
  return {};
}

static runtime::DType dtypeOf(Type t) {
  return cast<ShapedType>(t).getElementType().isInteger(32) ? runtime::DType::I32
                                                            : runtime::DType::F32;
}

static std::vector<int64_t> shapeOf(Type t) {
  std::vector<int64_t> shape;
  for (int64_t d : cast<RankedTensorType>(t).getShape())
    shape.push_back(ShapedType::isDynamic(d) ? -1 : d);
  return shape;
}

static std::vector<double> valuesOf(ElementsAttr attr) {
  std::vector<double> out;
  auto dense = cast<DenseElementsAttr>(attr);
  if (dense.getElementType().isInteger(32)) {
    for (const APInt &v : dense.getValues<APInt>())
      out.push_back(static_cast<double>(v.getSExtValue()));
  } else {
    for (const APFloat &v : dense.getValues<APFloat>())
      out.push_back(v.convertToDouble());
  }
  return out;
}

runtime::ModelSpec extractModelSpec(ModuleOp module) {
  runtime::ModelSpec spec;
  spec.name = module.getSymName() ? module.getSymName()->str() : "model";
  spec.file = sourceLoc(module.getLoc()).file;
  for (Operation &op : module.getOps()) {
    if (auto in = dyn_cast<dl::InputOp>(op)) {
      runtime::InputSpec s;
      s.name = in.getSymName().str();
      s.dtype = dtypeOf(in.getType());
      s.shape = shapeOf(in.getType());
      for (Attribute a : in.getDimNames())
        s.dimNames.push_back(cast<StringAttr>(a).str());
      s.loc = sourceLoc(in.getLoc());
      spec.inputs.push_back(std::move(s));
    } else if (auto p = dyn_cast<dl::ParamOp>(op)) {
      runtime::ParamSpec s;
      s.name = p.getSymName().str();
      s.dtype = dtypeOf(p.getType());
      s.shape = shapeOf(p.getType());
      s.init = p.getInit().str();
      s.initArgs.assign(p.getInitArgs().begin(), p.getInitArgs().end());
      if (p.getValue())
        s.literal = valuesOf(*p.getValue());
      s.loc = sourceLoc(p.getLoc());
      spec.params.push_back(std::move(s));
    } else if (auto d = dyn_cast<dl::DataSourceOp>(op)) {
      runtime::DataSourceSpec s;
      s.set = d.getSet().str();
      s.input = d.getInput().str();
      s.kind = d.getKind().str();
      if (d.getPath())
        s.path = d.getPath()->str();
      if (d.getScale())
        s.scale = d.getScale()->convertToDouble();
      if (d.getValue()) {
        s.literal = valuesOf(*d.getValue());
        s.literalShape = shapeOf(d.getValue()->getType());
      }
      s.loc = sourceLoc(d.getLoc());
      spec.data.push_back(std::move(s));
    } else if (auto t = dyn_cast<dl::TrainConfigOp>(op)) {
      runtime::TrainSpec s;
      s.optimizer = t.getOptimizer().str();
      s.optimizerArgs.assign(t.getOptimizerArgs().begin(), t.getOptimizerArgs().end());
      s.batch = t.getBatch();
      s.steps = t.getSteps();
      s.epochs = t.getEpochs();
      s.evalEvery = t.getEvalEvery();
      s.shuffle = t.getShuffle();
      s.validation = t.getValidation();
      s.logEvery = t.getLogEvery();
      s.seed = t.getSeed();
      if (auto freeze = t.getFreeze())
        for (Attribute a : *freeze)
          s.freeze.push_back(cast<FlatSymbolRefAttr>(a).getValue().str());
      s.loc = sourceLoc(t.getLoc());
      spec.train = s;
    }
  }
  return spec;
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

LogicalResult buildRunFunction(ModuleOp module,
                                    const std::set<std::string> &fed) {
  auto graph = module.lookupSymbol<func::FuncOp>(contract::kGraphEntry);
  if (!graph)
    return module.emitError("the module has no @graph function");
  OpBuilder builder(module.getContext());
  builder.setInsertionPointToEnd(module.getBody());
  auto run = cast<func::FuncOp>(builder.clone(*graph));
  run.setSymName(contract::kRunEntry);

  run.walk([](dl::DropoutOp op) {
    op.getResult().replaceAllUsesWith(op.getInput());
    op.erase();
  });

  // Values that depend on an input that is not fed.
  llvm::DenseSet<Value> missing;
  llvm::BitVector unfed(run.getNumArguments());
  for (BlockArgument arg : run.getArguments()) {
    auto input = run.getArgAttrOfType<FlatSymbolRefAttr>(arg.getArgNumber(),
                                                         contract::kInputAttr);
    if (input && !fed.count(input.getValue().str())) {
      missing.insert(arg);
      unfed.set(arg.getArgNumber());
    }
  }
  run.walk([&](Operation *op) {
    if (llvm::any_of(op->getOperands(), [&](Value v) { return missing.count(v); }))
      for (Value r : op->getResults())
        missing.insert(r);
  });

  auto ret = cast<func::ReturnOp>(run.getBody().back().getTerminator());
  llvm::BitVector dropResults(ret.getNumOperands());
  for (auto [i, v] : llvm::enumerate(ret.getOperands()))
    if (missing.count(v))
      dropResults.set(i);
  if (failed(run.eraseResults(dropResults)))
    return failure();
  ret->eraseOperands(dropResults);

  // Erase what no longer feeds a result, then the unfed inputs.
  SmallVector<Operation *> ops;
  run.walk([&](Operation *op) {
    if (op != ret.getOperation())
      ops.push_back(op);
  });
  for (Operation *op : llvm::reverse(ops))
    if (op->use_empty() && isPure(op))
      op->erase();
  for (int i = unfed.size() - 1; i >= 0; --i)
    if (unfed.test(i) && !run.getArgument(i).use_empty())
      unfed.reset(i);
  if (failed(run.eraseArguments(unfed)))
    return failure();
  run->setAttr("llvm.emit_c_interface", UnitAttr::get(module.getContext()));
  return success();
}

void keepOnlyFunctions(ModuleOp module, ArrayRef<std::string> keep) {
  SmallVector<func::FuncOp> drop;
  for (auto f : module.getOps<func::FuncOp>()) {
    if (llvm::is_contained(keep, f.getSymName().str()))
      f->setAttr("llvm.emit_c_interface", UnitAttr::get(module.getContext()));
    else
      drop.push_back(f);
  }
  for (auto f : drop)
    f.erase();
}

runtime::EntrySpec describeEntry(ModuleOp module, StringRef name) {
  auto f = module.lookupSymbol<func::FuncOp>(name);
  runtime::EntrySpec e;
  e.name = name.str();
  for (unsigned i = 0; i < f.getNumArguments(); ++i) {
    runtime::ValueSpec v;
    Type t = f.getArgument(i).getType();
    if (auto s =
            f.getArgAttrOfType<FlatSymbolRefAttr>(i, contract::kInputAttr)) {
      v.role = contract::kRoleInput;
      v.name = s.getValue().str();
    } else if (auto s = f.getArgAttrOfType<FlatSymbolRefAttr>(
                   i, contract::kParamAttr)) {
      v.role = contract::kRoleParam;
      v.name = s.getValue().str();
    } else if (auto s =
                   f.getArgAttrOfType<StringAttr>(i, contract::kStateAttr)) {
      v.role = contract::kRoleState;
      v.name = s.str();
    } else if (f.getArgAttr(i, contract::kStepAttr)) {
      v.role = contract::kRoleStep;
      v.name = contract::kRoleStep;
    } else {
      v.role = contract::kRoleSeed;
      v.name = contract::kRoleSeed;
    }
    if (v.role != contract::kRoleSeed) {
      v.dtype = dtypeOf(t);
      v.shape = shapeOf(t);
    }
    e.args.push_back(std::move(v));
  }
  for (unsigned i = 0; i < f.getNumResults(); ++i) {
    runtime::ValueSpec v;
    if (auto role = f.getResultAttrOfType<StringAttr>(i, contract::kRoleAttr))
      v.role = role.str();
    if (auto n = f.getResultAttrOfType<StringAttr>(i, contract::kNameAttr))
      v.name = n.str();
    v.dtype = dtypeOf(f.getResultTypes()[i]);
    v.shape = shapeOf(f.getResultTypes()[i]);
    e.results.push_back(std::move(v));
  }
  return e;
}

LogicalResult lowerTo(ModuleOp module, Phase from, Phase to,
                           const CompileOptions &options) {
  PassManager pm(module.getContext());
  if (options.timePasses)
    pm.enableTiming();
  if (from < Phase::Grad && to >= Phase::Grad && to < Phase::Linalg)
    buildGradPipeline(pm, options);
  if (from < Phase::Linalg && to >= Phase::Linalg)
    buildLinalgPipeline(pm, options);
  if (from < Phase::LLVM && to >= Phase::LLVM)
    buildLLVMPipeline(pm, options);
  return pm.run(module);
}

} // namespace dlc
