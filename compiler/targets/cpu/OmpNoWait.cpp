//===- OmpNoWait.cpp - the parallel regions' shape -------------------------===//
//
// See dl-omp-nowait and dl-serial-nested-parallel in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/cpu/Passes.h"
#include "runtime/Contracts.h"

#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"

namespace mlir::dlc::cpu {
#define GEN_PASS_DEF_OMPNOWAITPASS
#define GEN_PASS_DEF_SERIALNESTEDPARALLELPASS
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

struct SerialNestedParallelPass
    : public impl::SerialNestedParallelPassBase<SerialNestedParallelPass> {
  void runOnOperation() override {
    SmallVector<scf::ParallelOp> nested;
    getOperation().walk([&](scf::ParallelOp loop) {
      if (loop.getInitVals().empty() && loop->getParentOfType<scf::ParallelOp>())
        nested.push_back(loop);
    });
    // Innermost first (post-order walk): a loop's body moves whole.
    for (scf::ParallelOp loop : nested) {
      OpBuilder b(loop);
      scf::LoopNest loops = scf::buildLoopNest(b, loop.getLoc(), loop.getLowerBound(),
                                               loop.getUpperBound(), loop.getStep());
      Block *body = loop.getBody();
      Block *inner = loops.loops.back().getBody();
      for (auto [old, iv] : llvm::zip(body->getArguments(), loops.loops))
        old.replaceAllUsesWith(iv.getInductionVar());
      inner->getOperations().splice(inner->getTerminator()->getIterator(), body->getOperations(),
                                    body->begin(), std::prev(body->end()));
      loop.erase();
    }
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
