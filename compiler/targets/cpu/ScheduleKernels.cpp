//===- ScheduleKernels.cpp - schedule ops one at a time, once per kind ------===//

#include "compiler/targets/cpu/ScheduleKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
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
/// as an argument: the schedule fuses fills into tiles (and their empty
/// tensors into tile-sized ones), and folds constants.
bool copiedIntoKernel(Operation *def) {
  return def && isa<arith::ConstantOp, tensor::EmptyOp, linalg::FillOp>(def);
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
  // Inline the scheduled kernel in place of `op`.
  Block &body = kernel.getBody().front();
  IRMapping map;
  for (auto [arg, v] : llvm::zip(body.getArguments(), args))
    map.map(arg, v);
  OpBuilder b(op);
  for (Operation &inner : body.without_terminator())
    b.clone(inner, map);
  SmallVector<Value> results;
  for (Value v : body.getTerminator()->getOperands())
    results.push_back(map.lookupOrDefault(v));
  op->replaceAllUsesWith(results);
  op->erase();
  return success();
}
