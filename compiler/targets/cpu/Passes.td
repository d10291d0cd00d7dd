//===- Passes.td - passes of the CPU target ----------------*- tablegen -*-===//
//
// The passes that only the CPU target runs: its transform-dialect schedule
// on linalg on tensors, and the prefetch of streamed panels after
// bufferization. They are registered with the other dlc passes (dlc-opt
// runs them alone) but only CPUTarget's pipeline adds them.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TARGETS_CPU_PASSES_TD
#define DLC_TARGETS_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Linalg on tensors
//===----------------------------------------------------------------------===//

def CPUSchedulePass : Pass<"dl-cpu-schedule", "ModuleOp"> {
  let summary = "tile and vectorize for the host CPU (transform dialect)";
  let description = [{
    Applies a transform-dialect schedule to linalg on tensors, before
    bufferization. The built-in schedule (compiler/targets/cpu/CPUSchedule.mlir,
    compiled into dlc) gives every `dlc.matmul` generic register tiles of 8x32
    outputs (two 16-lane vectors per row on AVX-512) or, when both operands
    are contiguous along k, 4x4 tiles of 16-lane partial sums; it tiles
    convolutions (linalg.conv_2d_nhwc_hwcf) by output rows and channels and
    turns each tile into a vectorized 1-D convolution. Accumulators stay in
    registers across the reduction loops (loop-invariant subset hoisting)
    and contractions become outer-product FMAs. A matmul with a large B
    (the 3136x1024 weights) walks B in 32-column panels and marks the panel
    loop `dlc.panel_loop` for dl-prefetch-panels. Filter gradients
    (`dlc.conv_filter_grad` generics) get register tiles of input by output
    channels an image at a time. Elementwise ops are vectorized a row of
    their innermost dimension at a time. Convolution tiles, and matmul tiles
    whose rows divide into tiles, are an `scf.forall` with the output's zero
    fill fused in; after the schedule the pass folds the read of such a
    zeroed tile to a zero vector, so those tiles start from zero registers
    and write their output once (scf-forall-to-for makes loops of the
    forall after bufferization). The pass itself computes what the
    transform dialect cannot: it calls the schedule's parameterized
    sequences (@schedule_conv, @schedule_filter_grad,
    @schedule_elementwise_<rank>) on each convolution, filter gradient and
    contiguous elementwise op with tile sizes that divide its shape, then
    runs `@__transform_main`, which matches the matmul forms itself; for
    those it marks the matmuls whose rows do not divide into tiles
    (`dlc.ragged_m`).

    Fused convolution blocks (the ops dl.fused_conv2d lowers to, tagged
    `dlc.fused_act`, `dlc.fused_pool`, `dlc.unpool`) are scheduled first, as
    units: @schedule_conv_block_pool tiles the pool and fuses the activation
    and the convolution into its tiles, @schedule_conv_block does the same
    without a pool, @schedule_conv_block_backward[_dx] computes the unpooled
    gradient an image at a time inside the filter (and input) gradient's
    image loop. With a symbolic batch the images first go into 10 groups,
    an scf.forall (groupImages, the `_grouped` sequences): each group sums
    its images' filter gradient into its own slice of a partial sum, the
    slices added in group order after the loop. No other call names their
    ops.

    Before the calls, a large gradient's sum of squares by rows (the
    gradient norm) merges into the optimizer's elementwise update that reads
    the same gradient (mergeRowSums); after them, a vectorized row sum
    carries 64 lanes of partial sums through its row (LanesOfRowSum).

    `schedule-file` replaces the built-in schedule, for experiments; it
    must define `@__transform_main` and the sequences above. A schedule that
    fails on some module is tried again without the fused blocks (their ops
    scheduled one by one), and if that fails too the module is left as it
    was (the generic lowering still compiles it, only slower); `strict`
    makes the first failure an error instead, which is how the tests run it.

    With `kernels` (the default) each op that a sequence takes alone, and
    each matmul for `@__transform_main`, is scheduled in a function of its
    own (the op, the constants, empty tensors and fills it reads; all else
    arguments), and ops that make the same such function under the same
    call share one scheduled copy, inlined in their place: the cost of the
    schedule grows with the number of distinct ops, not with the square of
    the model (see ScheduleKernels.h). `kernels=0` schedules the module in
    place, for comparison; `remarks` says how many ops were scheduled as
    how many kernels.
  }];
  let options = [
    Option<"scheduleFile", "schedule-file", "std::string", "\"\"",
           "transform library to apply instead of the built-in schedule">,
    Option<"strict", "strict", "bool", "false",
           "fail when the schedule fails instead of keeping the module as it was">,
    Option<"kernels", "kernels", "bool", "true",
           "schedule each op in a function of its own, once per distinct one">,
    Option<"remarks", "remarks", "bool", "false",
           "say how many ops were scheduled as how many kernels">,
  ];
  let dependentDialects = ["::mlir::transform::TransformDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::ub::UBDialect"];
}

def UpdateInPlacePass : Pass<"dl-update-in-place", "ModuleOp"> {
  let summary = "write the optimizer's new params and state into their arguments";
  let description = [{
    In every function whose `dlc.in_place_results` (convert-dl-to-linalg's
    record of the updated params and optimizer state that @train_step and
    @apply return, and of the argument holding each one's previous value)
    names an argument for a result, the elementwise generic that computes
    the result writes it into that argument (its init, a `tensor.empty`, becomes the argument; an input
    that reads the same argument element by element reads the init
    instead), so that one-shot bufferization can update the argument's
    buffer in place instead of allocating a new one per step.
    dl-drop-in-place-results finishes the job after bufferization.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

//===----------------------------------------------------------------------===//
// Buffer-level passes
//===----------------------------------------------------------------------===//

def PrefetchPanelsPass : Pass<"dl-prefetch-panels", "ModuleOp"> {
  let summary = "prefetch the next panel of a matrix that a loop walks panel by panel";
  let description = [{
    The CPU schedule marks the loop over 32-column panels of a large matrix
    (`dlc.panel_loop`). For every vector read of a panel in such a loop (a
    read of a memref defined outside it whose last index is the loop's
    induction variable), this pass adds `memref.prefetch` of the same rows
    of the next panel into L2, one per cache line the read covers; the last
    panel prefetches itself, so addresses stay inside the matrix (a matrix
    narrower than a panel gets no prefetch). It drops the mark.

    Precondition: bufferized IR, vector reads still `vector.transfer_read`.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def DropInPlaceResultsPass : Pass<"dl-drop-in-place-results", "ModuleOp"> {
  let summary = "make every result marked by dl-update-in-place its argument's buffer, and drop it";
  let description = [{
    Runs right after one-shot bufferization. Each result that
    `dlc.in_place_results` assigns to an argument is written into that
    argument's buffer: bufferization already did when it could update the
    argument in place; otherwise the result is copied into it at the end
    (through a temporary when the result is itself another argument). The
    result is then dropped from the function, so that buffer deallocation
    neither frees nor clones it, and `dlc.in_place_results` is removed. The
    function does not return it: the entry's packed wrapper (docs/ABI.md)
    gives the caller the argument's descriptor in its place.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def SplitEmptyTensorsPass : Pass<"dl-split-empty-tensors", "ModuleOp"> {
  let summary = "give every use of a widely shared tensor.empty a tensor.empty of its own";
  let description = [{
    CSE merges equal `tensor.empty` ops: in a deep model one of them is the
    init of hundreds of ops (every 64-wide layer's output and gradient).
    One-Shot Bufferize then analyzes every pair of those uses for conflicts
    (all are writes into aliases of one tensor), each pair asking for the
    loops around both: at 128 layers 7 of the 14 s of MLIR passes. An empty
    tensor has no contents, so a copy per use means the same program; each
    use then has an alias set of its own, and bufferization allocates a
    buffer for each, as it did for the conflicting uses. A tensor.empty of
    more than 16 uses gets a copy for each use, right before the op of its
    block that holds the use; one with fewer stays shared (cheap to analyze,
    and uses that do not conflict share its buffer). CSE merges equal fills
    of empty tensors too (the zeros two matmuls accumulate into): every use
    of such a fill but one gets a fill and an empty tensor of its own (a
    fill costs less than the copy bufferization made for the second use).
    Runs right before one-shot-bufferize (a CSE after would merge them
    again).
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect"];
}

def SplitLocalDeallocsPass : Pass<"dl-split-local-deallocs", "ModuleOp"> {
  let summary = "free the buffers a function allocated and keeps no alias of one by one";
  let description = [{
    Ownership-based buffer deallocation frees all the buffers of a block in
    one `bufferization.dealloc` at its end (a 128-layer MLP's step: 400),
    which retains the values the block returns. Splitting it needs to know
    which buffers may alias which: buffer-deallocation-simplification asks
    its alias analysis for every pair, 0.09 s of that MLP's compile and
    growing with the square of the depth. Most are easy: a `memref.alloc`
    result that the dealloc frees unconditionally, once, and that is not
    the allocation behind any retained value (followed back through view
    ops to an allocation or a function argument) can alias nothing else
    there. This pass frees each such buffer with a `memref.dealloc` of its
    own, where the dealloc was, and leaves the rest to the simplification;
    a retained value of unknown origin (a call's result, a loop's) keeps
    the dealloc whole. Runs between ownership-based-buffer-deallocation and
    buffer-deallocation-simplification.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def PadInPlacePass : Pass<"dl-pad-in-place", "ModuleOp"> {
  let summary = "pad a tensor by computing it inside its padded buffer";
  let description = [{
    A `tensor.pad` bufferizes to a fill of the whole padded buffer and a copy
    of the source into its interior, serial loops on the calling thread (in
    the CNN's step: a 2 MB fill and a 1.25 MB copy before the second
    convolution, while the other threads wait). When the source is computed
    into a `tensor.empty` (through the shared outputs of `scf.forall`s and
    the inits of destination-style ops) that dominates the pad, the pass
    allocates the padded tensor instead, fills only its border (a slab
    below and above each padded dimension), and makes the source's producer
    write into the interior (an `extract_slice` of it in place of the
    empty tensor), as empty-tensor elimination would; the pad becomes an
    `insert_slice` of the source into the same interior, which bufferizes
    to no copy. The producer's tiles (a fused conv block's `scf.forall`)
    then write straight into the padded buffer, on every thread. Pads of a
    function's arguments, and pads whose value is not a constant, stay.
    Runs right before one-shot-bufferize.
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::arith::ArithDialect"];
}

def SerialNestedParallelPass : Pass<"dl-serial-nested-parallel", "ModuleOp"> {
  let summary = "make parallel loops inside parallel loops serial loops";
  let description = [{
    A parallel loop inside another runs on the calling thread (the runtime's
    pool runs a nested region inline), so as an OpenMP region of its own it
    only costs: an outlined function to compile, and a call into the
    runtime on every iteration of the loop around it (the fused blocks'
    gradients, whose groups of images are a parallel loop, run the tiles of
    each image as one: 150 nested regions a step for the MNIST CNN). This
    pass turns each `scf.parallel` (without reductions) nested in another
    into `scf.for` loops, before buffers leave loops and go on the stack: a
    buffer of the inner loop's body then moves out to the outer parallel
    loop's body, one per thread, as before.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def OmpNoWaitPass : Pass<"dl-omp-nowait", "ModuleOp"> {
  let summary = "drop the barrier after a parallel region's only workshare loop";
  let description = [{
    `convert-scf-to-openmp` makes every parallel loop an `omp.parallel`
    region holding one `omp.wsloop`, whose implicit barrier at its end waits
    for the whole team; the end of the region waits for it again. This pass
    marks such a loop `nowait` when it is the last op of its region, so the
    region's end is the only wait. That also lets the runtime's thread pool
    run the share of a thread that has not started yet (a core taken by
    another process) on the thread that finished first: a share never
    waits in a barrier for another (runtime/Parallel.cpp).
  }];
  let dependentDialects = ["::mlir::omp::OpenMPDialect"];
}

def OutlineKernelsPass : Pass<"dl-outline-kernels", "ModuleOp"> {
  let summary = "move loop nests that a function repeats into kernel functions, one per distinct nest";
  let description = [{
    Every loop without results at the top level of a function (the loop
    nest of one op, or of a fused group, after bufferization and
    convert-linalg-to-loops) that the function has more than once (the
    same op for op), and every other copy of it in any function, moves into
    a private function marked
    `dlc.kernel` (internal linkage, `noinline`) and is replaced by a call of
    it. The values it uses from outside become the kernel's arguments, in
    the order of their first use, but constants and stack buffers only the
    nest uses, which are cloned (moved) in. Nests that a function has once
    stay inline (LLVM optimizes them knowing which buffers are distinct). Nests
    that are the same op for op (same types, attributes and constants) call
    one kernel: a model of N equal layers compiles each distinct nest once,
    and LLVM compiles small functions, not one function whose size grows
    with the model.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

#endif // DLC_TARGETS_CPU_PASSES_TD
