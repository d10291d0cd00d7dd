//===- ScheduleKernels.cpp - schedule ops one at a time, once per kind ------===//

#include "compiler/targets/cpu/ScheduleKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMAttrs.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "runtime/Contracts.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace mlir::dlc::cpu;

namespace {
/// Producers that a kernel holds a copy of rather than taking their value
/// as an argument: the schedule fuses fills into tiles, and folds
/// constants. An empty tensor is an argument: a kernel that the step keeps
/// calling writes its caller's buffer (a kernel that allocated its result
/// would return it, and buffer deallocation then tracked the ownership of
/// every returned buffer: 1.2 s for a 128-layer MLP).
bool copiedIntoKernel(Operation *def) {
  return def && isa<arith::ConstantOp, linalg::FillOp>(def);
}

/// The kernel of `op`: `func.func @kernel(args) -> op's results` holding
/// copies of the producers above and of `op`, in `module`. Sets `copy` to
/// the copy of `op` and `args` to the values the arguments stand for.
func::FuncOp buildKernel(Operation *op, ModuleOp module, Operation *&copy,
                         llvm::SetVector<Value> &args) {
  llvm::SetVector<Operation *> copied; // Definitions before uses.
  std::function<void(Value)> visit = [&](Value v) {
    Operation *def = v.getDefiningOp();
    if (!copiedIntoKernel(def)) {
      args.insert(v);
      return;
    }
    if (copied.contains(def))
      return;
    for (Value operand : def->getOperands())
      visit(operand);
    copied.insert(def);
  };
  for (Value v : op->getOperands())
    visit(v);
  // Values the op's body reads from above (tensor.extract of a table).
  llvm::SetVector<Value> above;
  getUsedValuesDefinedAbove(op->getRegions(), above);
  for (Value v : above)
    visit(v);

  MLIRContext *context = op->getContext();
  OpBuilder b(context);
  b.setInsertionPointToEnd(module.getBody());
  SmallVector<Type> types;
  for (Value v : args)
    types.push_back(v.getType());
  auto kernel = func::FuncOp::create(b, UnknownLoc::get(context), "kernel",
                                     b.getFunctionType(types, op->getResultTypes()));
  Block *body = kernel.addEntryBlock();
  IRMapping map;
  for (auto [v, arg] : llvm::zip(args, body->getArguments()))
    map.map(v, arg);
  b.setInsertionPointToEnd(body);
  for (Operation *def : copied)
    b.clone(*def, map);
  copy = b.clone(*op, map);
  func::ReturnOp::create(b, UnknownLoc::get(context), copy->getResults());
  return kernel;
}
} // namespace

LogicalResult KernelScheduler::schedule(Operation *op, StringRef key, Apply apply) {
  OwningOpRef<ModuleOp> module = ModuleOp::create(UnknownLoc::get(context));
  Operation *copy = nullptr;
  llvm::SetVector<Value> args;
  func::FuncOp kernel = buildKernel(op, *module, copy, args);
  // The kernel as text (no locations) names it: the same ops with the same
  // types and attributes under the same schedule make the same code.
  std::string text = key.str() + "\n";
  {
    llvm::raw_string_ostream os(text);
    kernel->print(os, OpPrintingFlags().assumeVerified());
  }
  auto found = kernels.find(text);
  if (found == kernels.end()) {
    if (failed(apply(kernel, copy)))
      return failure();
    found = kernels.try_emplace(text, std::move(module)).first;
  } else {
    ++reuses;
    kernel = *found->second->getOps<func::FuncOp>().begin();
  }
  // A call of the scheduled kernel, placed in `op`'s module once, in
  // place of `op`.
  func::FuncOp &callee = placed[text];
  if (!callee) {
    auto payload = op->getParentOfType<ModuleOp>();
    if (!symbols)
      symbols = std::make_unique<SymbolTable>(payload);
    callee = kernel.clone();
    callee.setSymName("dlc_kernel");
    callee.setPrivate();
    symbols->insert(callee, payload.getBody()->end());
    placedSet.insert(callee);
  }
  OpBuilder b(op);
  auto call = func::CallOp::create(b, op->getLoc(), callee, args.getArrayRef());
  op->replaceAllUsesWith(call.getResults());
  op->erase();
  calls.push_back(call);
  return success();
}

void KernelScheduler::finish() {
  // How often each function calls each kernel.
  llvm::DenseMap<std::pair<Operation *, Operation *>, unsigned> count;
  llvm::SmallPtrSet<Operation *, 16> repeated;
  for (func::CallOp call : calls) {
    Operation *callee = symbols->lookup(call.getCallee());
    if (++count[{callee, call->getParentOfType<func::FuncOp>()}] == 2)
      repeated.insert(callee);
  }
  for (func::CallOp call : calls) {
    auto callee = cast<func::FuncOp>(symbols->lookup(call.getCallee()));
    if (repeated.contains(callee))
      continue;
    Block &body = callee.getBody().front();
    IRMapping map;
    for (auto [arg, v] : llvm::zip(body.getArguments(), call.getOperands()))
      map.map(arg, v);
    OpBuilder b(call);
    for (Operation &inner : body.without_terminator())
      b.clone(inner, map);
    SmallVector<Value> results;
    for (Value v : body.getTerminator()->getOperands())
      results.push_back(map.lookupOrDefault(v));
    call->replaceAllUsesWith(results);
    call->erase();
  }
  for (auto &entry : placed) {
    func::FuncOp callee = entry.second;
    if (repeated.contains(callee)) {
      markKernel(callee);
    } else {
      placedSet.erase(callee);
      symbols->erase(callee);
    }
  }
  calls.clear();
  placed.clear();
}

void mlir::dlc::cpu::markKernel(func::FuncOp f) {
  MLIRContext *ctx = f.getContext();
  f.setPrivate();
  f->setAttr(::dlc::contract::kKernelMarker, UnitAttr::get(ctx));
  f->setAttr("llvm.linkage", LLVM::LinkageAttr::get(ctx, LLVM::Linkage::Internal));
  f->setAttr("passthrough", ArrayAttr::get(ctx, {StringAttr::get(ctx, "noinline")}));
}
