//===- DLOpFolders.cpp - dl op folders --------------------------------------===//
//
// Folders for the obvious cases: constants, identities (x + 0, x * 1, x / 1,
// casts and reshapes to the same type, broadcasts that change nothing),
// constant arithmetic on same-typed operands and static sizes.
//
//===----------------------------------------------------------------------===//

#include "dialects/DL/IR/DLOps.h"

#include "mlir/Dialect/CommonFolders.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::dl;

namespace {
/// True when `attr` is a splat float constant equal to `v`.
bool isSplatFloat(Attribute attr, double v) {
  auto dense = dyn_cast_or_null<DenseFPElementsAttr>(attr);
  return dense && dense.isSplat() &&
         dense.getSplatValue<APFloat>().convertToDouble() == v;
}

/// `x op c` folds to x when c is the identity and broadcasting changes nothing.
OpFoldResult foldIdentity(Value x, Attribute c, Type resultType, double ident) {
  if (x.getType() == resultType && isSplatFloat(c, ident))
    return x;
  return {};
}

/// Folds a binary op on two constants of the result's own type.
template <typename Fn>
OpFoldResult foldConstants(ArrayRef<Attribute> operands, Type resultType,
                           Fn fn) {
  if (operands.size() != 2 || !operands[0] || !operands[1])
    return {};
  auto l = dyn_cast<TypedAttr>(operands[0]), r = dyn_cast<TypedAttr>(operands[1]);
  if (!l || !r || l.getType() != resultType || r.getType() != resultType)
    return {};
  if (!cast<ShapedType>(resultType).getElementType().isF32())
    return {};
  return constFoldBinaryOp<FloatAttr, APFloat, void>(operands, fn);
}
} // namespace

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  if (auto r = foldIdentity(getLhs(), adaptor.getRhs(), getType(), 0.0))
    return r;
  if (auto r = foldIdentity(getRhs(), adaptor.getLhs(), getType(), 0.0))
    return r;
  return foldConstants(adaptor.getOperands(), getType(),
                       [](const APFloat &a, const APFloat &b) { return a + b; });
}

OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  if (auto r = foldIdentity(getLhs(), adaptor.getRhs(), getType(), 0.0))
    return r;
  return foldConstants(adaptor.getOperands(), getType(),
                       [](const APFloat &a, const APFloat &b) { return a - b; });
}

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  if (auto r = foldIdentity(getLhs(), adaptor.getRhs(), getType(), 1.0))
    return r;
  if (auto r = foldIdentity(getRhs(), adaptor.getLhs(), getType(), 1.0))
    return r;
  return foldConstants(adaptor.getOperands(), getType(),
                       [](const APFloat &a, const APFloat &b) { return a * b; });
}

OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  if (auto r = foldIdentity(getLhs(), adaptor.getRhs(), getType(), 1.0))
    return r;
  return foldConstants(adaptor.getOperands(), getType(),
                       [](const APFloat &a, const APFloat &b) { return a / b; });
}

OpFoldResult NegOp::fold(FoldAdaptor adaptor) {
  auto dense = dyn_cast_or_null<DenseFPElementsAttr>(adaptor.getInput());
  if (!dense || dense.getType() != getType())
    return {};
  return constFoldUnaryOp<FloatAttr, APFloat, void>(adaptor.getOperands(),
                                     [](const APFloat &a) { return -a; });
}

OpFoldResult CastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // reshape(reshape(x)) is one reshape.
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    if (inner.getInput().getType() == getType())
      return inner.getInput();
  }
  auto dense = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput());
  if (dense && getType().hasStaticShape())
    return dense.reshape(cast<ShapedType>(getType()));
  return {};
}

OpFoldResult BroadcastToOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

OpFoldResult UnbroadcastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

OpFoldResult SizeOp::fold(FoldAdaptor) {
  auto in = dyn_cast<RankedTensorType>(getInput().getType());
  if (!in)
    return {};
  double n = 1;
  for (int64_t a : getAxes()) {
    if (in.isDynamicDim(a))
      return {};
    n *= in.getDimSize(a);
  }
  auto type = RankedTensorType::get({}, Float32Type::get(getContext()));
  return DenseElementsAttr::get(type, static_cast<float>(n));
}
