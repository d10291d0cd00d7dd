//===- OutlineKernels.cpp - one function per distinct loop nest ------------===//
//
// After bufferization a step is one function of loop nests, one or a few
// per op of the model. A model of repeated layers (N hidden layers of the
// same width) repeats the same nests N times, and LLVM compiled each copy,
// inside one huge function: code generation grew with the model (and some
// of LLVM's passes faster than linearly with the function). This pass moves
// each top-level loop nest that a function has more than once (the same op
// for op: the same types, constants and attributes), and every other copy of
// it, into one kernel function and calls it, so LLVM compiles each repeated
// nest once, whatever the number of layers. Nests a function has once stay
// inline (see runOnOperation). (dl-cpu-schedule already calls one kernel
// per repeated op, ScheduleKernels.h; this pass catches the nests the
// lowering after it repeats.)
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/cpu/Passes.h"
#include "compiler/targets/cpu/ScheduleKernels.h"
#include "runtime/Contracts.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

namespace contract = ::dlc::contract;

namespace mlir::dlc::cpu {
#define GEN_PASS_DEF_OUTLINEKERNELSPASS
#include "compiler/targets/cpu/Passes.h.inc"

namespace {

/// The values `nest` uses that are defined outside it, in the order of
/// their first use (so that two equal nests list them alike).
llvm::SetVector<Value> usedFromOutside(Operation *nest) {
  llvm::SetVector<Value> used;
  nest->walk<WalkOrder::PreOrder>([&](Operation *op) {
    for (Value v : op->getOperands())
      if (!nest->isAncestor(v.getParentRegion()->getParentOp()))
        used.insert(v);
  });
  return used;
}

/// A stack buffer of static size that only `nest` uses (a tile's scratch,
/// hoisted out of the nest's loops): it moves into the kernel, where LLVM
/// can keep it in registers (as a pointer argument it could not, and the
/// CNN's step was 20% slower).
bool movedIntoKernel(Value v, Operation *nest) {
  auto alloca = v.getDefiningOp<memref::AllocaOp>();
  return alloca && alloca->getNumOperands() == 0 &&
         llvm::all_of(v.getUsers(), [&](Operation *user) { return nest->isAncestor(user); });
}

/// Constants are cloned into the kernel (they are part of what makes two
/// nests the same kernel), and so are the nest's own stack buffers; other
/// values become its arguments.
bool clonedIntoKernel(Value v, Operation *nest) {
  Operation *def = v.getDefiningOp();
  if (!def)
    return false;
  return (def->getNumOperands() == 0 && def->getNumRegions() == 0 &&
          def->hasTrait<OpTrait::ConstantLike>()) ||
         movedIntoKernel(v, nest);
}

/// A top-level loop nest that becomes a kernel: a loop with no results
/// (after bufferization, loops write buffers).
bool isKernelNest(Operation &op) {
  return isa<scf::ForOp, scf::ParallelOp>(op) && op.getNumResults() == 0;
}

/// A nest and the kernel it would become (detached until it is kept).
struct Candidate {
  Operation *nest;
  func::FuncOp kernel;
  SmallVector<Value> args;
  SmallVector<Operation *> moved;
  std::string key;
};

/// The kernel of `nest`: its uses from outside as arguments, constants
/// and its own stack buffers cloned in; `key` is its text (generic form,
/// no locations, one name for all kernels).
Candidate makeCandidate(Operation *nest) {
  Candidate c{nest, nullptr, {}, {}, {}};
  llvm::SetVector<Value> used = usedFromOutside(nest);
  for (Value v : used) {
    if (!clonedIntoKernel(v, nest))
      c.args.push_back(v);
    else if (movedIntoKernel(v, nest))
      c.moved.push_back(v.getDefiningOp());
  }
  OpBuilder b(nest->getContext());
  auto type = b.getFunctionType(ValueRange(c.args).getTypes(), {});
  c.kernel = func::FuncOp::create(nest->getLoc(), "dlc_kernel", type);
  Block *body = c.kernel.addEntryBlock();
  b.setInsertionPointToStart(body);
  IRMapping map;
  for (auto [v, arg] : llvm::zip(c.args, body->getArguments()))
    map.map(v, arg);
  for (Value v : used)
    if (clonedIntoKernel(v, nest) && !map.contains(v))
      b.clone(*v.getDefiningOp(), map);
  b.clone(*nest, map);
  func::ReturnOp::create(b, nest->getLoc());
  llvm::raw_string_ostream os(c.key);
  c.kernel->print(os, OpPrintingFlags().printGenericOpForm().useLocalScope());
  return c;
}

struct OutlineKernelsPass
    : public impl::OutlineKernelsPassBase<OutlineKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    SmallVector<Candidate> candidates;
    // Nests that repeat inside one function (the layers of a deep model)
    // become kernels, and so does every other copy of them (the same layer
    // in @eval and @run). A nest that a function has once stays where it
    // is: inside the step, LLVM knows which buffers are distinct stack or
    // heap buffers, and the CNN's step was 20% slower with every nest
    // outlined.
    llvm::StringSet<> repeated;
    for (func::FuncOp function : module.getOps<func::FuncOp>()) {
      if (function.isExternal() || function->hasAttr(contract::kKernelMarker))
        continue;
      llvm::StringMap<unsigned> count;
      for (Operation &op : function.getBody().front()) {
        if (!isKernelNest(op))
          continue;
        candidates.push_back(makeCandidate(&op));
        if (++count[candidates.back().key] == 2)
          repeated.insert(candidates.back().key);
      }
    }
    SymbolTable symbols(module);
    llvm::StringMap<func::FuncOp> kernels;
    OpBuilder b(ctx);
    for (Candidate &c : candidates) {
      if (!repeated.contains(c.key)) {
        c.kernel.erase();
        continue;
      }
      auto [it, fresh] = kernels.try_emplace(c.key, c.kernel);
      if (fresh) {
        markKernel(c.kernel);
        symbols.insert(c.kernel);
      } else {
        c.kernel.erase();
      }
      b.setInsertionPoint(c.nest);
      func::CallOp::create(b, c.nest->getLoc(), it->second, c.args);
      c.nest->erase();
      for (Operation *buffer : c.moved)
        buffer->erase();
    }
  }
};
} // namespace
} // namespace mlir::dlc::cpu
