//===- Place.cpp - per-op placement against the run's device ---------------===//
//
// LANGUAGE.md's Placement: `device NAME { ... }` blocks pin ops (MLIRGen
// sets `dl.device`), the rest run on `--device`. This pass is where the
// compiler meets that contract: one compiled step runs on one device, so a
// pinned op must be on the run's device, or (soft placement) is moved there
// with a note. `--log-placement` reports where every op runs.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "runtime/Contracts.h"

namespace contract = ::dlc::contract;

namespace mlir::dlc {
#define GEN_PASS_DEF_PLACEPASS
#include "passes/Passes.h.inc"

namespace {
struct PlacePass : impl::PlacePassBase<PlacePass> {
  using PlacePassBase::PlacePassBase;

  void runOnOperation() override {
    std::string run = device == "cuda" ? std::string("cuda:0") : std::string(device);
    bool failedPlacement = false;
    getOperation().walk([&](Operation *op) {
      auto pinned = op->getAttrOfType<StringAttr>(contract::kDeviceAttr);
      if (pinned && pinned.getValue() != run) {
        if (!soft) {
          mlir::emitError(op->getLoc()) << "'" << op->getName() << "' is pinned to " << pinned.getValue()
                          << ", but this step runs on " << run
                          << " (--device): one step runs on one device; "
                             "--soft-placement runs it on "
                          << run;
          failedPlacement = true;
        } else {
          op->getContext()->getDiagEngine().emit(op->getLoc(), DiagnosticSeverity::Note)
              << "'" << op->getName() << "' is pinned to " << pinned.getValue()
                           << " but runs on " << run
                           << " (--soft-placement: one step runs on one device)";
        }
      }
      if (pinned)
        op->removeAttr(contract::kDeviceAttr);
      if (log && isa<dl::DLDialect>(op->getDialect()) && op->getNumResults() > 0)
        mlir::emitRemark(op->getLoc()) << "'" << op->getName() << "' runs on " << run;
    });
    if (failedPlacement)
      signalPassFailure();
  }
};
} // namespace
} // namespace mlir::dlc
