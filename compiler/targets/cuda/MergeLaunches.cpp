//===- MergeLaunches.cpp - fewer launches for the same kernels -------------===//
//
// A train step is a chain of launches on one stream, many of them small: a
// scalar op's one thread, a tree reduction of a small gradient in one block,
// an optimizer's update of each param. Each launch costs the host a driver
// call and the GPU a gap between kernels. Two launches become one when the
// host code between them only computes, allocates or frees (the frees move
// after the merged launch), in one of two ways:
//
//  - in sequence, when both are a single block: the merged block has the
//    larger thread count, each body runs guarded by its own thread count
//    (a body with barriers never is), with a barrier between them, so the
//    second reads what the first wrote, as the stream order did;
//  - side by side, when they are independent (neither writes a buffer the
//    other reads or writes; the function's arguments count as one buffer)
//    and have the same one-dimensional blocks: the merged grid is both
//    grids, blocks [0, g1) run the first body and [g1, g1 + g2) the second
//    with their block index less g1 (a condition uniform in a block, so
//    barriers in the bodies stay valid): the Adam updates of all params are
//    one launch.
//
// A merged kernel's parameters (the values it uses from the host) stay
// within PTX 8.0's 4 KiB, and its shared memory within a block's static
// 48 KiB (both less a margin).
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/cuda/KernelIndexing.h"
#include "compiler/targets/cuda/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/RegionUtils.h"

namespace mlir::dlc::cuda {

namespace {

/// The static shared memory a block may have (48 KiB), less a margin.
constexpr int64_t kMaxSharedBytes = 40 * 1024;

bool isConstant(Value v, int64_t n) {
  std::optional<int64_t> c = getConstantIntValue(v);
  return c && *c == n;
}

/// The launch's threads a block when constant and one-dimensional.
std::optional<int64_t> threadsOf(gpu::LaunchOp launch) {
  if (!isConstant(launch.getBlockSizeY(), 1) || !isConstant(launch.getBlockSizeZ(), 1))
    return std::nullopt;
  return getConstantIntValue(launch.getBlockSizeX());
}

bool isSingleBlock(gpu::LaunchOp launch) {
  return isConstant(launch.getGridSizeX(), 1) && isConstant(launch.getGridSizeY(), 1) &&
         isConstant(launch.getGridSizeZ(), 1);
}

/// What a kernel does with memory: the buffers it reads and writes.
struct Effects {
  SmallPtrSet<Value, 8> reads, writes;
  bool barriers = false;
};

/// False for a kernel that does anything else to memory than loads and
/// stores of buffers from the host and of its own attributions.
bool effectsOf(gpu::LaunchOp launch, Effects &effects) {
  if (!launch.getBody().hasOneBlock() || launch.getAsyncToken() ||
      launch.getDynamicSharedMemorySize())
    return false;
  auto local = [&](Value memref) {
    return llvm::is_contained(launch.getWorkgroupAttributions(), memref) ||
           llvm::is_contained(launch.getPrivateAttributions(), memref);
  };
  WalkResult walk = launch.getBody().walk([&](Operation *op) {
    if (isa<gpu::BarrierOp>(op)) {
      effects.barriers = true;
      return WalkResult::advance();
    }
    if (auto load = dyn_cast<memref::LoadOp>(op)) {
      if (!local(load.getMemRef()))
        effects.reads.insert(bufferOf(load.getMemRef()));
      return WalkResult::advance();
    }
    if (auto store = dyn_cast<memref::StoreOp>(op)) {
      if (!local(store.getMemRef()))
        effects.writes.insert(bufferOf(store.getMemRef()));
      return WalkResult::advance();
    }
    if (onlyNestedEffects(op) || isa<gpu::TerminatorOp>(op))
      return WalkResult::advance();
    return WalkResult::interrupt();
  });
  return !walk.wasInterrupted();
}

bool independent(const Effects &a, const Effects &b) {
  auto meets = [](const SmallPtrSet<Value, 8> &x, const SmallPtrSet<Value, 8> &y) {
    return llvm::any_of(x, [&](Value v) { return y.contains(v); });
  };
  return !meets(a.writes, b.reads) && !meets(a.writes, b.writes) && !meets(b.writes, a.reads);
}

/// The bytes of the parameters the two launches' kernels would take merged.
int64_t parameterBytes(gpu::LaunchOp a, gpu::LaunchOp b) {
  SetVector<Value> used;
  getUsedValuesDefinedAbove(a.getBody(), used);
  getUsedValuesDefinedAbove(b.getBody(), used);
  return kernelParameterBytes(used.getArrayRef());
}

/// The static shared memory of the two launches' kernels merged (their
/// workgroup buffers side by side).
int64_t sharedBytes(gpu::LaunchOp a, gpu::LaunchOp b) {
  int64_t bytes = 0;
  for (gpu::LaunchOp launch : {a, b})
    for (BlockArgument arg : launch.getWorkgroupAttributions()) {
      auto type = cast<MemRefType>(arg.getType());
      bytes += type.getNumElements() * ((type.getElementTypeBitWidth() + 7) / 8);
    }
  return bytes;
}

/// Replaces uses of the launch's size arguments by the sizes themselves,
/// which its body keeps once the launch's sizes change.
void pinSizes(gpu::LaunchOp launch) {
  gpu::KernelDim3 grid = launch.getGridSize(), block = launch.getBlockSize();
  gpu::KernelDim3 gridValues = launch.getGridSizeOperandValues(),
                  blockValues = launch.getBlockSizeOperandValues();
  Value args[] = {grid.x, grid.y, grid.z, block.x, block.y, block.z};
  Value values[] = {gridValues.x, gridValues.y, gridValues.z,
                    blockValues.x, blockValues.y, blockValues.z};
  for (int i = 0; i < 6; ++i)
    args[i].replaceAllUsesWith(values[i]);
}

/// Moves the body of `launch` (but its terminator) into a new scf.if on
/// the condition `makeCondition` builds after it; the if's else block, or
/// null.
Block *guardBody(gpu::LaunchOp launch, function_ref<Value(OpBuilder &)> makeCondition,
                 bool withElse) {
  Block &body = launch.getBody().front();
  Operation *end = body.getTerminator();
  Operation *last = end->getPrevNode();
  OpBuilder b(end);
  Value condition = makeCondition(b);
  auto guard = scf::IfOp::create(b, launch.getLoc(), condition, withElse);
  if (last) {
    Block *then = guard.thenBlock();
    then->getOperations().splice(then->begin(), body.getOperations(), body.begin(),
                                 std::next(last->getIterator()));
  }
  return withElse ? guard.elseBlock() : nullptr;
}

/// Moves `from`'s body (its arguments replaced) before `into`'s end.
void moveBody(gpu::LaunchOp from, gpu::LaunchOp into, Block *dest, Value blockX) {
  Block &body = from.getBody().front();
  gpu::KernelDim3 ids = from.getBlockIds(), threads = from.getThreadIds();
  gpu::KernelDim3 ourIds = into.getBlockIds(), ourThreads = into.getThreadIds();
  ids.x.replaceAllUsesWith(blockX);
  ids.y.replaceAllUsesWith(ourIds.y);
  ids.z.replaceAllUsesWith(ourIds.z);
  threads.x.replaceAllUsesWith(ourThreads.x);
  threads.y.replaceAllUsesWith(ourThreads.y);
  threads.z.replaceAllUsesWith(ourThreads.z);
  for (BlockArgument arg : from.getWorkgroupAttributions())
    arg.replaceAllUsesWith(into.addWorkgroupAttribution(arg.getType(), arg.getLoc()));
  for (BlockArgument arg : from.getPrivateAttributions())
    arg.replaceAllUsesWith(into.addPrivateAttribution(arg.getType(), arg.getLoc()));
  dest->getOperations().splice(dest->getTerminator()->getIterator(), body.getOperations(),
                               body.begin(), body.getTerminator()->getIterator());
}

/// Merges `second` into `first` (see the file comment); false if it may
/// not be.
bool merge(gpu::LaunchOp first, const Effects &a, gpu::LaunchOp second, const Effects &b) {
  std::optional<int64_t> threadsA = threadsOf(first), threadsB = threadsOf(second);
  if (!threadsA || !threadsB || parameterBytes(first, second) > kMaxKernelParameterBytes ||
      sharedBytes(first, second) > kMaxSharedBytes)
    return false;
  Location loc = first.getLoc();
  bool sequence = isSingleBlock(first) && isSingleBlock(second);
  if (sequence) {
    int64_t threads = std::max(*threadsA, *threadsB);
    if ((*threadsA < threads && a.barriers) || (*threadsB < threads && b.barriers))
      return false;
    pinSizes(first);
    pinSizes(second);
    OpBuilder host(first);
    Value tx = first.getThreadIds().x;
    auto below = [&](OpBuilder &b, int64_t n) -> Value {
      return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, tx,
                                   arith::ConstantIndexOp::create(b, loc, n));
    };
    Block &body = first.getBody().front();
    if (*threadsA < threads)
      guardBody(first, [&](OpBuilder &b) { return below(b, *threadsA); }, /*withElse=*/false);
    OpBuilder end(body.getTerminator());
    gpu::BarrierOp::create(end, loc);
    Block *dest = &body;
    if (*threadsB < threads) {
      auto guard = scf::IfOp::create(end, loc, below(end, *threadsB), /*withElse=*/false);
      dest = guard.thenBlock();
    }
    moveBody(second, first, dest, first.getBlockIds().x);
    first.getBlockSizeXMutable().assign(arith::ConstantIndexOp::create(host, loc, threads));
    second->erase();
    return true;
  }
  if (*threadsA != *threadsB || !isConstant(first.getGridSizeY(), 1) ||
      !isConstant(first.getGridSizeZ(), 1) || !isConstant(second.getGridSizeY(), 1) ||
      !isConstant(second.getGridSizeZ(), 1) || !independent(a, b))
    return false;
  pinSizes(first);
  pinSizes(second);
  Value gridA = first.getGridSizeX(), gridB = second.getGridSizeX();
  OpBuilder host(first);
  Value bx = first.getBlockIds().x;
  Block *other = guardBody(
      first,
      [&](OpBuilder &b) -> Value {
        return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, bx, gridA);
      },
      /*withElse=*/true);
  OpBuilder inOther(other, other->begin());
  Value shifted = arith::SubIOp::create(inOther, loc, bx, gridA);
  moveBody(second, first, other, shifted);
  first.getGridSizeXMutable().assign(arith::AddIOp::create(host, loc, gridA, gridB));
  second->erase();
  return true;
}

} // namespace

void mergeLaunches(ModuleOp module) {
  SmallVector<Block *> blocks;
  module.walk([&](gpu::LaunchOp launch) {
    if (!llvm::is_contained(blocks, launch->getBlock()))
      blocks.push_back(launch->getBlock());
  });
  for (Block *block : blocks) {
    gpu::LaunchOp current;
    Effects effects;
    SmallVector<Operation *> before, after; // host ops between, and where they go
    for (Operation &op : llvm::make_early_inc_range(*block)) {
      auto launch = dyn_cast<gpu::LaunchOp>(op);
      if (!launch) {
        if (!current)
          continue;
        if (isa<memref::DeallocOp>(op))
          after.push_back(&op);
        else if (isa<memref::AllocOp>(op) ||
                 (isMemoryEffectFree(&op) && op.getNumRegions() == 0))
          before.push_back(&op);
        else {
          current = nullptr;
          before.clear();
          after.clear();
        }
        continue;
      }
      Effects next;
      bool known = effectsOf(launch, next);
      if (current && known) {
        // The host ops between first: the second launch may use them.
        for (Operation *moved : before)
          moved->moveBefore(current);
        if (merge(current, effects, launch, next)) {
          for (Operation *free : llvm::reverse(after))
            free->moveAfter(current);
          for (Value v : next.reads)
            effects.reads.insert(v);
          for (Value v : next.writes)
            effects.writes.insert(v);
          effects.barriers = true; // sequence merges add one
          before.clear();
          after.clear();
          continue;
        }
      }
      current = known ? launch : nullptr;
      effects = std::move(next);
      before.clear();
      after.clear();
    }
  }
}

} // namespace mlir::dlc::cuda
