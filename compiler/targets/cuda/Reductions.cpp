//===- Reductions.cpp - ops without parallel loops as GPU kernels ---------===//
//
// A linalg op with no parallel dimension would become loops on the host
// (convert-linalg-to-parallel-loops makes no scf.parallel of it), reading
// and writing memory that kernels queued before it may still be writing:
// the loss's sum over the batch, the accuracy's, the gradient norm's final
// sums, a scalar's arithmetic. Every such op runs on the device instead:
//
// - A sum, `out + g(inputs)` over all its loops, is a tree reduction: blocks
//   of 256 threads, each thread summing g over a grid-strided share of the
//   linearized iteration space, the block's 256 sums halved in shared
//   memory between barriers, one partial sum a block; then one thread adds
//   the partial sums to `out` in block order. The order is fixed, so every
//   run gives the same bits.
// - Any other such op (a scalar's arithmetic, a fill or copy of a scalar)
//   is a kernel of one thread.
//
// And a sum over long reductions that keeps some parallel loops (a bias
// gradient: 64 sums of 9800 terms; a row sum of a 3136 x 1024 gradient),
// which the one-thread-an-output mapping would run as one long serial loop
// per thread, gets a block per output element: its 256 threads stride over
// the reduction (consecutive threads, consecutive terms), and the same
// halving in shared memory leaves the sum for thread 0 to add to `out`.
//
// With `emulate`, the tree reduction is host loops over its blocks and, in
// each phase between two barriers, over the block's threads (the shared
// buffer on the host), and the other ops stay host code: CI checks the
// reductions without a GPU.
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/cuda/KernelIndexing.h"
#include "compiler/targets/cuda/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::dlc::cuda {
#define GEN_PASS_DEF_GPUREDUCTIONSPASS
#include "compiler/targets/cuda/Passes.h.inc"

namespace {

constexpr int64_t kThreads = 256;
/// Elements a thread sums at least before more blocks are used.
constexpr int64_t kMinPerThread = 4;
/// At most this many blocks (two for each of an H100's 132 SMs).
constexpr int64_t kMaxBlocks = 264;
/// A sum that keeps parallel loops gets a block an output element when its
/// reductions have at least this many terms (a dynamic size counted as 64).
constexpr int64_t kMinRowTerms = 128;

/// A sum over the reduction loops of `op`: its body yields `out + term`
/// (either order), `out` used nowhere else, its init an f32 buffer indexed
/// by the parallel loops.
std::optional<Value> sumTerm(linalg::LinalgOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() == 0 ||
      op.getNumLoops() != op.getNumParallelLoops() + op.getNumReductionLoops())
    return std::nullopt;
  auto outType = dyn_cast<MemRefType>(op.getDpsInitOperand(0)->get().getType());
  if (!outType || !outType.getElementType().isF32())
    return std::nullopt;
  // Each output element is one iteration of the parallel loops (none: a
  // scalar), so one block or thread writes it.
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (!outMap.isProjectedPermutation() || outMap.getNumResults() != op.getNumParallelLoops() ||
      llvm::any_of(outMap.getResults(), [&](AffineExpr e) {
        return op.getIteratorTypesArray()[cast<AffineDimExpr>(e).getPosition()] !=
               utils::IteratorType::parallel;
      }))
    return std::nullopt;
  for (AffineMap map : op.getIndexingMapsArray())
    if (!isPlainMap(map))
      return std::nullopt;
  Block *body = op.getBlock();
  Value out = op.getMatchingBlockArgument(op.getDpsInitOperand(0));
  auto add = body->getTerminator()->getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add || !out.hasOneUse() || (add.getLhs() != out && add.getRhs() != out))
    return std::nullopt;
  return add.getLhs() == out ? add.getRhs() : add.getLhs();
}

class SumBuilder {
public:
  SumBuilder(linalg::LinalgOp op, Value term, bool emulate)
      : op(op), term(term), emulate(emulate), loc(op.getLoc()),
        f32(Float32Type::get(op.getContext())) {}

  void build(OpBuilder &b) {
    out = op.getDpsInitOperand(0)->get();
    // Every element of `out` gets its whole sum here: its zero fill goes
    // (looked for before the sizes below add uses of `out`).
    if (linalg::FillOp fill = zeroFillBefore(op, out)) {
      fill->erase();
      zeroInit = true;
    }
    for (Range r : op.createLoopRanges(b, loc))
      sizes.push_back(getValueOrCreateConstantIndexOp(b, loc, r.size));
    for (auto [d, it] : llvm::enumerate(op.getIteratorTypesArray()))
      (it == utils::IteratorType::parallel ? rowDims : termDims).push_back(d);
    terms = product(b, termDims);
    if (rowDims.empty())
      buildTotal(b);
    else
      buildRows(b);
  }

private:
  linalg::LinalgOp op;
  Value term;
  bool emulate;
  Location loc;
  Type f32;
  SmallVector<Value> sizes;
  SmallVector<unsigned> rowDims, termDims;
  Value terms, out, blocks, partials;
  bool zeroInit = false; // `out` was all zeros: store the sums

  Value index(OpBuilder &b, int64_t v) const {
    return arith::ConstantIndexOp::create(b, loc, v);
  }

  Value product(OpBuilder &b, ArrayRef<unsigned> dims) const {
    return cuda::product(b, loc, dims, sizes);
  }

  MemRefType sharedType(Attribute space) const {
    return MemRefType::get({kThreads}, f32, MemRefLayoutAttrInterface(), space);
  }

  Attribute workgroup(OpBuilder &b) const {
    return gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  }

  /// A sum over all loops: several blocks, each a partial sum, then one
  /// thread adds them up.
  void buildTotal(OpBuilder &b) {
    Value wanted = arith::CeilDivUIOp::create(b, loc, terms, index(b, kThreads * kMinPerThread));
    blocks = arith::MinUIOp::create(b, loc, wanted, index(b, kMaxBlocks));
    partials = memref::AllocOp::create(b, loc, MemRefType::get({ShapedType::kDynamic}, f32),
                                       ValueRange{blocks});
    Value stride = arith::MulIOp::create(b, loc, blocks, index(b, kThreads));
    auto first = [&](OpBuilder &b, Value block, Value t) -> Value {
      return arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, block, index(b, kThreads)), t);
    };
    auto write = [&](OpBuilder &b, Value block, Value sum) {
      memref::StoreOp::create(b, loc, sum, partials, ValueRange{block});
    };
    if (emulate) {
      emulateBlocks(b, blocks, /*rows=*/false, first, stride, write);
      combine(b);
    } else {
      launchBlocks(b, blocks, /*rows=*/false, first, stride, write);
      Value one = index(b, 1);
      auto last = gpu::LaunchOp::create(b, loc, one, one, one, one, one, one);
      OpBuilder single = OpBuilder::atBlockBegin(&last.getBody().front());
      combine(single);
      gpu::TerminatorOp::create(single, loc);
    }
    memref::DeallocOp::create(b, loc, partials);
  }

  /// A sum that keeps the parallel loops: a block an output element.
  void buildRows(OpBuilder &b) {
    Value rows = product(b, rowDims);
    auto first = [&](OpBuilder &, Value, Value t) -> Value { return t; };
    auto write = [&](OpBuilder &b, Value row, Value sum) {
      SmallVector<Value> dims(sizes.size());
      delinearize(b, loc, row, rowDims, sizes, dims);
      SmallVector<Value> at =
          applyMap(b, loc, op.getMatchingIndexingMap(op.getDpsInitOperand(0)), dims);
      if (!zeroInit)
        sum = arith::AddFOp::create(b, loc, memref::LoadOp::create(b, loc, out, at), sum);
      memref::StoreOp::create(b, loc, sum, out, at);
    };
    if (emulate)
      emulateBlocks(b, rows, /*rows=*/true, first, index(b, kThreads), write);
    else
      launchBlocks(b, rows, /*rows=*/true, first, index(b, kThreads), write);
  }

  using FirstFn = llvm::function_ref<Value(OpBuilder &, Value, Value)>;
  using WriteFn = llvm::function_ref<void(OpBuilder &, Value, Value)>;

  /// The blocks as one launch: each thread sums its strided share into
  /// shared[t], the block halves the sums, thread 0 writes the block's.
  void launchBlocks(OpBuilder &b, Value count, bool rows, FirstFn first, Value stride,
                    WriteFn write) {
    Value one = index(b, 1);
    auto launch = gpu::LaunchOp::create(b, loc, count, one, one, index(b, kThreads), one, one,
                                        nullptr, nullptr, {}, TypeRange{sharedType(workgroup(b))});
    OpBuilder in = OpBuilder::atBlockBegin(&launch.getBody().front());
    Value block = launch.getBlockIds().x, t = launch.getThreadIds().x;
    Value shared = launch.getWorkgroupAttributions()[0];
    sumPhase(in, rows ? block : Value(), first(in, block, t), stride, t, shared);
    gpu::BarrierOp::create(in, loc);
    for (int64_t half = kThreads / 2; half >= 1; half /= 2) {
      halvePhase(in, t, half, shared);
      gpu::BarrierOp::create(in, loc);
    }
    writePhase(in, block, t, shared, write);
    gpu::TerminatorOp::create(in, loc);
  }

  /// The same blocks as host loops, each phase for all threads in turn.
  void emulateBlocks(OpBuilder &b, Value count, bool rows, FirstFn first, Value stride,
                     WriteFn write) {
    auto loop = scf::ForOp::create(b, loc, index(b, 0), count, index(b, 1));
    OpBuilder in = OpBuilder::atBlockBegin(loop.getBody());
    Value shared = memref::AllocOp::create(in, loc, sharedType({}));
    Value block = loop.getInductionVar();
    forThreads(in, [&](OpBuilder &b, Value t) {
      sumPhase(b, rows ? block : Value(), first(b, block, t), stride, t, shared);
    });
    for (int64_t half = kThreads / 2; half >= 1; half /= 2)
      forThreads(in, [&](OpBuilder &b, Value t) { halvePhase(b, t, half, shared); });
    forThreads(in, [&](OpBuilder &b, Value t) { writePhase(b, block, t, shared, write); });
    memref::DeallocOp::create(in, loc, shared);
  }

  void forThreads(OpBuilder &b, llvm::function_ref<void(OpBuilder &, Value)> phase) const {
    forEachThread(b, loc, kThreads, phase);
  }

  /// The op's term at output element `row` (null: no parallel loops) and
  /// the reduction's linear index `i`.
  Value termAt(OpBuilder &b, Value row, Value i) {
    SmallVector<Value> dims(sizes.size());
    if (row)
      delinearize(b, loc, row, rowDims, sizes, dims);
    delinearize(b, loc, i, termDims, sizes, dims);
    Block *body = op.getBlock();
    IRMapping map;
    for (OpOperand *input : op.getDpsInputOperands()) {
      Value v = memref::LoadOp::create(
          b, loc, input->get(), applyMap(b, loc, op.getMatchingIndexingMap(input), dims));
      map.map(op.getMatchingBlockArgument(input), v);
    }
    for (Operation &inner : body->without_terminator()) {
      if (auto idx = dyn_cast<linalg::IndexOp>(inner)) {
        map.map(idx.getResult(), dims[idx.getDim()]);
        continue;
      }
      if (llvm::is_contained(inner.getResults(), body->getTerminator()->getOperand(0)))
        continue; // the sum itself
      b.clone(inner, map);
    }
    return map.lookupOrDefault(term); // a term from above the body stays itself
  }

  /// Thread `t` sums the terms first, first + stride, ... into shared[t].
  void sumPhase(OpBuilder &b, Value row, Value first, Value stride, Value t, Value shared) {
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
    auto loop = scf::ForOp::create(
        b, loc, first, terms, stride, ValueRange{zero},
        [&](OpBuilder &b, Location, Value i, ValueRange acc) {
          Value sum = arith::AddFOp::create(b, loc, acc[0], termAt(b, row, i));
          scf::YieldOp::create(b, loc, sum);
        });
    memref::StoreOp::create(b, loc, loop.getResult(0), shared, ValueRange{t});
  }

  /// shared[t] += shared[t + half] for the first `half` threads.
  void halvePhase(OpBuilder &b, Value t, int64_t half, Value shared) const {
    Value active = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, t, index(b, half));
    auto guard = scf::IfOp::create(b, loc, active, false);
    OpBuilder then = guard.getThenBodyBuilder();
    Value other = arith::AddIOp::create(then, loc, t, index(then, half));
    Value a = memref::LoadOp::create(then, loc, shared, ValueRange{t});
    Value c = memref::LoadOp::create(then, loc, shared, ValueRange{other});
    memref::StoreOp::create(then, loc, arith::AddFOp::create(then, loc, a, c), shared,
                            ValueRange{t});
  }

  /// Thread 0 writes the block's sum.
  void writePhase(OpBuilder &b, Value block, Value t, Value shared, WriteFn write) const {
    Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, t, index(b, 0));
    auto guard = scf::IfOp::create(b, loc, first, false);
    OpBuilder then = guard.getThenBodyBuilder();
    write(then, block, memref::LoadOp::create(then, loc, shared, ValueRange{index(then, 0)}));
  }

  /// out += the partial sums, in block order.
  void combine(OpBuilder &b) const {
    Value init = zeroInit ? Value(arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0)))
                          : Value(memref::LoadOp::create(b, loc, out, ValueRange{}));
    auto loop = scf::ForOp::create(
        b, loc, index(b, 0), blocks, index(b, 1), ValueRange{init},
        [&](OpBuilder &b, Location, Value j, ValueRange acc) {
          Value p = memref::LoadOp::create(b, loc, partials, ValueRange{j});
          scf::YieldOp::create(b, loc, Value(arith::AddFOp::create(b, loc, acc[0], p)));
        });
    memref::StoreOp::create(b, loc, loop.getResult(0), out, ValueRange{});
  }
};

/// Whether a sum that keeps parallel loops has reductions long enough for a
/// block an output element.
bool hasLongRows(linalg::LinalgOp op) {
  int64_t terms = 1;
  for (auto [size, it] : llvm::zip(op.getStaticLoopRanges(), op.getIteratorTypesArray()))
    if (it == utils::IteratorType::reduction)
      terms *= ShapedType::isDynamic(size) ? 64 : size;
  return terms >= kMinRowTerms;
}

struct GPUReductionsPass : impl::GPUReductionsPassBase<GPUReductionsPass> {
  using GPUReductionsPassBase::GPUReductionsPassBase;

  void runOnOperation() override {
    // The sums first (each may take its output's zero fill with it), then
    // what is left without parallel loops.
    SmallVector<linalg::LinalgOp> sums;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (op.hasPureBufferSemantics() && !op->getParentOfType<gpu::LaunchOp>() &&
          sumTerm(op) && (op.getNumParallelLoops() == 0 || hasLongRows(op)))
        sums.push_back(op);
    });
    for (linalg::LinalgOp op : sums) {
      OpBuilder b(op);
      SumBuilder(op, *sumTerm(op), emulate).build(b);
      op->erase();
    }
    bool launched = !sums.empty() && !emulate;
    if (!emulate) {
      SmallVector<linalg::LinalgOp> serial;
      getOperation().walk([&](linalg::LinalgOp op) {
        if (op.hasPureBufferSemantics() && op.getNumParallelLoops() == 0 &&
            !op->getParentOfType<gpu::LaunchOp>())
          serial.push_back(op);
      });
      // One thread runs each on the device.
      for (linalg::LinalgOp op : serial) {
        OpBuilder b(op);
        Value one = arith::ConstantIndexOp::create(b, op.getLoc(), 1);
        auto launch = gpu::LaunchOp::create(b, op.getLoc(), one, one, one, one, one, one);
        OpBuilder in = OpBuilder::atBlockBegin(&launch.getBody().front());
        in.clone(*op);
        gpu::TerminatorOp::create(in, op.getLoc());
        op->erase();
        launched = true;
      }
    }
    if (launched)
      getOperation()->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                              UnitAttr::get(&getContext()));
  }
};

} // namespace
} // namespace mlir::dlc::cuda
