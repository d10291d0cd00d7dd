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

Plan choosePlan(Contraction &c) {
  SmallVector<int64_t> sizes = c.op.getStaticLoopRanges();
  int64_t m = estimate(sizes, c.m), n = estimate(sizes, c.n),
          k = estimate(sizes, c.k), batch = estimate(sizes, c.batch);
  Plan plan;
  plan.tm = m >= 64 ? 4 : m >= 32 ? 2 : 1;
  plan.tn = n >= 64 ? 4 : n >= 32 ? 2 : 1;
  int64_t blocks = llvm::divideCeil(m, plan.bm()) * llvm::divideCeil(n, plan.bn()) * batch;
  if (blocks < kTargetBlocks)
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
  KernelBuilder(Contraction &c, const Plan &plan, bool emulate)
      : c(c), plan(plan), emulate(emulate), loc(c.op.getLoc()),
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
    extentM = product(b, c.m);
    extentN = product(b, c.n);
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
  bool emulate;
  Location loc;
  Type f32;
  SmallVector<Value> sizes;
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
                   Value operand, AffineMap map, ArrayRef<unsigned> group,
                   Value extent, Value origin, int64_t tile, bool kFastest,
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
        delinearize(then, globalT, group, dims);
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
    loadOperand(b, s, thread, k0, c.a, c.mapA, c.m, extentM, s.m0, plan.bm(),
                plan.aKFastest, s.sharedA);
    loadOperand(b, s, thread, k0, c.b, c.mapB, c.n, extentN, s.n0, plan.bn(),
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

  void storePhase(OpBuilder &b, const BlockState &s, Value thread) const {
    Value tx = arith::RemUIOp::create(b, loc, thread, index(b, kThreadsX));
    Value ty = arith::DivUIOp::create(b, loc, thread, index(b, kThreadsX));
    Value row0 = arith::AddIOp::create(b, loc, s.m0,
                                       arith::MulIOp::create(b, loc, ty, index(b, plan.tm)));
    Value col0 = arith::AddIOp::create(b, loc, s.n0,
                                       arith::MulIOp::create(b, loc, tx, index(b, plan.tn)));
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
      OpBuilder b(c.op);
      KernelBuilder(c, choosePlan(c), emulate).build(b);
      c.op->erase();
    }
    if (!found.empty() && !emulate)
      getOperation()->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                              UnitAttr::get(&getContext()));
  }
};

} // namespace
} // namespace mlir::dlc::cuda
