//===- PadInPlace.cpp - compute a padded tensor's interior in place -------===//
//
// See dl-pad-in-place in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/cpu/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"

namespace mlir::dlc::cpu {
#define GEN_PASS_DEF_PADINPLACEPASS
#include "compiler/targets/cpu/Passes.h.inc"

namespace {
/// The operand that names the tensor.empty `value` is computed into:
/// through the shared outputs of scf.forall and the inits of
/// destination-style ops; null when the chain ends elsewhere.
OpOperand *emptyBehind(Value value) {
  OpOperand *init = nullptr;
  while (auto result = dyn_cast<OpResult>(value)) {
    Operation *op = result.getOwner();
    if (isa<tensor::EmptyOp>(op))
      return init;
    if (auto forall = dyn_cast<scf::ForallOp>(op))
      init = forall.getTiedOpOperand(result);
    else if (auto dps = dyn_cast<DestinationStyleOpInterface>(op))
      init = dps.getTiedOpOperand(result);
    else
      return nullptr;
    value = init->get();
  }
  return nullptr;
}

/// Rewrites `pad` (see the pass's description); false where it does not
/// apply.
bool padInPlace(tensor::PadOp pad, DominanceInfo &dominance) {
  Attribute padValue;
  Value constant = pad.getConstantPaddingValue();
  if (!constant || !matchPattern(constant, m_Constant(&padValue)) || pad.getNofold())
    return false;
  SmallVector<int64_t> low(pad.getStaticLow()), high(pad.getStaticHigh());
  if (llvm::any_of(llvm::concat<int64_t>(low, high), ShapedType::isDynamic))
    return false;
  OpOperand *init = emptyBehind(pad.getSource());
  if (!init)
    return false;
  auto empty = init->get().getDefiningOp<tensor::EmptyOp>();
  if (empty.getType() != pad.getSourceType() || !dominance.properlyDominates(empty.getOperation(), pad))
    return false;

  // The padded tensor, right after the empty one (whose sizes are the
  // source's), its border filled.
  OpBuilder b(empty);
  b.setInsertionPointAfter(empty);
  Location loc = pad.getLoc();
  RankedTensorType paddedType = pad.getResultType();
  SmallVector<OpFoldResult> sizes = empty.getMixedSizes(), padded;
  for (auto [i, size] : llvm::enumerate(sizes)) {
    if (!paddedType.isDynamicDim(i))
      padded.push_back(b.getIndexAttr(paddedType.getDimSize(i)));
    else if (low[i] + high[i] == 0)
      padded.push_back(size);
    else
      padded.push_back(arith::AddIOp::create(b, loc, cast<Value>(size),
                                             arith::ConstantIndexOp::create(b, loc, low[i] + high[i]))
                           .getResult());
  }
  Value fillValue = arith::ConstantOp::create(b, loc, cast<TypedAttr>(padValue));
  Value result = tensor::EmptyOp::create(b, loc, padded, paddedType.getElementType());
  int64_t rank = paddedType.getRank();
  SmallVector<OpFoldResult> ones(rank, b.getIndexAttr(1)), interior;
  for (int64_t i = 0; i < rank; ++i)
    interior.push_back(b.getIndexAttr(low[i]));
  // A slab below and one above each padded dimension: the dimensions before
  // it only their interior (their slabs hold the rest), those after it whole.
  auto fillSlab = [&](int64_t dim, OpFoldResult offset, int64_t extent) {
    SmallVector<OpFoldResult> offsets, slabSizes;
    for (int64_t i = 0; i < rank; ++i) {
      offsets.push_back(i < dim ? interior[i] : i == dim ? offset : b.getIndexAttr(0));
      slabSizes.push_back(i < dim ? sizes[i] : i == dim ? b.getIndexAttr(extent) : padded[i]);
    }
    Value slab = tensor::ExtractSliceOp::create(b, loc, result, offsets, slabSizes, ones);
    Value filled = linalg::FillOp::create(b, loc, fillValue, slab).getResult(0);
    result = tensor::InsertSliceOp::create(b, loc, filled, result, offsets, slabSizes, ones);
  };
  for (int64_t i = 0; i < rank; ++i) {
    if (low[i] > 0)
      fillSlab(i, b.getIndexAttr(0), low[i]);
    if (high[i] == 0)
      continue;
    OpFoldResult above = b.getIndexAttr(low[i] + pad.getSourceType().getDimSize(i));
    if (pad.getSourceType().isDynamicDim(i))
      above = arith::AddIOp::create(b, loc, cast<Value>(sizes[i]),
                                    arith::ConstantIndexOp::create(b, loc, low[i]))
                  .getResult();
    fillSlab(i, above, high[i]);
  }
  // The source's producer computes into the interior; the pad puts the
  // source back where it already is (no copy after bufferization).
  Value inside = tensor::ExtractSliceOp::create(b, loc, empty.getType(), result, interior, sizes, ones);
  // (Other users of the empty tensor keep it: it has no contents to share.)
  init->set(inside);
  if (empty->use_empty())
    empty->erase();
  b.setInsertionPoint(pad);
  Value inserted = tensor::InsertSliceOp::create(b, loc, pad.getSource(), result, interior, sizes, ones);
  pad.getResult().replaceAllUsesWith(inserted);
  pad->erase();
  return true;
}

struct PadInPlacePass : public impl::PadInPlacePassBase<PadInPlacePass> {
  void runOnOperation() override {
    SmallVector<tensor::PadOp> pads;
    getOperation().walk([&](tensor::PadOp pad) { pads.push_back(pad); });
    DominanceInfo dominance(getOperation());
    for (tensor::PadOp pad : pads)
      padInPlace(pad, dominance);
  }
};
} // namespace
} // namespace mlir::dlc::cpu
