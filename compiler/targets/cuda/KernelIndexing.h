//===- KernelIndexing.h - index arithmetic of hand-built kernels -*- C++ -*-===//
//
// What the CUDA target's kernel builders (TileContractions.cpp,
// Reductions.cpp) share: a linalg op's loop dimensions recovered from a
// linear index, its operands' indices computed from them with plain arith
// ops (no affine.apply, which would have to be lowered inside the kernels),
// and the host loop over a block's threads that emulates one phase.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_COMPILER_TARGETS_CUDA_KERNELINDEXING_H
#define DLC_COMPILER_TARGETS_CUDA_KERNELINDEXING_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::dlc::cuda {

/// Whether `e` is built of dimensions, constants, + and * only (what
/// matmuls, convolutions and reductions index with).
inline bool isPlainExpr(AffineExpr e) {
  if (isa<AffineDimExpr, AffineConstantExpr>(e))
    return true;
  auto bin = dyn_cast<AffineBinaryOpExpr>(e);
  return bin &&
         (e.getKind() == AffineExprKind::Add || e.getKind() == AffineExprKind::Mul) &&
         isPlainExpr(bin.getLHS()) && isPlainExpr(bin.getRHS());
}

inline bool isPlainMap(AffineMap map) {
  return llvm::all_of(map.getResults(), isPlainExpr);
}

/// Sets dims[group[i]] from `linear`, a row-major index over the group's
/// dimensions (sizes[d] the size of dimension d).
inline void delinearize(OpBuilder &b, Location loc, Value linear,
                        ArrayRef<unsigned> group, ArrayRef<Value> sizes,
                        SmallVectorImpl<Value> &dims) {
  for (int64_t i = group.size() - 1; i > 0; --i) {
    dims[group[i]] = arith::RemUIOp::create(b, loc, linear, sizes[group[i]]);
    linear = arith::DivUIOp::create(b, loc, linear, sizes[group[i]]);
  }
  if (!group.empty())
    dims[group[0]] = linear;
}

/// The value of a plain expression (isPlainExpr) at `dims`.
inline Value evaluate(OpBuilder &b, Location loc, AffineExpr e, ArrayRef<Value> dims) {
  if (auto d = dyn_cast<AffineDimExpr>(e)) {
    assert(dims[d.getPosition()] && "a dimension without a value");
    return dims[d.getPosition()];
  }
  if (auto k = dyn_cast<AffineConstantExpr>(e))
    return arith::ConstantIndexOp::create(b, loc, k.getValue());
  auto bin = cast<AffineBinaryOpExpr>(e);
  Value l = evaluate(b, loc, bin.getLHS(), dims), r = evaluate(b, loc, bin.getRHS(), dims);
  if (e.getKind() == AffineExprKind::Add)
    return arith::AddIOp::create(b, loc, l, r);
  return arith::MulIOp::create(b, loc, l, r);
}

/// The operand indices `map` gives at `dims`.
inline SmallVector<Value> applyMap(OpBuilder &b, Location loc, AffineMap map,
                                   ArrayRef<Value> dims) {
  SmallVector<Value> result;
  for (AffineExpr e : map.getResults())
    result.push_back(evaluate(b, loc, e, dims));
  return result;
}

/// The linalg.fill of a constant into all of `buffer` that comes last
/// before `op` in its block, with nothing between them touching `buffer`;
/// null if there is none. A kernel that writes every element of `buffer`
/// can take the fill's place, starting from the constant instead of a load.
inline linalg::FillOp constantFillBefore(Operation *op, Value buffer) {
  for (Operation *prev = op->getPrevNode(); prev; prev = prev->getPrevNode()) {
    if (auto fill = dyn_cast<linalg::FillOp>(prev);
        fill && fill.getOutputs().front() == buffer)
      return fill.getInputs().front().getDefiningOp<arith::ConstantOp>() ? fill
                                                                         : linalg::FillOp();
    bool touches = false;
    prev->walk([&](Operation *inner) {
      touches = touches || llvm::is_contained(inner->getOperands(), buffer);
    });
    if (touches)
      return {};
  }
  return {};
}

/// The linalg.fill of 0.0 into all of `buffer` before `op` (as
/// constantFillBefore). A kernel that writes every element of `buffer`
/// takes the fill's place: it stores its sums instead of adding them to
/// zeros (one kernel and one pass over the buffer fewer).
inline linalg::FillOp zeroFillBefore(Operation *op, Value buffer) {
  linalg::FillOp fill = constantFillBefore(op, buffer);
  if (!fill)
    return {};
  auto value = fill.getInputs().front().getDefiningOp<arith::ConstantOp>();
  auto zero = dyn_cast<FloatAttr>(value.getValue());
  return zero && zero.getValue().isZero() && !zero.getValue().isNegative() ? fill
                                                                         : linalg::FillOp();
}

/// The buffer a view (subview, cast, reshape) is of.
inline Value rootOf(Value v) {
  while (auto view = v.getDefiningOp<ViewLikeOpInterface>())
    v = view.getViewSource();
  return v;
}

/// The buffer that an access through `memref` touches, for telling whether
/// two kernels or loop nests share data: its root, except that all of a
/// function's arguments count as one buffer (the caller may alias them).
inline Value bufferOf(Value memref) {
  memref = rootOf(memref);
  if (auto arg = dyn_cast<BlockArgument>(memref))
    return arg.getOwner()->getArgument(0);
  return memref;
}

/// Whether `op`, met while walking a kernel or loop nest that is checked
/// load by load and store by store, touches memory only through the ops
/// nested in it (scf.for, scf.if: the walk sees those): an op with effects
/// of its own (a linalg op on buffers, a call) is not understood.
inline bool onlyNestedEffects(Operation *op) {
  if (isMemoryEffectFree(op))
    return true;
  if (!op->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
    return false;
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects)
    return true;
  SmallVector<MemoryEffects::EffectInstance> own;
  effects.getEffects(own);
  return own.empty();
}

/// The product of sizes[d] over `dims` (1 for none).
inline Value product(OpBuilder &b, Location loc, ArrayRef<unsigned> dims,
                     ArrayRef<Value> sizes) {
  Value p = arith::ConstantIndexOp::create(b, loc, 1);
  for (unsigned d : dims)
    p = arith::MulIOp::create(b, loc, p, sizes[d]);
  return p;
}

/// Runs `phase` for threads 0 .. count-1 in turn, on the host: how an
/// emulated kernel runs the part of a block between two barriers.
inline void forEachThread(OpBuilder &b, Location loc, int64_t count,
                          llvm::function_ref<void(OpBuilder &, Value)> phase) {
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value end = arith::ConstantIndexOp::create(b, loc, count);
  scf::ForOp::create(b, loc, zero, end, one, ValueRange{},
                     [&](OpBuilder &b, Location loc, Value thread, ValueRange) {
                       phase(b, thread);
                       scf::YieldOp::create(b, loc);
                     });
}

} // namespace mlir::dlc::cuda

#endif // DLC_COMPILER_TARGETS_CUDA_KERNELINDEXING_H
