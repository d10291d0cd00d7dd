//===- SplitLocalDeallocs.cpp - local buffers freed one by one --------------===//
//
// See dl-split-local-deallocs in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/cpu/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace mlir::dlc::cpu {
#define GEN_PASS_DEF_SPLITLOCALDEALLOCSPASS
#include "compiler/targets/cpu/Passes.h.inc"

namespace {

/// The allocation behind `value` (a memref.alloc or memref.alloca result,
/// or an argument of a function), followed back through view ops; null
/// where it is unknown (a call's or a loop's result, a block argument of
/// a region).
Value allocationOf(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    if (isa<memref::AllocOp, memref::AllocaOp>(def))
      return value;
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view)
      return nullptr;
    value = view.getViewSource();
  }
  auto argument = cast<BlockArgument>(value);
  return isa<func::FuncOp>(argument.getOwner()->getParentOp()) ? value : nullptr;
}

struct SplitLocalDeallocsPass : public impl::SplitLocalDeallocsPassBase<SplitLocalDeallocsPass> {
  void runOnOperation() override {
    SmallVector<bufferization::DeallocOp> deallocs;
    getOperation().walk([&](bufferization::DeallocOp op) { deallocs.push_back(op); });
    OpBuilder builder(&getContext());
    for (bufferization::DeallocOp op : deallocs) {
      llvm::SmallPtrSet<Value, 8> retained;
      bool known = true;
      for (Value value : op.getRetained()) {
        Value allocation = allocationOf(value);
        known &= allocation != nullptr;
        retained.insert(allocation);
      }
      if (!known)
        continue;
      // How many entries each allocation is behind: a buffer that another
      // entry is a view of must stay (the dealloc frees it once).
      llvm::SmallDenseMap<Value, unsigned> times;
      for (Value memref : op.getMemrefs()) {
        Value allocation = allocationOf(memref);
        known &= allocation != nullptr;
        ++times[allocation];
      }
      if (!known)
        continue;
      SmallVector<Value> keptMemrefs, keptConditions;
      builder.setInsertionPoint(op);
      for (auto [memref, condition] : llvm::zip(op.getMemrefs(), op.getConditions())) {
        if (memref.getDefiningOp<memref::AllocOp>() && times[memref] == 1 &&
            !retained.contains(memref) && matchPattern(condition, m_One())) {
          memref::DeallocOp::create(builder, op.getLoc(), memref);
          continue;
        }
        keptMemrefs.push_back(memref);
        keptConditions.push_back(condition);
      }
      if (keptMemrefs.size() == op.getMemrefs().size())
        continue;
      // The retained values' ownership did not depend on the freed
      // buffers (none of them is behind a retained value).
      op.getMemrefsMutable().assign(keptMemrefs);
      op.getConditionsMutable().assign(keptConditions);
    }
  }
};
} // namespace
} // namespace mlir::dlc::cpu
