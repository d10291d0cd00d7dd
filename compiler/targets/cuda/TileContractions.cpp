//===- TileContractions.cpp - contractions as block-tiled GPU kernels -----===//
//
// Every contraction of the step (a matmul in any layout, a convolution, its
// filter and input gradients: a linalg op whose body is out + a * b) becomes
// one block-tiled kernel, as in a classic SGEMM, with the convolutions as
// implicit GEMMs. The op's loop dimensions fall into four groups: batch
// (read by both operands), M (read by A only), N (by B only) and K (the
// reductions); each group is linearized. A block of 16 x 16 threads
// computes a BM x BN tile of (M, N) for one batch index, each thread a
// TM x TN register tile; for every step of 16 along K the block first
// stages A's 16 x BM and B's 16 x BN slices in shared memory (consecutive
// threads load consecutive addresses of the operand's innermost dimension),
// waits at a barrier, and then every thread accumulates its tile from
// shared memory. When the (M, N) tiles alone would leave the GPU's SMs idle
// (a layer's weight gradient: few outputs, long reductions), K is split
// over more blocks, each writing its partial sums to a buffer that a
// second, element-wise kernel adds in a fixed order (the same result on
// every run).
//
// The op that consumes the contraction's result can run in the kernel's
// store phase instead of as a kernel of its own (an epilogue): a fused conv
// block's bias + activation + pool with arg-max, a dense layer's bias +
// activation. The consumer's loops then define the kernel's M and N: its
// dimensions that index the contraction's M dimensions (with its window's
// reduction dimensions innermost) are linearized into M, those indexing N
// into N, and each thread's TM rows are one window of a pool (a 2 x 2 pool:
// TM = 4), so that a thread computes every convolution output its pooled
// outputs need and reduces them in registers, in the consumer's order. The
// convolution's output is then never stored where nothing else reads it,
// and the outputs' constant fills are folded into the kernel. Only where
// the kernel needs no split of K: partial sums must be added first.
//
// A kernel is written as phases separated by barriers (zero the
// accumulators; per K step: load, barrier, accumulate, barrier; store), and
// the same builders emit either the gpu.launch (shared memory as workgroup
// attributions, the register tile as a private attribution that LLVM keeps
// in registers) or, for `emulate`, host loops over blocks that run each
// phase for all 256 threads in turn, with the shared tiles and every
// thread's accumulators in host buffers: the same index arithmetic and
// guards run on the CPU, so CI checks the tiling without a GPU.
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/cuda/KernelIndexing.h"
#include "compiler/targets/cuda/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::dlc::cuda {
#define GEN_PASS_DEF_GPUTILECONTRACTIONSPASS
#include "compiler/targets/cuda/Passes.h.inc"

namespace {

constexpr int64_t kThreadsX = 16;             // threads along N
constexpr int64_t kThreadsY = 16;             // threads along M
constexpr int64_t kThreads = kThreadsX * kThreadsY;
constexpr int64_t kTileK = 16;                // K step staged in shared memory
/// Blocks a kernel should have to keep every SM busy: two for each of an
/// H100's 132 SMs (an A100 has 108).
constexpr int64_t kTargetBlocks = 264;
/// The K steps a split should have at least, so that its partial sums
/// (written and read once more) stay cheap against its work.
constexpr int64_t kMinStepsPerSplit = 8;
/// The blocks a kernel must have without splitting K for a consumer to be
/// fused into it: one for each of an H100's SMs.
constexpr int64_t kMinEpilogueBlocks = 132;
/// The largest pool window fused into a kernel (a thread's TM rows).
constexpr int64_t kMaxEpilogueWindow = 4;
/// What a dynamic size (the batch) is taken to be when choosing tiles.
constexpr int64_t kDynamicEstimate = 64;

/// A linalg op computing C += A * B over some of its loop dimensions, with
/// its loop dimensions grouped.
struct Contraction {
  linalg::LinalgOp op;
  Value a, b, c;
  AffineMap mapA, mapB, mapC;
  /// Loop dimensions of each group, outermost first.
  SmallVector<unsigned> batch, m, n, k, parallel;
};

bool usesAny(AffineMap map, unsigned dim) {
  return llvm::any_of(map.getResults(),
                      [&](AffineExpr e) { return e.isFunctionOfDim(dim); });
}

std::optional<Contraction> matchContraction(linalg::LinalgOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || op->getNumRegions() != 1)
    return std::nullopt;
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type || !type.getElementType().isF32())
      return std::nullopt;
  }
  // The body: %p = mulf(in0, in1); %s = addf(out, %p); yield %s.
  Block *body = op.getBlock();
  if (body->getOperations().size() != 3)
    return std::nullopt;
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add)
    return std::nullopt;
  Value out = body->getArgument(2);
  Value product = add.getLhs() == out ? add.getRhs() : add.getLhs();
  if (add.getLhs() != out && add.getRhs() != out)
    return std::nullopt;
  auto mul = product.getDefiningOp<arith::MulFOp>();
  if (!mul || !((mul.getLhs() == body->getArgument(0) && mul.getRhs() == body->getArgument(1)) ||
                (mul.getLhs() == body->getArgument(1) && mul.getRhs() == body->getArgument(0))))
    return std::nullopt;

  Contraction c;
  c.op = op;
  c.a = op.getDpsInputOperand(0)->get();
  c.b = op.getDpsInputOperand(1)->get();
  c.c = op.getDpsInitOperand(0)->get();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  c.mapA = maps[0];
  c.mapB = maps[1];
  c.mapC = maps[2];
  for (AffineMap map : maps)
    if (!isPlainMap(map))
      return std::nullopt;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (auto [d, it] : llvm::enumerate(iterators)) {
    if (it == utils::IteratorType::reduction) {
      if (usesAny(c.mapC, d))
        return std::nullopt;
      c.k.push_back(d);
      continue;
    }
    c.parallel.push_back(d);
    bool inA = usesAny(c.mapA, d), inB = usesAny(c.mapB, d);
    (inA && !inB ? c.m : inB && !inA ? c.n : c.batch).push_back(d);
  }
  // C is indexed by exactly the parallel dimensions, each once.
  if (c.k.empty() || !c.mapC.isProjectedPermutation() ||
      c.mapC.getNumResults() != c.parallel.size())
    return std::nullopt;
  return c;
}

/// A consumer of a contraction's result run in the contraction's kernel
/// (see the file comment).
struct Epilogue {
  linalg::LinalgOp op;
  OpOperand *cInput = nullptr;  // the operand reading the contraction's C
  /// The consumer's dimensions by what they index: the contraction's M
  /// (parallel ones, then the window's reductions) or its N.
  SmallVector<unsigned> mParallel, window, n;
  SmallVector<int64_t> windowSizes;
  int64_t windowCells = 1;
  /// For each parallel dimension of the contraction, the consumer's
  /// expression for it (C's index through the consumer's map).
  DenseMap<unsigned, AffineExpr> dimExpr;
  /// C is read after the consumer: the kernel stores it too.
  bool cLive = false;
};

/// Whether the ops between `c` and `consumer` can run before both: they
/// neither touch C nor write the contraction's operands (allocations,
/// constants and fills, as bufferization leaves before a consumer).
bool onlyAllocationsBetween(Contraction &c, Operation *consumer) {
  for (Operation *op = c.op->getNextNode(); op != consumer; op = op->getNextNode()) {
    if (isa<memref::AllocOp, arith::ConstantOp, memref::DimOp>(op))
      continue;
    auto fill = dyn_cast<linalg::LinalgOp>(op);
    if (!fill || !fill.hasPureBufferSemantics() || fill.getNumDpsInputs() > 1 ||
        fill.getNumLoops() != fill.getNumParallelLoops())
      return false;
    for (Value v : op->getOperands())
      if (isa<MemRefType>(v.getType()) &&
          llvm::is_contained({bufferOf(c.a), bufferOf(c.b), bufferOf(c.c)}, bufferOf(v)))
        return false;
  }
  return true;
}

/// Whether what `buffer` holds is dead after `op`: the buffer was
/// allocated in this function, and the next op to touch it deallocates it
/// or writes all of it without reading it (bufferization reuses a dead
/// buffer: a conv block's output buffer holds its gradient later).
bool isDeadAfter(Value buffer, Operation *op) {
  auto alloc = buffer.getDefiningOp<memref::AllocOp>();
  if (!alloc || alloc->getBlock() != op->getBlock())
    return false;
  // A view (made anywhere) or a use in a nested region may read it after
  // `op` where the scan below does not look.
  for (Operation *user : buffer.getUsers())
    if (user->getBlock() != op->getBlock() || isa<ViewLikeOpInterface>(user))
      return false;
  for (Operation *next = op->getNextNode(); next; next = next->getNextNode()) {
    bool touches = false;
    next->walk([&](Operation *inner) {
      touches = touches || llvm::is_contained(inner->getOperands(), buffer);
    });
    if (!touches)
      continue;
    if (isa<memref::DeallocOp>(next))
      return true;
    auto writer = dyn_cast<linalg::LinalgOp>(next);
    if (!writer || !writer.hasPureBufferSemantics() ||
        llvm::count(next->getOperands(), buffer) != 1)
      return false;
    for (OpOperand &out : writer.getDpsInitsMutable())
      if (out.get() == buffer)
        return writer.getMatchingBlockArgument(&out).use_empty() &&
               writer.getMatchingIndexingMap(&out).isPermutation();
    return false;
  }
  return true;
}

std::optional<Epilogue> matchEpilogue(Contraction &c) {
  if (!c.batch.empty())
    return std::nullopt;
  // The first op after the contraction that uses C.
  Operation *next = c.op->getNextNode();
  while (next && !llvm::is_contained(next->getOperands(), c.c))
    next = next->getNextNode();
  auto g = dyn_cast_or_null<linalg::LinalgOp>(next);
  if (!g || !g.hasPureBufferSemantics() || g->getNumRegions() != 1 ||
      matchContraction(g) || !onlyAllocationsBetween(c, g))
    return std::nullopt;
  Epilogue e;
  e.op = g;
  for (OpOperand *in : g.getDpsInputOperands())
    if (in->get() == c.c) {
      if (e.cInput)
        return std::nullopt;
      e.cInput = in;
    }
  if (!e.cInput)
    return std::nullopt;
  // No other input may read C (through a view): the kernel has not stored
  // it when the consumer's body runs.
  for (OpOperand *in : g.getDpsInputOperands())
    if (in != e.cInput && bufferOf(in->get()) == bufferOf(c.c))
      return std::nullopt;
  for (AffineMap map : g.getIndexingMapsArray())
    if (!isPlainMap(map))
      return std::nullopt;
  // The body is recomputed by the kernel's threads: plain arithmetic only.
  for (Operation &inner : g.getBlock()->without_terminator())
    if (inner.getNumRegions() != 0 || (!isPure(&inner) && !isa<linalg::IndexOp>(inner)))
      return std::nullopt;
  AffineMap gMapC = g.getMatchingIndexingMap(e.cInput);
  for (unsigned r = 0; r < c.mapC.getNumResults(); ++r)
    e.dimExpr[c.mapC.getDimPosition(r)] = gMapC.getResult(r);
  auto indexesGroup = [&](unsigned d, ArrayRef<unsigned> group) {
    return llvm::any_of(group, [&](unsigned p) { return e.dimExpr[p].isFunctionOfDim(d); });
  };
  SmallVector<int64_t> ranges = g.getStaticLoopRanges();
  for (auto [d, it] : llvm::enumerate(g.getIteratorTypesArray())) {
    bool inM = indexesGroup(d, c.m), inN = indexesGroup(d, c.n);
    if (inM == inN)
      return std::nullopt; // both, or a dimension C does not vary with
    if (it == utils::IteratorType::reduction) {
      if (!inM || ShapedType::isDynamic(ranges[d]))
        return std::nullopt;
      e.window.push_back(d);
      e.windowSizes.push_back(ranges[d]);
      e.windowCells *= ranges[d];
      continue;
    }
    (inM ? e.mParallel : e.n).push_back(d);
  }
  if (e.windowCells > kMaxEpilogueWindow)
    return std::nullopt;
  // Each output element is written by one point of the parallel loops (one
  // thread), and no output is an operand the kernel still reads.
  unsigned parallel = g.getNumParallelLoops();
  for (OpOperand &out : g.getDpsInitsMutable()) {
    AffineMap map = g.getMatchingIndexingMap(&out);
    if (!map.isProjectedPermutation() || map.getNumResults() != parallel ||
        llvm::any_of(e.window, [&](unsigned d) { return map.isFunctionOfDim(d); }))
      return std::nullopt;
    Value root = bufferOf(out.get());
    if (root == bufferOf(c.a) || root == bufferOf(c.b))
      return std::nullopt;
    if (out.get() == c.c) {
      // In place: read and written at the same element by one thread.
      if (map != gMapC || e.windowCells != 1)
        return std::nullopt;
      continue;
    }
    for (OpOperand *in : g.getDpsInputOperands())
      if (bufferOf(in->get()) == root)
        return std::nullopt;
    if (root == bufferOf(c.c))
      return std::nullopt;
  }
  e.cLive = !isDeadAfter(c.c, g);
  if (e.cLive && !(e.windowCells == 1 && gMapC.isPermutation()))
    return std::nullopt;
  return e;
}

/// Tile sizes and the number of K splits for one contraction.
struct Plan {
  int64_t tm = 4, tn = 4; // a thread's register tile
  int64_t bm() const { return kThreadsY * tm; }
  int64_t bn() const { return kThreadsX * tn; }
  int64_t splits = 1;     // aimed at; the kernel computes the real count
  bool aKFastest = false, bKFastest = false;
};

int64_t estimate(ArrayRef<int64_t> sizes, ArrayRef<unsigned> dims) {
  int64_t n = 1;
  for (unsigned d : dims)
    n *= ShapedType::isDynamic(sizes[d]) ? kDynamicEstimate : sizes[d];
  return n;
}

/// The tile plan; `epilogue` is reset where the kernel would need a split
/// of K without it (too few blocks to keep the SMs busy).
Plan choosePlan(Contraction &c, std::optional<Epilogue> &epilogue) {
  SmallVector<int64_t> sizes = c.op.getStaticLoopRanges();
  int64_t m = estimate(sizes, c.m), n = estimate(sizes, c.n),
          k = estimate(sizes, c.k), batch = estimate(sizes, c.batch);
  Plan plan;
  if (epilogue) {
    SmallVector<int64_t> gSizes = epilogue->op.getStaticLoopRanges();
    int64_t em = estimate(gSizes, epilogue->mParallel) * epilogue->windowCells,
            en = estimate(gSizes, epilogue->n);
    plan.tm = epilogue->windowCells > 1 ? epilogue->windowCells
              : em >= 64                ? 4
              : em >= 32                ? 2
                                        : 1;
    plan.tn = en >= 64 ? 4 : en >= 32 ? 2 : 1;
    if (llvm::divideCeil(em, plan.bm()) * llvm::divideCeil(en, plan.bn()) >=
        kMinEpilogueBlocks)
      plan.splits = 1;
    else
      epilogue.reset();
  }
  if (!epilogue) {
    plan.tm = m >= 64 ? 4 : m >= 32 ? 2 : 1;
    plan.tn = n >= 64 ? 4 : n >= 32 ? 2 : 1;
  }
  int64_t blocks = llvm::divideCeil(m, plan.bm()) * llvm::divideCeil(n, plan.bn()) * batch;
  if (!epilogue && blocks < kTargetBlocks)
    plan.splits = std::max<int64_t>(
        1, std::min<int64_t>(llvm::divideCeil(kTargetBlocks, blocks),
                             k / (kTileK * kMinStepsPerSplit)));
  // Which index of the tile consecutive threads take when loading: the one
  // the operand's innermost dimension moves with.
  auto innermostMovesWithK = [&](AffineMap map) {
    AffineExpr last = map.getResult(map.getNumResults() - 1);
    return llvm::any_of(c.k, [&](unsigned d) { return last.isFunctionOfDim(d); });
  };
  plan.aKFastest = innermostMovesWithK(c.mapA);
  plan.bKFastest = innermostMovesWithK(c.mapB);
  return plan;
}

/// Builds one tiled kernel; see the file comment.
class KernelBuilder {
public:
  KernelBuilder(Contraction &c, const Plan &plan, const std::optional<Epilogue> &epi,
                bool emulate)
      : c(c), plan(plan), epi(epi), emulate(emulate), loc(c.op.getLoc()),
        f32(Float32Type::get(c.op.getContext())) {}

  void build(OpBuilder &b) {
    // Every element of C gets its whole sum here (from one thread, or from
    // the kernel that adds the splits' sums): C's zero fill goes.
    if (linalg::FillOp fill = zeroFillBefore(c.op, c.c)) {
      fill->erase();
      zeroInit = true;
    }
    // Host: loop sizes, group extents, the grid.
    for (Range r : c.op.createLoopRanges(b, loc))
      sizes.push_back(getValueOrCreateConstantIndexOp(b, loc, r.size));
    if (epi) {
      linalg::LinalgOp g = epi->op;
      for (Range r : g.createLoopRanges(b, loc))
        consumerSizes.push_back(getValueOrCreateConstantIndexOp(b, loc, r.size));
      extentM = arith::MulIOp::create(
          b, loc, cuda::product(b, loc, epi->mParallel, consumerSizes),
          index(b, epi->windowCells));
      extentN = cuda::product(b, loc, epi->n, consumerSizes);
      // The outputs' constant fills: the kernel writes every element.
      for (OpOperand &out : g.getDpsInitsMutable())
        if (out.get() != c.c)
          if (linalg::FillOp fill = constantFillBefore(g, out.get())) {
            initial[out.getOperandNumber()] =
                fill.getInputs().front().getDefiningOp<arith::ConstantOp>().getValue();
            fill->erase();
          }
    } else {
      extentM = product(b, c.m);
      extentN = product(b, c.n);
    }
    extentK = product(b, c.k);
    extentBatch = product(b, c.batch);
    Value tilesM = arith::CeilDivUIOp::create(b, loc, extentM, index(b, plan.bm()));
    Value tilesN = arith::CeilDivUIOp::create(b, loc, extentN, index(b, plan.bn()));
    if (plan.splits > 1) {
      Value steps = arith::CeilDivUIOp::create(b, loc, extentK, index(b, kTileK));
      Value stepsPerSplit =
          arith::CeilDivUIOp::create(b, loc, steps, index(b, plan.splits));
      // At least one step a split and one split (K may be 0 at run time:
      // the one split then stores zeros).
      perSplit = arith::MaxUIOp::create(
          b, loc, arith::MulIOp::create(b, loc, stepsPerSplit, index(b, kTileK)),
          index(b, kTileK));
      splits = arith::MaxUIOp::create(b, loc, arith::CeilDivUIOp::create(b, loc, extentK, perSplit),
                                      index(b, 1));
      // Partial sums: [split, parallel dims...].
      SmallVector<int64_t> shape = {ShapedType::kDynamic};
      SmallVector<Value> dynamic = {splits};
      SmallVector<int64_t> staticSizes = c.op.getStaticLoopRanges();
      for (unsigned d : c.parallel) {
        shape.push_back(staticSizes[d]);
        if (ShapedType::isDynamic(staticSizes[d]))
          dynamic.push_back(sizes[d]);
      }
      partial = memref::AllocOp::create(b, loc, MemRefType::get(shape, f32), dynamic);
    } else {
      perSplit = extentK;
      splits = index(b, 1);
    }
    Value gridZ = arith::MulIOp::create(b, loc, extentBatch, splits);

    // M's tiles on the grid's x (up to 2^31 - 1 blocks: a convolution's M
    // is batch x height x width), N's on y (up to 65535).
    if (emulate)
      buildEmulated(b, tilesM, tilesN, gridZ);
    else
      buildLaunch(b, tilesM, tilesN, gridZ);

    if (partial) {
      addPartials(b);
      memref::DeallocOp::create(b, loc, partial);
    }
  }

private:
  Contraction &c;
  const Plan &plan;
  const std::optional<Epilogue> &epi;
  bool emulate;
  Location loc;
  Type f32;
  SmallVector<Value> sizes;
  SmallVector<Value> consumerSizes; // the epilogue's loop sizes
  /// The constant an epilogue output starts from (its fill, folded in),
  /// by operand number.
  DenseMap<unsigned, TypedAttr> initial;
  Value extentM, extentN, extentK, extentBatch, perSplit, splits, partial;
  bool zeroInit = false; // C was all zeros: store the sums, not add them

  /// What one block's phases share: its indices and buffers.
  struct BlockState {
    Value tileN, tileM, z;
    Value sharedA, sharedB;
    Value acc;          // [TM, TN] on the GPU; [threads, TM, TN] emulated
    // Derived at the start of the block.
    Value batch, split, m0, n0, kBegin, kEnd;
  };

  Value index(OpBuilder &b, int64_t v) const {
    return arith::ConstantIndexOp::create(b, loc, v);
  }

  Value product(OpBuilder &b, ArrayRef<unsigned> dims) const {
    return cuda::product(b, loc, dims, sizes);
  }

  void delinearize(OpBuilder &b, Value linear, ArrayRef<unsigned> group,
                   SmallVectorImpl<Value> &dims) const {
    cuda::delinearize(b, loc, linear, group, sizes, dims);
  }

  SmallVector<Value> indices(OpBuilder &b, AffineMap map, ArrayRef<Value> dims) const {
    return applyMap(b, loc, map, dims);
  }

  SmallVector<Value> accIndices(OpBuilder &b, Value thread, int64_t i, int64_t j) const {
    SmallVector<Value> idx;
    if (emulate)
      idx.push_back(thread);
    idx.push_back(index(b, i));
    idx.push_back(index(b, j));
    return idx;
  }

  Value both(OpBuilder &b, Value x, Value y) const {
    return arith::AndIOp::create(b, loc, x, y);
  }
  Value less(OpBuilder &b, Value x, Value y) const {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y);
  }

  /// Sets the contraction's M (or N) dimensions from `linear`, an index of
  /// the kernel's M (N) space: the group itself linearized, or with an
  /// epilogue, the consumer's dimensions on that side (`consumer` gets them).
  void sideDims(OpBuilder &b, Value linear, bool mSide, SmallVectorImpl<Value> &dims,
                SmallVectorImpl<Value> *consumer = nullptr) const {
    ArrayRef<unsigned> group = mSide ? c.m : c.n;
    if (!epi) {
      delinearize(b, linear, group, dims);
      return;
    }
    SmallVector<Value> local(consumerSizes.size());
    SmallVectorImpl<Value> &g = consumer ? *consumer : local;
    SmallVector<unsigned> order = mSide ? epi->mParallel : epi->n;
    if (mSide)
      order.append(epi->window.begin(), epi->window.end());
    cuda::delinearize(b, loc, linear, order, consumerSizes, g);
    for (unsigned p : group)
      dims[p] = evaluate(b, loc, epi->dimExpr.lookup(p), g);
  }

  /// The block's batch index, split, tile origins and K range.
  void startBlock(OpBuilder &b, BlockState &s) const {
    s.split = arith::RemUIOp::create(b, loc, s.z, splits);
    s.batch = arith::DivUIOp::create(b, loc, s.z, splits);
    s.m0 = arith::MulIOp::create(b, loc, s.tileM, index(b, plan.bm()));
    s.n0 = arith::MulIOp::create(b, loc, s.tileN, index(b, plan.bn()));
    s.kBegin = arith::MulIOp::create(b, loc, s.split, perSplit);
    s.kEnd = arith::MinUIOp::create(b, loc,
                                    arith::AddIOp::create(b, loc, s.kBegin, perSplit),
                                    extentK);
  }

  void zeroPhase(OpBuilder &b, const BlockState &s, Value thread) const {
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
    for (int64_t i = 0; i < plan.tm; ++i)
      for (int64_t j = 0; j < plan.tn; ++j)
        memref::StoreOp::create(b, loc, zero, s.acc, accIndices(b, thread, i, j));
  }

  /// Stages one operand's K slice: `shared` is [kTileK, tile], element
  /// (kk, t) of it the operand at K index k0 + kk and M (or N) index
  /// origin + t, zero outside the op's ranges.
  void loadOperand(OpBuilder &b, const BlockState &s, Value thread, Value k0,
                   Value operand, AffineMap map, bool mSide, Value extent, Value origin, int64_t tile, bool kFastest,
                   Value shared) const {
    for (int64_t e = 0; e < kTileK * tile / kThreads; ++e) {
      Value linear = arith::AddIOp::create(b, loc, index(b, e * kThreads), thread);
      int64_t fast = kFastest ? kTileK : tile;
      Value inner = arith::RemUIOp::create(b, loc, linear, index(b, fast));
      Value outer = arith::DivUIOp::create(b, loc, linear, index(b, fast));
      Value kk = kFastest ? inner : outer, t = kFastest ? outer : inner;
      Value globalT = arith::AddIOp::create(b, loc, origin, t);
      Value globalK = arith::AddIOp::create(b, loc, k0, kk);
      Value inRange = both(b, less(b, globalT, extent), less(b, globalK, s.kEnd));
      auto guard = scf::IfOp::create(b, loc, TypeRange{f32}, inRange, /*withElse=*/true);
      {
        OpBuilder then = guard.getThenBodyBuilder();
        SmallVector<Value> dims(sizes.size());
        delinearize(then, s.batch, c.batch, dims);
        sideDims(then, globalT, mSide, dims);
        delinearize(then, globalK, c.k, dims);
        Value v = memref::LoadOp::create(then, loc, operand, indices(then, map, dims));
        scf::YieldOp::create(then, loc, v);
      }
      {
        OpBuilder otherwise = guard.getElseBodyBuilder();
        scf::YieldOp::create(otherwise, loc,
                             Value(arith::ConstantOp::create(otherwise, loc,
                                                             otherwise.getF32FloatAttr(0))));
      }
      memref::StoreOp::create(b, loc, guard.getResult(0), shared, ValueRange{kk, t});
    }
  }

  void loadPhase(OpBuilder &b, const BlockState &s, Value thread, Value k0) const {
    loadOperand(b, s, thread, k0, c.a, c.mapA, /*mSide=*/true, extentM, s.m0, plan.bm(),
                plan.aKFastest, s.sharedA);
    loadOperand(b, s, thread, k0, c.b, c.mapB, /*mSide=*/false, extentN, s.n0, plan.bn(),
                plan.bKFastest, s.sharedB);
  }

  void computePhase(OpBuilder &b, const BlockState &s, Value thread) const {
    Value tx = arith::RemUIOp::create(b, loc, thread, index(b, kThreadsX));
    Value ty = arith::DivUIOp::create(b, loc, thread, index(b, kThreadsX));
    Value rowA = arith::MulIOp::create(b, loc, ty, index(b, plan.tm));
    Value colB = arith::MulIOp::create(b, loc, tx, index(b, plan.tn));
    // Unrolled: kTileK x TM x TN fused multiply-adds on registers, the
    // shared loads of one kk next to each other (LLVM merges them into
    // vector loads).
    for (int64_t step = 0; step < kTileK; ++step) {
      Value kk = index(b, step);
      SmallVector<Value> as, bs;
      for (int64_t i = 0; i < plan.tm; ++i)
        as.push_back(memref::LoadOp::create(
            b, loc, s.sharedA, ValueRange{kk, arith::AddIOp::create(b, loc, rowA, index(b, i))}));
      for (int64_t j = 0; j < plan.tn; ++j)
        bs.push_back(memref::LoadOp::create(
            b, loc, s.sharedB, ValueRange{kk, arith::AddIOp::create(b, loc, colB, index(b, j))}));
      for (int64_t i = 0; i < plan.tm; ++i)
        for (int64_t j = 0; j < plan.tn; ++j) {
          SmallVector<Value> at = accIndices(b, thread, i, j);
          Value acc = memref::LoadOp::create(b, loc, s.acc, at);
          Value sum = math::FmaOp::create(b, loc, as[i], bs[j], acc);
          memref::StoreOp::create(b, loc, sum, s.acc, at);
        }
    }
  }

  /// The M and N indices of the thread's register tile's first element.
  std::pair<Value, Value> tileOrigin(OpBuilder &b, const BlockState &s, Value thread) const {
    Value tx = arith::RemUIOp::create(b, loc, thread, index(b, kThreadsX));
    Value ty = arith::DivUIOp::create(b, loc, thread, index(b, kThreadsX));
    Value row0 = arith::AddIOp::create(b, loc, s.m0,
                                       arith::MulIOp::create(b, loc, ty, index(b, plan.tm)));
    Value col0 = arith::AddIOp::create(b, loc, s.n0,
                                       arith::MulIOp::create(b, loc, tx, index(b, plan.tn)));
    return {row0, col0};
  }

  void storePhase(OpBuilder &b, const BlockState &s, Value thread) const {
    if (epi)
      return epiloguePhase(b, s, thread);
    auto [row0, col0] = tileOrigin(b, s, thread);
    for (int64_t i = 0; i < plan.tm; ++i)
      for (int64_t j = 0; j < plan.tn; ++j) {
        Value row = arith::AddIOp::create(b, loc, row0, index(b, i));
        Value col = arith::AddIOp::create(b, loc, col0, index(b, j));
        auto guard = scf::IfOp::create(
            b, loc, both(b, less(b, row, extentM), less(b, col, extentN)), false);
        OpBuilder then = guard.getThenBodyBuilder();
        SmallVector<Value> dims(sizes.size());
        delinearize(then, s.batch, c.batch, dims);
        delinearize(then, row, c.m, dims);
        delinearize(then, col, c.n, dims);
        Value acc = memref::LoadOp::create(then, loc, s.acc, accIndices(then, thread, i, j));
        if (partial) {
          SmallVector<Value> at = {s.split};
          for (unsigned d : c.parallel)
            at.push_back(dims[d]);
          memref::StoreOp::create(then, loc, acc, partial, at);
        } else {
          SmallVector<Value> at = indices(then, c.mapC, dims);
          Value sum = acc;
          if (!zeroInit)
            sum = arith::AddFOp::create(then, loc,
                                        memref::LoadOp::create(then, loc, c.c, at), acc);
          memref::StoreOp::create(then, loc, sum, c.c, at);
        }
      }
  }

  /// The store phase with an epilogue: for each of the thread's columns
  /// and windows, the consumer's body over the window's cells (in the
  /// consumer's loop order, the last window dimension fastest) on the
  /// accumulated values, and the consumer's outputs stored once.
  void epiloguePhase(OpBuilder &b, const BlockState &s, Value thread) const {
    linalg::LinalgOp g = epi->op;
    Block *body = g.getBlock();
    auto [row0, col0] = tileOrigin(b, s, thread);
    int64_t cells = epi->windowCells;
    bool cIsOutput = llvm::is_contained(g.getDpsInits(), c.c);
    for (int64_t j = 0; j < plan.tn; ++j)
      for (int64_t w = 0; w < plan.tm / cells; ++w) {
        // A window's first row: the thread's rows are whole windows.
        Value row = arith::AddIOp::create(b, loc, row0, index(b, w * cells));
        Value col = arith::AddIOp::create(b, loc, col0, index(b, j));
        auto guard = scf::IfOp::create(
            b, loc, both(b, less(b, row, extentM), less(b, col, extentN)), false);
        OpBuilder then = guard.getThenBodyBuilder();
        SmallVector<Value> gDims(consumerSizes.size()), dims(sizes.size());
        sideDims(then, row, /*mSide=*/true, dims, &gDims);
        sideDims(then, col, /*mSide=*/false, dims, &gDims);
        // The outputs' values before the window: their fills' constants,
        // else loaded (not where the body never reads them).
        SmallVector<Value> running;
        for (OpOperand &out : g.getDpsInitsMutable()) {
          auto it = initial.find(out.getOperandNumber());
          if (it != initial.end())
            running.push_back(arith::ConstantOp::create(then, loc, it->second));
          else if (out.get() == c.c || body->getArgument(out.getOperandNumber()).use_empty())
            running.push_back(Value());
          else
            running.push_back(memref::LoadOp::create(
                then, loc, out.get(), indices(then, g.getMatchingIndexingMap(&out), gDims)));
        }
        for (int64_t i = 0; i < cells; ++i) {
          int64_t rest = i;
          for (int64_t k = epi->window.size() - 1; k >= 0; --k) {
            gDims[epi->window[k]] = index(then, rest % epi->windowSizes[k]);
            rest /= epi->windowSizes[k];
          }
          for (unsigned p : c.m)
            dims[p] = evaluate(then, loc, epi->dimExpr.lookup(p), gDims);
          SmallVector<Value> at = indices(then, c.mapC, dims);
          Value value = memref::LoadOp::create(then, loc, s.acc,
                                               accIndices(then, thread, w * cells + i, j));
          if (!zeroInit)
            value = arith::AddFOp::create(then, loc, memref::LoadOp::create(then, loc, c.c, at),
                                          value);
          if (epi->cLive && !cIsOutput)
            memref::StoreOp::create(then, loc, value, c.c, at);
          IRMapping mapping;
          for (OpOperand &operand : g->getOpOperands()) {
            BlockArgument arg = body->getArgument(operand.getOperandNumber());
            if (&operand == epi->cInput || operand.get() == c.c)
              mapping.map(arg, value);
            else if (g.isDpsInit(&operand))
              mapping.map(arg, running[operand.getOperandNumber() - g.getNumDpsInputs()]);
            else if (!arg.use_empty())
              mapping.map(arg, memref::LoadOp::create(
                                   then, loc, operand.get(),
                                   indices(then, g.getMatchingIndexingMap(&operand), gDims)));
          }
          for (Operation &inner : body->without_terminator()) {
            if (auto idx = dyn_cast<linalg::IndexOp>(inner))
              mapping.map(idx.getResult(), gDims[idx.getDim()]);
            else
              then.clone(inner, mapping);
          }
          for (auto [k, v] : llvm::enumerate(body->getTerminator()->getOperands()))
            running[k] = mapping.lookupOrDefault(v);
        }
        for (OpOperand &out : g.getDpsInitsMutable())
          memref::StoreOp::create(then, loc,
                                  running[out.getOperandNumber() - g.getNumDpsInputs()],
                                  out.get(),
                                  indices(then, g.getMatchingIndexingMap(&out), gDims));
      }
  }

  MemRefType sharedType(int64_t tile, Attribute space) const {
    return MemRefType::get({kTileK, tile}, f32, MemRefLayoutAttrInterface(), space);
  }

  void buildLaunch(OpBuilder &b, Value gridX, Value gridY, Value gridZ) {
    MLIRContext *ctx = b.getContext();
    auto workgroup = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
    auto priv = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Private);
    Value one = index(b, 1);
    auto launch = gpu::LaunchOp::create(
        b, loc, gridX, gridY, gridZ, index(b, kThreads), one, one,
        /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
        /*asyncDependencies=*/{},
        TypeRange{sharedType(plan.bm(), workgroup), sharedType(plan.bn(), workgroup)},
        TypeRange{MemRefType::get({plan.tm, plan.tn}, f32, MemRefLayoutAttrInterface(),
                                  priv)});
    OpBuilder in = OpBuilder::atBlockBegin(&launch.getBody().front());
    BlockState s;
    s.tileM = launch.getBlockIds().x;
    s.tileN = launch.getBlockIds().y;
    s.z = launch.getBlockIds().z;
    s.sharedA = launch.getWorkgroupAttributions()[0];
    s.sharedB = launch.getWorkgroupAttributions()[1];
    s.acc = launch.getPrivateAttributions()[0];
    Value thread = launch.getThreadIds().x;
    startBlock(in, s);
    zeroPhase(in, s, thread);
    scf::ForOp::create(in, loc, s.kBegin, s.kEnd, index(in, kTileK), ValueRange{},
                       [&](OpBuilder &b, Location, Value k0, ValueRange) {
                         loadPhase(b, s, thread, k0);
                         gpu::BarrierOp::create(b, loc);
                         computePhase(b, s, thread);
                         gpu::BarrierOp::create(b, loc);
                         scf::YieldOp::create(b, loc);
                       });
    storePhase(in, s, thread);
    gpu::TerminatorOp::create(in, loc);
  }

  /// Runs `phase` for every thread of the block, one after the other.
  void forThreads(OpBuilder &b, llvm::function_ref<void(OpBuilder &, Value)> phase) const {
    forEachThread(b, loc, kThreads, phase);
  }

  void buildEmulated(OpBuilder &b, Value gridX, Value gridY, Value gridZ) {
    Value zero = index(b, 0), one = index(b, 1);
    auto loopZ = scf::ForOp::create(b, loc, zero, gridZ, one);
    OpBuilder bz = OpBuilder::atBlockBegin(loopZ.getBody());
    auto loopY = scf::ForOp::create(bz, loc, zero, gridY, one);
    OpBuilder by = OpBuilder::atBlockBegin(loopY.getBody());
    auto loopX = scf::ForOp::create(by, loc, zero, gridX, one);
    OpBuilder in = OpBuilder::atBlockBegin(loopX.getBody());
    BlockState s;
    s.z = loopZ.getInductionVar();
    s.tileN = loopY.getInductionVar();
    s.tileM = loopX.getInductionVar();
    s.sharedA = memref::AllocOp::create(in, loc, sharedType(plan.bm(), {}));
    s.sharedB = memref::AllocOp::create(in, loc, sharedType(plan.bn(), {}));
    s.acc = memref::AllocOp::create(in, loc,
                                    MemRefType::get({kThreads, plan.tm, plan.tn}, f32));
    startBlock(in, s);
    forThreads(in, [&](OpBuilder &b, Value t) { zeroPhase(b, s, t); });
    scf::ForOp::create(in, loc, s.kBegin, s.kEnd, index(in, kTileK), ValueRange{},
                       [&](OpBuilder &b, Location, Value k0, ValueRange) {
                         forThreads(b, [&](OpBuilder &b, Value t) { loadPhase(b, s, t, k0); });
                         forThreads(b, [&](OpBuilder &b, Value t) { computePhase(b, s, t); });
                         scf::YieldOp::create(b, loc);
                       });
    forThreads(in, [&](OpBuilder &b, Value t) { storePhase(b, s, t); });
    for (Value buffer : {s.sharedA, s.sharedB, s.acc})
      memref::DeallocOp::create(in, loc, buffer);
  }

  /// C += the sum of the splits' partial sums, in split order (C = the
  /// sum, where C's zero fill went): an element-wise op the naive mapping
  /// turns into its own kernel.
  void addPartials(OpBuilder &b) const {
    MLIRContext *ctx = b.getContext();
    unsigned numParallel = c.parallel.size();
    SmallVector<AffineExpr> partialExprs = {getAffineDimExpr(numParallel, ctx)};
    DenseMap<unsigned, unsigned> position;
    for (auto [i, d] : llvm::enumerate(c.parallel)) {
      partialExprs.push_back(getAffineDimExpr(i, ctx));
      position[d] = i;
    }
    SmallVector<AffineExpr> outExprs;
    for (AffineExpr e : c.mapC.getResults())
      outExprs.push_back(getAffineDimExpr(position[cast<AffineDimExpr>(e).getPosition()], ctx));
    SmallVector<AffineMap> maps = {AffineMap::get(numParallel + 1, 0, partialExprs, ctx),
                                   AffineMap::get(numParallel + 1, 0, outExprs, ctx)};
    SmallVector<utils::IteratorType> iterators(numParallel, utils::IteratorType::parallel);
    iterators.push_back(utils::IteratorType::reduction);
    linalg::GenericOp::create(b, loc, ValueRange{partial}, ValueRange{c.c}, maps, iterators,
                              [&](OpBuilder &b, Location loc, ValueRange args) {
                                Value sum = arith::AddFOp::create(b, loc, args[1], args[0]);
                                if (zeroInit) {
                                  // The first split's sum starts it.
                                  Value split = linalg::IndexOp::create(b, loc, numParallel);
                                  Value first = arith::CmpIOp::create(
                                      b, loc, arith::CmpIPredicate::eq, split,
                                      arith::ConstantIndexOp::create(b, loc, 0));
                                  sum = arith::SelectOp::create(b, loc, first, args[0], sum);
                                }
                                linalg::YieldOp::create(b, loc, sum);
                              });
  }
};

struct GPUTileContractionsPass
    : impl::GPUTileContractionsPassBase<GPUTileContractionsPass> {
  using GPUTileContractionsPassBase::GPUTileContractionsPassBase;

  void runOnOperation() override {
    std::vector<Contraction> found;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (std::optional<Contraction> c = matchContraction(op))
        found.push_back(*c);
    });
    for (Contraction &c : found) {
      std::optional<Epilogue> epi = matchEpilogue(c);
      Plan plan = choosePlan(c, epi);
      // With an epilogue, the kernel takes the consumer's place: the
      // allocations and fills between the two come first.
      OpBuilder b(epi ? epi->op.getOperation() : c.op.getOperation());
      KernelBuilder(c, plan, epi, emulate).build(b);
      Value result = c.c;
      c.op->erase();
      if (!epi)
        continue;
      epi->op->erase();
      // C, never stored where nothing reads it, is not allocated either.
      auto alloc = result.getDefiningOp<memref::AllocOp>();
      if (alloc && llvm::all_of(result.getUsers(),
                                [](Operation *user) { return isa<memref::DeallocOp>(user); })) {
        for (Operation *user : llvm::make_early_inc_range(result.getUsers()))
          user->erase();
        alloc->erase();
      }
    }
    if (!found.empty() && !emulate)
      getOperation()->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                              UnitAttr::get(&getContext()));
  }
};

} // namespace
} // namespace mlir::dlc::cuda
