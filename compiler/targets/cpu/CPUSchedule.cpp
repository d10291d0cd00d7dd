//===- CPUSchedule.cpp - apply the CPU transform schedule -------------------===//
//
// The schedule itself is data: compiler/targets/cpu/CPUSchedule.mlir, a transform-dialect
// library compiled into dlc (or any file given with `schedule-file`). This
// pass parses it once, calls its parameterized sequences on the ops whose
// tile sizes depend on their shapes (sizes the transform dialect cannot
// compute: it has no arithmetic), then runs its `@__transform_main`, which
// matches the matmul forms itself.
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/cpu/Passes.h"
#include "compiler/targets/cpu/ScheduleKernels.h"
#include "runtime/Contracts.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Dialect/Transform/IR/TransformDialect.h"
#include "mlir/Dialect/Transform/Interfaces/TransformInterfaces.h"
#include "mlir/Dialect/Transform/Transforms/TransformInterpreterUtils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/Support/MemoryBuffer.h"

#include <array>
#include <cstdlib>
#include <optional>
#include <tuple>

namespace contract = ::dlc::contract;

namespace mlir::dlc::cpu {
#define GEN_PASS_DEF_CPUSCHEDULEPASS
#include "compiler/targets/cpu/Passes.h.inc"

namespace {
/// The built-in schedule, compiler/targets/cpu/CPUSchedule.mlir as a string literal.
constexpr const char kBuiltinSchedule[] =
#include "compiler/targets/cpu/CPUSchedule.mlir.inc"
    ;

/// Ops that the schedule handles by calling one of its named sequences with
/// them (one handle each) and integer parameters that the transform dialect
/// cannot compute itself (it has no arithmetic on shapes): tile sizes that
/// divide the ops' dimensions.
struct ScheduleCall {
  SmallVector<Operation *, 2> ops;
  StringRef sequence;
  SmallVector<int64_t, 5> params;
};

/// Ops that a fused block's call transforms: no other call may name them
/// (a sequence erases the ops it consumes).
using Claimed = llvm::DenseSet<Operation *>;

/// The register tile of a convolution with static output width and
/// channels: (width tile, channel tile), the largest of 8, 7, 4, 2, 1 that
/// divides the output width and 32, 16 or 8 dividing the channels (0, all of
/// them, for up to 64 channels that none divides). None for other shapes.
std::optional<std::array<int64_t, 2>> convTiles(linalg::Conv2DNhwcHwcfOp conv) {
  auto type = dyn_cast<RankedTensorType>(conv.getResultTensors()[0].getType());
  if (!type || !type.getElementType().isF32())
    return std::nullopt;
  int64_t ow = type.getDimSize(2), f = type.getDimSize(3);
  if (ShapedType::isDynamic(ow) || ShapedType::isDynamic(f))
    return std::nullopt;
  auto pick = [](int64_t size, ArrayRef<int64_t> options) -> int64_t {
    for (int64_t o : options)
      if (size % o == 0)
        return o;
    return 0;
  };
  int64_t owTile = pick(ow, {8, 7, 4, 2, 1}), fTile = pick(f, {32, 16, 8});
  // Few channels that no tile divides (3, 10, ...): one tile of all of
  // them (0 = not tiled).
  if (!fTile && f > 64)
    return std::nullopt;
  return std::array<int64_t, 2>{owTile, fTile};
}

/// Convolutions: @schedule_conv with their register tile. Others keep the
/// generic lowering.
void convCalls(ModuleOp module, const Claimed &claimed,
               SmallVectorImpl<ScheduleCall> &calls) {
  module.walk([&](linalg::Conv2DNhwcHwcfOp conv) {
    if (claimed.contains(conv))
      return;
    if (auto tiles = convTiles(conv))
      calls.push_back({{conv}, "schedule_conv", {(*tiles)[0], (*tiles)[1]}});
  });
}

/// The tiles of a filter gradient (`dlc.conv_filter_grad` generic over (kh,
/// kw, c, f, n, oh, ow)): (window columns, input channels, output channels)
/// per register tile: 8 input channels, or, when the input channels do not
/// divide by 8 (1 for grayscale, 3 for RGB), all the window's columns (0) by
/// one channel; by 32, 16 or 8 output channels, or all of them (0) up to 64,
/// like convolutions. None for others (more than 64 output channels that 8
/// does not divide).
std::optional<std::array<int64_t, 3>> filterGradTiles(linalg::GenericOp op) {
  if (!op->hasAttr(contract::kConvFilterGradMarker) || op.getNumLoops() != 7)
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t c = ranges[2], f = ranges[3];
  if (ShapedType::isDynamic(c) || ShapedType::isDynamic(f))
    return std::nullopt;
  int64_t fTile = f % 32 == 0 ? 32 : f % 16 == 0 ? 16 : f % 8 == 0 ? 8 : f <= 64 ? 0 : -1;
  if (fTile < 0)
    return std::nullopt;
  bool channels = c % 8 == 0;
  return std::array<int64_t, 3>{channels ? 1 : 0, channels ? 8 : 1, fTile};
}

/// Filter gradients: @schedule_filter_grad, an image at a time.
void filterGradCalls(ModuleOp module, const Claimed &claimed,
                     SmallVectorImpl<ScheduleCall> &calls) {
  module.walk([&](linalg::GenericOp op) {
    if (claimed.contains(op))
      return;
    if (auto t = filterGradTiles(op))
      calls.push_back({{op}, "schedule_filter_grad", {(*t)[0], (*t)[1], (*t)[2]}});
  });
}

/// The images of a fused block's gradient in groups: a block's filter
/// gradient sums over the batch, so its image loop was serial, and each image
/// ran its unpool alone and then one parallel region per op (two regions an
/// image, 100 a step for the CNN's second block). Here the batch is cut into
/// kImageGroups groups (the last ones shorter, or empty, when the batch does
/// not divide), an scf.forall over the groups that the threads share: each
/// group sums its images' filter gradient, in order, into its own slice of a
/// [groups, ...] partial sum, computes its images' input gradient (`dx`, with
/// the padding of its dz), and the partial sums are added in group order
/// after the loop. The groups do not depend on the thread count, so the
/// result is the same on any number of threads. Returns the forall and the
/// ops inside it that replace `dw` and `dx` (null when there is none); none
/// when the shapes do not allow it (a static batch, dynamic dimensions other
/// than the batch, or a use of dw or dx before the other).
constexpr int64_t kImageGroups = 10;

struct GroupedBlock {
  scf::ForallOp forall;
  linalg::GenericOp dw;
  linalg::Conv2DNhwcHwcfOp dx;
};

std::optional<GroupedBlock> groupImages(linalg::GenericOp dw, linalg::GenericOp dz,
                                        tensor::PadOp pad, linalg::Conv2DNhwcHwcfOp dx) {
  // A symbolic batch (the groups' slices keep the ops' types) and static
  // other dimensions.
  auto staticButBatch = [](Value v) {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    return type && type.getRank() > 0 && type.isDynamicDim(0) &&
           llvm::none_of(type.getShape().drop_front(), ShapedType::isDynamic);
  };
  auto dwType = dyn_cast<RankedTensorType>(dw->getResult(0).getType());
  if (dw.getNumDpsInputs() != 2 || !dwType || !dwType.hasStaticShape() ||
      !staticButBatch(dw->getOperand(0)) || !staticButBatch(dz->getResult(0)) ||
      (dx && (!staticButBatch(dx->getResult(0)) || !staticButBatch(pad.getResult()))))
    return std::nullopt;
  // The loop goes where the later of dw and dx is: nothing may use the
  // earlier one before.
  Operation *at = dw;
  if (dx && at->isBeforeInBlock(dx))
    at = dx;
  if (dx && dx->getBlock() != dw->getBlock())
    return std::nullopt;
  for (Operation *op : {static_cast<Operation *>(dw), static_cast<Operation *>(dx)})
    if (op)
      for (Operation *user : op->getUsers())
        if (user->getBlock() == at->getBlock() && !at->isBeforeInBlock(user))
          return std::nullopt;

  linalg::FillOp dxFill;
  if (dx) {
    dxFill = dx.getDpsInitOperand(0)->get().getDefiningOp<linalg::FillOp>();
    if (!dxFill || !dxFill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>())
      return std::nullopt;
  }

  OpBuilder b(at);
  Location loc = dw.getLoc();
  MLIRContext *ctx = b.getContext();
  Value zeroIndex = arith::ConstantIndexOp::create(b, loc, 0);
  Value batch = tensor::DimOp::create(b, loc, dz->getResult(0), zeroIndex);
  Value groups = arith::ConstantIndexOp::create(b, loc, kImageGroups);
  Value perGroup = arith::CeilDivUIOp::create(b, loc, batch, groups);

  // The partial sums, zero, one slice per group.
  SmallVector<int64_t> partialShape = {kImageGroups};
  llvm::append_range(partialShape, dwType.getShape());
  Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(dwType.getElementType()));
  Value partialInit = tensor::EmptyOp::create(b, loc, partialShape, dwType.getElementType());
  SmallVector<Value> outputs = {partialInit};
  // dx's zero fill goes into each group (the schedule fuses it into dx's
  // tiles, which then start from zero registers); every element of the full
  // dx is a group's.
  if (dx)
    outputs.push_back(dxFill.getOutputs()[0]);
  auto forall = scf::ForallOp::create(b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(kImageGroups)},
                                      outputs, std::nullopt);
  Block *body = forall.getBody();
  b.setInsertionPoint(body->getTerminator());
  Value g = forall.getInductionVar(0);
  Value first = arith::MinUIOp::create(b, loc, arith::MulIOp::create(b, loc, g, perGroup), batch);
  Value count = arith::MinUIOp::create(b, loc, perGroup, arith::SubIOp::create(b, loc, batch, first));
  // The group's images of a [batch, static...] tensor: offsets, sizes and
  // strides of its slice.
  auto imageSlice = [&](Value t) {
    auto type = cast<RankedTensorType>(t.getType());
    SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0)), sizes,
        strides(type.getRank(), b.getIndexAttr(1));
    offsets[0] = first;
    sizes.push_back(count);
    for (int64_t d : type.getShape().drop_front())
      sizes.push_back(b.getIndexAttr(d));
    return std::make_tuple(offsets, sizes, strides);
  };
  auto images = [&](Value t) -> Value {
    auto [offsets, sizes, strides] = imageSlice(t);
    return tensor::ExtractSliceOp::create(b, loc, t, offsets, sizes, strides);
  };
  Value dzGroup = images(dz->getResult(0));
  IRMapping map;
  map.map(dz->getResult(0), dzGroup);
  map.map(dw->getOperand(0), images(dw->getOperand(0)));
  SmallVector<OpFoldResult> partialOffsets(partialShape.size(), b.getIndexAttr(0)), partialSizes,
      partialStrides(partialShape.size(), b.getIndexAttr(1));
  partialOffsets[0] = g;
  partialSizes.push_back(b.getIndexAttr(1));
  for (int64_t d : dwType.getShape())
    partialSizes.push_back(b.getIndexAttr(d));
  Value partialSlot = forall.getRegionIterArgs()[0];
  // Each group zeroes its own partial sum and dx (fills the schedule fuses
  // into their tiles), in place in the loop's outputs.
  map.map(dw.getDpsInitOperand(0)->get(),
          linalg::FillOp::create(b, loc, zero,
                                 ValueRange{tensor::ExtractSliceOp::create(
                                     b, loc, dwType, partialSlot, partialOffsets,
                                     partialSizes, partialStrides)})
              .getResult(0));
  auto innerDw = cast<linalg::GenericOp>(b.clone(*dw, map));
  linalg::Conv2DNhwcHwcfOp innerDx;
  Value dxSlot;
  if (dx) {
    dxSlot = forall.getRegionIterArgs()[1];
    auto innerPad = cast<tensor::PadOp>(b.clone(*pad, map));
    map.map(pad.getResult(), innerPad.getResult());
    map.map(dx.getDpsInitOperand(0)->get(),
            linalg::FillOp::create(b, loc, dxFill.getInputs()[0], images(dxSlot)).getResult(0));
    innerDx = cast<linalg::Conv2DNhwcHwcfOp>(b.clone(*dx, map));
  }
  b.setInsertionPointToStart(&forall.getTerminator().getRegion().front());
  tensor::ParallelInsertSliceOp::create(b, loc, innerDw->getResult(0), partialSlot, partialOffsets,
                                        partialSizes, partialStrides);
  if (dx) {
    auto [offsets, sizes, strides] = imageSlice(dxSlot);
    tensor::ParallelInsertSliceOp::create(b, loc, innerDx->getResult(0), dxSlot, offsets, sizes, strides);
  }

  // dw = the partial sums added in group order, over [groups, elements]
  // (one 2-D reduction the elementwise schedule shares among the threads).
  b.setInsertionPointAfter(forall);
  SmallVector<ReassociationIndices> all = {llvm::to_vector(llvm::seq<int64_t>(0, dwType.getRank()))};
  SmallVector<ReassociationIndices> tail = {{0}, llvm::to_vector(llvm::seq<int64_t>(1, dwType.getRank() + 1))};
  Value partial2d = tensor::CollapseShapeOp::create(b, loc, forall->getResult(0), tail);
  Value init1d = tensor::CollapseShapeOp::create(b, loc, dw.getDpsInitOperand(0)->get(), all);
  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx);
  auto sum = linalg::GenericOp::create(
      b, loc, TypeRange{init1d.getType()}, ValueRange{partial2d}, ValueRange{init1d},
      ArrayRef<AffineMap>{AffineMap::get(2, 0, {d0, d1}, ctx), AffineMap::get(2, 0, {d1}, ctx)},
      ArrayRef<utils::IteratorType>{utils::IteratorType::reduction, utils::IteratorType::parallel},
      [](OpBuilder &nb, Location nloc, ValueRange args) {
        linalg::YieldOp::create(nb, nloc, ValueRange{arith::AddFOp::create(nb, nloc, args[1], args[0])});
      });
  Value dwValue = tensor::ExpandShapeOp::create(b, loc, dwType, sum->getResult(0), all);
  dw->getResult(0).replaceAllUsesWith(dwValue);
  dw->erase();
  if (dx) {
    dx->getResult(0).replaceAllUsesWith(forall->getResult(1));
    dx->erase();
    // What else read the old padded dz: queries of its batch size, which
    // is dz's.
    bool onlyBatch = llvm::all_of(pad->getUsers(), [](Operation *u) {
      auto dim = dyn_cast<tensor::DimOp>(u);
      return dim && dim.getConstantIndex() == 0;
    });
    if (onlyBatch) {
      for (Operation *u : llvm::make_early_inc_range(pad->getUsers())) {
        auto dim = cast<tensor::DimOp>(u);
        dim.getSourceMutable().assign(dz->getResult(0));
      }
      pad->erase();
    }
  }
  return GroupedBlock{forall, innerDw, innerDx};
}

/// Marks the adds that a generic with an innermost reduction yields to its
/// reduced outputs as reassociable: the vectorized row then becomes lanes of
/// partial sums added as a tree (one row's order is still the same on every
/// run and thread count, each row being one thread's); without the flag,
/// LLVM adds a vector's lanes one after another into the running sum.
void reassociateRowSums(linalg::GenericOp op) {
  unsigned n = op.getNumLoops();
  auto yield = cast<linalg::YieldOp>(op.getBody()->getTerminator());
  for (OpOperand &init : op.getDpsInitsMutable()) {
    if (op.getMatchingIndexingMap(&init).isFunctionOfDim(n - 1))
      continue;
    Value v = yield->getOperand(init.getOperandNumber() - op.getNumDpsInputs());
    if (auto add = v.getDefiningOp<arith::AddFOp>())
      add.setFastmath(add.getFastmath() | arith::FastMathFlags::reassoc);
  }
}

/// A matmul (`dlc.matmul`) of two operands into one, on tensors, in three
/// loops.
bool isPlainMatmul(linalg::GenericOp op) {
  return op->hasAttr(contract::kMatmulMarker) && op.getNumLoops() == 3 && op.getNumDpsInputs() == 2 &&
         op.getNumDpsInits() == 1 && op.hasPureTensorSemantics();
}

/// A sum of a matrix by rows (loops parallel, reduction; the matrix read
/// whole, one value a row): BuildTrainStep's sum of squares of a large
/// gradient, for its norm.
bool isRowSum(linalg::GenericOp op) {
  MLIRContext *ctx = op.getContext();
  if (op.getNumLoops() != 2 || op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 ||
      !op.hasPureTensorSemantics())
    return false;
  auto iters = op.getIteratorTypesArray();
  auto maps = op.getIndexingMapsArray();
  return iters[0] == utils::IteratorType::parallel && iters[1] == utils::IteratorType::reduction &&
         maps[0].isIdentity() && maps[1] == AffineMap::get(2, 0, {getAffineDimExpr(0, ctx)}, ctx);
}

/// A matmul A*B^T (loops m, n, k; B read as (n, k)) whose K is static and
/// under one 16-lane step (the dense layer's input gradient behind 10
/// logits: K = 10, N = 1024) fits none of the schedule's forms and was left
/// to LLVM, which gathered B's columns (on the calling thread, 0.1 ms of the
/// CNN's step). B (N x K, small) is transposed first and the matmul becomes
/// A*(B^T) in loops m, k, n: the 8x32 register tiles of @match_mkn.
void transposeNarrowK(ModuleOp module) {
  MLIRContext *ctx = module.getContext();
  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx), d2 = getAffineDimExpr(2, ctx);
  AffineMap nk = AffineMap::get(3, 0, {d1, d2}, ctx), mn = AffineMap::get(3, 0, {d0, d1}, ctx);
  SmallVector<linalg::GenericOp> narrow;
  module.walk([&](linalg::GenericOp op) {
    if (!isPlainMatmul(op))
      return;
    auto iters = op.getIteratorTypesArray();
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    auto maps = op.getIndexingMapsArray();
    if (iters[0] != utils::IteratorType::parallel || iters[1] != utils::IteratorType::parallel ||
        iters[2] != utils::IteratorType::reduction || maps[1] != nk || maps[2] != mn ||
        ShapedType::isDynamic(ranges[1]) || ShapedType::isDynamic(ranges[2]) || ranges[2] >= 16 ||
        ranges[1] < 32 || ranges[1] % 32 != 0)
      return;
    narrow.push_back(op);
  });
  for (linalg::GenericOp op : narrow) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    Value bMat = op.getDpsInputOperand(1)->get();
    auto bType = cast<RankedTensorType>(bMat.getType());
    Value init = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{bType.getDimSize(1), bType.getDimSize(0)},
                                         bType.getElementType());
    Value bt = linalg::TransposeOp::create(b, loc, bMat, init, ArrayRef<int64_t>{1, 0}).getResult()[0];
    // Loops (m, k, n): the old loop d1 (n) is the new d2, d2 (k) the new d1.
    AffineMap swap = AffineMap::get(3, 0, {d0, d2, d1}, ctx);
    SmallVector<AffineMap> maps{op.getIndexingMapsArray()[0].compose(swap), AffineMap::get(3, 0, {d1, d2}, ctx),
                                AffineMap::get(3, 0, {d0, d2}, ctx)};
    auto mkn = linalg::GenericOp::create(
        b, loc, op.getResultTypes(), ValueRange{op.getDpsInputOperand(0)->get(), bt},
        ValueRange{op.getDpsInitOperand(0)->get()}, maps,
        SmallVector<utils::IteratorType>{utils::IteratorType::parallel, utils::IteratorType::reduction,
                                         utils::IteratorType::parallel});
    mkn.getRegion().takeBody(op.getRegion());
    mkn->setDiscardableAttrs(op->getDiscardableAttrDictionary());
    op->replaceAllUsesWith(mkn);
    op->erase();
  }
}

/// The slice of `v` that the tile (`offsets`, `sizes`, by loop) of an op
/// reading it through the projected permutation `map` reads; `v` itself
/// when it is a scalar (a rank-0 tensor).
Value tileSlice(OpBuilder &b, Location loc, Value v, AffineMap map, ArrayRef<OpFoldResult> offsets,
                ArrayRef<OpFoldResult> sizes) {
  if (cast<RankedTensorType>(v.getType()).getRank() == 0)
    return v;
  SmallVector<OpFoldResult> o, s, strides;
  for (AffineExpr e : map.getResults()) {
    unsigned d = cast<AffineDimExpr>(e).getPosition();
    o.push_back(offsets[d]);
    s.push_back(sizes[d]);
    strides.push_back(b.getIndexAttr(1));
  }
  return tensor::ExtractSliceOp::create(b, loc, v, o, s, strides);
}

/// A copy of the generic `op` on other operands (`ins`, `outs`: tiles of
/// its own) with results of `types`.
linalg::GenericOp cloneOn(OpBuilder &b, linalg::GenericOp op, ValueRange ins, ValueRange outs, TypeRange types,
                          ArrayRef<AffineMap> maps, ArrayRef<utils::IteratorType> iterators) {
  auto copy = linalg::GenericOp::create(b, op.getLoc(), types, ins, outs, maps, iterators);
  IRMapping map;
  op.getRegion().cloneInto(&copy.getRegion(), map);
  copy->setDiscardableAttrs(op->getDiscardableAttrDictionary());
  return copy;
}

/// The optimizer's update of a large weight matrix fused into the
/// computation of its gradient. A dense layer's weight gradient (a matmul
/// whose K is the batch: 3136x1024 for the CNN) was written whole (12.8 MB),
/// then read back by the optimizer's elementwise update (Adam: with the
/// weights and both moments, about 90 MB a step) and by the gradient norm's
/// row sums. Here the gradient is computed 8 rows at a time (a block of at
/// most 64 KB, on the stack of the thread that computes it: the
/// @schedule_mkn register tiles), and the update and the row sums of the
/// same 8 rows (mergeRowSums merges them, elementwiseCalls schedules them as
/// before) read it from cache: the gradient is never stored whole. The
/// blocks are one `scf.forall` over the rows (@schedule_update_tiles). The
/// arithmetic of every element, and of every row's sum, is unchanged.
///
/// Taken: a matmul (m, k, n) into a zero fill, of static M (a multiple of 8)
/// by N (a multiple of 64, at most 2048) of at least kMinFusedUpdate
/// elements, whose users are one elementwise update (identity or scalar
/// reads, identity writes, no indices) and at most one sum by rows
/// (BuildTrainStep's sum of squares of a large gradient), after it. (Wider
/// rows, in blocks of 8 rows by 128 to 2048 columns, saved the gradient's
/// memory but made the large MLP's step slower: docs/perf/README.md.)
constexpr int64_t kMinFusedUpdate = 1 << 16;

void fuseUpdates(ModuleOp module, Claimed &claimed, SmallVectorImpl<ScheduleCall> &calls) {
  MLIRContext *ctx = module.getContext();
  using utils::IteratorType;
  SmallVector<linalg::GenericOp> grads;
  module.walk([&](linalg::GenericOp mm) {
    if (!isPlainMatmul(mm))
      return;
    auto iters = mm.getIteratorTypesArray();
    SmallVector<int64_t> ranges = mm.getStaticLoopRanges();
    AffineMap out = mm.getIndexingMapsArray()[2];
    if (iters[0] != IteratorType::parallel || iters[1] != IteratorType::reduction ||
        iters[2] != IteratorType::parallel || ShapedType::isDynamic(ranges[0]) ||
        ShapedType::isDynamic(ranges[2]) || ranges[0] % 8 != 0 || ranges[2] % 64 != 0 || ranges[2] > 2048 ||
        ranges[0] * ranges[2] < kMinFusedUpdate ||
        out != AffineMap::get(3, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(2, ctx)}, ctx) ||
        !llvm::all_of(mm.getIndexingMapsArray(), [](AffineMap m) { return m.isProjectedPermutation(); }) ||
        !mm.getDpsInitOperand(0)->get().getDefiningOp<linalg::FillOp>() ||
        !cast<RankedTensorType>(mm->getResult(0).getType()).getElementType().isF32())
      return;
    grads.push_back(mm);
  });
  for (linalg::GenericOp mm : grads) {
    Value grad = mm->getResult(0);
    SmallVector<int64_t> ranges = mm.getStaticLoopRanges();
    int64_t m = ranges[0], n = ranges[2];
    linalg::GenericOp update, sum;
    bool other = false;
    for (Operation *user : grad.getUsers()) {
      auto g = dyn_cast<linalg::GenericOp>(user);
      if (g && (g == update || g == sum))
        continue;
      if (!g || g->getBlock() != mm->getBlock() || !g.hasPureTensorSemantics() || g.getNumLoops() != 2 ||
          g.getStaticLoopRanges() != SmallVector<int64_t>{m, n}) {
        other = true;
        continue;
      }
      if (g.getNumReductionLoops() == 0 && !update) {
        bool fits = !g.hasIndexSemantics() && llvm::all_of(g.getDpsInitsMutable(), [&](OpOperand &init) {
          return g.getMatchingIndexingMap(&init).isIdentity();
        }) && llvm::all_of(g.getDpsInputOperands(), [&](OpOperand *in) {
          AffineMap map = g.getMatchingIndexingMap(in);
          return map.isIdentity() || (map.getNumResults() == 0 && in->get() != grad);
        });
        if (fits) {
          update = g;
          continue;
        }
      }
      if (!sum && isRowSum(g)) {
        sum = g;
        continue;
      }
      other = true;
    }
    // The loop goes where the update is: the sum must come after it, from
    // a zero fill (made again there).
    linalg::FillOp sumFill = sum ? sum.getDpsInitOperand(0)->get().getDefiningOp<linalg::FillOp>() : nullptr;
    if (other || !update ||
        (sum && (!update->isBeforeInBlock(sum) || !sumFill || !matchPattern(sumFill.getInputs()[0], m_AnyZeroFloat()))))
      continue;
    auto fill = mm.getDpsInitOperand(0)->get().getDefiningOp<linalg::FillOp>();
    Location loc = update.getLoc();
    Type f32 = cast<RankedTensorType>(grad.getType()).getElementType();

    OpBuilder b(update);
    OpFoldResult kSize = cast<linalg::LinalgOp>(mm.getOperation()).createLoopRanges(b, mm.getLoc())[1].size;
    SmallVector<Value> outs(update.getDpsInits());
    if (sum) {
      auto type = cast<RankedTensorType>(sumFill->getResult(0).getType());
      Value zeroF = arith::ConstantOp::create(b, loc, b.getFloatAttr(f32, 0.0));
      outs.push_back(linalg::FillOp::create(b, loc, zeroF,
                                            tensor::EmptyOp::create(b, loc, type.getShape(), f32).getResult())
                         .getResult(0));
    }
    auto forall = scf::ForallOp::create(b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(m / 8)}, outs, std::nullopt);
    b.setInsertionPointToStart(forall.getBody());
    OpFoldResult row = affine::makeComposedFoldedAffineApply(b, loc, getAffineSymbolExpr(0, ctx) * 8,
                                                             {OpFoldResult(forall.getInductionVar(0))});
    OpFoldResult eight = b.getIndexAttr(8), width = b.getIndexAttr(n), zero = b.getIndexAttr(0),
                 one = b.getIndexAttr(1);
    auto blockType = RankedTensorType::get({8, n}, f32);

    // The gradient's rows, from zero.
    Value blockInit = linalg::FillOp::create(b, loc, fill.getInputs()[0],
                                             tensor::EmptyOp::create(b, loc, blockType.getShape(), f32).getResult())
                          .getResult(0);
    SmallVector<OpFoldResult> mmOffsets{row, zero, zero}, mmSizes{eight, kSize, width};
    SmallVector<Value> mmIns;
    for (OpOperand *in : mm.getDpsInputOperands())
      mmIns.push_back(tileSlice(b, loc, in->get(), mm.getMatchingIndexingMap(in), mmOffsets, mmSizes));
    auto block = cloneOn(b, mm, mmIns, ValueRange{blockInit}, TypeRange{blockType}, mm.getIndexingMapsArray(),
                         mm.getIteratorTypesArray());

    // The update of those rows, and their sums.
    SmallVector<OpFoldResult> offsets{row, zero}, sizes{eight, width};
    AffineMap identity = AffineMap::getMultiDimIdentityMap(2, ctx);
    SmallVector<Value> ins, blockOuts;
    for (OpOperand *in : update.getDpsInputOperands())
      ins.push_back(in->get() == grad ? block->getResult(0)
                                      : tileSlice(b, loc, in->get(), update.getMatchingIndexingMap(in), offsets, sizes));
    for (unsigned k = 0; k < update.getNumDpsInits(); ++k)
      blockOuts.push_back(tileSlice(b, loc, forall.getRegionIterArgs()[k], identity, offsets, sizes));
    SmallVector<Type> types(update.getNumDpsInits(), blockType);
    auto blockUpdate = cloneOn(b, update, ins, blockOuts, types, update.getIndexingMapsArray(),
                               update.getIteratorTypesArray());
    linalg::GenericOp blockSum;
    if (sum) {
      AffineMap rows = AffineMap::get(2, 0, {getAffineDimExpr(0, ctx)}, ctx);
      Value sumOut = tileSlice(b, loc, forall.getRegionIterArgs().back(), rows, offsets, sizes);
      blockSum = cloneOn(b, sum, ValueRange{block->getResult(0)}, ValueRange{sumOut},
                         TypeRange{sumOut.getType()}, sum.getIndexingMapsArray(), sum.getIteratorTypesArray());
    }

    b.setInsertionPointToStart(forall.getTerminator().getBody());
    for (unsigned k = 0; k < blockUpdate->getNumResults(); ++k)
      tensor::ParallelInsertSliceOp::create(b, loc, blockUpdate->getResult(k), forall.getRegionIterArgs()[k],
                                            offsets, sizes, SmallVector<OpFoldResult>{one, one});
    if (sum)
      tensor::ParallelInsertSliceOp::create(b, loc, blockSum->getResult(0), forall.getRegionIterArgs().back(),
                                            ArrayRef<OpFoldResult>{row}, ArrayRef<OpFoldResult>{eight},
                                            ArrayRef<OpFoldResult>{one});

    for (unsigned k = 0; k < update->getNumResults(); ++k)
      update->getResult(k).replaceAllUsesWith(forall->getResult(k));
    update->erase();
    if (sum) {
      sum->getResult(0).replaceAllUsesWith(forall->getResults().back());
      sum->erase();
      if (sumFill->use_empty())
        sumFill->erase();
    }
    mm->erase();
    if (fill->use_empty())
      fill->erase();
    // The gradient's matmul is this call's; the update and the sums (merged
    // by mergeRowSums) are elementwiseCalls'.
    claimed.insert(forall);
    claimed.insert(block);
    calls.push_back({{forall}, "schedule_update_tiles", {}});
  }
}

/// A large gradient's sum of squares by rows (the gradient norm's, of a
/// static matrix: BuildTrainStep sums those by rows first) and the
/// optimizer's elementwise update of the same param read the same gradient:
/// one op does both (the update's outputs, then the row sums; iterators
/// parallel, reduction), so the gradient (12.8 MB for the CNN's 3136x1024
/// weights) is read once, not twice. Each row is summed in order, as alone.
void mergeRowSums(ModuleOp module) {
  auto isIdentity = [](AffineMap map) { return map.isIdentity(); };
  SmallVector<linalg::GenericOp> sums;
  module.walk([&](linalg::GenericOp op) {
    if (isRowSum(op) && llvm::none_of(op.getStaticLoopRanges(), ShapedType::isDynamic))
      sums.push_back(op);
  });
  for (linalg::GenericOp sum : sums) {
    Value grad = sum.getDpsInputOperand(0)->get();
    linalg::GenericOp update;
    for (Operation *user : grad.getUsers()) {
      auto e = dyn_cast<linalg::GenericOp>(user);
      if (!e || e == sum || e->getBlock() != sum->getBlock() || e.getNumLoops() != 2 ||
          !e.hasPureTensorSemantics() || e.getNumReductionLoops() != 0 ||
          e.getStaticLoopRanges() != sum.getStaticLoopRanges() ||
          e->hasAttr(contract::kMatmulMarker) ||
          !llvm::all_of(e.getDpsInitsMutable(), [&](OpOperand &init) {
            return e.getMatchingIndexingMap(&init).isIdentity();
          }))
        continue;
      bool readsWhole = llvm::any_of(e.getDpsInputOperands(), [&](OpOperand *in) {
        return in->get() == grad && isIdentity(e.getMatchingIndexingMap(in));
      });
      if (readsWhole) {
        update = e;
        break;
      }
    }
    if (!update)
      continue;
    // The merged op goes where the later of the two is: nothing may use the
    // earlier one's results before.
    Operation *later = update->isBeforeInBlock(sum) ? sum.getOperation() : update.getOperation();
    Operation *earlier = later == sum.getOperation() ? update.getOperation() : sum.getOperation();
    if (llvm::any_of(earlier->getUsers(), [&](Operation *u) {
          Operation *at = earlier->getBlock()->findAncestorOpInBlock(*u);
          return !at || !later->isBeforeInBlock(at);
        }))
      continue;
    if (llvm::any_of(sum->getOperands(), [&](Value v) {
          Operation *def = v.getDefiningOp();
          return def && def->getBlock() == later->getBlock() && !def->isBeforeInBlock(later) && def != later;
        }))
      continue;
    OpBuilder b(later);
    SmallVector<Value> inputs(update.getDpsInputs());
    SmallVector<Value> inits(update.getDpsInits());
    inits.push_back(sum.getDpsInitOperand(0)->get());
    SmallVector<AffineMap> maps;
    for (OpOperand *in : update.getDpsInputOperands())
      maps.push_back(update.getMatchingIndexingMap(in));
    for (OpOperand &init : update.getDpsInitsMutable())
      maps.push_back(update.getMatchingIndexingMap(&init));
    maps.push_back(sum.getIndexingMapsArray()[1]);
    SmallVector<Type> types(update->getResultTypes());
    types.push_back(sum->getResult(0).getType());
    unsigned gradArg = 0;
    for (OpOperand *in : update.getDpsInputOperands())
      if (in->get() == grad && update.getMatchingIndexingMap(in).isIdentity())
        gradArg = in->getOperandNumber();
    auto merged = linalg::GenericOp::create(
        b, sum.getLoc(), types, inputs, inits, maps, sum.getIteratorTypesArray(),
        [&](OpBuilder &nb, Location, ValueRange args) {
          IRMapping map;
          Block *eb = update.getBody();
          unsigned ne = eb->getNumArguments();
          for (unsigned i = 0; i < ne; ++i)
            map.map(eb->getArgument(i), args[i]);
          SmallVector<Value> yields;
          for (Operation &op : eb->without_terminator())
            nb.clone(op, map);
          for (Value v : eb->getTerminator()->getOperands())
            yields.push_back(map.lookupOrDefault(v));
          Block *sb = sum.getBody();
          IRMapping smap;
          smap.map(sb->getArgument(0), args[gradArg]);
          smap.map(sb->getArgument(1), args[ne]);
          for (Operation &op : sb->without_terminator())
            nb.clone(op, smap);
          yields.push_back(smap.lookupOrDefault(sb->getTerminator()->getOperand(0)));
          linalg::YieldOp::create(nb, sum.getLoc(), yields);
        });
    merged->setDiscardableAttrs(update->getDiscardableAttrDictionary());
    for (unsigned i = 0; i < update->getNumResults(); ++i)
      update->getResult(i).replaceAllUsesWith(merged->getResult(i));
    sum->getResult(0).replaceAllUsesWith(merged->getResults().back());
    update->erase();
    sum->erase();
  }
}

/// Fused blocks (dl.fused_conv2d, lowered to a convolution, its `dlc.fused_act`
/// and a `dlc.fused_pool`): @schedule_conv_block_pool on the pool, or
/// @schedule_conv_block on the activation without a pool, with the
/// convolution's register tile. Their gradients, where the filter gradient
/// reads a `dlc.unpool` that nothing else reads (but the padding of the
/// input gradient's convolution): @schedule_conv_block_backward[_dx] on the
/// filter gradient (and that convolution). The `_dx` calls go to `last`:
/// they clean up the whole function, which may erase ops other calls hold.
void blockCalls(ModuleOp module, Claimed &claimed,
                SmallVectorImpl<ScheduleCall> &calls,
                SmallVectorImpl<ScheduleCall> &last) {
  auto claim = [&](std::initializer_list<Operation *> ops) {
    claimed.insert(ops.begin(), ops.end());
  };
  auto convOf = [](linalg::GenericOp act) -> linalg::Conv2DNhwcHwcfOp {
    if (!act || !act->hasAttr(contract::kFusedActMarker))
      return nullptr;
    return act->getOperand(0).getDefiningOp<linalg::Conv2DNhwcHwcfOp>();
  };
  module.walk([&](linalg::LinalgOp pool) {
    if (!pool->hasAttr(contract::kFusedPoolMarker))
      return;
    auto act = pool->getOperand(0).getDefiningOp<linalg::GenericOp>();
    linalg::Conv2DNhwcHwcfOp conv = convOf(act);
    auto tiles = conv ? convTiles(conv) : std::nullopt;
    if (!tiles)
      return;
    calls.push_back({{pool}, "schedule_conv_block_pool", {(*tiles)[0], (*tiles)[1]}});
    claim({pool, act, conv});
  });
  module.walk([&](linalg::GenericOp act) {
    linalg::Conv2DNhwcHwcfOp conv = convOf(act);
    auto tiles = conv && !claimed.contains(act) ? convTiles(conv) : std::nullopt;
    if (!tiles)
      return;
    calls.push_back({{act}, "schedule_conv_block", {(*tiles)[0], (*tiles)[1]}});
    claim({act, conv});
  });
  struct Backward {
    linalg::GenericOp dw, dz;
    tensor::PadOp pad;
    linalg::Conv2DNhwcHwcfOp dx;
    SmallVector<int64_t, 5> params;
  };
  SmallVector<Backward> backward;
  module.walk([&](linalg::GenericOp dw) {
    auto fg = filterGradTiles(dw);
    if (!fg)
      return;
    auto dz = dw->getOperand(1).getDefiningOp<linalg::GenericOp>();
    if (!dz || !dz->hasAttr(contract::kUnpoolMarker))
      return;
    linalg::Conv2DNhwcHwcfOp dx;
    tensor::PadOp pad;
    for (Operation *user : dz->getUsers()) {
      if (user == dw)
        continue;
      pad = dyn_cast<tensor::PadOp>(user);
      if (!pad || dx)
        return;
      // The convolution reading the padded dz (and the size queries of its
      // output's batch dimension).
      for (Operation *padUser : pad->getUsers()) {
        if (isa<tensor::DimOp>(padUser))
          continue;
        auto conv = dyn_cast<linalg::Conv2DNhwcHwcfOp>(padUser);
        if (!conv || dx || conv->getOperand(0) != pad.getResult())
          return;
        dx = conv;
      }
      if (!dx)
        return;
    }
    SmallVector<int64_t, 5> params = {(*fg)[0], (*fg)[1], (*fg)[2]};
    if (dx) {
      auto tiles = convTiles(dx);
      if (!tiles)
        return;
      params.append({(*tiles)[0], (*tiles)[1]});
    }
    backward.push_back({dw, dz, pad, dx, params});
  });
  // Rewritten after the walk (groupImages replaces dw and dx).
  for (Backward &block : backward) {
    auto grouped = groupImages(block.dw, block.dz, block.pad, block.dx);
    if (!grouped) {
      if (!block.dx) {
        calls.push_back({{block.dw}, "schedule_conv_block_backward", block.params});
        claim({block.dw, block.dz});
      } else {
        last.push_back({{block.dw, block.dx}, "schedule_conv_block_backward_dx", block.params});
        claim({block.dw, block.dz, block.pad, block.dx});
      }
      continue;
    }
    if (!block.dx) {
      calls.push_back({{grouped->dw, grouped->forall}, "schedule_conv_block_backward_grouped", block.params});
      claim({grouped->dw, block.dz});
    } else {
      last.push_back({{grouped->dw, grouped->dx, grouped->forall},
                      "schedule_conv_block_backward_dx_grouped", block.params});
      claim({grouped->dw, block.dz, grouped->dx});
    }
  }
}

/// Marks the matmuls whose rows do not divide into register tiles (8 rows,
/// or 4 for the A * B^T form): a symbolic M (the batch), or a static M of at
/// least 16 that is not a multiple. The schedule peels their last rows into
/// smaller tiles (loop peeling fails on loops that divide evenly, and the
/// transform dialect cannot test divisibility itself); the others get tiles
/// that start from zero registers (an scf.forall, which cannot be peeled).
bool hasRaggedRows(linalg::GenericOp op) {
  auto iters = op.getIteratorTypesArray();
  int64_t tile = iters[2] == utils::IteratorType::reduction ? 4 : 8;
  int64_t m = op.getStaticLoopRanges()[0];
  return ShapedType::isDynamic(m) || (m >= 16 && m % tile != 0);
}

void markRaggedRows(ModuleOp module) {
  module.walk([](linalg::GenericOp op) {
    if (op->hasAttr(contract::kMatmulMarker) && op.getNumLoops() == 3 && hasRaggedRows(op))
      op->setAttr(contract::kRaggedRowsMarker, UnitAttr::get(op.getContext()));
  });
}

/// Matmuls (m, k, n) with a large B, K > 1024 and N >= 256, both static
/// (the 3136x1024 weights of a fully connected layer): @schedule_panels, or
/// @schedule_panels_ragged when the rows do not divide into 8-row tiles (a
/// symbolic batch), with k blocks of about 392 and the columns in chunks of a
/// multiple of 32 that divides N, which the threads share: at least N / 8
/// and two panels (the panel loop inside a chunk prefetches its next panel),
/// all of N when 32 does not divide it. A static M under 16 is left to the
/// generic lowering (a single-tile loop would fold away).
void panelCalls(ModuleOp module, const Claimed &claimed,
                SmallVectorImpl<ScheduleCall> &calls) {
  module.walk([&](linalg::GenericOp op) {
    if (claimed.contains(op) || !op->hasAttr(contract::kMatmulMarker) || op.getNumLoops() != 3)
      return;
    auto iters = op.getIteratorTypesArray();
    if (iters[0] != utils::IteratorType::parallel || iters[1] != utils::IteratorType::reduction ||
        iters[2] != utils::IteratorType::parallel)
      return;
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    int64_t m = ranges[0], k = ranges[1], n = ranges[2];
    if (ShapedType::isDynamic(k) || ShapedType::isDynamic(n) || k <= 1024 || n < 256)
      return;
    bool ragged = hasRaggedRows(op);
    if (!ragged && m < 16)
      return;
    // k blocks of about 392: a 32-column panel of B (392 x 32 floats, 49
    // KiB) then stays in L1 while every row tile reads it. Blocks of 784
    // (98 KiB, read from L2 by each row tile) ran the CNN's 50x3136 by
    // 3136x1024 layer at 45% of the FMA peak; 392: 65% (dlc-bench-kernels).
    int64_t kc = 392;
    for (int64_t d = 0; d <= 136; ++d)
      if (k % (392 + d) == 0 || k % (392 - d) == 0) {
        kc = k % (392 - d) == 0 ? 392 - d : 392 + d;
        break;
      }
    int64_t chunk = n;
    if (n % 32 == 0)
      for (int64_t c = 32; c <= n / 2; c += 32)
        if (n % c == 0 && c >= std::max<int64_t>(64, n / 8)) {
          chunk = c;
          break;
        }
    calls.push_back({{op}, ragged ? "schedule_panels_ragged" : "schedule_panels", {kc, chunk}});
  });
}

/// The forall tile sizes of a large elementwise op's parallel chunks, one
/// per loop (all 0: too small to be worth a parallel region). Chunks of at
/// least 32K elements, at most 64 of them, along the outermost dimension
/// when it is parallel, else (a reduction over the outer dimensions: the sum
/// of squares of a weight gradient for the gradient norm) along the
/// innermost, in whole tiles of `tile` (64 when it is 0): each chunk then
/// writes its own columns of the output, so no two threads accumulate into
/// the same elements, and every element's sum keeps its order (the result
/// is the same for any thread count).
///
/// An op over a symbolic batch (only its outermost dimension dynamic, and
/// parallel) with at least 1K elements per example is split one example a
/// chunk: the shares of a static schedule are then whole examples, as even
/// as the batch allows, at no cost beyond the loop.
SmallVector<int64_t, 4> parallelChunks(linalg::GenericOp op, int64_t tile) {
  constexpr int64_t kMinChunk = 32 * 1024, kMaxChunks = 64, kMinExample = 1024;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<int64_t, 4> sizes(ranges.size(), 0);
  if (ranges.size() > 1 && ShapedType::isDynamic(ranges[0]) &&
      op.getIteratorTypesArray()[0] == utils::IteratorType::parallel &&
      llvm::none_of(ArrayRef(ranges).drop_front(), ShapedType::isDynamic)) {
    int64_t example = 1;
    for (int64_t r : ArrayRef(ranges).drop_front())
      example *= r;
    if (example >= kMinExample)
      sizes[0] = 1;
    return sizes;
  }
  if (llvm::any_of(ranges, ShapedType::isDynamic))
    return sizes;
  int64_t elements = 1;
  for (int64_t r : ranges)
    elements *= r;
  int64_t chunks = std::min(kMaxChunks, elements / kMinChunk);
  if (chunks < 2)
    return sizes;
  unsigned dim = 0, last = ranges.size() - 1;
  int64_t align = ranges.size() == 1 && tile > 0 ? tile : 1;
  if (op.getIteratorTypesArray()[0] != utils::IteratorType::parallel) {
    dim = last;
    align = tile > 0 ? tile : 64;
  }
  if (ranges[dim] < 2)
    return sizes;
  int64_t size = llvm::alignTo(llvm::divideCeil(ranges[dim], chunks), align);
  if (size < ranges[dim])
    sizes[dim] = size;
  return sizes;
}

/// Elementwise ops, and reductions over all but the innermost dimension
/// (bias gradients), that the schedule vectorizes along their innermost
/// dimension (@schedule_elementwise_<rank>, or just @vectorize for a static
/// 1-D op of at most 64): a parallel, static one of at
/// most 64 or a multiple of 64, which every operand either reads
/// contiguously (it is the operand's last dimension) or not at all (a
/// broadcast along it), and a body of arith and math ops and element reads
/// (`tensor.extract`, which the vectorizer turns into contiguous loads when
/// the innermost index is the innermost loop, else gathers). Left to the
/// generic lowering, LLVM fully unrolls short innermost loops (32 channels)
/// and then vectorizes the loop around them with gathers and scatters.
void elementwiseCalls(ModuleOp module, const Claimed &claimed,
                      SmallVectorImpl<ScheduleCall> &calls) {
  module.walk([&](linalg::GenericOp op) {
    unsigned n = op.getNumLoops();
    if (claimed.contains(op) || op->hasAttr(contract::kMatmulMarker) || op->hasAttr(contract::kConvFilterGradMarker) ||
        n == 0 || n > 4)
      return;
    int64_t inner = op.getStaticLoopRanges()[n - 1];
    if (ShapedType::isDynamic(inner) || (inner > 64 && inner % 64 != 0))
      return;
    // Rows summed along the innermost dimension (a large gradient's sum of
    // squares, alone or inside the optimizer's update: mergeRowSums) too,
    // 64 elements at a time into each row's sum; short rows (the 10 classes
    // of a softmax) keep the generic lowering.
    bool rowSums = op.getIteratorTypesArray()[n - 1] != utils::IteratorType::parallel;
    if (rowSums && (n != 2 || inner < 64 || op.getIteratorTypesArray()[0] != utils::IteratorType::parallel))
      return;
    for (AffineMap map : op.getIndexingMapsArray()) {
      if (!map.isProjectedPermutation())
        return;
      bool readsInner = map.isFunctionOfDim(n - 1);
      if (readsInner && map.getResults().back() != getAffineDimExpr(n - 1, op.getContext()))
        return;
    }
    for (Operation &inside : op.getBody()->without_terminator()) {
      StringRef dialect = inside.getDialect()->getNamespace();
      if (dialect != "arith" && dialect != "math" &&
          !isa<linalg::IndexOp, tensor::ExtractOp>(inside))
        return;
    }
    if (rowSums)
      reassociateRowSums(op);
    // The innermost tile: all of it (0), or 64 elements at a time.
    static constexpr StringLiteral kByRank[] = {
        "schedule_elementwise_1", "schedule_elementwise_2",
        "schedule_elementwise_3", "schedule_elementwise_4"};
    static constexpr StringLiteral kParallelByRank[] = {
        "schedule_elementwise_par_1", "schedule_elementwise_par_2",
        "schedule_elementwise_par_3", "schedule_elementwise_par_4"};
    int64_t tile = inner <= 64 ? 0 : 64;
    SmallVector<int64_t, 4> chunks = parallelChunks(op, tile);
    if (llvm::any_of(chunks, [](int64_t size) { return size != 0; })) {
      SmallVector<int64_t, 5> params{tile};
      params.append(chunks.begin(), chunks.end());
      calls.push_back({{op}, kParallelByRank[n - 1], params});
    }
    else if (n == 1 && inner <= 64)
      calls.push_back({{op}, "vectorize", {}});
    else
      calls.push_back({{op}, kByRank[n - 1], {tile}});
  });
}

/// Drops the hint above once the schedule has used it.
void dropScheduleHints(ModuleOp module) {
  module.walk([](Operation *op) { op->removeAttr(contract::kRaggedRowsMarker); });
}

/// A tile whose zero fill the schedule fused into it (a tile of an
/// `scf.forall` starts from `fill` of its slice) writes a zero vector over
/// the whole tile and reads it back as the accumulator: the read is that
/// zero vector, so the accumulators start in registers and the output is
/// never read (upstream folds a read of a write only when both have the same
/// shape; here the read goes through the rank-reducing slice of the 1-D
/// convolution).
struct ReadOfSplatTile : public OpRewritePattern<vector::TransferReadOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(vector::TransferReadOp read,
                                PatternRewriter &rewriter) const override {
    if (read.hasOutOfBoundsDim() || read.getMask())
      return failure();
    Value source = read.getBase();
    while (auto slice = source.getDefiningOp<tensor::ExtractSliceOp>())
      source = slice.getSource();
    auto write = source.getDefiningOp<vector::TransferWriteOp>();
    if (!write || write.hasOutOfBoundsDim() || write.getMask() ||
        !write.getPermutationMap().isMinorIdentity())
      return failure();
    auto tensor = dyn_cast<RankedTensorType>(write.getBase().getType());
    if (!tensor || !tensor.hasStaticShape() ||
        write.getVectorType().getShape() != tensor.getShape() ||
        !llvm::all_of(write.getIndices(), [](Value i) { return isZeroInteger(i); }))
      return failure();
    SplatElementsAttr splat;
    if (!matchPattern(write.getVector(), m_Constant(&splat)))
      return failure();
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(
        read, SplatElementsAttr::get(read.getVectorType(),
                                     splat.getSplatValue<Attribute>()));
    return success();
  }
};

/// Runs after the schedule: see ReadOfSplatTile.
/// A vectorized row sum (reassociateRowSums' ops) carries a scalar
/// through the loop over the row's tiles, adding each tile's lanes into it
/// (`vector.reduction <add> %tile, %sum`): LLVM adds those lanes one after
/// another. This carries a vector of lanes instead, adds each tile to it
/// elementwise, and reduces the lanes once after the loop, as a tree.
struct LanesOfRowSum : public OpRewritePattern<scf::ForOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(scf::ForOp loop, PatternRewriter &rewriter) const override {
    auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
    for (unsigned i = 0, e = loop.getNumRegionIterArgs(); i < e; ++i) {
      BlockArgument arg = loop.getRegionIterArgs()[i];
      auto type = dyn_cast<VectorType>(arg.getType());
      if (!type || type.getRank() != 1 || type.getNumElements() != 1 || !arg.hasOneUse())
        continue;
      auto extract = dyn_cast<vector::ExtractOp>(*arg.getUsers().begin());
      if (!extract || !extract->hasOneUse())
        continue;
      auto reduce = dyn_cast<vector::ReductionOp>(*extract->getUsers().begin());
      if (!reduce || reduce.getKind() != vector::CombiningKind::ADD || reduce.getAcc() != extract.getResult() ||
          !reduce->hasOneUse())
        continue;
      auto broadcast = dyn_cast<vector::BroadcastOp>(*reduce->getUsers().begin());
      if (!broadcast || !broadcast->hasOneUse() || *broadcast->getUsers().begin() != yield.getOperation() ||
          yield.getOperand(i) != broadcast.getResult())
        continue;
      Value tile = reduce.getVector();
      auto lanesType = cast<VectorType>(tile.getType());
      Location loc = loop.getLoc();
      rewriter.setInsertionPoint(loop);
      Value zero = arith::ConstantOp::create(rewriter, loc, lanesType, rewriter.getZeroAttr(lanesType));
      Value init = loop.getInitArgs()[i];
      auto grown = cast<scf::ForOp>(*cast<LoopLikeOpInterface>(loop.getOperation())
          .replaceWithAdditionalYields(rewriter, ValueRange{zero}, false,
                                       [&](OpBuilder &b, Location l, ArrayRef<BlockArgument> lanes) {
                                         return SmallVector<Value>{arith::AddFOp::create(b, l, lanes[0], tile)};
                                       }));
      auto newYield = cast<scf::YieldOp>(grown.getBody()->getTerminator());
      // The old sum passes through unchanged; its users read the lanes' sum.
      rewriter.modifyOpInPlace(newYield, [&] { newYield.setOperand(i, grown.getRegionIterArgs()[i]); });
      rewriter.setInsertionPointAfter(grown);
      Value start = vector::ExtractOp::create(rewriter, loc, init, ArrayRef<int64_t>{0});
      // The lanes as a tree (the same tree on every run).
      Value total = vector::ReductionOp::create(rewriter, loc, vector::CombiningKind::ADD,
                                                grown.getResults().back(), start,
                                                arith::FastMathFlags::reassoc);
      Value result = vector::BroadcastOp::create(rewriter, loc, type, total);
      rewriter.replaceAllUsesWith(grown.getResult(i), result);
      return success();
    }
    return failure();
  }
};

LogicalResult foldZeroTiles(ModuleOp module) {
  RewritePatternSet patterns(module.getContext());
  patterns.add<ReadOfSplatTile, LanesOfRowSum>(module.getContext());
  // Reads of slices taken outside the loop that a call scheduled (the
  // block update's operands in fuseUpdates' loop) read the whole tensor at
  // the slice's offsets, as the schedule's own folding does inside it.
  tensor::populateFoldTensorSubsetIntoVectorTransferPatterns(patterns);
  return applyPatternsGreedily(module, std::move(patterns));
}

struct CPUSchedulePass : public impl::CPUSchedulePassBase<CPUSchedulePass> {
  using Base::Base;

  LogicalResult initialize(MLIRContext *ctx) override {
    std::string text = kBuiltinSchedule, name = "<dlc cpu schedule>";
    // For schedule experiments without rebuilding dlc (use a fresh
    // XDG_CACHE_HOME: the compile cache does not know about it).
    if (scheduleFile.empty())
      if (const char *env = std::getenv("DLC_CPU_SCHEDULE"))
        scheduleFile = env;
    if (!scheduleFile.empty()) {
      auto buffer = llvm::MemoryBuffer::getFile(scheduleFile);
      if (!buffer)
        return emitError(UnknownLoc::get(ctx))
               << "cannot read schedule '" << scheduleFile
               << "': " << buffer.getError().message();
      text = (*buffer)->getBuffer().str();
      name = scheduleFile;
    }
    ParserConfig config(ctx);
    auto library = parseSourceString<ModuleOp>(text, config, name);
    if (!library)
      return failure();
    entry = SymbolTable::lookupSymbolIn(
        *library, transform::TransformDialect::kTransformEntryPointSymbolName);
    if (!entry)
      return emitError(library->getLoc()) << "schedule has no @__transform_main";
    schedule = std::make_shared<OwningOpRef<ModuleOp>>(std::move(library));
    return success();
  }

  /// The interpreter's checks of handle misuse (a handle used after the op
  /// it names was rewritten) walk the payload after every transform: on in
  /// strict mode (the tests, which exercise every sequence), off when
  /// compiling models.
  transform::TransformOptions options() const {
    return transform::TransformOptions().enableExpensiveChecks(strict);
  }

  /// Calls the schedule's named sequence `call.sequence` on `call.ops` with
  /// `call.params` as its parameters.
  LogicalResult apply(const ScheduleCall &call) { return apply(call, call.ops); }

  /// The same on `ops` (copies of the call's ops in a kernel).
  LogicalResult apply(const ScheduleCall &call, ArrayRef<Operation *> ops) {
    auto sequence = dyn_cast_or_null<transform::TransformOpInterface>(
        SymbolTable::lookupSymbolIn(**schedule, call.sequence));
    Operation *first = ops.front();
    if (!sequence)
      return first->emitError() << "the CPU schedule has no @" << call.sequence;
    Builder b(first->getContext());
    RaggedArray<transform::MappedValue> bindings;
    for (Operation *op : ops)
      bindings.push_back(ArrayRef<transform::MappedValue>{op});
    for (int64_t p : call.params)
      bindings.push_back(ArrayRef<transform::MappedValue>{b.getI64IntegerAttr(p)});
    return transform::applyTransformNamedSequence(bindings, sequence, **schedule,
                                                  options());
  }

  /// Schedules `module` in place: the fused blocks and the ops whose tile
  /// sizes the pass computes, then `@__transform_main` (the matmul forms, which it matches
  /// itself), then the fold of zeroed tiles.
  LogicalResult scheduleModule(ModuleOp module, bool fuseBlocks = true) {
    SmallVector<ScheduleCall> calls, last;
    Claimed claimed;
    fuseUpdates(module, claimed, calls);
    mergeRowSums(module);
    transposeNarrowK(module);
    if (fuseBlocks)
      blockCalls(module, claimed, calls, last);
    convCalls(module, claimed, calls);
    filterGradCalls(module, claimed, calls);
    panelCalls(module, claimed, calls);
    elementwiseCalls(module, claimed, calls);
    markRaggedRows(module);
    calls.append(last);
    if (!kernels) {
      for (const ScheduleCall &call : calls)
        if (failed(apply(call)))
          return failure();
      if (failed(transform::applyTransformNamedSequence(module, entry, **schedule,
                                                        options())))
        return failure();
    } else if (failed(scheduleKernels(module, calls))) {
      return failure();
    }
    dropScheduleHints(module);
    (void)foldZeroTiles(module);
    return success();
  }

  /// The same calls, each op that a call names alone (not a fused block,
  /// which spans several ops and the function) scheduled as a kernel (see
  /// ScheduleKernels.h), then `@__transform_main` on each matmul left in a
  /// function's body, as a kernel too.
  LogicalResult scheduleKernels(ModuleOp module, ArrayRef<ScheduleCall> calls) {
    KernelScheduler scheduler(module.getContext());
    auto keyOf = [](const ScheduleCall &call) {
      std::string key = call.sequence.str();
      for (int64_t p : call.params)
        key += " " + std::to_string(p);
      return key;
    };
    // The ops that calls still to come name.
    llvm::DenseSet<Operation *> named;
    for (const ScheduleCall &call : calls)
      named.insert(call.ops.begin(), call.ops.end());
    for (const ScheduleCall &call : calls) {
      for (Operation *op : call.ops)
        named.erase(op);
      // A kernel is a copy of its op in a function of its own, so only an
      // op of a function's body that holds no op another call names (not
      // fuseUpdates' loop, whose block update is an elementwise call) is
      // one. An op inside a loop (that update) is scheduled where it is:
      // a kernel that two loops called would stay a function, and its
      // arguments, strided slices there, would be copied to and from
      // buffers of the identity layout at each call.
      Operation *first = call.ops.front();
      bool alone = call.ops.size() == 1 && !call.sequence.starts_with("schedule_conv_block") &&
                   isa<func::FuncOp>(first->getParentOp()) &&
                   !first->walk([&](Operation *inner) {
                            return inner != first && named.contains(inner) ? WalkResult::interrupt()
                                                                            : WalkResult::advance();
                          }).wasInterrupted();
      if (!alone) {
        if (failed(apply(call)))
          return failure();
        continue;
      }
      if (failed(scheduler.schedule(call.ops.front(), keyOf(call),
                                    [&](Operation *, Operation *op) { return apply(call, {op}); })))
        return failure();
    }
    SmallVector<Operation *> matmuls;
    for (auto f : module.getOps<func::FuncOp>())
      if (!f.isExternal() && !scheduler.isKernel(f))
        for (Operation &op : f.getBody().getOps())
          if (op.hasAttr(contract::kMatmulMarker) && isa<linalg::GenericOp>(op))
            matmuls.push_back(&op);
    for (Operation *op : matmuls)
      if (failed(scheduler.schedule(op, "__transform_main", [&](Operation *root, Operation *) {
            return transform::applyTransformNamedSequence(root, entry, **schedule, options());
          })))
        return failure();
    scheduler.finish();
    kernelCount = {scheduler.scheduled() + scheduler.reused(), scheduler.scheduled()};
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (strict) {
      if (failed(scheduleModule(module)))
        return signalPassFailure();
      remarkKernels(module);
      return;
    }
    // Schedule a copy; keep it only if the whole schedule succeeded. A
    // schedule is an optimization: when it cannot handle some shape, the
    // module is scheduled again with its fused blocks' ops scheduled one by
    // one (the block sequences are the newest and most shape-sensitive), and
    // if that fails too the untouched module still compiles through the
    // generic lowering.
    // The fallbacks say so in a remark (dlc --remarks shows it).
    int level = 0;
    for (bool fuseBlocks : {true, false}) {
      OwningOpRef<ModuleOp> copy(cast<ModuleOp>(module->clone()));
      LogicalResult scheduled = failure();
      {
        ScopedDiagnosticHandler silence(&getContext(), [](Diagnostic &) {
          return success();
        });
        scheduled = scheduleModule(*copy, fuseBlocks);
      }
      if (succeeded(scheduled)) {
        module.getBodyRegion().takeBody(copy->getBodyRegion());
        remarkKernels(module);
        break;
      }
      ++level;
    }
    if (level == 1)
      emitRemark(module.getLoc())
          << "the CPU schedule failed on the fused blocks; their ops are "
             "scheduled one by one";
    else if (level == 2)
      emitRemark(module.getLoc())
          << "the CPU schedule failed; the module is compiled unscheduled (slower)";
  }

  /// Ops scheduled as kernels, and kernels, in the last scheduleKernels.
  std::pair<unsigned, unsigned> kernelCount;
  /// The remark of `remarks`.
  void remarkKernels(ModuleOp module) {
    if (remarks && kernels)
      emitRemark(module.getLoc()) << kernelCount.first << " ops scheduled as "
                                  << kernelCount.second << " kernels";
  }

  std::shared_ptr<OwningOpRef<ModuleOp>> schedule;
  Operation *entry = nullptr;
};
} // namespace
} // namespace mlir::dlc::cpu
