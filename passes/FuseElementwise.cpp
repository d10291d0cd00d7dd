//===- FuseElementwise.cpp - elementwise fusion that keeps matmuls intact -===//
//
// Upstream's linalg elementwise fusion, with a control function that leaves
// the ops a target schedules by their tag alone (`dlc.matmul` contractions,
// the ops of a fused convolution block): no producer is fused into them, they
// are fused into nothing and no reshape is propagated through them, so they
// reach the CPU schedule as the tagged generics that it tiles.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "runtime/Contracts.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace contract = ::dlc::contract;

namespace mlir::dlc {

/// The most ops (terminator included) one fused elementwise body may hold.
/// Fusing a producer copies its body into the consumer, so fusing a chain of
/// n elementwise ops into one op would copy O(n^2) ops (a 10,000-term sum
/// took 28 s); capped, a chain becomes n/kMaxFusedBodyOps ops, each written
/// to memory once, in time linear in n. The loops gain nothing from bodies
/// this long anyway (their operands outnumber the registers).
static constexpr unsigned kMaxFusedBodyOps = 64;

/// Counts the ops of an op's first region's first block, stopping at `limit`.
static unsigned bodyOps(Operation *op, unsigned limit) {
  if (!op || op->getNumRegions() == 0 || op->getRegion(0).empty())
    return 0;
  unsigned n = 0;
  for (auto it = op->getRegion(0).front().begin(),
            end = op->getRegion(0).front().end();
       it != end && n < limit; ++it)
    ++n;
  return n;
}

/// Whether fusing `producer` into `consumer` keeps the body within the cap
/// (both bodies end in a yield, the fused one has one).
bool fusedBodyFits(Operation *producer, Operation *consumer) {
  unsigned p = bodyOps(producer, kMaxFusedBodyOps + 2);
  return p <= kMaxFusedBodyOps + 1 &&
         p + bodyOps(consumer, kMaxFusedBodyOps + 2 - p) <= kMaxFusedBodyOps + 1;
}

#define GEN_PASS_DEF_FUSEELEMENTWISEPASS
#include "passes/Passes.h.inc"

namespace {
/// An op that a target's schedule matches by its tag.
bool isTagged(Operation *op) {
  return op && llvm::any_of(ArrayRef<StringRef>{contract::kMatmulMarker,
                                                contract::kFusedActMarker,
                                                contract::kFusedPoolMarker,
                                                contract::kUnpoolMarker},
                            [&](StringRef tag) { return op->hasAttr(tag); });
}

/// Whether two ops run on the same device (dl-place's placement): fusion
/// never merges ops across devices.
bool sameDevice(Operation *a, Operation *b) {
  return isOnHost(a->getLoc()) == isOnHost(b->getLoc());
}

/// Fuses an elementwise producer into an elementwise consumer over the same
/// static iteration space when the producer's result is also used elsewhere:
/// the fused op yields the producer's results as well as the consumer's, so
/// one pass over memory computes both. (Upstream's fusion only takes
/// producers with one use; with more it recomputes them.) This is what turns
/// an Adam update, whose new moments feed the param update and are returned,
/// into one pass over the param, its gradient and its moments.
struct FuseSharedProducer : public OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  static bool allParallel(linalg::GenericOp op) {
    return op.getNumParallelLoops() == op.getNumLoops() && op.hasPureTensorSemantics();
  }

  LogicalResult matchAndRewrite(linalg::GenericOp consumer,
                                PatternRewriter &rewriter) const override {
    if (!allParallel(consumer) || isTagged(consumer))
      return failure();
    SmallVector<int64_t> ranges = consumer.getStaticLoopRanges();
    if (llvm::any_of(ranges, ShapedType::isDynamic))
      return failure();
    for (OpOperand *operand : consumer.getDpsInputOperands()) {
      auto producer = operand->get().getDefiningOp<linalg::GenericOp>();
      if (!producer || producer->hasOneUse() || !allParallel(producer) ||
          !fusedBodyFits(producer, consumer) ||
          isTagged(producer) || !sameDevice(producer, consumer) ||
          producer->getBlock() != consumer->getBlock() ||
          producer.getStaticLoopRanges() != ranges ||
          !consumer.getMatchingIndexingMap(operand).isIdentity() ||
          !producer.getIndexingMapMatchingResult(cast<OpResult>(operand->get()))
               .isIdentity())
        continue;
      // The consumer reads the producer through this operand only.
      if (llvm::count_if(consumer->getOperands(), [&](Value v) {
            return v.getDefiningOp() == producer.getOperation();
          }) != 1)
        continue;
      // The fused op replaces the producer at the consumer's place: every
      // other user must come after the consumer.
      bool usersAfter = llvm::all_of(producer->getUsers(), [&](Operation *user) {
        return user == consumer.getOperation() ||
               (user->getBlock() == consumer->getBlock() &&
                consumer->isBeforeInBlock(user));
      });
      if (usersAfter)
        return fuse(producer, consumer, operand, rewriter);
    }
    return failure();
  }

  LogicalResult fuse(linalg::GenericOp producer, linalg::GenericOp consumer,
                     OpOperand *fused, PatternRewriter &rewriter) const {
    SmallVector<Value> inputs, outputs;
    SmallVector<AffineMap> maps;
    for (OpOperand *in : producer.getDpsInputOperands()) {
      inputs.push_back(in->get());
      maps.push_back(producer.getMatchingIndexingMap(in));
    }
    for (OpOperand *in : consumer.getDpsInputOperands())
      if (in != fused) {
        inputs.push_back(in->get());
        maps.push_back(consumer.getMatchingIndexingMap(in));
      }
    for (OpOperand &out : producer.getDpsInitsMutable()) {
      outputs.push_back(out.get());
      maps.push_back(producer.getMatchingIndexingMap(&out));
    }
    for (OpOperand &out : consumer.getDpsInitsMutable()) {
      outputs.push_back(out.get());
      maps.push_back(consumer.getMatchingIndexingMap(&out));
    }
    SmallVector<Type> types(producer->getResultTypes());
    llvm::append_range(types, consumer->getResultTypes());
    unsigned fusedResult = cast<OpResult>(fused->get()).getResultNumber();
    auto op = linalg::GenericOp::create(
        rewriter, consumer.getLoc(), types, inputs, outputs, maps,
        consumer.getIteratorTypesArray(),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          unsigned pIn = producer.getNumDpsInputs(), cIn = consumer.getNumDpsInputs() - 1;
          unsigned pOut = producer.getNumDpsInits();
          IRMapping map;
          Block &pBody = producer.getRegion().front();
          for (unsigned i = 0; i < pIn; ++i)
            map.map(pBody.getArgument(i), args[i]);
          for (unsigned i = 0; i < pOut; ++i)
            map.map(pBody.getArgument(pIn + i), args[pIn + cIn + i]);
          for (Operation &o : pBody.without_terminator())
            b.clone(o, map);
          SmallVector<Value> yields;
          for (Value v : pBody.getTerminator()->getOperands())
            yields.push_back(map.lookupOrDefault(v));
          Block &cBody = consumer.getRegion().front();
          unsigned next = pIn;
          for (OpOperand *in : consumer.getDpsInputOperands()) {
            BlockArgument arg = consumer.getMatchingBlockArgument(in);
            map.map(arg, in == fused ? yields[fusedResult] : args[next++]);
          }
          for (OpOperand &out : consumer.getDpsInitsMutable())
            map.map(consumer.getMatchingBlockArgument(&out),
                    args[pIn + cIn + pOut + out.getOperandNumber() -
                         consumer.getNumDpsInputs()]);
          for (Operation &o : cBody.without_terminator())
            b.clone(o, map);
          for (Value v : cBody.getTerminator()->getOperands())
            yields.push_back(map.lookupOrDefault(v));
          linalg::YieldOp::create(b, loc, yields);
        });
    unsigned n = producer->getNumResults();
    rewriter.replaceOp(consumer, op->getResults().drop_front(n));
    rewriter.replaceOp(producer, op->getResults().take_front(n));
    return success();
  }
};

struct FuseElementwisePass
    : public impl::FuseElementwisePassBase<FuseElementwisePass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    // The operand's owner consumes the value its producer defines; fusion
    // merges the two (or moves a reshape across them).
    linalg::ControlFusionFn control = [](OpOperand *operand) {
      Operation *producer = operand->get().getDefiningOp();
      return producer && producer->hasOneUse() && !isTagged(producer) &&
             sameDevice(producer, operand->getOwner()) &&
             !isTagged(operand->getOwner()) &&
             fusedBodyFits(producer, operand->getOwner());
    };
    RewritePatternSet patterns(ctx);
    linalg::populateElementwiseOpsFusionPatterns(patterns, control);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, control);
    tensor::populateBubbleUpExpandShapePatterns(patterns);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, ctx);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, ctx);
    ctx->getLoadedDialect<linalg::LinalgDialect>()->getCanonicalizationPatterns(patterns);
    linalg::populateConstantFoldLinalgOperations(patterns, control);
    GreedyRewriteConfig config;
    config.setUseTopDownTraversal(true);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
    RewritePatternSet shared(ctx);
    shared.add<FuseSharedProducer>(ctx);
    if (failed(applyPatternsGreedily(getOperation(), std::move(shared))))
      signalPassFailure();
  }
};
} // namespace
} // namespace mlir::dlc
