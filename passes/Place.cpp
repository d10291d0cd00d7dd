//===- Place.cpp - per-op placement against the run's device ---------------===//
//
// LANGUAGE.md's Placement: `device NAME { ... }` blocks pin ops (MLIRGen
// sets `dl.device`), the rest run on `--device`. This pass is where the
// compiler meets that contract. A step runs on the CPU and at most one GPU:
// in a step on a GPU, an op pinned to the CPU gets the on-host mark in its
// location (contract::kOnHostMark), which everything lowered or derived
// from it keeps, and the CUDA target runs those ops on the host. An op
// pinned to a device the step does not have (another GPU, or a GPU in a
// step on the CPU) is an error at its line, or with soft placement runs on
// the step's device with a note. `--log-placement` reports where every op
// runs.
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
    bool onGPU = run != "cpu";
    bool failedPlacement = false;
    getOperation().walk([&](Operation *op) {
      auto pinned = op->getAttrOfType<StringAttr>(contract::kDeviceAttr);
      std::string where = run;
      if (pinned && pinned.getValue() == "cpu" && onGPU) {
        // The GPU step's host code runs it.
        op->setLoc(markOnHost(op->getLoc()));
        where = "cpu";
      } else if (pinned && pinned.getValue() != run) {
        std::string hint =
            onGPU ? "a step runs on the CPU and one GPU"
                  : "--device " + pinned.getValue().str() +
                        " runs the step there, with the ops pinned to the CPU on the CPU";
        if (!soft) {
          mlir::emitError(op->getLoc()) << "'" << op->getName() << "' is pinned to "
                                        << pinned.getValue() << ", but this step runs on "
                                        << run << " (--device): " << hint
                                        << "; --soft-placement runs it on " << run;
          failedPlacement = true;
        } else {
          op->getContext()->getDiagEngine().emit(op->getLoc(), DiagnosticSeverity::Note)
              << "'" << op->getName() << "' is pinned to " << pinned.getValue()
              << " but runs on " << run << " (--soft-placement)";
        }
      }
      if (pinned)
        op->removeAttr(contract::kDeviceAttr);
      if (log && isa<dl::DLDialect>(op->getDialect()) && op->getNumResults() > 0)
        mlir::emitRemark(op->getLoc()) << "'" << op->getName() << "' runs on " << where;
    });
    if (failedPlacement)
      signalPassFailure();
  }
};
} // namespace
} // namespace mlir::dlc
