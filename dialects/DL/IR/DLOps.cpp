//===- DLOps.cpp - dl op shape inference, verifiers, scalar bodies ---------===//
//
// For every computational op: result type inference (InferTypeOpInterface,
// which also serves as the shape check the frontend reports), the verifiers
// that traits cannot express, and the scalar bodies of elementwise ops.
// Gradients live in DLGradients.cpp, folders in DLOpFolders.cpp.
//
//===----------------------------------------------------------------------===//

#include "dialects/DL/IR/DLOps.h"
#include "runtime/LanguageFacts.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"

using namespace mlir;
using namespace mlir::dl;

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

namespace {
constexpr int64_t kDyn = ShapedType::kDynamic;

/// Prints a shape the way users write it: [?, 28, 28, 1].
std::string shapeStr(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (i)
      s += ", ";
    s += ShapedType::isDynamic(d) ? "?" : std::to_string(d);
  }
  return s + "]";
}

std::string typeStr(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

/// Two dims agree unless both are static and differ.
bool dimsAgree(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

RankedTensorType rankedOf(Value v) {
  return dyn_cast<RankedTensorType>(v.getType());
}

Type elementTypeOf(Value v) {
  return cast<ShapedType>(v.getType()).getElementType();
}

/// Result type for ops whose operands are not yet ranked.
LogicalResult unranked(Type elem, SmallVectorImpl<Type> &types) {
  types.push_back(UnrankedTensorType::get(elem));
  return success();
}

LogicalResult ranked(ArrayRef<int64_t> shape, Type elem,
                     SmallVectorImpl<Type> &types) {
  types.push_back(RankedTensorType::get(shape, elem));
  return success();
}

/// Checks a window-op attribute list has `n` positive (or non-negative) ints.
/// Dynamic values (a conv filter of unknown size) pass.
LogicalResult checkInts(std::optional<Location> loc, StringRef op,
                        StringRef what, ArrayRef<int64_t> values, size_t n,
                        bool allowZero) {
  if (values.size() != n)
    return emitOptionalError(loc, op, " expects ", n, " values for '", what,
                             "', got ", values.size());
  for (int64_t v : values)
    if ((v < 0 && !ShapedType::isDynamic(v)) || (!allowZero && v == 0))
      return emitOptionalError(loc, op, " expects ",
                               allowZero ? "non-negative" : "positive",
                               " values for '", what, "', got ", v);
  return success();
}

/// Infers [N, Ho, Wo, C] of a window op over an NHWC input.
LogicalResult inferWindowShape(std::optional<Location> loc, StringRef op,
                               RankedTensorType input, ArrayRef<int64_t> window,
                               ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                               int64_t channels, SmallVectorImpl<Type> &types) {
  if (failed(checkInts(loc, op, "strides", strides, 2, false)) ||
      failed(checkInts(loc, op, "pads", pads, 4, true)) ||
      failed(checkInts(loc, op, "window", window, 2, false)))
    return failure();
  SmallVector<int64_t> shape = {input.getDimSize(0), 0, 0, channels};
  for (int i = 0; i < 2; ++i) {
    int64_t in = input.getDimSize(1 + i);
    int64_t out = ShapedType::isDynamic(window[i])
                      ? kDyn
                      : windowOutputSize(in, window[i], strides[i], pads[2 * i],
                                         pads[2 * i + 1]);
    if (!ShapedType::isDynamic(out) && out < 1)
      return emitOptionalError(
          loc, op, " window ", window[i], " is larger than the padded input (",
          in, " + ", pads[2 * i] + pads[2 * i + 1], " padding) in dimension ",
          i + 1);
    shape[1 + i] = out;
  }
  return ranked(shape, input.getElementType(), types);
}

LogicalResult checkAxis(std::optional<Location> loc, StringRef op, int64_t axis,
                        int64_t rank) {
  if (axis < 0 || axis >= rank)
    return emitOptionalError(loc, op, " axis ", axis,
                             " is out of range for a tensor of rank ", rank);
  return success();
}
} // namespace

bool mlir::dl::areCompatibleReturnTypes(TypeRange l, TypeRange r) {
  if (l.size() != r.size())
    return false;
  for (auto [a, b] : llvm::zip(l, r)) {
    auto sa = dyn_cast<ShapedType>(a), sb = dyn_cast<ShapedType>(b);
    if (!sa || !sb)
      return a == b;
    if (sa.getElementType() != sb.getElementType())
      return false;
    if (failed(verifyCompatibleShape(sa, sb)))
      return false;
  }
  return true;
}

FailureOr<SmallVector<int64_t>> mlir::dl::broadcastShapes(ArrayRef<int64_t> a,
                                                          ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == 1)
      out[i] = db;
    else if (db == 1)
      out[i] = da;
    else if (ShapedType::isDynamic(da))
      out[i] = db;
    else if (ShapedType::isDynamic(db) || da == db)
      out[i] = da;
    else
      return failure();
  }
  return out;
}

int64_t mlir::dl::windowOutputSize(int64_t in, int64_t window, int64_t stride,
                                   int64_t padBefore, int64_t padAfter) {
  if (ShapedType::isDynamic(in))
    return kDyn;
  int64_t padded = in + padBefore + padAfter;
  if (padded < window)
    return 0;
  return (padded - window) / stride + 1;
}

std::pair<int64_t, int64_t> mlir::dl::samePadding(int64_t in, int64_t window,
                                                  int64_t stride) {
  int64_t out = (in + stride - 1) / stride;
  int64_t total = std::max<int64_t>((out - 1) * stride + window - in, 0);
  return {total / 2, total - total / 2};
}

SmallVector<int64_t> mlir::dl::reducedShape(ArrayRef<int64_t> shape,
                                            ArrayRef<int64_t> axes,
                                            bool keepdims) {
  SmallVector<int64_t> out;
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (llvm::is_contained(axes, (int64_t)i)) {
      if (keepdims)
        out.push_back(1);
      continue;
    }
    out.push_back(d);
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Model declarations
//===----------------------------------------------------------------------===//

LogicalResult InputOp::verify() {
  auto type = cast<RankedTensorType>(getType());
  if (!type.getElementType().isF32() && !type.getElementType().isInteger(32))
    return emitOpError("expects an f32 or i32 tensor type, got ") << type;
  if ((int64_t)getDimNames().size() != type.getRank())
    return emitOpError("expects one dim name per dimension: rank ")
           << type.getRank() << ", got " << getDimNames().size() << " names";
  for (auto [i, name] : llvm::enumerate(getDimNames())) {
    bool dynamic = type.isDynamicDim(i);
    bool named = !cast<StringAttr>(name).getValue().empty();
    if (dynamic != named)
      return emitOpError("dimension ")
             << i << (dynamic ? " is dynamic but has no symbol name"
                              : " is static but has a symbol name");
  }
  return success();
}

LogicalResult ParamOp::verify() {
  auto type = cast<RankedTensorType>(getType());
  if (!type.getElementType().isF32() && !type.getElementType().isInteger(32))
    return emitOpError("expects an f32 or i32 tensor type, got ") << type;
  namespace language = ::dlc::language;
  StringRef init = getInit();
  if (init == language::kLiteralInitializer) {
    if (!getInitArgs().empty())
      return emitOpError("initializer '")
             << init << "' expects 0 arguments, got " << getInitArgs().size();
    if (!getValue())
      return emitOpError("a literal initializer needs a value");
    auto vt = cast<ShapedType>(getValue()->getType());
    if (vt.getNumElements() != type.getNumElements() &&
        vt.getNumElements() != 1)
      return emitOpError("literal initializer has ")
             << vt.getNumElements() << " elements but the param has "
             << type.getNumElements();
    return success();
  }
  const language::Initializer *initializer = language::findInitializer(init);
  if (!initializer)
    return emitOpError("unknown initializer '") << init << "'";
  // One init_args value per parameter of the initializer.
  size_t want = initializer->signature.params.size();
  if (getInitArgs().size() != want)
    return emitOpError("initializer '")
           << init << "' expects " << want << " arguments, got "
           << getInitArgs().size();
  using Kind = language::InitializerKind;
  if ((initializer->kind == Kind::Normal ||
       initializer->kind == Kind::TruncatedNormal) &&
      getInitArgs()[1] < 0)
    return emitOpError("initializer '") << init << "' expects stddev >= 0";
  if (initializer->kind == Kind::GlorotUniform && type.getRank() < 1)
    return emitOpError("glorot_uniform needs a param of rank 1 or more");
  return success();
}

LogicalResult DataSourceOp::verify() {
  StringRef set = getSet();
  if (set != "train" && set != "validation" && set != "test")
    return emitOpError("data set must be 'train', 'validation' or 'test', got '")
           << set << "'";
  if (::dlc::language::findDataSource(getKind().str())) {
    if (!getPath())
      return emitOpError("an ") << getKind() << " source needs a path";
  } else if (getKind() == "literal") {
    if (!getValue())
      return emitOpError("a literal source needs a value");
  } else {
    return emitOpError("unknown data source kind '") << getKind() << "'";
  }
  return success();
}

LogicalResult TrainConfigOp::verify() {
  StringRef opt = getOptimizer();
  const ::dlc::language::Optimizer *optimizer =
      ::dlc::language::findOptimizer(opt);
  if (!optimizer)
    return emitOpError("unknown optimizer '") << opt << "'";
  // One optimizer_args value per hyperparameter.
  size_t want = optimizer->signature.params.size();
  if (getOptimizerArgs().size() != want)
    return emitOpError("optimizer '") << opt << "' expects " << want
                                      << " arguments, got "
                                      << getOptimizerArgs().size();
  for (auto [param, v] : llvm::zip(optimizer->signature.params, getOptimizerArgs()))
    if (!param.range.contains(v))
      return emitOpError("'") << param.name.data() << "' of '" << opt << "' must be "
                              << param.range.describe() << ", got " << v;
  // I64Attr getters return uint64_t: compare their values as signed.
  for (auto [name, v] : {std::pair<StringRef, std::optional<int64_t>>{"batch", getBatch()},
                         {"steps", getSteps()},
                         {"epochs", getEpochs()},
                         {"eval_every", getEvalEvery()},
                         {"log_every", (int64_t)getLogEvery()}})
    if (v && *v <= 0)
      return emitOpError("'") << name << "' must be positive, got " << *v;
  if ((int64_t)getValidation() < 0)
    return emitOpError("'validation' must not be negative");
  if (getSteps() && getEpochs())
    return emitOpError("give either 'steps' or 'epochs', not both");
  return success();
}

//===----------------------------------------------------------------------===//
// Elementwise ops: shape inference
//===----------------------------------------------------------------------===//

/// Infers the broadcast shape of two operands with the same element type.
static LogicalResult inferBroadcast(std::optional<Location> loc, StringRef op,
                                    Value lhs, Value rhs, Type resultElem,
                                    SmallVectorImpl<Type> &types) {
  Type le = elementTypeOf(lhs), re = elementTypeOf(rhs);
  if (le != re)
    return emitOptionalError(loc, "'", op, "' operands have different element types: ",
                             typeStr(le), " and ", typeStr(re),
                             "; convert one with f32(...) or i32(...)");
  if (!resultElem)
    resultElem = le;
  auto lt = rankedOf(lhs), rt = rankedOf(rhs);
  if (!lt || !rt)
    return unranked(resultElem, types);
  auto shape = broadcastShapes(lt.getShape(), rt.getShape());
  if (failed(shape))
    return emitOptionalError(loc, "'", op, "' operands cannot be broadcast together: ",
                             shapeStr(lt.getShape()), " and ",
                             shapeStr(rt.getShape()));
  return ranked(*shape, resultElem, types);
}

#define DL_BINARY_INFER(OP, NAME)                                              \
  LogicalResult OP::inferReturnTypes(MLIRContext *, std::optional<Location> loc, \
                                     Adaptor adaptor,                          \
                                     SmallVectorImpl<Type> &types) {           \
    return inferBroadcast(loc, NAME, adaptor.getLhs(), adaptor.getRhs(),       \
                          Type(), types);                                      \
  }
DL_BINARY_INFER(AddOp, "+")
DL_BINARY_INFER(SubOp, "-")
DL_BINARY_INFER(MulOp, "*")
DL_BINARY_INFER(DivOp, "/")
DL_BINARY_INFER(PowOp, "**")
DL_BINARY_INFER(MaximumOp, "maximum")
DL_BINARY_INFER(MinimumOp, "minimum")
#undef DL_BINARY_INFER

LogicalResult CmpOp::inferReturnTypes(MLIRContext *ctx,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  return inferBroadcast(loc, stringifyCmpPredicate(adaptor.getPredicate()),
                        adaptor.getLhs(), adaptor.getRhs(),
                        Float32Type::get(ctx), types);
}

#define DL_UNARY_INFER(OP)                                                     \
  LogicalResult OP::inferReturnTypes(MLIRContext *, std::optional<Location>,   \
                                     Adaptor adaptor,                          \
                                     SmallVectorImpl<Type> &types) {           \
    types.push_back(adaptor.getInput().getType());                             \
    return success();                                                          \
  }
DL_UNARY_INFER(NegOp)
DL_UNARY_INFER(ReluOp)
DL_UNARY_INFER(SigmoidOp)
DL_UNARY_INFER(TanhOp)
DL_UNARY_INFER(ExpOp)
DL_UNARY_INFER(LogOp)
DL_UNARY_INFER(SqrtOp)
DL_UNARY_INFER(SquareOp)
DL_UNARY_INFER(AbsOp)
DL_UNARY_INFER(LeakyReluOp)
DL_UNARY_INFER(EluOp)
DL_UNARY_INFER(DropoutOp)
#undef DL_UNARY_INFER

LogicalResult CastOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  auto in = cast<ShapedType>(adaptor.getInput().getType());
  types.push_back(in.clone(adaptor.getElementType()));
  return success();
}

LogicalResult CastOp::verify() {
  Type t = getElementType();
  if (!t.isF32() && !t.isInteger(32))
    return emitOpError("can only cast to f32 or i32, got ") << t;
  return success();
}

//===----------------------------------------------------------------------===//
// Elementwise ops: scalar bodies
//===----------------------------------------------------------------------===//

namespace {
bool isFloat(Value v) { return isa<FloatType>(v.getType()); }

Value floatConst(OpBuilder &b, Location loc, Type t, double v) {
  return arith::ConstantOp::create(b, loc, t, b.getFloatAttr(t, v));
}
} // namespace

Value AddOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return arith::AddFOp::create(b, loc, a[0], a[1]);
  return arith::AddIOp::create(b, loc, a[0], a[1]);
}
Value SubOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return arith::SubFOp::create(b, loc, a[0], a[1]);
  return arith::SubIOp::create(b, loc, a[0], a[1]);
}
Value MulOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return arith::MulFOp::create(b, loc, a[0], a[1]);
  return arith::MulIOp::create(b, loc, a[0], a[1]);
}
Value DivOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return arith::DivFOp::create(b, loc, a[0], a[1]);
  return arith::DivSIOp::create(b, loc, a[0], a[1]);
}
Value PowOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return math::PowFOp::create(b, loc, a[0], a[1]);
}
Value MaximumOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return arith::MaximumFOp::create(b, loc, a[0], a[1]);
  return arith::MaxSIOp::create(b, loc, a[0], a[1]);
}
Value MinimumOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return arith::MinimumFOp::create(b, loc, a[0], a[1]);
  return arith::MinSIOp::create(b, loc, a[0], a[1]);
}
Value CmpOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  Value bit;
  if (isFloat(a[0])) {
    arith::CmpFPredicate p = arith::CmpFPredicate::OEQ;
    switch (getPredicate()) {
    case CmpPredicate::eq: p = arith::CmpFPredicate::OEQ; break;
    case CmpPredicate::ne: p = arith::CmpFPredicate::UNE; break;
    case CmpPredicate::lt: p = arith::CmpFPredicate::OLT; break;
    case CmpPredicate::le: p = arith::CmpFPredicate::OLE; break;
    case CmpPredicate::gt: p = arith::CmpFPredicate::OGT; break;
    case CmpPredicate::ge: p = arith::CmpFPredicate::OGE; break;
    }
    bit = arith::CmpFOp::create(b, loc, p, a[0], a[1]);
  } else {
    arith::CmpIPredicate p = arith::CmpIPredicate::eq;
    switch (getPredicate()) {
    case CmpPredicate::eq: p = arith::CmpIPredicate::eq; break;
    case CmpPredicate::ne: p = arith::CmpIPredicate::ne; break;
    case CmpPredicate::lt: p = arith::CmpIPredicate::slt; break;
    case CmpPredicate::le: p = arith::CmpIPredicate::sle; break;
    case CmpPredicate::gt: p = arith::CmpIPredicate::sgt; break;
    case CmpPredicate::ge: p = arith::CmpIPredicate::sge; break;
    }
    bit = arith::CmpIOp::create(b, loc, p, a[0], a[1]);
  }
  return arith::UIToFPOp::create(b, loc, b.getF32Type(), bit);
}
Value NegOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return arith::NegFOp::create(b, loc, a[0]);
  Value zero = arith::ConstantOp::create(b, loc, a[0].getType(),
                                         b.getIntegerAttr(a[0].getType(), 0));
  return arith::SubIOp::create(b, loc, zero, a[0]);
}
Value ReluOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return buildActivation(b, loc, Activation::relu, 0.0, a[0]);
}
Value SigmoidOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return buildActivation(b, loc, Activation::sigmoid, 0.0, a[0]);
}
Value TanhOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return buildActivation(b, loc, Activation::tanh, 0.0, a[0]);
}
Value ExpOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return math::ExpOp::create(b, loc, a[0]);
}
Value LogOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return math::LogOp::create(b, loc, a[0]);
}
Value SqrtOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return math::SqrtOp::create(b, loc, a[0]);
}
Value SquareOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return arith::MulFOp::create(b, loc, a[0], a[0]);
  return arith::MulIOp::create(b, loc, a[0], a[0]);
}
Value AbsOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return math::AbsFOp::create(b, loc, a[0]);
  return math::AbsIOp::create(b, loc, a[0]);
}
Value LeakyReluOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return buildActivation(b, loc, Activation::leaky_relu,
                         getAlpha().convertToDouble(), a[0]);
}
Value EluOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  return buildActivation(b, loc, Activation::elu, getAlpha().convertToDouble(),
                         a[0]);
}
Value CastOp::buildScalar(OpBuilder &b, Location loc, ValueRange a) {
  Type to = getElementType();
  if (a[0].getType() == to)
    return a[0];
  if (isa<FloatType>(to))
    return arith::SIToFPOp::create(b, loc, to, a[0]);
  return arith::FPToSIOp::create(b, loc, to, a[0]);
}

//===----------------------------------------------------------------------===//
// Tensor ops
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location>,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  types.push_back(cast<TypedAttr>(adaptor.getValue()).getType());
  return success();
}

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  Type elem = elementTypeOf(adaptor.getInput());
  ArrayRef<int64_t> target = adaptor.getShape();
  SmallVector<int64_t> shape;
  int64_t known = 1, unknownAt = -1;
  for (auto [i, d] : llvm::enumerate(target)) {
    if (d == -1) {
      if (unknownAt >= 0)
        return emitOptionalError(loc, "reshape allows one unknown dimension "
                                      "(-1 or a symbol), got more");
      unknownAt = i;
    } else if (d <= 0) {
      return emitOptionalError(loc, "reshape dimension ", i,
                               " must be positive or -1, got ", d);
    } else {
      known *= d;
    }
    shape.push_back(d == -1 ? kDyn : d);
  }
  auto in = rankedOf(adaptor.getInput());
  if (!in)
    return ranked(shape, elem, types);
  if (in.hasStaticShape()) {
    int64_t n = in.getNumElements();
    if (unknownAt >= 0) {
      if (known == 0 || n % known != 0)
        return emitOptionalError(loc, "cannot reshape ", n, " elements ",
                                 shapeStr(in.getShape()), " into ",
                                 shapeStr(shape));
      shape[unknownAt] = n / known;
    } else if (n != known) {
      return emitOptionalError(loc, "cannot reshape ", n, " elements ",
                               shapeStr(in.getShape()), " into ",
                               shapeStr(shape), " (", known, " elements)");
    }
  } else {
    if (unknownAt < 0)
      return emitOptionalError(loc, "reshape of a tensor with a symbolic "
                                    "dimension ", shapeStr(in.getShape()),
                               " needs one unknown dimension (-1 or a symbol)");
    int64_t staticPart = 1;
    for (int64_t d : in.getShape())
      if (!ShapedType::isDynamic(d))
        staticPart *= d;
    if (staticPart % known != 0)
      return emitOptionalError(loc, "cannot reshape ", shapeStr(in.getShape()),
                               " into ", shapeStr(shape), ": ", staticPart,
                               " is not a multiple of ", known);
  }
  return ranked(shape, elem, types);
}

LogicalResult FlattenOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  Type elem = elementTypeOf(adaptor.getInput());
  auto in = rankedOf(adaptor.getInput());
  if (!in)
    return unranked(elem, types);
  if (in.getRank() < 1)
    return emitOptionalError(loc, "flatten expects a tensor of rank 1 or more, "
                                  "got a scalar");
  int64_t rest = 1;
  for (int64_t d : in.getShape().drop_front()) {
    if (ShapedType::isDynamic(d))
      return emitOptionalError(loc, "flatten needs static dimensions after the "
                                    "first, got ",
                               shapeStr(in.getShape()));
    rest *= d;
  }
  return ranked({in.getDimSize(0), rest}, elem, types);
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  Type elem = elementTypeOf(adaptor.getInput());
  auto in = rankedOf(adaptor.getInput());
  if (!in)
    return unranked(elem, types);
  ArrayRef<int64_t> perm = adaptor.getPerm();
  if ((int64_t)perm.size() != in.getRank())
    return emitOptionalError(loc, "transpose perm has ", perm.size(),
                             " entries but the tensor has rank ", in.getRank());
  llvm::SmallSet<int64_t, 8> seen;
  SmallVector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= in.getRank() || !seen.insert(p).second)
      return emitOptionalError(loc, "transpose perm must be a permutation of 0..",
                               in.getRank() - 1);
    shape.push_back(in.getDimSize(p));
  }
  return ranked(shape, elem, types);
}

LogicalResult OneHotOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  int64_t depth = adaptor.getDepth();
  if (depth <= 0)
    return emitOptionalError(loc, "one_hot depth must be positive, got ",
                             depth);
  auto in = rankedOf(adaptor.getLabels());
  if (!in)
    return unranked(Float32Type::get(ctx), types);
  SmallVector<int64_t> shape(in.getShape());
  shape.push_back(depth);
  return ranked(shape, Float32Type::get(ctx), types);
}

LogicalResult BroadcastToOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  Type elem = elementTypeOf(adaptor.getInput());
  auto in = rankedOf(adaptor.getInput()), like = rankedOf(adaptor.getLike());
  if (!like)
    return unranked(elem, types);
  if (in) {
    auto shape = broadcastShapes(in.getShape(), like.getShape());
    if (failed(shape) ||
        failed(verifyCompatibleShape(*shape, like.getShape())))
      return emitOptionalError(loc, "cannot broadcast ", shapeStr(in.getShape()),
                               " to ", shapeStr(like.getShape()));
  }
  return ranked(like.getShape(), elem, types);
}

LogicalResult UnbroadcastOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  Type elem = elementTypeOf(adaptor.getInput());
  auto in = rankedOf(adaptor.getInput()), like = rankedOf(adaptor.getLike());
  if (!like)
    return unranked(elem, types);
  if (in && like.getRank() > in.getRank())
    return emitOptionalError(loc, "cannot unbroadcast ", shapeStr(in.getShape()),
                             " to the larger rank of ",
                             shapeStr(like.getShape()));
  if (in) {
    auto shape = broadcastShapes(in.getShape(), like.getShape());
    if (failed(shape) || failed(verifyCompatibleShape(*shape, in.getShape())))
      return emitOptionalError(loc, "cannot unbroadcast ",
                               shapeStr(in.getShape()), " to ",
                               shapeStr(like.getShape()));
  }
  return ranked(like.getShape(), elem, types);
}

LogicalResult SizeOp::inferReturnTypes(MLIRContext *ctx,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  if (auto in = rankedOf(adaptor.getInput()))
    for (int64_t a : adaptor.getAxes())
      if (failed(checkAxis(loc, "size", a, in.getRank())))
        return failure();
  return ranked({}, Float32Type::get(ctx), types);
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

static LogicalResult verifyAxes(Operation *op, ArrayRef<int64_t> axes,
                                Value input) {
  auto in = rankedOf(input);
  if (!in)
    return success();
  for (auto [i, a] : llvm::enumerate(axes)) {
    if (a < 0 || a >= in.getRank())
      return op->emitOpError("axis ")
             << a << " is out of range for a tensor of rank " << in.getRank();
    if (i > 0 && axes[i - 1] >= a)
      return op->emitOpError("axes must be sorted and distinct");
  }
  return success();
}

#define DL_REDUCE(OP)                                                          \
  LogicalResult OP::inferReturnTypes(MLIRContext *,                            \
                                     std::optional<Location> loc,              \
                                     Adaptor adaptor,                          \
                                     SmallVectorImpl<Type> &types) {           \
    Type elem = elementTypeOf(adaptor.getInput());                             \
    auto in = rankedOf(adaptor.getInput());                                    \
    if (!in)                                                                   \
      return unranked(elem, types);                                            \
    for (int64_t a : adaptor.getAxes())                                        \
      if (failed(checkAxis(loc, OP::getOperationName().drop_front(3), a,       \
                           in.getRank())))                                     \
        return failure();                                                      \
    return ranked(                                                             \
        reducedShape(in.getShape(), adaptor.getAxes(), adaptor.getKeepdims()), \
        elem, types);                                                          \
  }                                                                            \
  LogicalResult OP::verify() {                                                 \
    return verifyAxes(getOperation(), getAxes(), getInput());                  \
  }
DL_REDUCE(SumOp)
DL_REDUCE(MeanOp)
DL_REDUCE(MaxOp)
#undef DL_REDUCE

LogicalResult ArgmaxOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  Type i32 = IntegerType::get(ctx, 32);
  auto in = rankedOf(adaptor.getInput());
  if (!in)
    return unranked(i32, types);
  if (failed(checkAxis(loc, "argmax", adaptor.getAxis(), in.getRank())))
    return failure();
  return ranked(reducedShape(in.getShape(), {(int64_t)adaptor.getAxis()}, false), i32,
                types);
}

LogicalResult ArgmaxOp::verify() {
  int64_t axis = getAxis();
  if (auto in = rankedOf(getInput()))
    if (axis < 0 || axis >= in.getRank())
      return emitOpError("axis ") << axis
                                  << " is out of range for a tensor of rank "
                                  << in.getRank();
  return success();
}

//===----------------------------------------------------------------------===//
// Neural-network ops
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  Type elem = elementTypeOf(adaptor.getLhs());
  auto a = rankedOf(adaptor.getLhs()), b = rankedOf(adaptor.getRhs());
  if (!a || !b)
    return unranked(elem, types);
  int64_t r = a.getRank();
  if ((r != 2 && r != 3) || b.getRank() != r)
    return emitOptionalError(loc, "matmul expects two rank-2 (or two rank-3, "
                                  "batched) operands, got ",
                             shapeStr(a.getShape()), " and ",
                             shapeStr(b.getShape()));
  if (r == 3 && !dimsAgree(a.getDimSize(0), b.getDimSize(0)))
    return emitOptionalError(loc, "batched matmul batch sizes differ: ",
                             a.getDimSize(0), " and ", b.getDimSize(0));
  int64_t ka = a.getDimSize(r - 1), kb = b.getDimSize(r - 2);
  if (!dimsAgree(ka, kb))
    return emitOptionalError(loc, "matmul inner dimensions differ: ",
                             shapeStr(a.getShape()), " x ",
                             shapeStr(b.getShape()), " (", ka, " vs ", kb, ")");
  SmallVector<int64_t> shape;
  if (r == 3)
    shape.push_back(ShapedType::isDynamic(a.getDimSize(0)) ? b.getDimSize(0)
                                                           : a.getDimSize(0));
  shape.push_back(a.getDimSize(r - 2));
  shape.push_back(b.getDimSize(r - 1));
  return ranked(shape, elem, types);
}

/// The result type of conv2d(x, w) (shared by conv2d and fused_conv2d).
static LogicalResult inferConvType(std::optional<Location> loc, Value input,
                                   Value filter, ArrayRef<int64_t> strides,
                                   ArrayRef<int64_t> pads,
                                   SmallVectorImpl<Type> &types) {
  Type elem = elementTypeOf(input);
  auto x = rankedOf(input), w = rankedOf(filter);
  if (!x || !w)
    return unranked(elem, types);
  if (x.getRank() != 4)
    return emitOptionalError(loc, "conv2d expects an input of rank 4 [N, H, W, C], got ",
                             shapeStr(x.getShape()));
  if (w.getRank() != 4)
    return emitOptionalError(loc, "conv2d expects a filter of rank 4 [KH, KW, C, F], got ",
                             shapeStr(w.getShape()));
  if (!dimsAgree(x.getDimSize(3), w.getDimSize(2)))
    return emitOptionalError(loc, "conv2d input has ", x.getDimSize(3),
                             " channels but the filter expects ",
                             w.getDimSize(2));
  return inferWindowShape(loc, "conv2d", x,
                          {w.getDimSize(0), w.getDimSize(1)}, strides, pads,
                          w.getDimSize(3), types);
}

LogicalResult Conv2DOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  return inferConvType(loc, adaptor.getInput(), adaptor.getFilter(),
                       adaptor.getStrides(), adaptor.getPads(), types);
}

LogicalResult Conv2DGradInputOp::inferReturnTypes(MLIRContext *,
                                                  std::optional<Location>,
                                                  Adaptor adaptor,
                                                  SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getLike().getType());
  return success();
}

LogicalResult Conv2DGradFilterOp::inferReturnTypes(
    MLIRContext *, std::optional<Location>, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getLike().getType());
  return success();
}

#define DL_POOL_INFER(OP, NAME)                                                \
  LogicalResult OP::inferReturnTypes(MLIRContext *,                            \
                                     std::optional<Location> loc,              \
                                     Adaptor adaptor,                          \
                                     SmallVectorImpl<Type> &types) {           \
    Type elem = elementTypeOf(adaptor.getInput());                             \
    auto x = rankedOf(adaptor.getInput());                                     \
    if (!x)                                                                    \
      return unranked(elem, types);                                            \
    if (x.getRank() != 4)                                                      \
      return emitOptionalError(loc, NAME " expects an input of rank 4 "        \
                                    "[N, H, W, C], got ",                      \
                               shapeStr(x.getShape()));                        \
    return inferWindowShape(loc, NAME, x, adaptor.getWindow(),                 \
                            adaptor.getStrides(), adaptor.getPads(),           \
                            x.getDimSize(3), types);                           \
  }
DL_POOL_INFER(MaxPoolOp, "max_pool")
DL_POOL_INFER(AvgPoolOp, "avg_pool")
#undef DL_POOL_INFER

#define DL_POOL_GRAD_INFER(OP)                                                 \
  LogicalResult OP::inferReturnTypes(MLIRContext *, std::optional<Location>,   \
                                     Adaptor adaptor,                          \
                                     SmallVectorImpl<Type> &types) {           \
    types.push_back(adaptor.getInput().getType());                             \
    return success();                                                          \
  }
DL_POOL_GRAD_INFER(MaxPoolGradOp)
DL_POOL_GRAD_INFER(AvgPoolGradOp)
#undef DL_POOL_GRAD_INFER

#define DL_SOFTMAX(OP)                                                         \
  LogicalResult OP::inferReturnTypes(MLIRContext *,                            \
                                     std::optional<Location> loc,              \
                                     Adaptor adaptor,                          \
                                     SmallVectorImpl<Type> &types) {           \
    if (auto in = rankedOf(adaptor.getInput()))                                \
      if (failed(checkAxis(loc, OP::getOperationName().drop_front(3),          \
                           adaptor.getAxis(),                                  \
                           in.getRank())))                                     \
        return failure();                                                      \
    types.push_back(adaptor.getInput().getType());                             \
    return success();                                                          \
  }                                                                            \
  LogicalResult OP::verify() {                                                 \
    int64_t axis = getAxis();                                                  \
    if (auto in = rankedOf(getInput()))                                        \
      if (axis < 0 || axis >= in.getRank())                                    \
        return emitOpError("axis ")                                            \
               << axis << " is out of range for a tensor of rank "             \
               << in.getRank();                                                \
    return success();                                                          \
  }
DL_SOFTMAX(SoftmaxOp)
DL_SOFTMAX(LogSoftmaxOp)
#undef DL_SOFTMAX

LogicalResult StepSeedOp::inferReturnTypes(MLIRContext *ctx,
                                           std::optional<Location>, Adaptor,
                                           SmallVectorImpl<Type> &types) {
  return ranked({}, IntegerType::get(ctx, 64), types);
}

LogicalResult DropoutOp::verify() {
  double rate = getRate().convertToDouble();
  if (rate < 0.0 || rate >= 1.0)
    return emitOpError("rate must be in [0, 1), got ") << rate;
  return success();
}

LogicalResult SoftmaxCrossEntropyOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  Type f32 = Float32Type::get(ctx);
  auto logits = rankedOf(adaptor.getLogits());
  auto labels = rankedOf(adaptor.getLabels());
  if (!logits || !labels)
    return unranked(f32, types);
  if (logits.getRank() != 2)
    return emitOptionalError(loc, "softmax_cross_entropy expects logits of "
                                  "rank 2 [N, C], got ",
                             shapeStr(logits.getShape()));
  if (labels.getElementType().isInteger(32)) {
    if (labels.getRank() != 1 ||
        !dimsAgree(labels.getDimSize(0), logits.getDimSize(0)))
      return emitOptionalError(loc, "softmax_cross_entropy expects i32 labels "
                                    "[N] for logits ",
                               shapeStr(logits.getShape()), ", got ",
                               shapeStr(labels.getShape()));
  } else if (labels.getRank() != 2 ||
             failed(verifyCompatibleShape(labels.getShape(),
                                          logits.getShape()))) {
    return emitOptionalError(loc, "softmax_cross_entropy expects f32 labels of "
                                  "the logits' shape ",
                             shapeStr(logits.getShape()), ", got ",
                             shapeStr(labels.getShape()));
  }
  return ranked({logits.getDimSize(0)}, f32, types);
}

LogicalResult MseOp::inferReturnTypes(MLIRContext *ctx,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  SmallVector<Type> bcast;
  if (failed(inferBroadcast(loc, "mse", adaptor.getLhs(), adaptor.getRhs(),
                            Type(), bcast)))
    return failure();
  return ranked({}, Float32Type::get(ctx), types);
}

LogicalResult L2Op::inferReturnTypes(MLIRContext *ctx, std::optional<Location>,
                                     Adaptor, SmallVectorImpl<Type> &types) {
  return ranked({}, Float32Type::get(ctx), types);
}

#define GET_OP_CLASSES
#include "dialects/DL/IR/DLOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Fused ops
//===----------------------------------------------------------------------===//

Value mlir::dl::buildActivation(OpBuilder &b, Location loc, Activation kind,
                                double alpha, Value x) {
  Type t = x.getType();
  auto positive = [&] {
    return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x,
                                 floatConst(b, loc, t, 0.0));
  };
  switch (kind) {
  case Activation::none:
    return x;
  case Activation::relu:
    return arith::MaxNumFOp::create(b, loc, x, floatConst(b, loc, t, 0.0));
  case Activation::sigmoid: {
    Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, x));
    Value den = arith::AddFOp::create(b, loc, floatConst(b, loc, t, 1.0), e);
    return arith::DivFOp::create(b, loc, floatConst(b, loc, t, 1.0), den);
  }
  case Activation::tanh:
    return math::TanhOp::create(b, loc, x);
  case Activation::leaky_relu: {
    Value scaled = arith::MulFOp::create(b, loc, x, floatConst(b, loc, t, alpha));
    return arith::SelectOp::create(b, loc, positive(), x, scaled);
  }
  case Activation::elu: {
    Value em1 = math::ExpM1Op::create(b, loc, x);
    Value neg = arith::MulFOp::create(b, loc, em1, floatConst(b, loc, t, alpha));
    return arith::SelectOp::create(b, loc, positive(), x, neg);
  }
  }
  llvm_unreachable("unknown activation");
}

/// Fills `types` with the result types of a fused conv2d: the pooled (or
/// convolved) result, and the i8 arg-max of a max pool.
static LogicalResult inferFusedConvTypes(std::optional<Location> loc,
                                         FusedConv2DOp::Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  SmallVector<Type, 1> conv;
  if (failed(inferConvType(loc, adaptor.getInput(), adaptor.getFilter(),
                           adaptor.getStrides(), adaptor.getPads(), conv)))
    return failure();
  PoolKind pool = adaptor.getPool();
  auto convType = dyn_cast<RankedTensorType>(conv[0]);
  if (pool == PoolKind::none || !convType) {
    types.push_back(conv[0]);
  } else if (failed(inferWindowShape(loc, "the fused pool", convType,
                                     adaptor.getPoolWindow(),
                                     adaptor.getPoolStrides(),
                                     adaptor.getPoolPads(),
                                     convType.getDimSize(3), types))) {
    return failure();
  }
  if (pool == PoolKind::max) {
    auto shaped = cast<ShapedType>(types[0]);
    types.push_back(shaped.clone(IntegerType::get(shaped.getContext(), 8)));
  }
  return success();
}

LogicalResult FusedConv2DOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  return inferFusedConvTypes(loc, adaptor, types);
}

RankedTensorType FusedConv2DOp::getConvType() {
  SmallVector<Type, 1> conv;
  if (failed(inferConvType(std::nullopt, getInput(), getFilter(), getStrides(),
                           getPads(), conv)))
    return nullptr;
  return dyn_cast<RankedTensorType>(conv[0]);
}

LogicalResult FusedConv2DOp::verify() {
  auto w = rankedOf(getFilter());
  if (Value bias = getBias()) {
    auto b = rankedOf(bias);
    if (b && w && (b.getRank() != 1 || !dimsAgree(b.getDimSize(0), w.getDimSize(3))))
      return emitOpError("expected a bias of shape [") << w.getDimSize(3)
             << "], got " << shapeStr(b.getShape());
  }
  // The gradient takes the activation's derivative from its output: the
  // output must tell which side of zero the input was on.
  double alpha = getAlpha().convertToDouble();
  if (getActivation() == Activation::leaky_relu && alpha < 0)
    return emitOpError("expected leaky_relu alpha >= 0, got ") << alpha;
  if (getActivation() == Activation::elu && alpha <= 0)
    return emitOpError("expected elu alpha > 0, got ") << alpha;
  bool pooled = getPool() != PoolKind::none;
  for (auto [name, attr, size] :
       {std::tuple<StringRef, ArrayRef<int64_t>, size_t>{"pool_window", getPoolWindow(), 2},
        {"pool_strides", getPoolStrides(), 2},
        {"pool_pads", getPoolPads(), 4}}) {
    if (pooled && attr.size() != size)
      return emitOpError("expected ") << size << " values in " << name
                                      << ", got " << attr.size();
    if (!pooled && !attr.empty())
      return emitOpError("expected no ") << name << " without a pool";
  }
  if (bool(getIndices()) != (getPool() == PoolKind::max))
    return emitOpError("expected an indices result exactly when the pool is max");
  if (!pooled)
    return success();
  // The gradient unpools to the convolution's size, and routes each window
  // through its saved arg-max or pooled value.
  RankedTensorType conv = getConvType();
  if (conv && (conv.isDynamicDim(1) || conv.isDynamicDim(2)))
    return emitOpError("expected a convolution of static height and width "
                       "before a pool, got ")
           << shapeStr(conv.getShape());
  ArrayRef<int64_t> window = getPoolWindow(), pads = getPoolPads();
  if (getPool() == PoolKind::max && window[0] * window[1] > 256)
    return emitOpError("expected a max pool window of at most 256 cells (an "
                       "i8 arg-max), got ")
           << window[0] << "x" << window[1];
  for (int i = 0; i < 2; ++i)
    if (pads[2 * i] >= window[i] || pads[2 * i + 1] >= window[i])
      return emitOpError("expected pool pads smaller than the window, got ")
             << shapeStr(pads) << " for a window of " << shapeStr(window);
  return success();
}

LogicalResult UnpoolOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  Type elem = elementTypeOf(adaptor.getGrad());
  auto g = rankedOf(adaptor.getGrad());
  if (!g)
    return unranked(elem, types);
  if (g.getRank() != 4 || adaptor.getSize().size() != 2)
    return emitOptionalError(loc, "unpool expects a gradient of rank 4 and two sizes");
  if (ShapedType::isDynamic(adaptor.getSize()[0]) ||
      ShapedType::isDynamic(adaptor.getSize()[1]))
    return emitOptionalError(loc, "unpool expects two static sizes");
  return ranked({g.getDimSize(0), adaptor.getSize()[0], adaptor.getSize()[1],
                 g.getDimSize(3)},
                elem, types);
}

LogicalResult UnpoolOp::verify() {
  if (getPool() == PoolKind::none)
    return emitOpError("expected a max or avg pool");
  if (getSize().size() != 2 || ShapedType::isDynamic(getSize()[0]) ||
      ShapedType::isDynamic(getSize()[1]))
    return emitOpError("expected two static sizes, got ") << shapeStr(getSize());
  if (!rankedOf(getGrad()))
    return success();
  if (bool(getIndices()) != (getPool() == PoolKind::max))
    return emitOpError("expected indices exactly when the pool is max");
  if (getIndices() && getIndices().getType() != cast<ShapedType>(getGrad().getType())
                                                    .clone(IntegerType::get(getContext(), 8)))
    return emitOpError("expected indices of the gradient's shape");
  SmallVector<Type, 1> pooled;
  auto out = RankedTensorType::get(
      {kDyn, getSize()[0], getSize()[1], cast<ShapedType>(getGrad().getType()).getDimSize(3)},
      elementTypeOf(getGrad()));
  if (failed(inferWindowShape(getLoc(), "unpool", out, getWindow(), getStrides(),
                              getPads(), out.getDimSize(3), pooled)))
    return failure();
  auto g = cast<ShapedType>(getGrad().getType());
  auto p = cast<ShapedType>(pooled[0]);
  if (!dimsAgree(g.getDimSize(1), p.getDimSize(1)) ||
      !dimsAgree(g.getDimSize(2), p.getDimSize(2)))
    return emitOpError("expected a gradient of the pooled size ")
           << shapeStr(p.getShape()) << ", got " << shapeStr(g.getShape());
  return success();
}
