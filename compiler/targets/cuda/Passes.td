//===- Passes.td - passes of the CUDA target ---------------*- tablegen -*-===//
//
// The passes that only the CUDA target runs, on bufferized IR: every copy
// becomes a loop nest, and every outermost parallel loop nest becomes a GPU
// kernel launch (or, for the host emulation that tests the mapping without
// a GPU, the same block and thread loops on the host).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TARGETS_CUDA_PASSES_TD
#define DLC_TARGETS_CUDA_PASSES_TD

include "mlir/Pass/PassBase.td"

def GPUFuseElementwisePass : Pass<"dl-gpu-fuse-elementwise", "ModuleOp"> {
  let summary = "fuse elementwise ops into their one consumer, contractions excepted";
  let description = [{
    On linalg on tensors, before bufferization: each elementwise op whose
    one use is another linalg op is fused into it, including the tagged
    ops dl-fuse-elementwise keeps apart for the CPU schedule (a conv
    block's bias + activation into its pool), so they are one kernel.
    Contractions are never consumers (they keep their tiled kernels), and
    nothing fuses across devices.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def GPUPrepareLoopsPass : Pass<"dl-gpu-prepare-loops", "ModuleOp"> {
  let summary = "copies as linalg ops, and parallel dimensions outermost";
  let description = [{
    Prepares bufferized linalg for `convert-linalg-to-parallel-loops` and
    the mapping to threads. Bufferization writes copies (a padded input, a
    result that aliases an argument) as `memref.copy`, which the host would
    run as a memcpy or an element loop; on a GPU every copy is a kernel like
    any other, so each becomes the equivalent `linalg.copy`. And a linalg
    op whose reduction dimensions come before some of its parallel ones (a
    matmul written (i, k, j)) would become a parallel loop over the leading
    parallel dimensions only, with the rest nested inside a sequential
    reduction loop: such ops are generalized and their dimensions permuted
    so that every parallel dimension comes first (in their order), then the
    reductions, and the whole parallel iteration space maps to threads.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def GPUHostOpsPass : Pass<"dl-gpu-host-ops", "ModuleOp"> {
  let summary = "ops placed on the CPU as host loops, after the kernels they read";
  let description = [{
    Runs on bufferized IR, first of the CUDA target's passes. A linalg op
    whose location carries dl-place's on-host mark (pinned to the CPU by a
    `device cpu { ... }` block, or lowered or derived from such an op)
    becomes sequential loops in the host code. Before a run of such ops the
    host waits for the kernels queued so far (`dlcCudaSynchronize`, a
    runtime function), so it reads what they wrote; kernels queued after
    read what the host wrote (buffers are managed memory). With `emulate`
    there is nothing to wait for.
  }];
  let options = [
    Option<"emulate", "emulate", "bool", "false",
           "the host emulation: no waits">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect"];
}

def GPUFuseLoopsPass : Pass<"dl-gpu-fuse-loops", "ModuleOp"> {
  let summary = "adjacent parallel loop nests over the same space as one";
  let description = [{
    Runs on the parallel loops of the remaining linalg ops, before they
    become kernels. In each function's body, every `memref.alloc` first
    moves up to just after its sizes are known and every `memref.dealloc`
    to the end (on a GPU this costs no memory: the runtime reuses no buffer
    freed within a call before the call's kernels are done). Then each
    `scf.parallel` is fused into the one before it when nothing with
    effects lies between them, their bounds are the same values, and every
    buffer one of them writes is accessed by both only at the loop's own
    indices (each iteration reads only what the same iteration wrote): one
    kernel instead of several, as long as its parameters (a memref
    descriptor a buffer) stay within PTX 8.0's 4 KiB, less a margin.
  }];
}

def GPUTileContractionsPass : Pass<"dl-gpu-tile-contractions", "ModuleOp"> {
  let summary = "contractions as block-tiled kernels with shared-memory tiles";
  let description = [{
    Runs on bufferized IR, before the remaining linalg ops become parallel
    loops. Every linalg op whose body is `out + a * b` over f32 buffers (a
    matmul in any layout, a convolution, a convolution's filter or input
    gradient) becomes one kernel: the op's parallel dimensions are grouped
    into batch, M (read by A only) and N (read by B only), its reductions
    into K, each group linearized; a block of 16 x 16 threads computes a
    tile of up to 64 x 64 outputs (a 4 x 4 register tile a thread), staging
    A's and B's slices of 16 K indices in shared memory between barriers.
    Where the output tiles are too few to fill the GPU, K is split over
    more blocks whose partial sums an element-wise op then adds in order.
    Otherwise the op that reads the result next (a conv block's bias +
    activation + pool with arg-max) runs in the kernel after its K loop, on
    the sums in registers, a thread's rows one pool window.

    With `emulate`, each kernel is host loops over its blocks that run
    every phase between two barriers for all threads in turn (shared tiles
    and register tiles in host buffers), so the tiling is checked on the
    CPU.
  }];
  let options = [
    Option<"emulate", "emulate", "bool", "false",
           "emit host loops over blocks and threads instead of gpu.launch">,
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::linalg::LinalgDialect"];
}

def GPUReductionsPass : Pass<"dl-gpu-reductions", "ModuleOp"> {
  let summary = "linalg ops without parallel loops as GPU kernels";
  let description = [{
    Runs on bufferized IR, before the remaining linalg ops become parallel
    loops. A linalg op without a parallel dimension would stay host code
    and read what queued kernels may still be writing. A sum over all its
    loops (`out + term`: a loss's or metric's sum over the batch) becomes a
    tree reduction, blocks of 256 threads summing grid-strided shares and
    halving them in shared memory, then one thread adding the blocks'
    partial sums in order; any other such op becomes a kernel of one
    thread. With `emulate`, the tree reduction's blocks and threads are
    host loops and the other ops stay on the host.
  }];
  let options = [
    Option<"emulate", "emulate", "bool", "false",
           "emit host loops over blocks and threads instead of gpu.launch">,
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def GPUMapLoopsPass : Pass<"dl-gpu-map-loops", "ModuleOp"> {
  let summary = "map every outermost parallel loop nest to blocks and threads";
  let description = [{
    Runs after `convert-linalg-to-parallel-loops`. Each `scf.parallel` that
    is not nested in another one (its loops are the parallel dimensions of
    one linalg op; reductions are `scf.for` loops inside) becomes one
    kernel: its iteration space is linearized, split into blocks of
    `block-size` threads, and each thread delinearizes its global index
    into the loop's induction variables and runs the body when the index is
    in range. Nested parallel loops stay inside the kernel as sequential
    loops. Constant buffers (`memref.get_global`) are copied into allocated
    buffers first, since device code cannot read the host's globals; the
    copies are freed at the end of their block.

    With `emulate`, the kernels are the same block and thread loops as
    `scf.for` nests on the host instead of `gpu.launch` ops: the same index
    arithmetic and guards run on the CPU, so tests can compare the mapped
    loops with the CPU target without a GPU.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", "256",
           "threads per block">,
    Option<"emulate", "emulate", "bool", "false",
           "emit host loops over blocks and threads instead of gpu.launch">,
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

#endif // DLC_TARGETS_CUDA_PASSES_TD
