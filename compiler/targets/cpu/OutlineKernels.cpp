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
// inline (see runOnOperation).
//
// Before bufferization (`tensors`), right after the schedule, the same
// moves the repeated loop nests and linalg ops of each layer, and the runs
// of straight-line vector code between them (a 64-wide bias's Adam update,
// vectorized whole), into kernels that return their tensors: everything
// from bufferization to LLVM then handles each distinct layer once.
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/cpu/Passes.h"
#include "compiler/targets/cpu/ScheduleKernels.h"
#include "runtime/Contracts.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/LLVMIR/LLVMAttrs.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
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

/// Consecutive ops of one block that become one kernel: a loop nest (or
/// a linalg op), or a run of straight-line vector code.
using Span = SmallVector<Operation *, 8>;

/// The op of `span` that holds `op` (itself or an ancestor), or null.
Operation *holder(const Span &span, Operation *op) {
  Operation *top = span.front()->getBlock()->findAncestorOpInBlock(*op);
  return top && llvm::is_contained(span, top) ? top : nullptr;
}

/// The values `span` uses that are defined outside it, in the order of
/// their first use (so that two equal spans list them alike).
llvm::SetVector<Value> usedFromOutside(const Span &span) {
  llvm::SetVector<Value> used;
  for (Operation *top : span)
    top->walk<WalkOrder::PreOrder>([&](Operation *op) {
      for (Value v : op->getOperands()) {
        Operation *def = v.getDefiningOp() ? v.getDefiningOp() : v.getParentRegion()->getParentOp();
        if (!holder(span, def))
          used.insert(v);
      }
    });
  return used;
}

/// The values `span` defines that ops after it use, in order.
SmallVector<Value> usedAfter(const Span &span) {
  SmallVector<Value> results;
  for (Operation *top : span)
    for (Value v : top->getResults())
      if (llvm::any_of(v.getUsers(), [&](Operation *user) { return !holder(span, user); }))
        results.push_back(v);
  return results;
}

/// A stack buffer of static size that only `span` uses (a tile's scratch,
/// hoisted out of the nest's loops): it moves into the kernel, where LLVM
/// can keep it in registers (as a pointer argument it could not, and the
/// CNN's step was 20% slower).
bool movedIntoKernel(Value v, const Span &span) {
  auto alloca = v.getDefiningOp<memref::AllocaOp>();
  return alloca && alloca->getNumOperands() == 0 &&
         llvm::all_of(v.getUsers(), [&](Operation *user) { return holder(span, user); });
}

/// Constants are cloned into the kernel (they are part of what makes two
/// nests the same kernel), and so are the nest's own stack buffers; other
/// values become its arguments.
bool clonedIntoKernel(Value v, const Span &span) {
  Operation *def = v.getDefiningOp();
  if (!def)
    return false;
  return (def->getNumOperands() == 0 && def->getNumRegions() == 0 &&
          def->hasTrait<OpTrait::ConstantLike>()) ||
         movedIntoKernel(v, span);
}

/// A top-level loop nest that becomes a kernel. After bufferization
/// (buffers): a loop with no results, which writes buffers. Before it
/// (tensors): a loop or a linalg op (not a fill, which stays next to the
/// op it initializes) whose results are all tensors or vectors (a loop
/// that sums rows into a vector).
bool isKernelNest(Operation &op, bool tensors) {
  if (!tensors)
    return isa<scf::ForOp, scf::ParallelOp>(op) && op.getNumResults() == 0;
  if (op.getNumResults() == 0 ||
      !llvm::all_of(op.getResultTypes(), llvm::IsaPred<RankedTensorType, VectorType>))
    return false;
  return isa<scf::ForOp, scf::ForallOp>(op) ||
         (isa<linalg::LinalgOp>(op) && !isa<linalg::FillOp>(op));
}

/// An op of straight-line vector code (tensors): vector, arith and math
/// ops without regions, but constants (which kernels clone).
bool isStraightLine(Operation &op) {
  if (op.getNumRegions() != 0 || op.hasTrait<OpTrait::ConstantLike>() || !op.getDialect())
    return false;
  StringRef dialect = op.getDialect()->getNamespace();
  return dialect == "vector" || dialect == "arith" || dialect == "math";
}

/// A run of straight-line code worth a kernel: it writes a tensor (an
/// elementwise op vectorized whole), not just a few reads for the next
/// nest.
bool isKernelRun(const Span &run) {
  return run.size() >= 4 && llvm::any_of(run, llvm::IsaPred<vector::TransferWriteOp>);
}

/// The spans of `block` that may become kernels, in order.
SmallVector<Span> spansOf(Block &block, bool tensors) {
  SmallVector<Span> spans;
  Span run;
  auto endRun = [&] {
    if (isKernelRun(run))
      spans.push_back(run);
    run.clear();
  };
  for (Operation &op : block) {
    if (tensors && isStraightLine(op)) {
      run.push_back(&op);
      continue;
    }
    endRun();
    if (isKernelNest(op, tensors))
      spans.push_back(Span{&op});
  }
  endRun();
  return spans;
}

/// A span and the kernel it would become (detached until it is kept).
struct Candidate {
  Span span;
  SmallVector<Value> results;
  func::FuncOp kernel;
  SmallVector<Value> args;
  SmallVector<Operation *> moved;
  std::string key;
};

/// The kernel of `span`: its uses from outside as arguments, constants
/// and its own stack buffers cloned in, the values used after it as its
/// results; `key` is its text (generic form, no locations, one name for
/// all kernels).
Candidate makeCandidate(Span span) {
  Candidate c{std::move(span), {}, nullptr, {}, {}, {}};
  c.results = usedAfter(c.span);
  llvm::SetVector<Value> used = usedFromOutside(c.span);
  for (Value v : used) {
    if (!clonedIntoKernel(v, c.span))
      c.args.push_back(v);
    else if (movedIntoKernel(v, c.span))
      c.moved.push_back(v.getDefiningOp());
  }
  Location loc = c.span.front()->getLoc();
  OpBuilder b(loc.getContext());
  auto type = b.getFunctionType(ValueRange(c.args).getTypes(), ValueRange(c.results).getTypes());
  c.kernel = func::FuncOp::create(loc, "dlc_kernel", type);
  Block *body = c.kernel.addEntryBlock();
  b.setInsertionPointToStart(body);
  IRMapping map;
  for (auto [v, arg] : llvm::zip(c.args, body->getArguments()))
    map.map(v, arg);
  for (Value v : used)
    if (clonedIntoKernel(v, c.span) && !map.contains(v))
      b.clone(*v.getDefiningOp(), map);
  for (Operation *op : c.span)
    b.clone(*op, map);
  SmallVector<Value> returned;
  for (Value v : c.results)
    returned.push_back(map.lookup(v));
  func::ReturnOp::create(b, loc, returned);
  llvm::raw_string_ostream os(c.key);
  c.kernel->print(os, OpPrintingFlags().printGenericOpForm().useLocalScope());
  return c;
}

struct OutlineKernelsPass
    : public impl::OutlineKernelsPassBase<OutlineKernelsPass> {
  using OutlineKernelsPassBase::OutlineKernelsPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    std::vector<Candidate> candidates;
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
      for (Span &span : spansOf(function.getBody().front(), tensors)) {
        candidates.push_back(makeCandidate(std::move(span)));
        if (++count[candidates.back().key] == 2)
          repeated.insert(candidates.back().key);
      }
    }
    SymbolTable symbols(module);
    llvm::StringMap<func::FuncOp> kernels;
    IRMapping replaced;
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
      Operation *last = c.span.back();
      b.setInsertionPointAfter(last);
      // Tensors: an argument may be the result of a span already replaced
      // by a call (candidates are in program order).
      for (Value &arg : c.args)
        arg = replaced.lookupOrDefault(arg);
      auto call = func::CallOp::create(b, last->getLoc(), it->second, c.args);
      replaced.map(c.results, call.getResults());
      for (auto [from, to] : llvm::zip(c.results, call.getResults()))
        from.replaceAllUsesWith(to);
      for (Operation *op : llvm::reverse(c.span))
        op->erase();
      for (Operation *buffer : c.moved)
        buffer->erase();
    }
  }
};
} // namespace
} // namespace mlir::dlc::cpu
