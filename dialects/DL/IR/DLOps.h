//===- DLOps.h - dl dialect operations ----------------------------*- C++ -*-===//
//
// The dl ops (generated from DLOps.td) and helpers shared by shape inference,
// lowering and gradients.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_DIALECTS_DL_IR_DLOPS_H
#define DLC_DIALECTS_DL_IR_DLOPS_H

#include "dialects/DL/IR/DLDialect.h"

#define GET_OP_CLASSES
#include "dialects/DL/IR/DLOps.h.inc"

namespace mlir::dl {

/// NumPy broadcasting of two shapes (dynamic dims are `ShapedType::kDynamic`).
/// Fails when two static dims differ and neither is 1.
FailureOr<SmallVector<int64_t>> broadcastShapes(ArrayRef<int64_t> a,
                                                ArrayRef<int64_t> b);

/// Output size of one spatial dimension of a window op (conv or pool):
/// (in + padBefore + padAfter - window) / stride + 1, or kDynamic for a
/// dynamic input.
int64_t windowOutputSize(int64_t in, int64_t window, int64_t stride,
                         int64_t padBefore, int64_t padAfter);

/// TensorFlow's `same` padding for one dimension: returns {before, after}.
std::pair<int64_t, int64_t> samePadding(int64_t in, int64_t window,
                                        int64_t stride);

/// The shape after reducing `axes` of `shape` (kept as 1 with keepdims).
SmallVector<int64_t> reducedShape(ArrayRef<int64_t> shape,
                                  ArrayRef<int64_t> axes, bool keepdims);

/// Builds `kind(x)` for one f32 element (the scalar body shared by the
/// activation ops and dl.fused_conv2d).
Value buildActivation(OpBuilder &b, Location loc, Activation kind,
                      double alpha, Value x);

} // namespace mlir::dl

#endif // DLC_DIALECTS_DL_IR_DLOPS_H
