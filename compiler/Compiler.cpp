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
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InterleavedRange.h"

#include "llvm/Support/ProgramStack.h"
#include "llvm/Support/thread.h"

using namespace mlir;

namespace dlc {

void registerCompilerDialects(MLIRContext &context) {
  static bool passesRegistered = [] {
    registerAllPasses();
    mlir::dlc::registerDLCPasses();
    registerTargetPasses();
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

void runOnFrontendStack(llvm::function_ref<void()> fn) {
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
  // AddressSanitizer does not follow runOnNewStack's switch to a heap block:
  // a thread of its own with that stack size instead.
  llvm::thread(std::optional<unsigned>(kFrontendStackBytes), fn).join();
  return;
#endif
#endif
  llvm::runOnNewStack(kFrontendStackBytes, fn);
}

OwningOpRef<ModuleOp> buildDLModule(MLIRContext &context,
                                         llvm::SourceMgr &sourceMgr,
                                         const CompileOptions &options) {
  OwningOpRef<ModuleOp> module;
  runOnFrontendStack([&] {
    if (auto ast = parseModel(context, sourceMgr))
      module = frontend::mlirGen(context, *ast);
  });
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
  if (auto fused = dyn_cast<FusedLoc>(loc))
    return fused.getLocations().empty() ? runtime::SourceLoc()
                                        : sourceLoc(fused.getLocations().front());
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
  // Inputs whose values are class ids: the labels of softmax_cross_entropy
  // (its logits' last dimension is the class count) and of one_hot (its
  // depth). The runtime checks every fed label against the count.
  if (auto graph = module.lookupSymbol<func::FuncOp>(contract::kGraphEntry);
      graph && !graph.isExternal())
    for (BlockArgument arg : graph.getArguments()) {
      auto input = graph.getArgAttrOfType<FlatSymbolRefAttr>(arg.getArgNumber(),
                                                           contract::kInputAttr);
      if (!input || !isa<IntegerType>(getElementTypeOrSelf(arg.getType())))
        continue;
      int64_t classes = 0;
      for (OpOperand &use : arg.getUses()) {
        int64_t count = 0;
        if (auto ce = dyn_cast<dl::SoftmaxCrossEntropyOp>(use.getOwner())) {
          auto logits = dyn_cast<RankedTensorType>(ce.getLogits().getType());
          if (use.get() == ce.getLabels() && logits && logits.getRank() > 0 &&
              !logits.isDynamicDim(logits.getRank() - 1))
            count = logits.getShape().back();
        } else if (auto oneHot = dyn_cast<dl::OneHotOp>(use.getOwner())) {
          count = oneHot.getDepth();
        }
        if (count > 0)
          classes = classes ? std::min(classes, count) : count;
      }
      for (runtime::InputSpec &in : spec.inputs)
        if (in.name == input.getValue())
          in.classes = classes;
    }
  return spec;
}

/// `?x14x14x32xf32`: a tensor type as MLIR prints it, without `tensor<>`.
static std::string typeText(Type t) {
  std::string text;
  llvm::raw_string_ostream os(text);
  if (auto ranked = dyn_cast<RankedTensorType>(t)) {
    for (int64_t d : ranked.getShape())
      os << (ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d)) << "x";
    ranked.getElementType().print(os);
  } else {
    t.print(os);
  }
  return text;
}

/// An attribute as a reader writes it: `0.5`, `1`, `[2, 2]`, `relu`.
static std::string attrText(Operation &op, NamedAttribute a) {
  // Enums by name.
  if (auto fused = dyn_cast<dl::FusedConv2DOp>(op)) {
    if (a.getName() == fused.getActivationAttrName())
      return dl::stringifyActivation(fused.getActivation()).str();
    if (a.getName() == fused.getPoolAttrName())
      return dl::stringifyPoolKind(fused.getPool()).str();
  }
  if (auto cmp = dyn_cast<dl::CmpOp>(op))
    if (a.getName() == cmp.getPredicateAttrName())
      return dl::stringifyCmpPredicate(cmp.getPredicate()).str();
  std::string text;
  llvm::raw_string_ostream os(text);
  Attribute v = a.getValue();
  if (auto str = dyn_cast<StringAttr>(v))
    os << str.getValue();
  else if (auto f = dyn_cast<FloatAttr>(v))
    os << llvm::format("%g", f.getValueAsDouble());
  else if (auto b = dyn_cast<BoolAttr>(v))
    os << (b.getValue() ? "true" : "false");
  else if (auto i = dyn_cast<IntegerAttr>(v))
    os << i.getValue().getSExtValue();
  else if (auto array = dyn_cast<DenseI64ArrayAttr>(v))
    os << "[" << llvm::interleaved(array.asArrayRef()) << "]";
  else
    v.print(os);
  return text;
}

std::vector<runtime::GraphNode> describeGraph(ModuleOp module) {
  std::vector<runtime::GraphNode> nodes;
  auto f = module.lookupSymbol<func::FuncOp>(contract::kGraphEntry);
  if (!f || f.isExternal())
    return nodes;
  std::set<std::string> frozen;
  for (auto config : module.getOps<dl::TrainConfigOp>())
    if (auto freeze = config.getFreeze())
      for (Attribute a : *freeze)
        frozen.insert(cast<FlatSymbolRefAttr>(a).getValue().str());
  llvm::DenseMap<Value, std::string> names;
  auto setTypes = [](runtime::GraphNode &n, TypeRange types) {
    for (Type t : types) {
      n.types.push_back(typeText(t));
      n.shapes.push_back(isa<RankedTensorType>(t) ? shapeOf(t) : std::vector<int64_t>{});
    }
  };
  for (BlockArgument arg : f.getArguments()) {
    runtime::GraphNode n;
    auto input = f.getArgAttrOfType<FlatSymbolRefAttr>(arg.getArgNumber(),
                                                       contract::kInputAttr);
    auto param = f.getArgAttrOfType<FlatSymbolRefAttr>(arg.getArgNumber(),
                                                       contract::kParamAttr);
    if (!input && !param)
      continue;
    n.name = (input ? input : param).getValue().str();
    n.op = input ? contract::kRoleInput : contract::kRoleParam;
    n.frozen = param && frozen.count(n.name);
    if (Operation *decl = module.lookupSymbol(n.name))
      n.loc = sourceLoc(decl->getLoc());
    setTypes(n, arg.getType());
    names[arg] = n.name;
    nodes.push_back(std::move(n));
  }
  std::map<std::string, int> counts;
  for (Operation &op : f.getBody().front()) {
    runtime::GraphNode n;
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      // Each result is a node named as the model names it.
      for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
        runtime::GraphNode r;
        if (auto name = f.getResultAttrOfType<StringAttr>(i, contract::kNameAttr))
          r.name = name.str();
        if (auto role = f.getResultAttrOfType<StringAttr>(i, contract::kRoleAttr))
          r.op = role.str();
        r.inputs.push_back(names.lookup(v));
        setTypes(r, v.getType());
        r.loc = sourceLoc(v.getLoc());
        nodes.push_back(std::move(r));
      }
      continue;
    }
    std::string kind = op.getName().stripDialect().str();
    n.name = kind + "_" + std::to_string(counts[kind]++);
    n.op = op.getName().getStringRef().str();
    for (Value v : op.getOperands())
      n.inputs.push_back(names.lookup(v));
    for (NamedAttribute a : op.getAttrs())
      n.attrs.emplace_back(a.getName().str(), attrText(op, a));
    n.fused = isa<dl::FusedConv2DOp>(op);
    n.loc = sourceLoc(op.getLoc());
    setTypes(n, op.getResultTypes());
    for (OpResult r : op.getResults())
      names[r] = op.getNumResults() == 1
                     ? n.name
                     : n.name + ":" + std::to_string(r.getResultNumber());
    nodes.push_back(std::move(n));
  }
  return nodes;
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

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
    } else if (auto s = f.getArgAttrOfType<StringAttr>(i, contract::kGradAttr)) {
      v.role = contract::kRoleGradArg;
      v.name = s.str();
    } else if (f.getArgAttr(i, contract::kStepAttr)) {
      v.role = contract::kRoleStep;
      v.name = contract::kRoleStep;
    } else if (f.getArgAttr(i, contract::kBatchOffsetAttr)) {
      v.role = contract::kRoleBatchOffset;
      v.name = contract::kRoleBatchOffset;
    } else {
      v.role = contract::kRoleSeed;
      v.name = contract::kRoleSeed;
    }
    if (v.role != contract::kRoleSeed && v.role != contract::kRoleBatchOffset) {
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
  if (auto checks = f->getAttrOfType<ArrayAttr>(contract::kNumericsChecksAttr)) {
    for (auto c : checks.getAsRange<DictionaryAttr>()) {
      runtime::NumericsCheck check;
      check.op = c.getAs<StringAttr>("op").str();
      Location loc = cast<LocationAttr>(c.get("loc"));
      // Ops the passes built carry the name of what built them around the
      // model op's loc (DeriveGradients: "grad"; BuildTrainStep:
      // "optimizer", "grad_norm").
      if (auto named = dyn_cast<NameLoc>(loc)) {
        StringRef part = named.getName().getValue();
        check.part = part == "grad"        ? "gradient"
                     : part == "grad_norm" ? "gradient norm"
                                           : part.str();
      }
      check.loc = sourceLoc(loc);
      e.checks.push_back(std::move(check));
    }
  }
  return e;
}

LogicalResult runPipeline(ModuleOp module, Stage from, Stage to,
                          const CompileOptions &options, const Target &target,
                          const EntryRequest &request) {
  PassManager pm(module.getContext());
#ifdef NDEBUG
  // Release builds verify the module once its stages have run (each call
  // ends a phase: fusion, the entry points, the lowering to the target),
  // not after every pass: the verifier between passes was 0.05 s of the
  // CNN's 0.45 s of passes. Debug builds verify after every pass, and so
  // does dlc-opt, which the lit tests of single passes run.
  pm.enableVerifier(false);
#endif
  if (options.timePasses)
    pm.enableTiming();
  buildPipeline(pm, from, to, options, target, request);
  if (failed(pm.run(module)))
    return failure();
#ifdef NDEBUG
  return verify(module);
#else
  return success();
#endif
}

} // namespace dlc
