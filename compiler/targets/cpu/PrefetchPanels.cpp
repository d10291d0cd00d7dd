//===- PrefetchPanels.cpp - prefetch the next panel of a streamed matrix ---===//
//
// The CPU schedule walks a large B (the 3136x1024 weights of a fully
// connected layer) one 32-column panel at a time, and reads each panel once
// per row tile. Row k of a panel and row k+1 are a whole row of B apart
// (4 KiB for 1024 columns): no hardware prefetcher follows that, so the
// first row tile would wait for memory at every k. This pass makes the reads
// of one panel fetch the next one into L2, a panel ahead.
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/cpu/Passes.h"
#include "runtime/Contracts.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace contract = ::dlc::contract;

namespace mlir::dlc::cpu {
#define GEN_PASS_DEF_PREFETCHPANELSPASS
#include "compiler/targets/cpu/Passes.h.inc"

namespace {
constexpr int64_t kCacheLine = 64;

/// Prefetches, next to every read of a panel of `loop` (a vector read of a
/// memref defined outside the loop, at column `iv`), the same rows of the
/// next panel: column iv + step, clamped to the last panel so that the
/// address stays inside the matrix.
void prefetchNextPanel(scf::ForOp loop) {
  Value iv = loop.getInductionVar();
  std::optional<int64_t> step = getConstantIntValue(loop.getStep());
  if (!step)
    return;
  SmallVector<vector::TransferReadOp> reads;
  loop.getBody()->walk([&](vector::TransferReadOp read) {
    auto type = dyn_cast<MemRefType>(read.getBase().getType());
    if (!type || type.getRank() < 2 ||
        !loop.isDefinedOutsideOfLoop(read.getBase()) ||
        read.getIndices().back() != iv)
      return;
    reads.push_back(read);
  });
  for (vector::TransferReadOp read : reads) {
    auto type = cast<MemRefType>(read.getBase().getType());
    int64_t elementBytes = type.getElementTypeBitWidth() / 8;
    int64_t width = read.getVectorType().getShape().back();
    int64_t rank = type.getRank(), columns = type.getDimSize(rank - 1);
    // A read of at least a cache line within one panel, of a matrix of at
    // least one panel: the clamped addresses below stay inside the matrix.
    if (elementBytes == 0 || width * elementBytes < kCacheLine || width > *step ||
        (!ShapedType::isDynamic(columns) && columns < *step))
      continue;
    Location loc = read.getLoc();
    auto constant = [&](OpBuilder &b, int64_t value) -> Value {
      return arith::ConstantIndexOp::create(b, loc, value);
    };
    // Where the last panel starts: a constant, or computed before the loop.
    Value lastPanel;
    if (ShapedType::isDynamic(columns)) {
      OpBuilder before(loop);
      Value dim = memref::DimOp::create(before, loc, read.getBase(), rank - 1);
      lastPanel = arith::MaxSIOp::create(
          before, loc, arith::SubIOp::create(before, loc, dim, constant(before, *step)),
          constant(before, 0));
    }
    OpBuilder b(read);
    SmallVector<Value> indices(read.getIndices());
    for (int64_t offset = 0; offset < width; offset += kCacheLine / elementBytes) {
      Value column = arith::AddIOp::create(b, loc, iv, constant(b, *step + offset));
      Value bound;
      if (!lastPanel)
        bound = constant(b, columns - *step + offset);
      else if (offset == 0)
        bound = lastPanel;
      else
        bound = arith::AddIOp::create(b, loc, lastPanel, constant(b, offset));
      indices.back() = arith::MinSIOp::create(b, loc, column, bound);
      // Locality 2: into L2 (prefetcht1); the panel is used a panel later.
      memref::PrefetchOp::create(b, loc, read.getBase(), indices,
                                 /*isWrite=*/false, /*localityHint=*/2,
                                 /*isDataCache=*/true);
    }
  }
}

struct PrefetchPanelsPass
    : public impl::PrefetchPanelsPassBase<PrefetchPanelsPass> {
  void runOnOperation() override {
    getOperation().walk([](scf::ForOp loop) {
      if (!loop->removeAttr(contract::kPanelLoopMarker))
        return;
      prefetchNextPanel(loop);
    });
  }
};
} // namespace
} // namespace mlir::dlc::cpu
