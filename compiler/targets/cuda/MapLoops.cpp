//===- MapLoops.cpp - parallel loop nests to GPU kernels -------------------===//
//
// The CUDA target's mapping: every copy becomes a linalg.copy (so it runs on
// the device), and every outermost scf.parallel becomes one kernel launch
// over a linearized iteration space. Upstream's gpu-map-parallel-loops and
// convert-parallel-loops-to-gpu map one loop dimension to one hardware
// dimension and give up on loops of more than three dimensions or with
// bounds that are not launch-invariant (most of a training step); the
// linearized form maps every nest, whatever its rank.
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/cuda/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::dlc::cuda {
#define GEN_PASS_DEF_GPUPREPARELOOPSPASS
#define GEN_PASS_DEF_GPUMAPLOOPSPASS
#include "compiler/targets/cuda/Passes.h.inc"

namespace {

struct GPUPrepareLoopsPass : impl::GPUPrepareLoopsPassBase<GPUPrepareLoopsPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp copy) { copies.push_back(copy); });
    for (memref::CopyOp copy : copies) {
      rewriter.setInsertionPoint(copy);
      rewriter.replaceOpWithNewOp<linalg::CopyOp>(copy, copy.getSource(),
                                                  copy.getTarget());
    }
    SmallVector<linalg::LinalgOp> reordered;
    getOperation().walk([&](linalg::LinalgOp op) {
      SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
      auto firstReduction = llvm::find_if(iterators, [](utils::IteratorType t) {
        return t != utils::IteratorType::parallel;
      });
      if (std::find(firstReduction, iterators.end(), utils::IteratorType::parallel) !=
          iterators.end())
        reordered.push_back(op);
    });
    for (linalg::LinalgOp op : reordered) {
      rewriter.setInsertionPoint(op);
      linalg::GenericOp generic = dyn_cast<linalg::GenericOp>(op.getOperation());
      if (!generic) {
        FailureOr<linalg::GenericOp> g = linalg::generalizeNamedOp(rewriter, op);
        if (failed(g)) {
          op.emitError("cannot reorder the loops of this op for the GPU");
          return signalPassFailure();
        }
        generic = *g;
      }
      SmallVector<unsigned> order;
      SmallVector<utils::IteratorType> iterators = generic.getIteratorTypesArray();
      for (bool parallel : {true, false})
        for (unsigned d = 0; d < iterators.size(); ++d)
          if ((iterators[d] == utils::IteratorType::parallel) == parallel)
            order.push_back(d);
      if (failed(linalg::interchangeGenericOp(rewriter, generic, order))) {
        generic.emitError("cannot reorder the loops of this op for the GPU");
        return signalPassFailure();
      }
    }
  }
};

/// Replaces a parallel loop nested in a kernel by sequential loops.
void serialize(scf::ParallelOp loop) {
  OpBuilder b(loop);
  Location loc = loop.getLoc();
  IRMapping map;
  SmallVector<scf::ForOp> loops;
  for (auto [iv, lb, ub, step] :
       llvm::zip(loop.getInductionVars(), loop.getLowerBound(), loop.getUpperBound(),
                 loop.getStep())) {
    auto f = scf::ForOp::create(b, loc, lb, ub, step);
    map.map(iv, f.getInductionVar());
    b.setInsertionPoint(f.getBody()->getTerminator());
  }
  for (Operation &op : loop.getBody()->without_terminator())
    b.clone(op, map);
  loop.erase();
}

/// Replaces `get` (a constant buffer in host memory) by a copy of it in an
/// allocated buffer, freed before the end of its block; the copy itself is
/// a host memcpy (memref.copy), since only the host reads the global.
LogicalResult copyGlobal(memref::GetGlobalOp get) {
  Block *block = get->getBlock();
  for (Operation *user : get->getUsers()) {
    Operation *inBlock = block->findAncestorOpInBlock(*user);
    if (!inBlock || inBlock->hasTrait<OpTrait::IsTerminator>())
      return get.emitError("a constant buffer that escapes its block cannot "
                           "be placed on the device");
  }
  OpBuilder b(get);
  Location loc = get.getLoc();
  auto type = cast<MemRefType>(get.getType());
  auto buffer = memref::AllocOp::create(b, loc, MemRefType::get(type.getShape(),
                                                               type.getElementType()));
  get.getResult().replaceAllUsesWith(buffer);
  b.setInsertionPointAfter(buffer);
  auto fresh = memref::GetGlobalOp::create(b, loc, type, get.getName());
  memref::CopyOp::create(b, loc, fresh, buffer);
  b.setInsertionPoint(block->getTerminator());
  memref::DeallocOp::create(b, loc, buffer);
  get.erase();
  return success();
}

struct GPUMapLoopsPass : impl::GPUMapLoopsPassBase<GPUMapLoopsPass> {
  using GPUMapLoopsPassBase::GPUMapLoopsPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (blockSize <= 0 || blockSize > 1024) {
      module.emitError("block-size must be in 1..1024");
      return signalPassFailure();
    }
    SmallVector<memref::GetGlobalOp> globals;
    SmallVector<scf::ParallelOp> nests;
    module.walk([&](Operation *op) {
      if (auto get = dyn_cast<memref::GetGlobalOp>(op))
        globals.push_back(get);
      else if (auto loop = dyn_cast<scf::ParallelOp>(op))
        if (!loop->getParentOfType<scf::ParallelOp>())
          nests.push_back(loop);
    });
    for (memref::GetGlobalOp get : globals)
      if (failed(copyGlobal(get)))
        return signalPassFailure();
    for (scf::ParallelOp loop : nests)
      if (failed(mapNest(loop)))
        return signalPassFailure();
    if (!emulate) {
      mergeLaunches(module);
      module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                      UnitAttr::get(&getContext()));
    }
  }

  /// Replaces `loop` by a launch of ceil(total / blockSize) blocks of
  /// blockSize threads; thread `i` of block `b` runs the iteration whose
  /// linear index is b * blockSize + i.
  LogicalResult mapNest(scf::ParallelOp loop) {
    if (loop.getNumResults() != 0)
      return loop.emitError("a parallel loop with reductions cannot be mapped "
                            "to GPU threads yet");
    OpBuilder b(loop);
    Location loc = loop.getLoc();
    auto index = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    // Trip counts and their product, computed on the host.
    SmallVector<Value> trips;
    Value total = index(1);
    for (auto [lb, ub, step] : llvm::zip(loop.getLowerBound(),
                                         loop.getUpperBound(), loop.getStep())) {
      // Folded where the bounds are constants, so that single-block
      // launches are seen to be (mergeLaunches).
      Value span = b.createOrFold<arith::SubIOp>(loc, ub, lb);
      Value trip = b.createOrFold<arith::CeilDivUIOp>(loc, span, step);
      trips.push_back(trip);
      total = b.createOrFold<arith::MulIOp>(loc, total, trip);
    }
    Value threads = index(blockSize);
    Value blocks = b.createOrFold<arith::CeilDivUIOp>(loc, total, threads);

    // The body of one thread, built at `b`'s insertion point.
    auto emitThread = [&](OpBuilder &b, Value block, Value thread) {
      Value linear = arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, block, threads), thread);
      Value inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                            linear, total);
      auto guard = scf::IfOp::create(b, loc, inRange, /*withElseRegion=*/false);
      OpBuilder inner = guard.getThenBodyBuilder();
      IRMapping map;
      Value rest = linear;
      for (int64_t d = loop.getNumLoops() - 1; d >= 0; --d) {
        Value pos = d == 0 ? rest : arith::RemUIOp::create(inner, loc, rest, trips[d]);
        if (d > 0)
          rest = arith::DivUIOp::create(inner, loc, rest, trips[d]);
        Value iv = arith::AddIOp::create(
            inner, loc, loop.getLowerBound()[d],
            arith::MulIOp::create(inner, loc, pos, loop.getStep()[d]));
        map.map(loop.getInductionVars()[d], iv);
      }
      for (Operation &op : loop.getBody()->without_terminator())
        inner.clone(op, map);
      // Parallel loops inside one thread's work run in sequence.
      SmallVector<scf::ParallelOp> nested;
      guard.getThenRegion().walk([&](scf::ParallelOp p) { nested.push_back(p); });
      for (scf::ParallelOp p : nested) // innermost first
        serialize(p);
    };

    if (emulate) {
      Value zero = index(0), one = index(1);
      scf::ForOp::create(b, loc, zero, blocks, one, ValueRange{},
                         [&](OpBuilder &b, Location, Value block, ValueRange) {
                           scf::ForOp::create(
                               b, loc, zero, threads, one, ValueRange{},
                               [&](OpBuilder &b, Location, Value thread, ValueRange) {
                                 emitThread(b, block, thread);
                                 scf::YieldOp::create(b, loc);
                               });
                           scf::YieldOp::create(b, loc);
                         });
    } else {
      Value one = index(1);
      auto launch = gpu::LaunchOp::create(b, loc, blocks, one, one, threads, one, one);
      Block &body = launch.getBody().front();
      OpBuilder inside = OpBuilder::atBlockBegin(&body);
      emitThread(inside, launch.getBlockIds().x, launch.getThreadIds().x);
      gpu::TerminatorOp::create(inside, loc);
    }
    loop.erase();
    return success();
  }
};

} // namespace
} // namespace mlir::dlc::cuda
