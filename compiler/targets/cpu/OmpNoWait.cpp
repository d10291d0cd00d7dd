//===- OmpNoWait.cpp - no barrier after a region's only workshare loop ----===//
//
// See dl-omp-nowait in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/cpu/Passes.h"
#include "runtime/Contracts.h"

#include "mlir/Dialect/OpenMP/OpenMPDialect.h"

namespace mlir::dlc::cpu {
#define GEN_PASS_DEF_OMPNOWAITPASS
#include "compiler/targets/cpu/Passes.h.inc"

namespace {
struct OmpNoWaitPass : public impl::OmpNoWaitPassBase<OmpNoWaitPass> {
  void runOnOperation() override {
    getOperation().walk([](omp::WsloopOp loop) {
      Operation *next = loop->getNextNode();
      if (isa_and_nonnull<omp::TerminatorOp>(next) &&
          isa<omp::ParallelOp>(loop->getParentOp()))
        loop.setNowait(true);
    });
  }
};
} // namespace

int regionSharesPerThread(Operation *module) {
  bool waits = false;
  module->walk([&](Operation *op) {
    if (isa<omp::BarrierOp>(op) || (isa<omp::WsloopOp>(op) && !cast<omp::WsloopOp>(op).getNowait()))
      waits = true;
    return waits ? WalkResult::interrupt() : WalkResult::advance();
  });
  return waits ? 1 : ::dlc::contract::kRegionSharesPerThread;
}
} // namespace mlir::dlc::cpu
