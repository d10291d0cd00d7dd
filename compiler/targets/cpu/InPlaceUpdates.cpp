//===- InPlaceUpdates.cpp - the optimizer updates its arguments in place ---===//
//
// A train step returns every trained param and its optimizer state anew.
// Bufferized as they are, those results are fresh buffers each step: for a
// 74M-param model with Adam, 900 MB allocated (and page-faulted in) every
// step while the old values are still alive. These passes make the step
// write them into the buffers of its arguments instead (docs/ABI.md): see
// dl-update-in-place and dl-drop-in-place-results in Passes.td, and the
// entry wrapper (addPackedWrapper in CPUTarget.cpp).
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/cpu/Passes.h"
#include "runtime/Contracts.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/BitVector.h"

namespace contract = ::dlc::contract;

namespace mlir::dlc::cpu {
#define GEN_PASS_DEF_UPDATEINPLACEPASS
#define GEN_PASS_DEF_DROPINPLACERESULTSPASS
#include "compiler/targets/cpu/Passes.h.inc"

namespace {
/// Makes the elementwise generic that computes `value` write it into `arg`:
/// its init (a tensor.empty, whose elements the body never reads) becomes
/// `arg`, and inputs that read `arg` at the same element read the init
/// instead (the generic is rebuilt without them). Leaves other producers
/// alone: bufferization then copies, and dl-drop-in-place-results copies
/// the result into the argument.
void writeInto(Value value, BlockArgument arg) {
  auto result = dyn_cast<OpResult>(value);
  auto g = result ? dyn_cast<linalg::GenericOp>(result.getOwner()) : nullptr;
  if (!g || g.getNumReductionLoops() != 0)
    return;
  OpOperand *init = g.getDpsInitOperand(result.getResultNumber());
  if (!init->get().getDefiningOp<tensor::EmptyOp>() ||
      !g.getMatchingIndexingMap(init).isIdentity() || g.payloadUsesValueFromOperand(init))
    return;
  init->set(arg);
  BlockArgument out = g.getMatchingBlockArgument(init);
  SmallVector<Value> ins;
  SmallVector<AffineMap> maps;
  SmallVector<unsigned> dropped;
  for (OpOperand *in : g.getDpsInputOperands()) {
    BlockArgument read = g.getMatchingBlockArgument(in);
    if (in->get() == arg && g.getMatchingIndexingMap(in).isIdentity()) {
      read.replaceAllUsesWith(out);
      dropped.push_back(read.getArgNumber());
      continue;
    }
    ins.push_back(in->get());
    maps.push_back(g.getMatchingIndexingMap(in));
  }
  if (dropped.empty())
    return;
  for (OpOperand &o : g.getDpsInitsMutable())
    maps.push_back(g.getMatchingIndexingMap(&o));
  OpBuilder b(g);
  auto rebuilt = linalg::GenericOp::create(b, g.getLoc(), g.getResultTypes(), ins,
                                           g.getDpsInits(), maps, g.getIteratorTypesArray());
  rebuilt->setDiscardableAttrs(g->getDiscardableAttrDictionary());
  rebuilt.getRegion().takeBody(g.getRegion());
  for (unsigned i : llvm::reverse(dropped))
    rebuilt.getRegion().front().eraseArgument(i);
  g.replaceAllUsesWith(rebuilt.getResults());
  g.erase();
}

/// For each result of `f`, the argument it is written into, or -1
/// (convert-dl-to-linalg's `dlc.in_place_results`); empty without.
ArrayRef<int64_t> inPlaceResults(func::FuncOp f) {
  auto attr = f->getAttrOfType<DenseI64ArrayAttr>(contract::kInPlaceResultsAttr);
  if (!attr || attr.size() != static_cast<int64_t>(f.getNumResults()))
    return {};
  return attr.asArrayRef();
}

struct UpdateInPlacePass : public impl::UpdateInPlacePassBase<UpdateInPlacePass> {
  void runOnOperation() override {
    for (auto f : getOperation().getOps<func::FuncOp>()) {
      if (f.isExternal())
        continue;
      ArrayRef<int64_t> args = inPlaceResults(f);
      if (args.empty())
        continue;
      auto ret = cast<func::ReturnOp>(f.getBody().back().getTerminator());
      for (auto [r, a] : llvm::enumerate(args))
        if (a >= 0)
          writeInto(ret.getOperand(r), f.getArgument(a));
    }
  }
};

Value stripCasts(Value v) {
  while (auto cast = v.getDefiningOp<memref::CastOp>())
    v = cast.getSource();
  return v;
}

struct DropInPlaceResultsPass
    : public impl::DropInPlaceResultsPassBase<DropInPlaceResultsPass> {
  void runOnOperation() override {
    for (auto f : getOperation().getOps<func::FuncOp>()) {
      ArrayRef<int64_t> args = inPlaceResults(f);
      f->removeAttr(contract::kInPlaceResultsAttr);
      if (args.empty() || f.isExternal())
        continue;
      auto ret = cast<func::ReturnOp>(f.getBody().back().getTerminator());
      OpBuilder b(ret);
      // Results that bufferization could not write in place: copied into
      // their arguments at the end; those that are themselves arguments
      // first go to a temporary, before any argument is overwritten.
      SmallVector<std::pair<Value, Value>> copies;
      llvm::BitVector drop(f.getNumResults());
      for (auto [r, a] : llvm::enumerate(args)) {
        if (a < 0)
          continue;
        drop.set(r);
        Value target = f.getArgument(a);
        Value source = ret.getOperand(r);
        if (stripCasts(source) == target)
          continue;
        if (isa<BlockArgument>(stripCasts(source))) {
          Value temp = memref::AllocOp::create(b, ret.getLoc(), cast<MemRefType>(target.getType()));
          memref::CopyOp::create(b, ret.getLoc(), source, temp);
          source = temp;
        }
        copies.emplace_back(source, target);
      }
      for (auto [source, target] : copies)
        memref::CopyOp::create(b, ret.getLoc(), source, target);
      ret->eraseOperands(drop);
      if (failed(f.eraseResults(drop)))
        return signalPassFailure();
    }
  }
};

} // namespace
} // namespace mlir::dlc::cpu
