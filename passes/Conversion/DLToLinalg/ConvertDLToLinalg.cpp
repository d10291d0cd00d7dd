//===- ConvertDLToLinalg.cpp - lower dl to linalg on tensors ---------------===//
//
// Lowers each computational dl op to linalg on tensors: named ops for matmul,
// convolution and pooling, linalg.generic for the rest. Symbolic dimensions
// are read with tensor.dim. Expects inferred shapes and no dl.step_seed.
//
//===----------------------------------------------------------------------===//

#include "passes/Conversion/DLToLinalg/Patterns.h"
#include "passes/Passes.h"
#include "runtime/Contracts.h"

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace contract = ::dlc::contract;

namespace mlir::dlc {
#define GEN_PASS_DEF_CONVERTDLTOLINALGPASS
#include "passes/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;
using utils::IteratorType;

namespace {

//===----------------------------------------------------------------------===//
// Building blocks
//===----------------------------------------------------------------------===//

RankedTensorType tensorType(Value v) { return cast<RankedTensorType>(v.getType()); }

Value indexConst(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

Value floatConst(OpBuilder &b, Location loc, double v) {
  return arith::ConstantOp::create(b, loc, b.getF32Type(),
                                   b.getF32FloatAttr(static_cast<float>(v)));
}

Value dimOf(OpBuilder &b, Location loc, Value v, int64_t i) {
  auto t = tensorType(v);
  if (!t.isDynamicDim(i))
    return indexConst(b, loc, t.getDimSize(i));
  return tensor::DimOp::create(b, loc, v, i);
}

/// An uninitialized tensor of `type`; `dims[i]` gives dynamic dimension i.
Value emptyTensor(OpBuilder &b, Location loc, RankedTensorType type,
                  ArrayRef<Value> dims) {
  SmallVector<Value> dynamic;
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (type.isDynamicDim(i))
      dynamic.push_back(dims[i]);
  return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType(),
                                 dynamic);
}

/// A tensor of `type` filled with `value`.
Value filledTensor(OpBuilder &b, Location loc, RankedTensorType type,
                   ArrayRef<Value> dims, Value value) {
  Value empty = emptyTensor(b, loc, type, dims);
  return linalg::FillOp::create(b, loc, value, empty).getResult(0);
}

/// The dims of a result of NumPy broadcasting of `operands`: static where
/// the type says so, else read from an operand whose aligned dim is dynamic.
SmallVector<Value> broadcastDims(OpBuilder &b, Location loc,
                                 RankedTensorType result, ValueRange operands) {
  int64_t rank = result.getRank();
  SmallVector<Value> dims(rank);
  for (int64_t i = 0; i < rank; ++i) {
    if (!result.isDynamicDim(i))
      continue;
    for (Value v : operands) {
      auto t = tensorType(v);
      int64_t j = i - (rank - t.getRank());
      if (j >= 0 && t.isDynamicDim(j)) {
        dims[i] = tensor::DimOp::create(b, loc, v, j);
        break;
      }
    }
  }
  return dims;
}

/// The indexing map reading `operand` (NumPy-aligned to the right) in an
/// iteration space of `rank` dims: size-1 dims that broadcast read index 0.
AffineMap broadcastMap(MLIRContext *ctx, RankedTensorType operand,
                       ArrayRef<int64_t> resultShape) {
  int64_t rank = resultShape.size();
  SmallVector<AffineExpr> exprs;
  for (int64_t j = 0; j < operand.getRank(); ++j) {
    int64_t i = j + rank - operand.getRank();
    if (operand.getDimSize(j) == 1 && resultShape[i] != 1)
      exprs.push_back(getAffineConstantExpr(0, ctx));
    else
      exprs.push_back(getAffineDimExpr(i, ctx));
  }
  return AffineMap::get(rank, 0, exprs, ctx);
}

/// Map from a full iteration space to the same dims minus `dropped`.
AffineMap dropDimsMap(MLIRContext *ctx, int64_t rank, ArrayRef<int64_t> dropped) {
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < rank; ++i)
    if (!llvm::is_contained(dropped, i))
      exprs.push_back(getAffineDimExpr(i, ctx));
  return AffineMap::get(rank, 0, exprs, ctx);
}

using BodyFn = function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// A parallel linalg.generic over `resultType`'s shape: inputs read through
/// `maps`, body computes the element from the input elements.
Value buildMap(OpBuilder &b, Location loc, RankedTensorType resultType,
               ArrayRef<Value> dims, ValueRange inputs,
               ArrayRef<AffineMap> maps, BodyFn body) {
  MLIRContext *ctx = b.getContext();
  int64_t rank = resultType.getRank();
  SmallVector<AffineMap> allMaps(maps);
  allMaps.push_back(AffineMap::getMultiDimIdentityMap(rank, ctx));
  Value init = emptyTensor(b, loc, resultType, dims);
  SmallVector<IteratorType> iters(rank, IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, inputs, ValueRange{init}, allMaps, iters,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value v = body(nb, nl, args.drop_back());
        linalg::YieldOp::create(nb, nl, v);
      });
  return generic.getResult(0);
}

/// Reduces `input` over `axes` (dropping them) with `combine(element, acc)`,
/// starting from `init`. `transform` maps each input element first.
Value buildReduce(OpBuilder &b, Location loc, Value input,
                  ArrayRef<int64_t> axes, Value initValue,
                  function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  MLIRContext *ctx = b.getContext();
  auto inType = tensorType(input);
  int64_t rank = inType.getRank();
  SmallVector<int64_t> shape;
  SmallVector<Value> dims;
  for (int64_t i = 0; i < rank; ++i) {
    if (llvm::is_contained(axes, i))
      continue;
    shape.push_back(inType.getDimSize(i));
    dims.push_back(inType.isDynamicDim(i) ? dimOf(b, loc, input, i) : Value());
  }
  auto outType = RankedTensorType::get(shape, inType.getElementType());
  Value init = filledTensor(b, loc, outType, dims, initValue);
  SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(rank, ctx),
                                 dropDimsMap(ctx, rank, axes)};
  SmallVector<IteratorType> iters;
  for (int64_t i = 0; i < rank; ++i)
    iters.push_back(llvm::is_contained(axes, i) ? IteratorType::reduction
                                                : IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{outType}, ValueRange{input}, ValueRange{init}, maps,
      iters, [&](OpBuilder &nb, Location nl, ValueRange args) {
        linalg::YieldOp::create(nb, nl, combine(nb, nl, args[0], args[1]));
      });
  return generic.getResult(0);
}

Value sumReduce(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> axes) {
  return buildReduce(b, loc, input, axes, floatConst(b, loc, 0.0),
                     [](OpBuilder &nb, Location nl, Value x, Value acc) -> Value {
                       return arith::AddFOp::create(nb, nl, x, acc);
                     });
}

Value maxReduce(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> axes) {
  return buildReduce(
      b, loc, input, axes,
      floatConst(b, loc, -std::numeric_limits<float>::infinity()),
      [](OpBuilder &nb, Location nl, Value x, Value acc) -> Value {
        return arith::MaxNumFOp::create(nb, nl, x, acc);
      });
}

/// Reshapes `input` to `type`; the one dynamic dim (if any) is computed
/// from the element count.
Value reshapeTo(OpBuilder &b, Location loc, Value input, RankedTensorType type) {
  if (input.getType() == type)
    return input;
  auto inType = tensorType(input);
  SmallVector<Value> dims;
  Value total = indexConst(b, loc, 1);
  for (int64_t i = 0; i < inType.getRank(); ++i)
    total = arith::MulIOp::create(b, loc, total, dimOf(b, loc, input, i));
  int64_t known = 1;
  for (int64_t d : type.getShape())
    if (!ShapedType::isDynamic(d))
      known *= d;
  // Several dynamic dims (keepdims, unbroadcast: unit dims inserted or
  // dropped) cannot come from the element count: take the input's dynamic
  // dims in order.
  SmallVector<int64_t> inDyn;
  for (int64_t i = 0; i < inType.getRank(); ++i)
    if (inType.isDynamicDim(i))
      inDyn.push_back(i);
  bool inOrder = type.getNumDynamicDims() > 1 &&
                 static_cast<int64_t>(inDyn.size()) == static_cast<int64_t>(type.getNumDynamicDims());
  size_t nextDyn = 0;
  for (int64_t d : type.getShape()) {
    if (ShapedType::isDynamic(d) && inOrder)
      dims.push_back(dimOf(b, loc, input, inDyn[nextDyn++]));
    else if (ShapedType::isDynamic(d))
      dims.push_back(arith::DivUIOp::create(b, loc, total, indexConst(b, loc, known)));
    else
      dims.push_back(indexConst(b, loc, d));
  }
  auto shapeType = RankedTensorType::get({type.getRank()}, b.getIndexType());
  Value shape = tensor::FromElementsOp::create(b, loc, shapeType, dims);
  return tensor::ReshapeOp::create(b, loc, type, input, shape);
}

/// Pads the spatial dims of an NHWC tensor by pads = [t, b, l, r].
Value padNHWC(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> pads,
              double value) {
  if (llvm::all_of(pads, [](int64_t p) { return p == 0; }))
    return input;
  auto t = tensorType(input);
  SmallVector<int64_t> shape(t.getShape());
  for (int i = 0; i < 2; ++i)
    if (!ShapedType::isDynamic(shape[1 + i]))
      shape[1 + i] += pads[2 * i] + pads[2 * i + 1];
  auto type = RankedTensorType::get(shape, t.getElementType());
  SmallVector<OpFoldResult> low = {b.getIndexAttr(0), b.getIndexAttr(pads[0]),
                                   b.getIndexAttr(pads[2]), b.getIndexAttr(0)};
  SmallVector<OpFoldResult> high = {b.getIndexAttr(0), b.getIndexAttr(pads[1]),
                                    b.getIndexAttr(pads[3]), b.getIndexAttr(0)};
  return tensor::PadOp::create(b, loc, type, input, low, high,
                               floatConst(b, loc, value));
}

DenseIntElementsAttr i64Vector(OpBuilder &b, ArrayRef<int64_t> values) {
  auto type = RankedTensorType::get({(int64_t)values.size()}, b.getI64Type());
  return DenseIntElementsAttr::get(type, values);
}

/// Dims of a result whose dynamic dims all come from `source`'s same dims.
SmallVector<Value> sameDims(OpBuilder &b, Location loc, RankedTensorType type,
                            Value source) {
  SmallVector<Value> dims;
  for (int64_t i = 0; i < type.getRank(); ++i)
    dims.push_back(type.isDynamicDim(i) ? dimOf(b, loc, source, i) : Value());
  return dims;
}

/// Dims of the NHWC result of a window op (conv or pool) over `input`: N from
/// the input, Ho and Wo computed as (in + pads - window) / stride + 1 where
/// the input's spatial dims are symbolic.
SmallVector<Value> windowDims(OpBuilder &b, Location loc, RankedTensorType type,
                              Value input, ArrayRef<int64_t> window,
                              ArrayRef<int64_t> strides, ArrayRef<int64_t> pads) {
  SmallVector<Value> dims(4);
  if (type.isDynamicDim(0))
    dims[0] = dimOf(b, loc, input, 0);
  for (int i = 0; i < 2; ++i) {
    if (!type.isDynamicDim(1 + i))
      continue;
    Value in = dimOf(b, loc, input, 1 + i);
    Value span = arith::AddIOp::create(
        b, loc, in,
        indexConst(b, loc, pads[2 * i] + pads[2 * i + 1] - window[i]));
    Value out = arith::DivUIOp::create(b, loc, span, indexConst(b, loc, strides[i]));
    dims[1 + i] = arith::AddIOp::create(b, loc, out, indexConst(b, loc, 1));
  }
  return dims;
}

//===----------------------------------------------------------------------===//
// Elementwise ops, constants and casts
//===----------------------------------------------------------------------===//

/// Every op implementing ElementwiseOpInterface becomes one parallel generic
/// over the broadcast shape, its body built by the op itself.
struct ElementwiseLowering
    : public OpInterfaceRewritePattern<dl::ElementwiseOpInterface> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;
  LogicalResult matchAndRewrite(dl::ElementwiseOpInterface op,
                                PatternRewriter &rewriter) const override {
    Location loc = op->getLoc();
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    SmallVector<AffineMap> maps;
    for (Value v : op->getOperands())
      maps.push_back(broadcastMap(getContext(), tensorType(v),
                                  resultType.getShape()));
    auto dims = broadcastDims(rewriter, loc, resultType, op->getOperands());
    Value result = buildMap(
        rewriter, loc, resultType, dims, op->getOperands(), maps,
        [&](OpBuilder &b, Location l, ValueRange args) {
          return op.buildScalar(b, l, args);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ConstantLowering : public OpRewritePattern<dl::ConstantOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dl::ConstantOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(
        op, cast<TypedAttr>(op.getValue()));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

template <typename OpTy>
struct ReshapeLowering : public OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, reshapeTo(rewriter, op.getLoc(), op.getInput(),
                                     cast<RankedTensorType>(op.getType())));
    return success();
  }
};

struct TransposeLowering : public OpRewritePattern<dl::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dl::TransposeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    SmallVector<Value> dims;
    for (auto [i, p] : llvm::enumerate(op.getPerm()))
      dims.push_back(type.isDynamicDim(i) ? dimOf(rewriter, loc, op.getInput(), p)
                                          : Value());
    Value init = emptyTensor(rewriter, loc, type, dims);
    auto t = linalg::TransposeOp::create(rewriter, loc, op.getInput(), init,
                                         op.getPerm());
    rewriter.replaceOp(op, t.getResult());
    return success();
  }
};

struct OneHotLowering : public OpRewritePattern<dl::OneHotOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dl::OneHotOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    auto dims = sameDims(rewriter, loc, type, op.getLabels());
    AffineMap labelsMap = dropDimsMap(getContext(), rank, {rank - 1});
    Value result = buildMap(
        rewriter, loc, type, dims, ValueRange{op.getLabels()}, {labelsMap},
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value idx = linalg::IndexOp::create(b, l, rank - 1);
          Value cls = arith::IndexCastOp::create(b, l, b.getI32Type(), idx);
          Value hit = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                            cls, args[0]);
          return arith::UIToFPOp::create(b, l, b.getF32Type(), hit);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct BroadcastToLowering : public OpRewritePattern<dl::BroadcastToOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dl::BroadcastToOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    auto dims = sameDims(rewriter, loc, type, op.getLike());
    AffineMap map = broadcastMap(getContext(), tensorType(op.getInput()),
                                 type.getShape());
    Value result = buildMap(rewriter, loc, type, dims, ValueRange{op.getInput()},
                            {map}, [](OpBuilder &, Location, ValueRange args) {
                              return args[0];
                            });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct UnbroadcastLowering : public OpRewritePattern<dl::UnbroadcastOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dl::UnbroadcastOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto in = tensorType(op.getInput());
    auto like = cast<RankedTensorType>(op.getType());
    int64_t lead = in.getRank() - like.getRank();
    SmallVector<int64_t> axes;
    for (int64_t i = 0; i < in.getRank(); ++i)
      if (i < lead || (like.getDimSize(i - lead) == 1 && in.getDimSize(i) != 1))
        axes.push_back(i);
    Value reduced = sumReduce(rewriter, loc, op.getInput(), axes);
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, reduced, like));
    return success();
  }
};

struct SizeLowering : public OpRewritePattern<dl::SizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dl::SizeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value n = indexConst(rewriter, loc, 1);
    for (int64_t a : op.getAxes())
      n = arith::MulIOp::create(rewriter, loc, n, dimOf(rewriter, loc, op.getInput(), a));
    Value i64 = arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(), n);
    Value f = arith::SIToFPOp::create(rewriter, loc, rewriter.getF32Type(), i64);
    rewriter.replaceOpWithNewOp<tensor::FromElementsOp>(op, op.getType(),
                                                        ValueRange{f});
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

/// The count of elements over `axes` of `input`, as an f32 scalar.
Value countOf(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> axes) {
  Value n = indexConst(b, loc, 1);
  for (int64_t a : axes)
    n = arith::MulIOp::create(b, loc, n, dimOf(b, loc, input, a));
  Value i64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), n);
  return arith::SIToFPOp::create(b, loc, b.getF32Type(), i64);
}

/// Divides every element of `t` by the scalar `count`.
Value scaleBy(OpBuilder &b, Location loc, Value t, Value count) {
  auto type = tensorType(t);
  return buildMap(b, loc, type, sameDims(b, loc, type, t), ValueRange{t},
                  {AffineMap::getMultiDimIdentityMap(type.getRank(), b.getContext())},
                  [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
                    return arith::DivFOp::create(nb, nl, args[0], count);
                  });
}

template <typename OpTy>
struct ReduceLowering : public OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = op.getInput();
    Value r;
    if constexpr (std::is_same_v<OpTy, dl::MaxOp>) {
      r = maxReduce(rewriter, loc, input, op.getAxes());
    } else {
      r = sumReduce(rewriter, loc, input, op.getAxes());
      if constexpr (std::is_same_v<OpTy, dl::MeanOp>)
        r = scaleBy(rewriter, loc, r, countOf(rewriter, loc, input, op.getAxes()));
    }
    rewriter.replaceOp(op, reshapeTo(rewriter, loc, r,
                                     cast<RankedTensorType>(op.getType())));
    return success();
  }
};

struct ArgmaxLowering : public OpRewritePattern<dl::ArgmaxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dl::ArgmaxOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = getContext();
    Value input = op.getInput();
    auto inType = tensorType(input);
    int64_t rank = inType.getRank(), axis = op.getAxis();
    auto idxType = cast<RankedTensorType>(op.getType());
    auto valType = idxType.clone(rewriter.getF32Type());
    SmallVector<Value> outDims;
    for (int64_t i = 0; i < rank; ++i)
      if (i != axis)
        outDims.push_back(inType.isDynamicDim(i) ? dimOf(rewriter, loc, input, i)
                                                 : Value());
    Value vals = filledTensor(rewriter, loc, valType, outDims,
                              floatConst(rewriter, loc,
                                         -std::numeric_limits<float>::infinity()));
    Value zero = arith::ConstantOp::create(rewriter, loc, rewriter.getI32Type(),
                                           rewriter.getI32IntegerAttr(0));
    Value idxs = filledTensor(rewriter, loc, idxType, outDims, zero);
    AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
    AffineMap out = dropDimsMap(ctx, rank, {axis});
    SmallVector<IteratorType> iters(rank, IteratorType::parallel);
    iters[axis] = IteratorType::reduction;
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{valType, idxType}, ValueRange{input},
        ValueRange{vals, idxs}, SmallVector<AffineMap>{id, out, out}, iters,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value i = linalg::IndexOp::create(b, l, axis);
          Value i32 = arith::IndexCastOp::create(b, l, b.getI32Type(), i);
          // Strictly greater keeps the first maximum.
          Value better = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT,
                                               args[0], args[1]);
          Value v = arith::SelectOp::create(b, l, better, args[0], args[1]);
          Value k = arith::SelectOp::create(b, l, better, i32, args[2]);
          linalg::YieldOp::create(b, l, ValueRange{v, k});
        });
    rewriter.replaceOp(op, generic.getResult(1));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Softmax family
//===----------------------------------------------------------------------===//

/// Builds softmax (logOutput=false) or log_softmax along `axis`.
Value buildSoftmax(OpBuilder &b, Location loc, Value input, int64_t axis,
                   bool logOutput) {
  MLIRContext *ctx = b.getContext();
  auto type = tensorType(input);
  int64_t rank = type.getRank();
  auto dims = sameDims(b, loc, type, input);
  AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
  AffineMap row = dropDimsMap(ctx, rank, {axis});
  Value max = maxReduce(b, loc, input, {axis});
  Value shifted = buildMap(b, loc, type, dims, ValueRange{input, max}, {id, row},
                           [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                             return arith::SubFOp::create(nb, nl, a[0], a[1]);
                           });
  Value exps = buildMap(b, loc, type, dims, ValueRange{shifted}, {id},
                        [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                          return math::ExpOp::create(nb, nl, a[0]);
                        });
  Value sum = sumReduce(b, loc, exps, {axis});
  if (logOutput)
    return buildMap(b, loc, type, dims, ValueRange{shifted, sum}, {id, row},
                    [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                      return arith::SubFOp::create(
                          nb, nl, a[0], math::LogOp::create(nb, nl, a[1]));
                    });
  return buildMap(b, loc, type, dims, ValueRange{exps, sum}, {id, row},
                  [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                    return arith::DivFOp::create(nb, nl, a[0], a[1]);
                  });
}

template <typename OpTy, bool Log>
struct SoftmaxLowering : public OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, buildSoftmax(rewriter, op.getLoc(), op.getInput(),
                                        op.getAxis(), Log));
    return success();
  }
};

struct SoftmaxCrossEntropyLowering
    : public OpRewritePattern<dl::SoftmaxCrossEntropyOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dl::SoftmaxCrossEntropyOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = getContext();
    Value logits = op.getLogits(), labels = op.getLabels();
    auto lt = tensorType(logits);
    AffineMap id = AffineMap::getMultiDimIdentityMap(2, ctx);
    AffineMap row = dropDimsMap(ctx, 2, {1});
    auto dims = sameDims(rewriter, loc, lt, logits);
    auto resultType = cast<RankedTensorType>(op.getType());
    // lse = max + log(sum(exp(x - max))).
    Value max = maxReduce(rewriter, loc, logits, {1});
    Value exps = buildMap(rewriter, loc, lt, dims, ValueRange{logits, max},
                          {id, row},
                          [](OpBuilder &b, Location l, ValueRange a) -> Value {
                            return math::ExpOp::create(
                                b, l, arith::SubFOp::create(b, l, a[0], a[1]));
                          });
    Value sum = sumReduce(rewriter, loc, exps, {1});
    // picked = sum_c w[n, c] * x[n, c], with w the one-hot or soft labels;
    // mass = sum_c w[n, c] (1 for class ids).
    bool ids = tensorType(labels).getElementType().isInteger(32);
    Value weighted = buildMap(
        rewriter, loc, lt, dims, ValueRange{logits, labels},
        {id, ids ? row : id}, [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          if (!ids)
            return arith::MulFOp::create(b, l, a[0], a[1]);
          Value c = arith::IndexCastOp::create(b, l, b.getI32Type(),
                                               linalg::IndexOp::create(b, l, 1));
          Value hit = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, c, a[1]);
          return arith::SelectOp::create(b, l, hit, a[0], floatConst(b, l, 0.0));
        });
    Value picked = sumReduce(rewriter, loc, weighted, {1});
    Value mass = ids ? Value() : sumReduce(rewriter, loc, labels, {1});
    SmallVector<Value> ins = {max, sum, picked};
    if (mass)
      ins.push_back(mass);
    AffineMap vec = AffineMap::getMultiDimIdentityMap(1, ctx);
    SmallVector<AffineMap> maps(ins.size(), vec);
    Value loss = buildMap(
        rewriter, loc, resultType, sameDims(rewriter, loc, resultType, logits),
        ins, maps, [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value lse = arith::AddFOp::create(b, l, a[0], math::LogOp::create(b, l, a[1]));
          if (a.size() == 4)
            lse = arith::MulFOp::create(b, l, lse, a[3]);
          return arith::SubFOp::create(b, l, lse, a[2]);
        });
    rewriter.replaceOp(op, loss);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

/// Sums body(elements) over the whole iteration space of `shapeType`.
Value sumAll(OpBuilder &b, Location loc, RankedTensorType shapeType,
             ValueRange inputs, ArrayRef<AffineMap> maps, BodyFn body) {
  MLIRContext *ctx = b.getContext();
  int64_t rank = shapeType.getRank();
  auto scalar = RankedTensorType::get({}, b.getF32Type());
  Value init = filledTensor(b, loc, scalar, {}, floatConst(b, loc, 0.0));
  SmallVector<AffineMap> all(maps);
  all.push_back(AffineMap::get(rank, 0, {}, ctx));
  SmallVector<IteratorType> iters(rank, IteratorType::reduction);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{scalar}, inputs, ValueRange{init}, all, iters,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value v = body(nb, nl, args.drop_back());
        linalg::YieldOp::create(nb, nl, Value(arith::AddFOp::create(nb, nl, v, args.back())));
      });
  return generic.getResult(0);
}

struct MseLowering : public OpRewritePattern<dl::MseOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dl::MseOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto lt = tensorType(op.getLhs()), rt = tensorType(op.getRhs());
    auto shape = *dl::broadcastShapes(lt.getShape(), rt.getShape());
    auto bt = RankedTensorType::get(shape, rewriter.getF32Type());
    SmallVector<AffineMap> maps = {broadcastMap(getContext(), lt, shape),
                                   broadcastMap(getContext(), rt, shape)};
    Value total = sumAll(rewriter, loc, bt, op->getOperands(), maps,
                         [](OpBuilder &b, Location l, ValueRange a) -> Value {
                           Value d = arith::SubFOp::create(b, l, a[0], a[1]);
                           return arith::MulFOp::create(b, l, d, d);
                         });
    // The count of the broadcast shape, from whichever operand has each dim.
    auto dims = broadcastDims(rewriter, loc, bt, op->getOperands());
    Value n = indexConst(rewriter, loc, 1);
    for (int64_t i = 0; i < bt.getRank(); ++i)
      n = arith::MulIOp::create(rewriter, loc, n,
                                dims[i] ? dims[i] : indexConst(rewriter, loc, shape[i]));
    Value nf = arith::SIToFPOp::create(
        rewriter, loc, rewriter.getF32Type(),
        arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(), n));
    rewriter.replaceOp(op, scaleBy(rewriter, loc, total, nf));
    return success();
  }
};

struct L2Lowering : public OpRewritePattern<dl::L2Op> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dl::L2Op op,
                                PatternRewriter &rewriter) const override {
    auto t = tensorType(op.getInput());
    Value total = sumAll(
        rewriter, op.getLoc(), t, ValueRange{op.getInput()},
        {AffineMap::getMultiDimIdentityMap(t.getRank(), getContext())},
        [](OpBuilder &b, Location l, ValueRange a) -> Value {
          return arith::MulFOp::create(b, l, a[0], a[0]);
        });
    rewriter.replaceOp(op, total);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Dropout
//===----------------------------------------------------------------------===//

Value i64Const(OpBuilder &b, Location loc, uint64_t v) {
  return arith::ConstantOp::create(b, loc, b.getI64Type(),
                                   b.getI64IntegerAttr(static_cast<int64_t>(v)));
}

/// splitmix64's finalizer: a counter-based hash with good avalanche.
Value mix64(OpBuilder &b, Location loc, Value z) {
  auto xorShift = [&](Value v, uint64_t s) -> Value {
    return arith::XOrIOp::create(b, loc, v,
                                 arith::ShRUIOp::create(b, loc, v, i64Const(b, loc, s)));
  };
  z = xorShift(z, 30);
  z = arith::MulIOp::create(b, loc, z, i64Const(b, loc, 0xBF58476D1CE4E5B9ull));
  z = xorShift(z, 27);
  z = arith::MulIOp::create(b, loc, z, i64Const(b, loc, 0x94D049BB133111EBull));
  return xorShift(z, 31);
}

struct DropoutLowering : public OpRewritePattern<dl::DropoutOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dl::DropoutOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    double rate = op.getRate().convertToDouble();
    Value seed = tensor::ExtractOp::create(rewriter, loc, op.getSeed(), ValueRange{});
    Value key = arith::AddIOp::create(
        rewriter, loc, seed,
        i64Const(rewriter, loc, 0x9E3779B97F4A7C15ull * (uint64_t)(op.getSalt() + 1)));
    SmallVector<Value> dimVals;
    for (int64_t i = 0; i < rank; ++i)
      dimVals.push_back(dimOf(rewriter, loc, op.getInput(), i));
    // With an offset, indices count from row `offset` of the global batch.
    Value rowOffset;
    if (op.getOffset() && rank > 0) {
      Value rowElems = indexConst(rewriter, loc, 1);
      for (int64_t i = 1; i < rank; ++i)
        rowElems = arith::MulIOp::create(rewriter, loc, rowElems, dimVals[i]);
      Value offset =
          tensor::ExtractOp::create(rewriter, loc, op.getOffset(), ValueRange{});
      rowOffset = arith::MulIOp::create(
          rewriter, loc, offset,
          arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(), rowElems));
    }
    auto dims = sameDims(rewriter, loc, type, op.getInput());
    Value result = buildMap(
        rewriter, loc, type, dims, ValueRange{op.getInput()},
        {AffineMap::getMultiDimIdentityMap(rank, getContext())},
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          // Row-major linear index of the element.
          Value linear = indexConst(b, l, 0);
          for (int64_t i = 0; i < rank; ++i) {
            linear = arith::MulIOp::create(b, l, linear, dimVals[i]);
            linear = arith::AddIOp::create(b, l, linear, linalg::IndexOp::create(b, l, i));
          }
          Value idx = arith::IndexCastOp::create(b, l, b.getI64Type(), linear);
          if (rowOffset)
            idx = arith::AddIOp::create(b, l, idx, rowOffset);
          Value h = mix64(b, l, arith::AddIOp::create(
                                    b, l, key,
                                    arith::MulIOp::create(
                                        b, l, idx, i64Const(b, l, 0xD1B54A32D192ED03ull))));
          // Top 24 bits as a uniform number in [0, 1).
          Value bits = arith::ShRUIOp::create(b, l, h, i64Const(b, l, 40));
          Value u = arith::MulFOp::create(
              b, l, arith::UIToFPOp::create(b, l, b.getF32Type(), bits),
              floatConst(b, l, 1.0 / 16777216.0));
          Value keep = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE, u,
                                             floatConst(b, l, rate));
          Value scaled = arith::MulFOp::create(b, l, a[0],
                                               floatConst(b, l, 1.0 / (1.0 - rate)));
          return arith::SelectOp::create(b, l, keep, scaled, floatConst(b, l, 0.0));
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Matmul and convolution
//===----------------------------------------------------------------------===//

/// The body of a contraction: acc + a * b. Like every BLAS, it may contract
/// to FMAs and reassociate the reduction.
void buildMulAddBody(OpBuilder &b, Location loc, ValueRange args) {
  auto fm = arith::FastMathFlags::contract | arith::FastMathFlags::reassoc;
  Value p = arith::MulFOp::create(b, loc, args[0], args[1], fm);
  linalg::YieldOp::create(b, loc, Value(arith::AddFOp::create(b, loc, args[2], p, fm)));
}

/// C[m, n] = sum_k A[m, k] * B[k, n] as a linalg.generic whose loops run
/// (m, k, n): the innermost loop walks rows of B and C contiguously, which
/// the vectorizer turns into full-width FMAs. `transA`/`transB` read A or B
/// transposed through the indexing map instead of materializing the
/// transpose. Batched (rank 3) operands add a leading batch loop.
Value buildMatmul(OpBuilder &b, Location loc, Value a, bool transA, Value bm,
                  bool transB, RankedTensorType type, ArrayRef<Value> dims) {
  MLIRContext *ctx = b.getContext();
  int64_t r = type.getRank();
  Value init = filledTensor(b, loc, type, dims, floatConst(b, loc, 0.0));
  // Loop dims: [batch,] m, k, n.
  int64_t nd = r + 1;
  SmallVector<AffineExpr> d;
  for (int64_t i = 0; i < nd; ++i)
    d.push_back(getAffineDimExpr(i, ctx));
  int64_t o = r == 3 ? 1 : 0;
  // With B transposed, both operands are contiguous along k: run (m, n, k)
  // so the innermost loop is a dot product; otherwise (m, k, n).
  AffineExpr m = d[o], k = d[o + 1], n = d[o + 2];
  if (transB && !transA)
    std::swap(k, n);
  auto withBatch = [&](AffineExpr x, AffineExpr y) {
    SmallVector<AffineExpr> e;
    if (r == 3)
      e.push_back(d[0]);
    e.push_back(x);
    e.push_back(y);
    return AffineMap::get(nd, 0, e, ctx);
  };
  SmallVector<AffineMap> maps = {transA ? withBatch(k, m) : withBatch(m, k),
                                 transB ? withBatch(n, k) : withBatch(k, n),
                                 withBatch(m, n)};
  SmallVector<IteratorType> iters(nd, IteratorType::parallel);
  iters[transB && !transA ? o + 2 : o + 1] = IteratorType::reduction;
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{type}, ValueRange{a, bm}, ValueRange{init}, maps, iters,
      buildMulAddBody);
  // The CPU schedule (compiler/targets/cpu) tiles and vectorizes these.
  generic->setAttr(contract::kMatmulMarker, b.getUnitAttr());
  return generic.getResult(0);
}

/// If `v` is a 2-D (or batched 3-D) transpose of the last two dims, returns
/// its input: the matmul reads it transposed instead.
Value transposedSource(Value v) {
  auto t = v.getDefiningOp<dl::TransposeOp>();
  if (!t)
    return nullptr;
  ArrayRef<int64_t> perm = t.getPerm();
  if ((perm.size() == 2 && perm[0] == 1 && perm[1] == 0) ||
      (perm.size() == 3 && perm[0] == 0 && perm[1] == 2 && perm[2] == 1))
    return t.getInput();
  return nullptr;
}

struct MatmulLowering : public OpRewritePattern<dl::MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dl::MatmulOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t r = type.getRank();
    Value a = op.getLhs(), bm = op.getRhs();
    bool transA = false, transB = false;
    if (Value src = transposedSource(a)) {
      a = src;
      transA = true;
    }
    if (Value src = transposedSource(bm)) {
      bm = src;
      transB = true;
    }
    SmallVector<Value> dims(r);
    if (r == 3 && type.isDynamicDim(0))
      dims[0] = dimOf(rewriter, loc, a, 0);
    if (type.isDynamicDim(r - 2))
      dims[r - 2] = dimOf(rewriter, loc, a, transA ? r - 1 : r - 2);
    if (type.isDynamicDim(r - 1))
      dims[r - 1] = dimOf(rewriter, loc, bm, transB ? r - 2 : r - 1);
    rewriter.replaceOp(op, buildMatmul(rewriter, loc, a, transA, bm, transB,
                                       type, dims));
    return success();
  }
};

/// A convolution as linalg.conv_2d_nhwc_hwcf over the padded input: the CPU
/// schedule tiles it directly (output rows of 7-8 pixels by 32 channels, the
/// window and input channels as reduction loops), so no im2col matrix is
/// ever written to memory.
Value buildConv(OpBuilder &b, Location loc, Value input, Value filter,
                RankedTensorType type, ArrayRef<int64_t> strides,
                ArrayRef<int64_t> pads) {
  Value padded = padNHWC(b, loc, input, pads, 0.0);
  auto ft = tensorType(filter);
  int64_t kh = ft.getDimSize(0), kw = ft.getDimSize(1);
  SmallVector<Value> dims = windowDims(b, loc, type, input, {kh, kw}, strides, pads);
  Value init = filledTensor(b, loc, type, dims, floatConst(b, loc, 0.0));
  auto conv = linalg::Conv2DNhwcHwcfOp::create(
      b, loc, TypeRange{type}, ValueRange{padded, filter}, ValueRange{init},
      i64Vector(b, strides), i64Vector(b, {1, 1}));
  return conv.getResult(0);
}

struct Conv2DLowering : public OpRewritePattern<dl::Conv2DOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dl::Conv2DOp op,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, buildConv(rewriter, op.getLoc(), op.getInput(),
                                     op.getFilter(),
                                     cast<RankedTensorType>(op.getType()),
                                     op.getStrides(), op.getPads()));
    return success();
  }
};

/// dx = conv(dilate_and_pad(g), flip(w)^T): the gradient of a strided,
/// padded convolution is a stride-1 convolution of the zero-dilated output
/// gradient with the spatially flipped filter whose in/out channels swap.
struct Conv2DGradInputLowering : public OpRewritePattern<dl::Conv2DGradInputOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dl::Conv2DGradInputOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value g = op.getGrad(), w = op.getFilter();
    auto gt = tensorType(g), wt = tensorType(w);
    auto xt = cast<RankedTensorType>(op.getType());
    ArrayRef<int64_t> s = op.getStrides(), p = op.getPads();
    int64_t kh = wt.getDimSize(0), kw = wt.getDimSize(1);
    int64_t c = wt.getDimSize(2), f = wt.getDimSize(3);
    int64_t H = xt.getDimSize(1), W = xt.getDimSize(2);
    int64_t ho = gt.getDimSize(1), wo = gt.getDimSize(2);
    if (ShapedType::isDynamic(H) || ShapedType::isDynamic(W) ||
        ShapedType::isDynamic(ho) || ShapedType::isDynamic(wo))
      return rewriter.notifyMatchFailure(op, "needs static spatial dims");
    int64_t top = kh - 1 - p[0], left = kw - 1 - p[2];
    int64_t bottom = H - (ho - 1) * s[0] - 1 + p[0];
    int64_t right = W - (wo - 1) * s[1] - 1 + p[2];
    if (top < 0 || left < 0 || bottom < 0 || right < 0)
      return rewriter.notifyMatchFailure(op, "padding larger than the window");
    int64_t hp = top + (ho - 1) * s[0] + 1 + bottom;
    int64_t wp = left + (wo - 1) * s[1] + 1 + right;
    Value dilated;
    if (s[0] == 1 && s[1] == 1) {
      // Nothing to dilate: a tensor.pad, which the schedule can fuse into
      // the image loop of a fused block's gradient.
      dilated = padNHWC(rewriter, loc, g, {top, bottom, left, right}, 0.0);
    } else {
      // Zero tensor of the padded, dilated size; g goes in at stride s.
      auto padType = RankedTensorType::get({gt.getDimSize(0), hp, wp, f},
                                           gt.getElementType());
      SmallVector<Value> padDims(4);
      Value n = dimOf(rewriter, loc, g, 0);
      if (padType.isDynamicDim(0))
        padDims[0] = n;
      Value zeros = filledTensor(rewriter, loc, padType, padDims,
                                 floatConst(rewriter, loc, 0.0));
      SmallVector<OpFoldResult> offsets = {rewriter.getIndexAttr(0),
                                           rewriter.getIndexAttr(top),
                                           rewriter.getIndexAttr(left),
                                           rewriter.getIndexAttr(0)};
      SmallVector<OpFoldResult> sizes = {n, rewriter.getIndexAttr(ho),
                                         rewriter.getIndexAttr(wo),
                                         rewriter.getIndexAttr(f)};
      if (!gt.isDynamicDim(0))
        sizes[0] = rewriter.getIndexAttr(gt.getDimSize(0));
      SmallVector<OpFoldResult> steps = {rewriter.getIndexAttr(1),
                                         rewriter.getIndexAttr(s[0]),
                                         rewriter.getIndexAttr(s[1]),
                                         rewriter.getIndexAttr(1)};
      dilated = tensor::InsertSliceOp::create(rewriter, loc, g, zeros,
                                                    offsets, sizes, steps);
    }
    // flipped[i, j, f, c] = w[kh-1-i, kw-1-j, c, f], as a tensor.generate
    // rather than a linalg op over a reflected map: linalg's tile-and-fuse
    // computes wrong operand slices for reflections, so no linalg consumer
    // should ever be able to pull it into its tiles.
    auto flipType = RankedTensorType::get({kh, kw, f, c}, wt.getElementType());
    Value flipped = tensor::GenerateOp::create(
        rewriter, loc, flipType, ValueRange{},
        [&](OpBuilder &nb, Location nl, ValueRange iv) {
          auto rev = [&](Value i, int64_t size) -> Value {
            Value last = arith::ConstantIndexOp::create(nb, nl, size - 1);
            return arith::SubIOp::create(nb, nl, last, i);
          };
          Value v = tensor::ExtractOp::create(
              nb, nl, w, ValueRange{rev(iv[0], kh), rev(iv[1], kw), iv[3], iv[2]});
          tensor::YieldOp::create(nb, nl, v);
        });
    Value dx = buildConv(rewriter, loc, dilated, flipped, xt, {1, 1}, {0, 0, 0, 0});
    rewriter.replaceOp(op, dx);
    return success();
  }
};

/// dw[i, j, c, f] = sum_{n, oh, ow} xpad[n, oh*s + i, ow*s + j, c] * g[n, oh, ow, f],
/// as one linalg.generic over (i, j, c, f, n, oh, ow) tagged
/// `dlc.conv_filter_grad`: the CPU schedule tiles it like a convolution (an
/// image at a time, register tiles of input by output channels, the output
/// pixels as reduction loops), so no im2col matrix of the batch (31 MB for
/// the CNN's second layer) is written and read back.
struct Conv2DGradFilterLowering
    : public OpRewritePattern<dl::Conv2DGradFilterOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dl::Conv2DGradFilterOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    Value g = op.getGrad();
    auto type = cast<RankedTensorType>(op.getType());
    ArrayRef<int64_t> s = op.getStrides();
    Value xpad = padNHWC(rewriter, loc, op.getInput(), op.getPads(), 0.0);
    Value init = filledTensor(rewriter, loc, type, {}, floatConst(rewriter, loc, 0.0));
    AffineExpr i, j, c, f, n, oh, ow;
    bindDims(ctx, i, j, c, f, n, oh, ow);
    SmallVector<AffineMap> maps = {
        AffineMap::get(7, 0, {n, oh * s[0] + i, ow * s[1] + j, c}, ctx),
        AffineMap::get(7, 0, {n, oh, ow, f}, ctx),
        AffineMap::get(7, 0, {i, j, c, f}, ctx)};
    SmallVector<IteratorType> iters(4, IteratorType::parallel);
    iters.append(3, IteratorType::reduction);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{xpad, g}, ValueRange{init},
        maps, iters, buildMulAddBody);
    generic->setAttr(contract::kConvFilterGradMarker, rewriter.getUnitAttr());
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

/// The number of real (unpadded) input cells in window `o` of one dim.
Value windowCount(OpBuilder &b, Location loc, Value o, int64_t stride,
                  int64_t padBefore, int64_t window, Value in) {
  Value start = arith::SubIOp::create(
      b, loc, arith::MulIOp::create(b, loc, o, indexConst(b, loc, stride)),
      indexConst(b, loc, padBefore));
  Value end = arith::AddIOp::create(b, loc, start, indexConst(b, loc, window));
  Value lo = arith::MaxSIOp::create(b, loc, start, indexConst(b, loc, 0));
  Value hi = arith::MinSIOp::create(b, loc, end, in);
  return arith::SubIOp::create(b, loc, hi, lo);
}

Value indexToF32(OpBuilder &b, Location loc, Value i) {
  return arith::SIToFPOp::create(
      b, loc, b.getF32Type(), arith::IndexCastOp::create(b, loc, b.getI64Type(), i));
}

template <typename OpTy>
struct PoolLowering : public OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    constexpr bool isMax = std::is_same_v<OpTy, dl::MaxPoolOp>;
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    ArrayRef<int64_t> win = op.getWindow(), s = op.getStrides(), p = op.getPads();
    double padValue = isMax ? -std::numeric_limits<float>::infinity() : 0.0;
    Value padded = padNHWC(rewriter, loc, op.getInput(), p, padValue);
    SmallVector<Value> dims =
        windowDims(rewriter, loc, type, op.getInput(), win, s, p);
    Value init = filledTensor(rewriter, loc, type, dims,
                              floatConst(rewriter, loc, padValue));
    Value window = tensor::EmptyOp::create(rewriter, loc, win, rewriter.getF32Type());
    Value result;
    if constexpr (isMax)
      result = linalg::PoolingNhwcMaxOp::create(
                   rewriter, loc, TypeRange{type}, ValueRange{padded, window},
                   ValueRange{init}, i64Vector(rewriter, s), i64Vector(rewriter, {1, 1}))
                   .getResult(0);
    else
      result = linalg::PoolingNhwcSumOp::create(
                   rewriter, loc, TypeRange{type}, ValueRange{padded, window},
                   ValueRange{init}, i64Vector(rewriter, s), i64Vector(rewriter, {1, 1}))
                   .getResult(0);
    if constexpr (!isMax) {
      // Divide by the number of real cells in each window.
      Value H = dimOf(rewriter, loc, op.getInput(), 1);
      Value W = dimOf(rewriter, loc, op.getInput(), 2);
      result = buildMap(
          rewriter, loc, type, dims, ValueRange{result},
          {AffineMap::getMultiDimIdentityMap(4, this->getContext())},
          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
            Value ch = windowCount(b, l, linalg::IndexOp::create(b, l, 1), s[0],
                                   p[0], win[0], H);
            Value cw = windowCount(b, l, linalg::IndexOp::create(b, l, 2), s[1],
                                   p[2], win[1], W);
            Value cnt = indexToF32(b, l, arith::MulIOp::create(b, l, ch, cw));
            return arith::DivFOp::create(b, l, a[0], cnt);
          });
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// The first maximum of each pool window of `padded` (padded with -inf):
/// one generic with two results, the maximum and its position in the window
/// (`kh * KW + kw`, of element type `indexType`). The strict `>` keeps the
/// first maximum.
/// A reduction over the pool windows of `input` (NHWC, strides `s`) into
/// `inits` (one [N, Ho, Wo, C] tensor per result): loops (n, oh, ow, c, kh,
/// kw), `body` gets (x, window, the inits' values...) and yields the new
/// values.
linalg::GenericOp buildWindowReduction(
    OpBuilder &b, Location loc, Value input, ValueRange inits, ArrayRef<int64_t> win,
    ArrayRef<int64_t> s, function_ref<void(OpBuilder &, Location, ValueRange)> body) {
  MLIRContext *ctx = b.getContext();
  // The window operand only gives the loops over (kh, kw) their bounds, as
  // in linalg's pooling ops.
  Value window = tensor::EmptyOp::create(b, loc, win, b.getF32Type());
  AffineExpr n, oh, ow, c, kh, kw;
  bindDims(ctx, n, oh, ow, c, kh, kw);
  SmallVector<AffineMap> maps = {
      AffineMap::get(6, 0, {n, oh * s[0] + kh, ow * s[1] + kw, c}, ctx),
      AffineMap::get(6, 0, {kh, kw}, ctx)};
  maps.append(inits.size(), AffineMap::get(6, 0, {n, oh, ow, c}, ctx));
  SmallVector<IteratorType> iters(4, IteratorType::parallel);
  iters.append(2, IteratorType::reduction);
  return linalg::GenericOp::create(b, loc, TypeRange(inits), ValueRange{input, window},
                                   inits, maps, iters, body);
}

std::pair<Value, Value> buildArgMaxPool(OpBuilder &b, Location loc, Value padded,
                                        RankedTensorType resultType,
                                        ArrayRef<Value> dims, Type indexType,
                                        ArrayRef<int64_t> win, ArrayRef<int64_t> s,
                                        linalg::GenericOp *op = nullptr) {
  auto idxType = resultType.clone(indexType);
  Value vals = filledTensor(b, loc, resultType, dims,
                            floatConst(b, loc, -std::numeric_limits<float>::infinity()));
  Value idxs = filledTensor(
      b, loc, idxType, dims,
      arith::ConstantOp::create(b, loc, indexType, b.getIntegerAttr(indexType, 0)));
  int64_t kwSize = win[1];
  auto generic = buildWindowReduction(
      b, loc, padded, ValueRange{vals, idxs}, win, s,
      [&](OpBuilder &nb, Location l, ValueRange a) {
        Value k = arith::AddIOp::create(
            nb, l,
            arith::MulIOp::create(nb, l, linalg::IndexOp::create(nb, l, 4),
                                  indexConst(nb, l, kwSize)),
            linalg::IndexOp::create(nb, l, 5));
        Value kt = arith::IndexCastOp::create(nb, l, indexType, k);
        // a = (x, window, best value, best index).
        Value better =
            arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OGT, a[0], a[2]);
        linalg::YieldOp::create(
            nb, l,
            ValueRange{arith::SelectOp::create(nb, l, better, a[0], a[2]),
                       arith::SelectOp::create(nb, l, better, kt, a[3])});
      });
  if (op)
    *op = generic;
  return {generic.getResult(0), generic.getResult(1)};
}

/// The gradient of a pool's input of type `xt` (spatial size H x W) from
/// `g`, the gradient of its result (spatial size ho x wo), as a gather over
/// the input: for each input cell and each window offset (kh, kw) that
/// could cover it, the output cell o = (i + pad - k) / s contributes when
/// the division is exact and o is in range. A max pool routes a window's
/// gradient to the position `argmax` holds (integers of any width); an
/// average pool (null `argmax`) spreads it over the window's real cells.
/// Windows that tile the input exactly (window = stride, no padding: the
/// 2x2/2 pool) have one candidate per cell instead of a loop over offsets.
/// The indices are computed with divui/remui inside the body, never with
/// floordiv indexing maps, which tile-and-fuse silently miscompiles at odd
/// tile offsets.
Value buildPoolGather(OpBuilder &b, Location loc, RankedTensorType xt,
                      ArrayRef<Value> dims, Value g, Value argmax,
                      ArrayRef<int64_t> win, ArrayRef<int64_t> s,
                      ArrayRef<int64_t> p, Value H, Value W, Value ho, Value wo,
                      linalg::GenericOp *op = nullptr) {
  bool exactTiles = win[0] == s[0] && win[1] == s[1] &&
                    llvm::all_of(p, [](int64_t v) { return v == 0; });
  Value result = buildMap(
      b, loc, xt, dims, ValueRange{}, {},
      [&](OpBuilder &b, Location l, ValueRange) -> Value {
        Value n = linalg::IndexOp::create(b, l, 0);
        Value ih = linalg::IndexOp::create(b, l, 1);
        Value iw = linalg::IndexOp::create(b, l, 2);
        Value c = linalg::IndexOp::create(b, l, 3);
        Value zero = indexConst(b, l, 0);
        auto lastOf = [&](Value size) {
          return arith::SubIOp::create(b, l, size, indexConst(b, l, 1));
        };
        // The contribution of output cell (oh, ow) at window offset k.
        auto term = [&](Value valid, Value oh, Value ow, Value k) -> Value {
          Value gv = tensor::ExtractOp::create(b, l, g, ValueRange{n, oh, ow, c});
          if (argmax) {
            Value at = tensor::ExtractOp::create(b, l, argmax, ValueRange{n, oh, ow, c});
            Value kk = arith::IndexCastOp::create(b, l, at.getType(), k);
            Value hit = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, at, kk);
            valid = arith::AndIOp::create(b, l, valid, hit);
          } else {
            Value ch = windowCount(b, l, oh, s[0], p[0], win[0], H);
            Value cw = windowCount(b, l, ow, s[1], p[2], win[1], W);
            gv = arith::DivFOp::create(
                b, l, gv, indexToF32(b, l, arith::MulIOp::create(b, l, ch, cw)));
          }
          return arith::SelectOp::create(b, l, valid, gv, floatConst(b, l, 0.0));
        };
        if (exactTiles) {
          // Cell (ih, iw) is in window (ih / s, iw / s) at offset (ih % s, iw % s);
          // rows and columns past the last window get nothing.
          Value sh = indexConst(b, l, s[0]), sw = indexConst(b, l, s[1]);
          Value oh = arith::DivUIOp::create(b, l, ih, sh);
          Value ow = arith::DivUIOp::create(b, l, iw, sw);
          Value k = arith::AddIOp::create(
              b, l,
              arith::MulIOp::create(b, l, arith::RemUIOp::create(b, l, ih, sh),
                                    indexConst(b, l, win[1])),
              arith::RemUIOp::create(b, l, iw, sw));
          Value valid = arith::AndIOp::create(
              b, l, arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, oh, ho),
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, ow, wo));
          return term(valid, arith::MinSIOp::create(b, l, oh, lastOf(ho)),
                      arith::MinSIOp::create(b, l, ow, lastOf(wo)), k);
        }
        // For one spatial dim: (valid, clamped output index).
        auto outIndex = [&](Value i, int64_t k, int64_t stride, int64_t pad,
                            Value outSize) -> std::pair<Value, Value> {
          Value num = arith::SubIOp::create(
              b, l, arith::AddIOp::create(b, l, i, indexConst(b, l, pad)),
              indexConst(b, l, k));
          Value nonneg =
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, num, zero);
          Value safe = arith::MaxSIOp::create(b, l, num, zero);
          Value o = arith::DivUIOp::create(b, l, safe, indexConst(b, l, stride));
          Value exact = arith::CmpIOp::create(
              b, l, arith::CmpIPredicate::eq,
              arith::RemUIOp::create(b, l, safe, indexConst(b, l, stride)), zero);
          Value inRange =
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, o, outSize);
          Value valid = arith::AndIOp::create(
              b, l, nonneg, arith::AndIOp::create(b, l, exact, inRange));
          return {valid, arith::MinSIOp::create(b, l, o, lastOf(outSize))};
        };
        Value acc = floatConst(b, l, 0.0);
        for (int64_t kh = 0; kh < win[0]; ++kh) {
          auto [vh, oh] = outIndex(ih, kh, s[0], p[0], ho);
          for (int64_t kw = 0; kw < win[1]; ++kw) {
            auto [vw, ow] = outIndex(iw, kw, s[1], p[2], wo);
            Value valid = arith::AndIOp::create(b, l, vh, vw);
            acc = arith::AddFOp::create(
                b, l, acc, term(valid, oh, ow, indexConst(b, l, kh * win[1] + kw)));
          }
        }
        return acc;
      });
  if (op)
    *op = cast<linalg::GenericOp>(result.getDefiningOp());
  return result;
}

/// max_pool_grad recomputes the arg-max of each window from the pool's input
/// (the unfused path keeps that input); avg_pool_grad spreads.
template <typename OpTy>
struct PoolGradLowering : public OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    constexpr bool isMax = std::is_same_v<OpTy, dl::MaxPoolGradOp>;
    Location loc = op.getLoc();
    Value x = op.getInput(), g = op.getGrad();
    auto xt = tensorType(x), gt = tensorType(g);
    ArrayRef<int64_t> win = op.getWindow(), s = op.getStrides(), p = op.getPads();
    Value argmax;
    if constexpr (isMax) {
      Value padded = padNHWC(rewriter, loc, x, p,
                             -std::numeric_limits<float>::infinity());
      argmax = buildArgMaxPool(rewriter, loc, padded, gt, sameDims(rewriter, loc, gt, g),
                               rewriter.getI32Type(), win, s)
                   .second;
    }
    rewriter.replaceOp(
        op, buildPoolGather(rewriter, loc, xt, sameDims(rewriter, loc, xt, x), g,
                            argmax, win, s, p, dimOf(rewriter, loc, x, 1),
                            dimOf(rewriter, loc, x, 2), dimOf(rewriter, loc, g, 1),
                            dimOf(rewriter, loc, g, 2)));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Fused ops
//===----------------------------------------------------------------------===//

/// dl.fused_conv2d lowers to the ops of the unfused chain, tagged so that a
/// target's schedule can tile the last one and pull the others into its
/// tiles (the CPU's @schedule_conv_block_pool): the convolution; one generic
/// for bias + activation (`dlc.fused_act`, there even when both are absent,
/// so every block has the same form); and a pool `dlc.fused_pool`: a max
/// pool with its arg-max (the two-result generic) when the gradient uses it,
/// else linalg.pooling_nhwc_max; an average pool as one reduction of
/// x / (KH * KW). Pools with padding are not tagged (their ops are
/// scheduled one by one).
struct FusedConv2DLowering : public OpRewritePattern<dl::FusedConv2DOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dl::FusedConv2DOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = getContext();
    RankedTensorType convType = op.getConvType();
    if (!convType)
      return rewriter.notifyMatchFailure(op, "needs ranked types");
    Value conv = buildConv(rewriter, loc, op.getInput(), op.getFilter(), convType,
                           op.getStrides(), op.getPads());
    SmallVector<Value> dims = sameDims(rewriter, loc, convType, conv);
    SmallVector<Value> inputs = {conv};
    SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(4, ctx)};
    if (Value bias = op.getBias()) {
      inputs.push_back(bias);
      maps.push_back(AffineMap::get(4, 0, {getAffineDimExpr(3, ctx)}, ctx));
    }
    dl::Activation kind = op.getActivation();
    double alpha = op.getAlpha().convertToDouble();
    Value act = buildMap(rewriter, loc, convType, dims, inputs, maps,
                         [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                           Value z = a.size() > 1 ? arith::AddFOp::create(b, l, a[0], a[1])
                                                  : a[0];
                           return dl::buildActivation(b, l, kind, alpha, z);
                         });
    act.getDefiningOp()->setAttr(contract::kFusedActMarker, rewriter.getUnitAttr());
    if (op.getPool() == dl::PoolKind::none) {
      rewriter.replaceOp(op, act);
      return success();
    }
    auto type = cast<RankedTensorType>(op.getResult().getType());
    ArrayRef<int64_t> win = op.getPoolWindow(), s = op.getPoolStrides(),
                      p = op.getPoolPads();
    bool padded = llvm::any_of(p, [](int64_t v) { return v != 0; });
    SmallVector<Value> poolDims = windowDims(rewriter, loc, type, act, win, s, p);
    if (op.getPool() == dl::PoolKind::avg) {
      if (padded) {
        // Windows of different sizes at the border: avg_pool's lowering.
        rewriter.replaceOp(op, dl::AvgPoolOp::create(rewriter, loc, act, win, s, p));
        return success();
      }
      // Every window is whole: one reduction of x / (KH * KW), which the
      // schedule fuses like a max pool.
      Value init = filledTensor(rewriter, loc, type, poolDims, floatConst(rewriter, loc, 0.0));
      double scale = 1.0 / static_cast<double>(win[0] * win[1]);
      auto avg = buildWindowReduction(
          rewriter, loc, act, ValueRange{init}, win, s,
          [&](OpBuilder &b, Location l, ValueRange a) {
            Value scaled = arith::MulFOp::create(b, l, a[0], floatConst(b, l, scale));
            linalg::YieldOp::create(b, l, ValueRange{arith::AddFOp::create(b, l, a[2], scaled)});
          });
      avg->setAttr(contract::kFusedPoolMarker, rewriter.getUnitAttr());
      rewriter.replaceOp(op, avg.getResult(0));
      return success();
    }
    double ninf = -std::numeric_limits<float>::infinity();
    Value input = padNHWC(rewriter, loc, act, p, ninf);
    Operation *root;
    Value pooled, indices;
    if (op.getIndices().use_empty()) {
      Value init = filledTensor(rewriter, loc, type, poolDims,
                                floatConst(rewriter, loc, ninf));
      Value window = tensor::EmptyOp::create(rewriter, loc, win, rewriter.getF32Type());
      auto max = linalg::PoolingNhwcMaxOp::create(
          rewriter, loc, TypeRange{type}, ValueRange{input, window}, ValueRange{init},
          i64Vector(rewriter, s), i64Vector(rewriter, {1, 1}));
      root = max;
      pooled = max.getResult(0);
      // Nobody reads the arg-max: an empty tensor stands for it.
      indices = emptyTensor(rewriter, loc, cast<RankedTensorType>(op.getIndices().getType()),
                            poolDims);
    } else {
      linalg::GenericOp generic;
      std::tie(pooled, indices) =
          buildArgMaxPool(rewriter, loc, input, type, poolDims,
                          rewriter.getIntegerType(8), win, s, &generic);
      root = generic;
    }
    if (!padded)
      root->setAttr(contract::kFusedPoolMarker, rewriter.getUnitAttr());
    rewriter.replaceOp(op, {pooled, indices});
    return success();
  }
};

/// dl.unpool: the pool gradient with the saved arg-max (a max pool) or
/// spread evenly (an average pool). The max pool's is tagged `dlc.unpool`
/// for the schedule, which computes it an image at a time inside the filter
/// gradient's image loop.
struct UnpoolLowering : public OpRewritePattern<dl::UnpoolOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dl::UnpoolOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value g = op.getGrad();
    auto xt = cast<RankedTensorType>(op.getType());
    // The batch size from the saved arg-max, which the forward pass made
    // from the block's input: the image loops of the filter and input
    // gradients that this result feeds then have one bound, which the
    // schedule needs to fuse them (loop.fuse_sibling).
    Value indices = op.getIndices();
    SmallVector<Value> dims = sameDims(rewriter, loc, xt, indices ? indices : g);
    linalg::GenericOp generic;
    Value dz = buildPoolGather(
        rewriter, loc, xt, dims, g, op.getIndices(), op.getWindow(), op.getStrides(),
        op.getPads(), indexConst(rewriter, loc, op.getSize()[0]),
        indexConst(rewriter, loc, op.getSize()[1]), dimOf(rewriter, loc, g, 1),
        dimOf(rewriter, loc, g, 2), &generic);
    if (indices)
      generic->setAttr(contract::kUnpoolMarker, rewriter.getUnitAttr());
    rewriter.replaceOp(op, dz);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

/// Records, before the dl attributes go, which argument holds the previous
/// value of each updated param and optimizer state that `func` returns
/// (same name, same static type; -1 for other results) as
/// `dlc.in_place_results`, for targets that update them in place
/// (dl-update-in-place). Functions without such results get nothing.
void markInPlaceResults(FunctionOpInterface func) {
  llvm::StringMap<unsigned> params, states;
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
    if (auto p = func.getArgAttrOfType<FlatSymbolRefAttr>(i, contract::kParamAttr))
      params[p.getValue()] = i;
    else if (auto s = func.getArgAttrOfType<StringAttr>(i, contract::kStateAttr))
      states[s.getValue()] = i;
  }
  SmallVector<int64_t> args(func.getNumResults(), -1);
  bool any = false;
  for (unsigned r = 0, e = func.getNumResults(); r < e; ++r) {
    auto role = func.getResultAttrOfType<StringAttr>(r, contract::kRoleAttr);
    auto name = func.getResultAttrOfType<StringAttr>(r, contract::kNameAttr);
    if (!role || !name)
      continue;
    const llvm::StringMap<unsigned> *from = role.getValue() == contract::kRoleParam ? &params
                                            : role.getValue() == contract::kRoleState ? &states
                                                                                      : nullptr;
    if (!from || !from->count(name.getValue()))
      continue;
    unsigned arg = from->lookup(name.getValue());
    auto type = dyn_cast<RankedTensorType>(func.getResultTypes()[r]);
    if (type && type.hasStaticShape() && type == func.getArgumentTypes()[arg]) {
      args[r] = arg;
      any = true;
    }
  }
  if (any)
    func->setAttr(contract::kInPlaceResultsAttr, DenseI64ArrayAttr::get(func.getContext(), args));
}

struct ConvertDLToLinalgPass
    : public mlir::dlc::impl::ConvertDLToLinalgPassBase<ConvertDLToLinalgPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    WalkResult seeds = module.walk([](dl::StepSeedOp op) {
      op.emitOpError("must be replaced by a function argument before lowering");
      return WalkResult::interrupt();
    });
    if (seeds.wasInterrupted())
      return signalPassFailure();
    // The patterns build on ranked types: check them once here.
    WalkResult unranked = module.walk([](Operation *op) {
      if (!isa<dl::DLDialect>(op->getDialect()))
        return WalkResult::advance();
      auto isUnranked = [](Type t) { return isa<UnrankedTensorType>(t); };
      if (llvm::any_of(op->getOperandTypes(), isUnranked) ||
          llvm::any_of(op->getResultTypes(), isUnranked)) {
        op->emitOpError("needs ranked tensor types; run dl-shape-inference "
                        "before lowering");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (unranked.wasInterrupted())
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    populateDLToLinalgPatterns(patterns);
    GreedyRewriteConfig config;
    config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
    if (failed(applyPatternsGreedily(module, std::move(patterns), config)))
      return signalPassFailure();
    // The declarations have been read by the driver; drop them.
    SmallVector<Operation *> decls;
    for (Operation &op : module.getOps())
      if (isa<dl::InputOp, dl::ParamOp, dl::DataSourceOp, dl::TrainConfigOp>(op))
        decls.push_back(&op);
    for (Operation *op : decls)
      op->erase();
    // So do the dl attributes of the functions' arguments and results: those
    // that named the declarations would dangle (the dl verifier rejects
    // that), and no later stage reads any of them (the entry descriptions
    // were taken before lowering; LLVM's translation warns about attributes
    // of dialects it cannot translate).
    auto isDL = [](NamedAttribute a) {
      return a.getName().getValue().starts_with(contract::kDialectAttrPrefix);
    };
    for (auto func : module.getOps<FunctionOpInterface>()) {
      markInPlaceResults(func);
      for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
        for (NamedAttribute a : llvm::to_vector(func.getArgAttrs(i)))
          if (isDL(a))
            func.removeArgAttr(i, a.getName());
      for (unsigned i = 0, e = func.getNumResults(); i < e; ++i)
        for (NamedAttribute a : llvm::to_vector(func.getResultAttrs(i)))
          if (isDL(a))
            func.removeResultAttr(i, a.getName());
    }
    WalkResult left = module.walk([](Operation *op) {
      if (isa<dl::DLDialect>(op->getDialect())) {
        op->emitOpError("could not be lowered to linalg");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (left.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

void mlir::dlc::populateDLToLinalgPatterns(RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<ArgmaxLowering, BroadcastToLowering, ConstantLowering,
               Conv2DGradFilterLowering, Conv2DGradInputLowering, Conv2DLowering,
               DropoutLowering, ElementwiseLowering, FusedConv2DLowering,
               L2Lowering, MatmulLowering,
               MseLowering, OneHotLowering, PoolGradLowering<dl::AvgPoolGradOp>,
               PoolGradLowering<dl::MaxPoolGradOp>, PoolLowering<dl::AvgPoolOp>,
               PoolLowering<dl::MaxPoolOp>, ReduceLowering<dl::MaxOp>, UnpoolLowering,
               ReduceLowering<dl::MeanOp>, ReduceLowering<dl::SumOp>,
               ReshapeLowering<dl::FlattenOp>, ReshapeLowering<dl::ReshapeOp>,
               SizeLowering, SoftmaxCrossEntropyLowering,
               SoftmaxLowering<dl::LogSoftmaxOp, true>,
               SoftmaxLowering<dl::SoftmaxOp, false>, TransposeLowering,
               UnbroadcastLowering>(ctx);
}
