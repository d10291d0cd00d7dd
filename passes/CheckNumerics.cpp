//===- CheckNumerics.cpp - the first op that yields a NaN or an infinity --===//
//
// The dl-check-numerics pass (--check-numerics) adds to every function a
// result naming the first checked value that held a NaN or an infinity
// (Passes.td; the runtime's Executable reports it at the op's line).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "runtime/Contracts.h"

namespace contract = ::dlc::contract;

namespace mlir::dlc {
#define GEN_PASS_DEF_CHECKNUMERICSPASS
#include "passes/Passes.h.inc"

namespace {

bool isFloatTensor(Type t) {
  auto tensor = dyn_cast<RankedTensorType>(t);
  return tensor && tensor.getElementType().isF32();
}

/// One function's checks: each watched value, what it is and where.
class Checker {
public:
  explicit Checker(func::FuncOp f) : f(f), b(f.getContext()) {}

  void run() {
    Block &body = f.getBody().front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    ModuleOp module = f->getParentOfType<ModuleOp>();
    // The model's ops, before any check is added.
    SmallVector<Operation *> ops;
    for (Operation &op : body.without_terminator())
      ops.push_back(&op);
    // Arguments first: a param or an input that is not finite is the cause.
    b.setInsertionPointToStart(&body);
    for (BlockArgument arg : body.getArguments()) {
      unsigned i = arg.getArgNumber();
      StringRef what;
      FlatSymbolRefAttr decl;
      if ((decl = f.getArgAttrOfType<FlatSymbolRefAttr>(i, contract::kInputAttr)))
        what = "input";
      else if ((decl = f.getArgAttrOfType<FlatSymbolRefAttr>(i, contract::kParamAttr)))
        what = "param";
      if (!decl || !isFloatTensor(arg.getType()))
        continue;
      Operation *declOp = SymbolTable::lookupSymbolIn(module, decl.getAttr());
      Location loc = declOp ? declOp->getLoc() : f.getLoc();
      watch(arg, (what + " " + decl.getValue()).str(), loc);
    }
    for (Operation *op : ops) {
      // The gradient norm is for watching: its sum of squares overflowing
      // is not the model's NaN (nor a reason to stop).
      auto named = dyn_cast<NameLoc>(op->getLoc());
      if (isa<dl::ConstantOp>(op) || (named && named.getName() == "grad_norm"))
        continue;
      b.setInsertionPointAfter(op);
      for (Value r : op->getResults())
        if (isFloatTensor(r.getType()))
          watch(r, op->getName().getStringRef().str(), op->getLoc());
    }

    // The first failed check: min over checks of (failed ? k : n + 1).
    b.setInsertionPoint(ret);
    Location loc = NameLoc::get(b.getStringAttr("check_numerics"), f.getLoc());
    float none = static_cast<float>(flags.size() + 1);
    Value first = constant(loc, none);
    for (auto [k, flag] : llvm::enumerate(flags)) {
      // none - flag * (none - k): k when the check failed, else none.
      Value gap = constant(loc, none - static_cast<float>(k + 1));
      Value at = dl::SubOp::create(b, loc, constant(loc, none),
                                   dl::MulOp::create(b, loc, flag, gap));
      first = dl::MinimumOp::create(b, loc, first, at);
    }
    SmallVector<Value> results(ret.getOperands());
    results.push_back(first);
    SmallVector<DictionaryAttr> attrs;
    f.getAllResultAttrs(attrs);
    MLIRContext *ctx = f.getContext();
    StringAttr role = StringAttr::get(ctx, contract::kRoleNumerics);
    attrs.push_back(DictionaryAttr::get(
        ctx, {NamedAttribute(StringAttr::get(ctx, contract::kRoleAttr), role),
              NamedAttribute(StringAttr::get(ctx, contract::kNameAttr), role)}));
    func::ReturnOp::create(b, ret.getLoc(), results);
    ret.erase();
    f.setType(FunctionType::get(ctx, f.getArgumentTypes(),
                                TypeRange(ValueRange(results))));
    f.setAllResultAttrs(attrs);
    f->setAttr(contract::kNumericsChecksAttr, ArrayAttr::get(ctx, described));
  }

private:
  Value constant(Location loc, float v) {
    auto type = RankedTensorType::get({}, b.getF32Type());
    return dl::ConstantOp::create(b, loc, DenseElementsAttr::get(type, v));
  }

  /// Adds the check of `v`: 1.0 when an element is NaN or infinite (then
  /// x * 0 is NaN, and so is the sum), else 0.0.
  void watch(Value v, StringRef what, Location opLoc) {
    Location loc = NameLoc::get(b.getStringAttr("check_numerics"), opLoc);
    Value zeroed = dl::MulOp::create(b, loc, v, constant(loc, 0.0f));
    Value sum = buildSumAll(b, loc, zeroed);
    flags.push_back(dl::CmpOp::create(b, loc, dl::CmpPredicate::ne, sum, sum));
    MLIRContext *ctx = f.getContext();
    described.push_back(DictionaryAttr::get(
        ctx, {NamedAttribute(StringAttr::get(ctx, "op"), StringAttr::get(ctx, what)),
              NamedAttribute(StringAttr::get(ctx, "loc"), LocationAttr(opLoc))}));
  }

  func::FuncOp f;
  OpBuilder b;
  SmallVector<Value> flags;
  SmallVector<Attribute> described;
};

struct CheckNumericsPass : public impl::CheckNumericsPassBase<CheckNumericsPass> {
  void runOnOperation() override {
    for (auto f : llvm::make_early_inc_range(getOperation().getOps<func::FuncOp>()))
      if (!f.isExternal())
        Checker(f).run();
  }
};
} // namespace
} // namespace mlir::dlc
