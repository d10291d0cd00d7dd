//===- Passes.cpp - dlc pass registration -----------------------------------===//
//
// The single registration point for dlc passes, used by dlc and dlc-opt, and
// the builders several passes share.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "runtime/Contracts.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include <numeric>

namespace contract = ::dlc::contract;

namespace mlir::dlc {
namespace {
#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"
} // namespace

void registerDLCPasses() { registerDLCGenPasses(); }

bool isOnHost(Location loc) {
  bool found = false;
  loc->walk([&](Location inner) {
    if (auto fused = dyn_cast<FusedLoc>(inner))
      if (auto mark = dyn_cast_or_null<StringAttr>(fused.getMetadata()))
        found = found || mark.getValue() == contract::kOnHostMark;
    return found ? WalkResult::interrupt() : WalkResult::advance();
  });
  return found;
}

Location markOnHost(Location loc) {
  if (isOnHost(loc))
    return loc;
  return FusedLoc::get(loc.getContext(), {loc},
                       StringAttr::get(loc.getContext(), contract::kOnHostMark));
}

Value buildSumAll(OpBuilder &b, Location loc, Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  if (type.getRank() == 0)
    return x;
  Value v = x;
  if (type.getRank() > 1) {
    SmallVector<int64_t> leading(type.getRank() - 1);
    std::iota(leading.begin(), leading.end(), 0);
    v = dl::SumOp::create(b, loc, v, leading, false);
  }
  return dl::SumOp::create(b, loc, v, ArrayRef<int64_t>{0}, false);
}

void addPassPipeline(OpPassManager &pm, StringRef text) {
  // The pipelines are fixed strings of registered passes: failing to parse
  // them is a bug in dlc, not a user error.
  if (failed(parsePassPipeline(text, pm, llvm::errs())))
    llvm::report_fatal_error("dlc: invalid built-in pipeline");
}
} // namespace mlir::dlc
