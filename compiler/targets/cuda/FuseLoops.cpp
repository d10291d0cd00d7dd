//===- FuseLoops.cpp - adjacent parallel loop nests as one kernel ----------===//
//
// convert-linalg-to-parallel-loops makes each linalg op left after the
// contraction and reduction kernels its own scf.parallel nest, and
// dl-gpu-map-loops each nest its own kernel. Ops that elementwise fusion
// cannot merge on tensors (a row's maximum, then the row's sum of
// exponentials, then the label's logit: reductions feeding reductions over
// the same rows) become nests over the same iteration space whose
// iterations touch only their own elements of what they share. Here such
// adjacent nests become one: one launch instead of several, and what one
// writes the next reads back in the same thread.
//
// Upstream's scf-parallel-loop-fusion fuses the same way but knows no bound
// on a kernel's parameters (a chain of 10,000 adds would become one kernel
// taking 160 buffers); this pass keeps its rule simple: the nests' bounds
// are the same values, nothing with memory effects lies between them (the
// allocations and frees that bufferization puts there are moved out of the
// way first), and every buffer either nest writes is accessed by both at
// the nest's own indices only, through the same memref value; and the
// fused nest's parameters fit PTX's 4 KiB.
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/cuda/KernelIndexing.h"
#include "compiler/targets/cuda/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::dlc::cuda {
#define GEN_PASS_DEF_GPUFUSELOOPSPASS
#include "compiler/targets/cuda/Passes.h.inc"

namespace {

/// How one nest uses one buffer (a buffer: an allocation, or all of the
/// function's arguments together, which the caller may pass aliased).
struct Use {
  bool written = false;
  bool ownIndicesOnly = true;    // every access at the nest's own indices
  SmallVector<Value, 1> through; // the memref values it is accessed through
};

/// What a nest does with memory; false where it does something else than
/// load and store (then it is fused with nothing).
struct NestAccesses {
  DenseMap<Value, Use> buffers;
  SetVector<Value> operands; // the values from outside (kernel parameters)
};

bool atOwnIndices(ValueRange indices, scf::ParallelOp nest) {
  return indices.size() == nest.getInductionVars().size() &&
         llvm::equal(indices, nest.getInductionVars());
}

bool analyze(scf::ParallelOp nest, NestAccesses &accesses) {
  if (!nest.getInitVals().empty())
    return false;
  getUsedValuesDefinedAbove(nest.getRegion(), accesses.operands);
  WalkResult walk = nest.getBody()->walk([&](Operation *op) {
    Value memref;
    ValueRange indices;
    bool write = false;
    if (auto load = dyn_cast<memref::LoadOp>(op)) {
      memref = load.getMemRef();
      indices = load.getIndices();
    } else if (auto store = dyn_cast<memref::StoreOp>(op)) {
      memref = store.getMemRef();
      indices = store.getIndices();
      write = true;
    } else if (!onlyNestedEffects(op)) {
      return WalkResult::interrupt();
    } else {
      return WalkResult::advance();
    }
    Use &use = accesses.buffers[bufferOf(memref)];
    use.written |= write;
    use.ownIndicesOnly &= atOwnIndices(indices, nest);
    if (!llvm::is_contained(use.through, memref))
      use.through.push_back(memref);
    return WalkResult::advance();
  });
  return !walk.wasInterrupted();
}

/// Whether `second` may run, iteration by iteration, right after `first`.
bool canFuse(scf::ParallelOp first, const NestAccesses &a, scf::ParallelOp second,
             const NestAccesses &b) {
  if (first.getLowerBound() != second.getLowerBound() ||
      first.getUpperBound() != second.getUpperBound() ||
      first.getStep() != second.getStep())
    return false;
  for (auto [buffer, useA] : a.buffers) {
    auto it = b.buffers.find(buffer);
    if (it == b.buffers.end())
      continue;
    const Use &useB = it->second;
    if (!useA.written && !useB.written)
      continue;
    // Written by one, accessed by both: the same elements by the same
    // iteration, through one memref value.
    if (!useA.ownIndicesOnly || !useB.ownIndicesOnly || useA.through.size() != 1 ||
        useA.through != useB.through)
      return false;
  }
  SetVector<Value> operands = a.operands;
  operands.insert(b.operands.begin(), b.operands.end());
  return kernelParameterBytes(operands.getArrayRef()) <= kMaxKernelParameterBytes;
}

/// Moves every allocation up to just after its sizes, every load of an
/// argument only ever loaded to the start, and every free to the end of
/// the function, out of the way of the nests between them.
void hoistAllocations(Block &body) {
  Operation *end = body.getTerminator();
  SmallVector<Operation *> allocs, deallocs;
  for (Operation &op : body.without_terminator()) {
    if (isa<memref::AllocOp>(op))
      allocs.push_back(&op);
    else if (isa<memref::DeallocOp>(op))
      deallocs.push_back(&op);
  }
  for (Operation *dealloc : deallocs)
    dealloc->moveBefore(end);
  // Loads of an argument the function only loads from (the step's seed)
  // go first too: the value cannot change within the call.
  SmallVector<Operation *> argumentLoads;
  for (Operation &op : body.without_terminator())
    if (auto load = dyn_cast<memref::LoadOp>(op))
      if (auto arg = dyn_cast<BlockArgument>(load.getMemRef());
          arg && arg.getOwner() == &body &&
          llvm::all_of(arg.getUsers(), [](Operation *user) { return isa<memref::LoadOp>(user); }) &&
          llvm::all_of(load.getIndices(), [&](Value i) {
            return !i.getDefiningOp() || i.getDefiningOp()->getBlock() != &body;
          }))
        argumentLoads.push_back(load);
  Operation *first = nullptr; // the last op moved to the start
  for (Operation *load : argumentLoads) {
    if (first)
      load->moveAfter(first);
    else
      load->moveBefore(&body.front());
    first = load;
  }
  for (Operation *alloc : allocs) {
    Operation *after = nullptr;
    for (Value size : alloc->getOperands())
      if (Operation *def = size.getDefiningOp();
          def && def->getBlock() == &body && (!after || after->isBeforeInBlock(def)))
        after = def;
    if (after) {
      alloc->moveAfter(after);
    } else {
      // In their order, after the ones moved there before.
      if (first)
        alloc->moveAfter(first);
      else
        alloc->moveBefore(&body.front());
      first = alloc;
    }
  }
}

/// Replaces each load of a small host buffer of indices (the shape a
/// memref.reshape reads) by the value stored there last, in the same
/// block: the batch size one nest's bounds read back from a reshape's
/// shape is then the same value as the one another nest's bounds use.
void forwardShapeStores(Block &body) {
  for (Operation &op : llvm::make_early_inc_range(body)) {
    auto load = dyn_cast<memref::LoadOp>(op);
    if (!load || !load.getMemRef().getDefiningOp<memref::AllocOp>() ||
        !load.getMemRefType().getElementType().isIndex())
      continue;
    std::optional<int64_t> at = load.getIndices().size() == 1
                                    ? getConstantIntValue(load.getIndices()[0])
                                    : std::nullopt;
    if (!at)
      continue;
    for (Operation *prev = op.getPrevNode(); prev; prev = prev->getPrevNode()) {
      if (!llvm::is_contained(prev->getOperands(), load.getMemRef()))
        continue;
      if (isa<memref::ReshapeOp>(prev))
        continue; // reads it
      auto store = dyn_cast<memref::StoreOp>(prev);
      if (!store || store.getMemRef() != load.getMemRef())
        break;
      std::optional<int64_t> where = getConstantIntValue(store.getIndices()[0]);
      if (!where)
        break;
      if (*where != *at)
        continue;
      load.getResult().replaceAllUsesWith(store.getValueToStore());
      load->erase();
      break;
    }
  }
}

void fuseNests(Block &body) {
  scf::ParallelOp current;
  NestAccesses currentAccesses;
  SmallVector<Operation *> between; // effect-free ops after `current`
  for (Operation &op : llvm::make_early_inc_range(body.without_terminator())) {
    auto nest = dyn_cast<scf::ParallelOp>(op);
    if (!nest) {
      if (current && isMemoryEffectFree(&op) && op.getNumRegions() == 0) {
        between.push_back(&op);
      } else {
        current = nullptr;
        between.clear();
      }
      continue;
    }
    NestAccesses accesses;
    bool known = analyze(nest, accesses);
    if (current && known && canFuse(current, currentAccesses, nest, accesses)) {
      // The ops between go first (the nest may use them), then the second
      // nest's body runs in the first's iterations.
      for (Operation *moved : between)
        moved->moveBefore(current);
      Block *from = nest.getBody();
      for (auto [theirs, ours] : llvm::zip(from->getArguments(), current.getInductionVars()))
        theirs.replaceAllUsesWith(ours);
      Block *into = current.getBody();
      into->getOperations().splice(into->getTerminator()->getIterator(), from->getOperations(),
                                   from->begin(), from->getTerminator()->getIterator());
      nest->erase();
      // The fused nest's accesses: both nests' (the second's indices are
      // now the first's induction variables), not walked again.
      for (auto &[buffer, use] : accesses.buffers) {
        Use &into = currentAccesses.buffers[buffer];
        into.written |= use.written;
        into.ownIndicesOnly &= use.ownIndicesOnly;
        for (Value v : use.through)
          if (!llvm::is_contained(into.through, v))
            into.through.push_back(v);
      }
      currentAccesses.operands.insert(accesses.operands.begin(), accesses.operands.end());
    } else {
      current = known ? nest : nullptr;
      currentAccesses = std::move(accesses);
    }
    between.clear();
  }
}

struct GPUFuseLoopsPass : impl::GPUFuseLoopsPassBase<GPUFuseLoopsPass> {
  void runOnOperation() override {
    getOperation().walk([](func::FuncOp func) {
      if (func.isExternal())
        return;
      Block &body = func.getBody().front();
      forwardShapeStores(body);
      hoistAllocations(body);
      fuseNests(body);
    });
  }
};

} // namespace
} // namespace mlir::dlc::cuda
