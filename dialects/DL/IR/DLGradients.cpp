//===- DLGradients.cpp - DifferentiableOpInterface for every dl op ---------===//
//
// Each differentiable op builds the gradients of its operands from the
// gradient of its result, with dl ops (tinygrad's gradient table, written as
// an interface). Gradient ops carry the forward op's location wrapped in a
// NameLoc "grad". Broadcast operands get their gradient summed back to their
// own shape with dl.unbroadcast, which folds away when nothing was broadcast.
//
//===----------------------------------------------------------------------===//

#include "dialects/DL/IR/DLOps.h"

using namespace mlir;
using namespace mlir::dl;

namespace {

/// Builds dl ops for gradient formulas at one location.
class GradBuilder {
public:
  GradBuilder(OpBuilder &b, Operation *forward)
      : b(b), loc(NameLoc::get(b.getStringAttr("grad"), forward->getLoc())) {}

  Value scalar(double v) {
    auto type = RankedTensorType::get({}, b.getF32Type());
    return ConstantOp::create(b, loc,
                              DenseElementsAttr::get(type, static_cast<float>(v)));
  }
  Value add(Value x, Value y) { return AddOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return SubOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return MulOp::create(b, loc, x, y); }
  Value div(Value x, Value y) { return DivOp::create(b, loc, x, y); }
  Value neg(Value x) { return NegOp::create(b, loc, x); }
  Value cmp(CmpPredicate p, Value x, Value y) {
    return CmpOp::create(b, loc, p, x, y);
  }
  Value unbroadcast(Value g, Value like) {
    return UnbroadcastOp::create(b, loc, g, like);
  }
  Value broadcastTo(Value g, Value like) {
    return BroadcastToOp::create(b, loc, g, like);
  }
  Value sum(Value x, ArrayRef<int64_t> axes, bool keepdims) {
    return SumOp::create(b, loc, x, axes, keepdims);
  }
  Value transpose(Value x, ArrayRef<int64_t> perm) {
    return TransposeOp::create(b, loc, x, perm);
  }
  /// Reshapes `x` to the static-or-one-dynamic shape `shape`.
  FailureOr<Value> reshape(Value x, ArrayRef<int64_t> shape) {
    SmallVector<int64_t> target;
    int dynamic = 0;
    for (int64_t d : shape) {
      dynamic += ShapedType::isDynamic(d);
      target.push_back(ShapedType::isDynamic(d) ? -1 : d);
    }
    if (dynamic > 1)
      return mlir::emitError(loc) << "cannot differentiate through a shape "
                                     "with more than one symbolic dimension";
    return ReshapeOp::create(b, loc, x, target).getResult();
  }
  /// Gives `g` (the gradient of a reduction) back its reduced axes as 1s.
  FailureOr<Value> keepDims(Value g, Value input, ArrayRef<int64_t> axes,
                            bool keepdims) {
    if (keepdims)
      return g;
    auto shape = cast<RankedTensorType>(input.getType()).getShape();
    return reshape(g, reducedShape(shape, axes, /*keepdims=*/true));
  }

  OpBuilder &b;
  Location loc;
};

bool isFloatTensor(Value v) {
  return cast<ShapedType>(v.getType()).getElementType().isF32();
}

/// Pushes the gradients of a broadcasting binary op: dl/dlhs = gl, dl/drhs = gr.
LogicalResult pushBinary(GradBuilder &gb, Value lhs, Value rhs, Value gl,
                         Value gr, SmallVectorImpl<Value> &grads) {
  grads.push_back(gl ? gb.unbroadcast(gl, lhs) : Value());
  grads.push_back(gr ? gb.unbroadcast(gr, rhs) : Value());
  return success();
}

LogicalResult noGradients(Operation *op, SmallVectorImpl<Value> &grads) {
  grads.append(op->getNumOperands(), Value());
  return success();
}
} // namespace

//===----------------------------------------------------------------------===//
// Elementwise binary
//===----------------------------------------------------------------------===//

LogicalResult AddOp::buildGradients(OpBuilder &b, Value g,
                                    SmallVectorImpl<Value> &grads) {
  if (!isFloatTensor(getResult()))
    return noGradients(*this, grads);
  GradBuilder gb(b, *this);
  return pushBinary(gb, getLhs(), getRhs(), g, g, grads);
}

LogicalResult SubOp::buildGradients(OpBuilder &b, Value g,
                                    SmallVectorImpl<Value> &grads) {
  if (!isFloatTensor(getResult()))
    return noGradients(*this, grads);
  GradBuilder gb(b, *this);
  return pushBinary(gb, getLhs(), getRhs(), g, gb.neg(g), grads);
}

LogicalResult MulOp::buildGradients(OpBuilder &b, Value g,
                                    SmallVectorImpl<Value> &grads) {
  if (!isFloatTensor(getResult()))
    return noGradients(*this, grads);
  GradBuilder gb(b, *this);
  return pushBinary(gb, getLhs(), getRhs(), gb.mul(g, getRhs()),
                    gb.mul(g, getLhs()), grads);
}

LogicalResult DivOp::buildGradients(OpBuilder &b, Value g,
                                    SmallVectorImpl<Value> &grads) {
  if (!isFloatTensor(getResult()))
    return noGradients(*this, grads);
  GradBuilder gb(b, *this);
  // d(l/r)/dr = -l/r^2 = -(l/r)/r.
  Value gl = gb.div(g, getRhs());
  Value gr = gb.neg(gb.div(gb.mul(g, getResult()), getRhs()));
  return pushBinary(gb, getLhs(), getRhs(), gl, gr, grads);
}

LogicalResult PowOp::buildGradients(OpBuilder &b, Value g,
                                    SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  // d(l^r)/dl = r * l^(r-1).
  Value rm1 = gb.sub(getRhs(), gb.scalar(1.0));
  Value gl = gb.mul(g, gb.mul(getRhs(), PowOp::create(b, gb.loc, getLhs(), rm1)));
  // d(l^r)/dr = l^r * log(l); a constant exponent (the common x**2) needs none.
  Value gr;
  if (!getRhs().getDefiningOp<ConstantOp>())
    gr = gb.mul(g, gb.mul(getResult(), LogOp::create(b, gb.loc, getLhs())));
  return pushBinary(gb, getLhs(), getRhs(), gl, gr, grads);
}

LogicalResult MaximumOp::buildGradients(OpBuilder &b, Value g,
                                        SmallVectorImpl<Value> &grads) {
  if (!isFloatTensor(getResult()))
    return noGradients(*this, grads);
  GradBuilder gb(b, *this);
  Value mask = gb.cmp(CmpPredicate::ge, getLhs(), getRhs());
  Value inv = gb.sub(gb.scalar(1.0), mask);
  return pushBinary(gb, getLhs(), getRhs(), gb.mul(g, mask), gb.mul(g, inv),
                    grads);
}

LogicalResult MinimumOp::buildGradients(OpBuilder &b, Value g,
                                        SmallVectorImpl<Value> &grads) {
  if (!isFloatTensor(getResult()))
    return noGradients(*this, grads);
  GradBuilder gb(b, *this);
  Value mask = gb.cmp(CmpPredicate::le, getLhs(), getRhs());
  Value inv = gb.sub(gb.scalar(1.0), mask);
  return pushBinary(gb, getLhs(), getRhs(), gb.mul(g, mask), gb.mul(g, inv),
                    grads);
}

//===----------------------------------------------------------------------===//
// Elementwise unary
//===----------------------------------------------------------------------===//

LogicalResult NegOp::buildGradients(OpBuilder &b, Value g,
                                    SmallVectorImpl<Value> &grads) {
  if (!isFloatTensor(getResult()))
    return noGradients(*this, grads);
  GradBuilder gb(b, *this);
  grads.push_back(gb.neg(g));
  return success();
}

LogicalResult ReluOp::buildGradients(OpBuilder &b, Value g,
                                     SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  grads.push_back(gb.mul(g, gb.cmp(CmpPredicate::gt, getInput(), gb.scalar(0))));
  return success();
}

LogicalResult SigmoidOp::buildGradients(OpBuilder &b, Value g,
                                        SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  Value y = getResult();
  grads.push_back(gb.mul(g, gb.mul(y, gb.sub(gb.scalar(1.0), y))));
  return success();
}

LogicalResult TanhOp::buildGradients(OpBuilder &b, Value g,
                                     SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  Value y = getResult();
  grads.push_back(gb.mul(g, gb.sub(gb.scalar(1.0), gb.mul(y, y))));
  return success();
}

LogicalResult ExpOp::buildGradients(OpBuilder &b, Value g,
                                    SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  grads.push_back(gb.mul(g, getResult()));
  return success();
}

LogicalResult LogOp::buildGradients(OpBuilder &b, Value g,
                                    SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  grads.push_back(gb.div(g, getInput()));
  return success();
}

LogicalResult SqrtOp::buildGradients(OpBuilder &b, Value g,
                                     SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  grads.push_back(gb.div(gb.mul(g, gb.scalar(0.5)), getResult()));
  return success();
}

LogicalResult SquareOp::buildGradients(OpBuilder &b, Value g,
                                       SmallVectorImpl<Value> &grads) {
  if (!isFloatTensor(getResult()))
    return noGradients(*this, grads);
  GradBuilder gb(b, *this);
  grads.push_back(gb.mul(g, gb.mul(getInput(), gb.scalar(2.0))));
  return success();
}

LogicalResult AbsOp::buildGradients(OpBuilder &b, Value g,
                                    SmallVectorImpl<Value> &grads) {
  if (!isFloatTensor(getResult()))
    return noGradients(*this, grads);
  GradBuilder gb(b, *this);
  Value sign = gb.sub(gb.cmp(CmpPredicate::gt, getInput(), gb.scalar(0)),
                      gb.cmp(CmpPredicate::lt, getInput(), gb.scalar(0)));
  grads.push_back(gb.mul(g, sign));
  return success();
}

LogicalResult LeakyReluOp::buildGradients(OpBuilder &b, Value g,
                                          SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  Value pos = gb.cmp(CmpPredicate::gt, getInput(), gb.scalar(0));
  Value neg = gb.mul(gb.sub(gb.scalar(1.0), pos),
                     gb.scalar(getAlpha().convertToDouble()));
  grads.push_back(gb.mul(g, gb.add(pos, neg)));
  return success();
}

LogicalResult EluOp::buildGradients(OpBuilder &b, Value g,
                                    SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  // For x < 0, d(alpha*(e^x - 1))/dx = alpha*e^x = y + alpha.
  Value pos = gb.cmp(CmpPredicate::gt, getInput(), gb.scalar(0));
  Value negSlope = gb.add(getResult(), gb.scalar(getAlpha().convertToDouble()));
  Value slope = gb.add(pos, gb.mul(gb.sub(gb.scalar(1.0), pos), negSlope));
  grads.push_back(gb.mul(g, slope));
  return success();
}

LogicalResult CastOp::buildGradients(OpBuilder &, Value g,
                                     SmallVectorImpl<Value> &grads) {
  bool flows = isFloatTensor(getInput()) && isFloatTensor(getResult());
  grads.push_back(flows ? g : Value());
  return success();
}

//===----------------------------------------------------------------------===//
// Tensor ops
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::buildGradients(OpBuilder &b, Value g,
                                        SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  auto r = gb.reshape(g, cast<RankedTensorType>(getInput().getType()).getShape());
  if (failed(r))
    return failure();
  grads.push_back(*r);
  return success();
}

LogicalResult FlattenOp::buildGradients(OpBuilder &b, Value g,
                                        SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  auto r = gb.reshape(g, cast<RankedTensorType>(getInput().getType()).getShape());
  if (failed(r))
    return failure();
  grads.push_back(*r);
  return success();
}

LogicalResult TransposeOp::buildGradients(OpBuilder &b, Value g,
                                          SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  SmallVector<int64_t> inverse(getPerm().size());
  for (auto [i, p] : llvm::enumerate(getPerm()))
    inverse[p] = i;
  grads.push_back(gb.transpose(g, inverse));
  return success();
}

LogicalResult BroadcastToOp::buildGradients(OpBuilder &b, Value g,
                                            SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  grads.push_back(gb.unbroadcast(g, getInput()));
  grads.push_back(Value());
  return success();
}

LogicalResult UnbroadcastOp::buildGradients(OpBuilder &b, Value g,
                                            SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  grads.push_back(gb.broadcastTo(g, getInput()));
  grads.push_back(Value());
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

LogicalResult SumOp::buildGradients(OpBuilder &b, Value g,
                                    SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  auto gk = gb.keepDims(g, getInput(), getAxes(), getKeepdims());
  if (failed(gk))
    return failure();
  grads.push_back(gb.broadcastTo(*gk, getInput()));
  return success();
}

LogicalResult MeanOp::buildGradients(OpBuilder &b, Value g,
                                     SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  auto gk = gb.keepDims(g, getInput(), getAxes(), getKeepdims());
  if (failed(gk))
    return failure();
  Value count = SizeOp::create(b, gb.loc, getInput(), getAxes());
  grads.push_back(gb.broadcastTo(gb.div(*gk, count), getInput()));
  return success();
}

LogicalResult MaxOp::buildGradients(OpBuilder &b, Value g,
                                    SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  // As TensorFlow: ties share the gradient equally.
  auto gk = gb.keepDims(g, getInput(), getAxes(), getKeepdims());
  auto yk = gb.keepDims(getResult(), getInput(), getAxes(), getKeepdims());
  if (failed(gk) || failed(yk))
    return failure();
  Value mask = gb.cmp(CmpPredicate::eq, getInput(), *yk);
  Value count = gb.sum(mask, getAxes(), /*keepdims=*/true);
  grads.push_back(gb.mul(gb.div(mask, count), *gk));
  return success();
}

//===----------------------------------------------------------------------===//
// Neural-network ops
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::buildGradients(OpBuilder &b, Value g,
                                       SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  SmallVector<int64_t> perm = {1, 0};
  if (cast<RankedTensorType>(getLhs().getType()).getRank() == 3)
    perm = {0, 2, 1};
  grads.push_back(MatmulOp::create(b, gb.loc, g, gb.transpose(getRhs(), perm)));
  grads.push_back(MatmulOp::create(b, gb.loc, gb.transpose(getLhs(), perm), g));
  return success();
}

LogicalResult Conv2DOp::buildGradients(OpBuilder &b, Value g,
                                       SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  grads.push_back(Conv2DGradInputOp::create(b, gb.loc, g, getFilter(),
                                            getInput(), getStrides(), getPads()));
  grads.push_back(Conv2DGradFilterOp::create(b, gb.loc, getInput(), g,
                                             getFilter(), getStrides(),
                                             getPads()));
  return success();
}

LogicalResult MaxPoolOp::buildGradients(OpBuilder &b, Value g,
                                        SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  grads.push_back(MaxPoolGradOp::create(b, gb.loc, getInput(), g, getWindow(),
                                        getStrides(), getPads()));
  return success();
}

LogicalResult AvgPoolOp::buildGradients(OpBuilder &b, Value g,
                                        SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  grads.push_back(AvgPoolGradOp::create(b, gb.loc, getInput(), g, getWindow(),
                                        getStrides(), getPads()));
  return success();
}

LogicalResult SoftmaxOp::buildGradients(OpBuilder &b, Value g,
                                        SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  Value y = getResult();
  Value dot = gb.sum(gb.mul(g, y), {(int64_t)getAxis()}, /*keepdims=*/true);
  grads.push_back(gb.mul(y, gb.sub(g, dot)));
  return success();
}

LogicalResult LogSoftmaxOp::buildGradients(OpBuilder &b, Value g,
                                           SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  Value total = gb.sum(g, {(int64_t)getAxis()}, /*keepdims=*/true);
  Value p = ExpOp::create(b, gb.loc, getResult());
  grads.push_back(gb.sub(g, gb.mul(p, total)));
  return success();
}

LogicalResult DropoutOp::buildGradients(OpBuilder &b, Value g,
                                        SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  // The mask is a pure function of (seed, salt, index): the same mask again.
  grads.push_back(DropoutOp::create(b, gb.loc, g, getSeed(), getOffset(),
                                    getRateAttr(), getSaltAttr()));
  grads.push_back(Value());
  if (getOffset())
    grads.push_back(Value());
  return success();
}

LogicalResult SoftmaxCrossEntropyOp::buildGradients(
    OpBuilder &b, Value g, SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  auto gCol = gb.reshape(g, {ShapedType::kDynamic, 1});
  if (failed(gCol))
    return failure();
  Value p = SoftmaxOp::create(b, gb.loc, getLogits(), 1);
  auto labelsType = cast<RankedTensorType>(getLabels().getType());
  if (labelsType.getElementType().isInteger(32)) {
    int64_t classes = cast<RankedTensorType>(getLogits().getType()).getDimSize(1);
    if (ShapedType::isDynamic(classes))
      return mlir::emitError(gb.loc) << "softmax_cross_entropy needs a static "
                                        "number of classes to differentiate";
    Value hot = OneHotOp::create(b, gb.loc, getLabels(), classes);
    grads.push_back(gb.mul(gb.sub(p, hot), *gCol));
    grads.push_back(Value());
    return success();
  }
  // Soft labels: d/dlogits = p * sum(labels) - labels; d/dlabels = -log p.
  Value mass = gb.sum(getLabels(), {1}, /*keepdims=*/true);
  grads.push_back(gb.mul(gb.sub(gb.mul(p, mass), getLabels()), *gCol));
  Value logp = LogSoftmaxOp::create(b, gb.loc, getLogits(), 1);
  grads.push_back(gb.mul(gb.neg(logp), *gCol));
  return success();
}

LogicalResult MseOp::buildGradients(OpBuilder &b, Value g,
                                    SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  Value diff = gb.sub(getLhs(), getRhs());
  auto rank = cast<RankedTensorType>(diff.getType()).getRank();
  SmallVector<int64_t> all = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  Value count = SizeOp::create(b, gb.loc, diff, all);
  Value scale = gb.div(gb.mul(g, gb.scalar(2.0)), count);
  Value gd = gb.mul(diff, scale);
  return pushBinary(gb, getLhs(), getRhs(), gd, gb.neg(gd), grads);
}

LogicalResult L2Op::buildGradients(OpBuilder &b, Value g,
                                   SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  grads.push_back(gb.mul(getInput(), gb.mul(g, gb.scalar(2.0))));
  return success();
}

//===----------------------------------------------------------------------===//
// Fused ops
//===----------------------------------------------------------------------===//

/// The gradient with respect to the convolution's output uses only what
/// the forward pass returned: the activation's derivative comes from its
/// output (at a max pool's arg-max the activation's output is the pooled
/// value), and a max pool's gradient goes where the saved arg-max says. The
/// bias gradient sums the gradient at the pooled size: every window's
/// gradient ends up whole in the window's cells, so the sums agree.
LogicalResult FusedConv2DOp::buildGradients(OpBuilder &b, Value g,
                                            SmallVectorImpl<Value> &grads) {
  GradBuilder gb(b, *this);
  Value y = getResult();
  double alpha = getAlpha().convertToDouble();
  auto positive = [&] { return gb.cmp(CmpPredicate::gt, y, gb.scalar(0)); };
  // slope(pos, neg) = pos ? 1 : neg, with pos 1.0 or 0.0.
  auto slope = [&](Value pos, Value neg) {
    return gb.add(pos, gb.mul(gb.sub(gb.scalar(1.0), pos), neg));
  };
  Value gs = g;
  switch (getActivation()) {
  case Activation::none:
    break;
  case Activation::relu:
    gs = gb.mul(g, positive());
    break;
  case Activation::sigmoid:
    gs = gb.mul(g, gb.mul(y, gb.sub(gb.scalar(1.0), y)));
    break;
  case Activation::tanh:
    gs = gb.mul(g, gb.sub(gb.scalar(1.0), gb.mul(y, y)));
    break;
  case Activation::leaky_relu:
    gs = gb.mul(g, slope(positive(), gb.scalar(alpha)));
    break;
  case Activation::elu:
    gs = gb.mul(g, slope(positive(), gb.add(y, gb.scalar(alpha))));
    break;
  }
  Value dz = gs;
  if (getPool() != PoolKind::none) {
    RankedTensorType conv = getConvType();
    if (!conv)
      return emitOpError("needs ranked types to derive its gradient");
    dz = UnpoolOp::create(b, gb.loc, gs, getIndices(), getPool(),
                          ArrayRef<int64_t>{conv.getDimSize(1), conv.getDimSize(2)},
                          getPoolWindow(), getPoolStrides(), getPoolPads());
  }
  // The filter gradient first: the CPU schedule fuses the input gradient's
  // image loop into the filter gradient's, which must come first.
  Value dw = Conv2DGradFilterOp::create(b, gb.loc, getInput(), dz, getFilter(),
                                        getStrides(), getPads());
  grads.push_back(Conv2DGradInputOp::create(b, gb.loc, dz, getFilter(),
                                            getInput(), getStrides(), getPads()));
  grads.push_back(dw);
  if (getBias())
    grads.push_back(gb.sum(gs, {0, 1, 2}, /*keepdims=*/false));
  return success();
}
