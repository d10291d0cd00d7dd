//===- FuseConvReluPool.cpp - conv2d + bias + activation + pool as one op --===//
//
// The dl-fuse-conv-relu-pool pass. One analysis, ConvChain, follows a
// convolution's single-use chain of fusible ops and records why it stopped;
// the pass reports it as remarks and a rewrite pattern replaces each chain
// of two or more ops with dl.fused_conv2d. Fusion decides here, on dl, what
// the forward keeps for the backward; the loops are fused later by the
// target's schedule (docs/CHOICES.md).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_FUSECONVRELUPOOLPASS
#include "passes/Passes.h.inc"

namespace {

/// A convolution and the ops after it that fuse into it.
struct ConvChain {
  dl::Conv2DOp conv;
  Operation *biasAdd = nullptr;
  Value bias;
  Operation *act = nullptr;
  dl::Activation activation = dl::Activation::none;
  double alpha = 0.0;
  Operation *pool = nullptr;
  dl::PoolKind poolKind = dl::PoolKind::none;
  /// Why the chain ended (empty when it reached a pool), and where; for a
  /// pool that could not join, why (without naming the pool).
  std::string stop;
  Operation *stopAt = nullptr;
  std::string poolWhy;

  SmallVector<Operation *> ops() const {
    SmallVector<Operation *> all = {conv};
    for (Operation *op : {biasAdd, act, pool})
      if (op)
        all.push_back(op);
    return all;
  }
  Operation *last() const { return ops().back(); }
  bool fuses() const { return ops().size() > 1; }
};

/// The activation `op` computes, if dl.fused_conv2d can take it over.
std::optional<std::pair<dl::Activation, double>> activationOf(Operation *op) {
  if (isa<dl::ReluOp>(op))
    return std::make_pair(dl::Activation::relu, 0.0);
  if (isa<dl::SigmoidOp>(op))
    return std::make_pair(dl::Activation::sigmoid, 0.0);
  if (isa<dl::TanhOp>(op))
    return std::make_pair(dl::Activation::tanh, 0.0);
  if (auto leaky = dyn_cast<dl::LeakyReluOp>(op))
    return std::make_pair(dl::Activation::leaky_relu,
                          leaky.getAlpha().convertToDouble());
  if (auto elu = dyn_cast<dl::EluOp>(op))
    return std::make_pair(dl::Activation::elu, elu.getAlpha().convertToDouble());
  return std::nullopt;
}

/// An [F] tensor: the bias of a convolution with F output channels.
bool isChannelBias(Value v, int64_t channels) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && type.getRank() == 1 && type.getElementType().isF32() &&
         !ShapedType::isDynamic(channels) && type.getDimSize(0) == channels;
}

std::string describe(Operation *op) {
  return "'" + op->getName().getStringRef().str() + "'";
}

/// Why a pool after a convolution of type `conv` cannot join the fused op
/// ("" if it can): the unpooled gradient needs the convolution's static
/// height and width, the arg-max is an i8 (windows of at most 256 cells),
/// and a window lying wholly in the padding would have no value to route
/// its gradient through.
std::string poolLimit(RankedTensorType conv, Operation *pool) {
  if (!conv || conv.isDynamicDim(1) || conv.isDynamicDim(2))
    return "pools a convolution of symbolic height or width";
  ArrayRef<int64_t> window, pads;
  if (auto max = dyn_cast<dl::MaxPoolOp>(pool))
    window = max.getWindow(), pads = max.getPads();
  else
    window = cast<dl::AvgPoolOp>(pool).getWindow(), pads = cast<dl::AvgPoolOp>(pool).getPads();
  if (window.size() != 2 || pads.size() != 4)
    return "has malformed window attributes";
  if (isa<dl::MaxPoolOp>(pool) && window[0] * window[1] > 256)
    return "has a window of more than 256 cells (the fused op keeps each "
           "window's arg-max in 8 bits)";
  for (int i = 0; i < 2; ++i)
    if (pads[2 * i] >= window[i] || pads[2 * i + 1] >= window[i])
      return "has windows that lie wholly in the padding";
  return "";
}

/// Follows the single-use chain after `conv`: bias, activation, pool.
ConvChain analyze(dl::Conv2DOp conv) {
  ConvChain chain;
  chain.conv = conv;
  auto type = dyn_cast<RankedTensorType>(conv.getType());
  int64_t channels = type ? type.getDimSize(3) : ShapedType::kDynamic;
  Value value = conv.getResult();
  // The one user of `value`, or null with the reason in chain.stop.
  auto next = [&]() -> Operation * {
    if (value.use_empty()) {
      chain.stop = "its result is not used";
      return nullptr;
    }
    if (!value.hasOneUse()) {
      chain.stop = "the result of " + describe(value.getDefiningOp()) + " has " +
                   std::to_string(std::distance(value.use_begin(), value.use_end())) +
                   " uses";
      chain.stopAt = value.getDefiningOp();
      return nullptr;
    }
    Operation *user = *value.user_begin();
    if (isOnHost(user->getLoc()) != isOnHost(conv->getLoc())) {
      chain.stop = describe(user) + " runs on another device";
      chain.stopAt = user;
      return nullptr;
    }
    return user;
  };

  Operation *user = next();
  if (!user)
    return chain;
  if (auto add = dyn_cast<dl::AddOp>(user)) {
    Value other = add.getLhs() == value ? add.getRhs() : add.getLhs();
    if (isChannelBias(other, channels)) {
      chain.biasAdd = add;
      chain.bias = other;
      value = add.getResult();
      if (!(user = next()))
        return chain;
    }
  }
  if (auto act = activationOf(user)) {
    auto [kind, alpha] = *act;
    if ((kind == dl::Activation::leaky_relu && alpha < 0) ||
        (kind == dl::Activation::elu && alpha <= 0)) {
      chain.stop = describe(user) + " has alpha " + std::to_string(alpha) +
                   " (its gradient is taken from its output, which needs a "
                   "positive slope)";
      chain.stopAt = user;
      return chain;
    }
    chain.act = user;
    chain.activation = kind;
    chain.alpha = alpha;
    value = user->getResult(0);
    if (!(user = next()))
      return chain;
  }
  if (isa<dl::MaxPoolOp, dl::AvgPoolOp>(user)) {
    if (std::string why = poolLimit(type, user); !why.empty()) {
      chain.stop = describe(user) + " " + why;
      chain.stopAt = user;
      chain.poolWhy = "it " + why;
      return chain;
    }
  }
  if (isa<dl::MaxPoolOp>(user)) {
    chain.pool = user;
    chain.poolKind = dl::PoolKind::max;
    return chain;
  }
  if (isa<dl::AvgPoolOp>(user)) {
    if (chain.act) {
      chain.poolWhy = "it follows an activation (its gradient would need every "
                      "activation value, which the fused op does not keep)";
      chain.stop = "'dl.avg_pool' follows an activation";
      chain.stopAt = user;
      return chain;
    }
    chain.pool = user;
    chain.poolKind = dl::PoolKind::avg;
    return chain;
  }
  chain.stop = "it is followed by " + describe(user);
  chain.stopAt = user;
  return chain;
}

/// Replaces a chain of two or more ops with dl.fused_conv2d.
struct FuseConvChain : public OpRewritePattern<dl::Conv2DOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(dl::Conv2DOp conv,
                                PatternRewriter &rewriter) const override {
    ConvChain chain = analyze(conv);
    if (!chain.fuses())
      return rewriter.notifyMatchFailure(conv, "nothing fuses into it");
    SmallVector<Operation *> ops = chain.ops();
    SmallVector<Location> locs;
    for (Operation *op : ops)
      locs.push_back(op->getLoc());
    Location loc = rewriter.getFusedLoc(locs);
    ArrayRef<int64_t> window, strides, pads;
    if (auto max = dyn_cast_or_null<dl::MaxPoolOp>(chain.pool)) {
      window = max.getWindow(), strides = max.getStrides(), pads = max.getPads();
    } else if (auto avg = dyn_cast_or_null<dl::AvgPoolOp>(chain.pool)) {
      window = avg.getWindow(), strides = avg.getStrides(), pads = avg.getPads();
    }
    // Every operand dominates the last op of the chain: insert there.
    Operation *last = chain.last();
    rewriter.setInsertionPoint(last);
    auto fused = dl::FusedConv2DOp::create(
        rewriter, loc, conv.getInput(), conv.getFilter(), chain.bias,
        conv.getStrides(), conv.getPads(), chain.activation,
        llvm::APFloat(chain.alpha), chain.poolKind, window, strides, pads);
    rewriter.replaceOp(last, fused.getResult());
    for (Operation *op : llvm::reverse(ArrayRef(ops).drop_back()))
      rewriter.eraseOp(op);
    return success();
  }
};

/// "conv2d + bias + relu + max_pool".
std::string summary(const ConvChain &chain) {
  std::string s = "'dl.conv2d'";
  if (chain.biasAdd)
    s += " + bias";
  if (chain.act)
    s += " + " + describe(chain.act);
  if (chain.pool)
    s += " + " + describe(chain.pool);
  return s;
}

struct FuseConvReluPoolPass
    : public impl::FuseConvReluPoolPassBase<FuseConvReluPoolPass> {
  using FuseConvReluPoolPassBase::FuseConvReluPoolPassBase;

  /// One remark per convolution, and one per pool that does not end a chain.
  void emitRemarks(ModuleOp module) {
    llvm::DenseSet<Operation *> inChains;
    // The pools a chain stopped at, and why.
    llvm::DenseMap<Operation *, std::string> stoppedAt;
    module.walk([&](dl::Conv2DOp conv) {
      ConvChain chain = analyze(conv);
      for (Operation *op : chain.ops())
        inChains.insert(op);
      if (!chain.poolWhy.empty())
        stoppedAt[chain.stopAt] = chain.poolWhy;
      InFlightDiagnostic remark = mlir::emitRemark(conv.getLoc());
      if (chain.fuses())
        remark << "fused " << summary(chain) << " into 'dl.fused_conv2d'";
      else
        remark << "'dl.conv2d' not fused: " << chain.stop;
      if (chain.fuses() && !chain.stop.empty())
        remark << "; the chain ends there: " << chain.stop;
      if (chain.stopAt && chain.stopAt != conv)
        remark.attachNote(chain.stopAt->getLoc()) << "the chain ends here";
    });
    module.walk([&](Operation *op) {
      if (!isa<dl::MaxPoolOp, dl::AvgPoolOp>(op) || inChains.contains(op))
        return;
      Value input = op->getOperand(0);
      Operation *producer = input.getDefiningOp();
      InFlightDiagnostic remark = mlir::emitRemark(op->getLoc());
      remark << describe(op) << " not fused: ";
      if (auto it = stoppedAt.find(op); it != stoppedAt.end())
        remark << it->second;
      else if (producer && inChains.contains(producer) && !input.hasOneUse())
        remark << "its input, the result of " << describe(producer) << ", has "
               << std::distance(input.use_begin(), input.use_end())
               << " uses and must be kept whole";
      else
        remark << "its input is "
               << (producer ? "the result of " + describe(producer) : "an argument")
               << ", not a convolution";
    });
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (remarks)
      emitRemarks(module);
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseConvChain>(&getContext());
    if (failed(applyPatternsGreedily(module, std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
} // namespace mlir::dlc
