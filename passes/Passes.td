//===- Passes.td - dlc passes ------------------------------*- tablegen -*-===//
//
// Every pass of dlc. Passes over the dl dialect start with `dl-`;
// conversions follow upstream's `convert-X-to-Y`.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_PASSES_TD
#define DLC_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// dl-level passes
//===----------------------------------------------------------------------===//

def BuildEvalPass : Pass<"dl-build-eval", "ModuleOp"> {
  let summary = "build @eval from @graph: dropout is the identity";
  let description = [{
    Clones `func.func @graph` into `func.func @eval` (replacing an existing
    one), makes every `dl.dropout` the identity and erases `dl.step_seed`,
    as `dl-strip-training-ops` does. `@eval` keeps the signature and every
    result (loss, metrics, outputs) of `@graph`; `@graph` is unchanged.

    `@graph` is then erased unless `keep-graph` is set, so that a module
    for evaluation only holds its entry point.

    Precondition: `@graph` exists. Postcondition: `@eval` has no dropout and
    no `dl.step_seed`.
  }];
  let options = [
    Option<"keepGraph", "keep-graph", "bool", /*default=*/"false",
           "keep @graph next to @eval">
  ];
  let dependentDialects = ["::mlir::dl::DLDialect"];
}

def BuildTrainStepPass : Pass<"dl-build-train-step", "ModuleOp"> {
  let summary = "build @train_step: gradients plus the optimizer update";
  let description = [{
    Builds `func.func @train_step` (docs/ABI.md) from `@graph_grad` and the
    module's `dl.train_config` (sgd with lr = 0.01 when there is none):

    - arguments: those of `@graph_grad`, then the optimizer state of each
      param `@graph_grad` returns a gradient for, in param order
      (momentum: `opt.W.d`; adam: `opt.W.m`, `opt.W.v`; argument attribute
      `dl.state`, the param's type), then `%step: tensor<f32>` (unit
      attribute `dl.step`, the 1-based step number) and `%seed: tensor<i64>`
      (unit attribute `dl.seed`), which replaces `dl.step_seed`;
    - results: the updated params (`dl.role = "param"`), the updated state
      (`dl.role = "state"`), then the loss and metrics of `@graph_grad`;
    - the update, with dl ops: sgd `a -= lr*g`; momentum
      `d = -(1-nu)*lr*g + nu*d; a += d`; adam (TensorFlow's, with bias
      correction) `lr_t = lr*sqrt(1-beta2^t)/(1-beta1^t)`,
      `m = beta1*m + (1-beta1)*g`, `v = beta2*v + (1-beta2)*g*g`,
      `a -= lr_t*m/(sqrt(v)+eps)`.

    ```mlir
    // sgd, before: func.func @graph_grad(%x, %W) -> (loss, grad W)
    func.func @train_step(%x, %W {dl.param = @W}, %step {dl.step},
                          %seed {dl.seed}) -> (W' {dl.role = "param"}, loss)
    ```

    With `eval` (the default) the pass also builds `@eval` from `@graph`, as
    `dl-build-eval` does. Then `@graph` and `@graph_grad`, whose
    `dl.step_seed` cannot be lowered, are erased unless `keep-graphs` is set:
    the module holds the entry points `@train_step` and `@eval`.

    Precondition: `@graph_grad` exists (`dl-derive-gradients`), and `@graph`
    when `eval` is set. Postcondition: `@train_step` and `@eval` have no
    `dl.step_seed`.
  }];
  let options = [
    Option<"eval", "eval", "bool", /*default=*/"true",
           "also build @eval from @graph (as dl-build-eval)">,
    Option<"keepGraphs", "keep-graphs", "bool", /*default=*/"false",
           "keep @graph and @graph_grad next to the entry points">
  ];
  let dependentDialects = ["::mlir::dl::DLDialect"];
}

def DeriveGradientsPass : Pass<"dl-derive-gradients", "ModuleOp"> {
  let summary = "build @graph_grad: loss, metrics and param gradients";
  let description = [{
    Clones `func.func @graph` into `func.func @graph_grad` (docs/ABI.md) and
    differentiates the loss in reverse mode: adjoints are seeded with 1 at
    the loss and pushed through the ops in reverse program order by
    `DifferentiableOpInterface::buildGradients`; contributions to one value
    are summed with `dl.add`. An op without the interface stops the
    gradient. Only ops on a path from a trained param to the loss are
    differentiated, so frozen params (`dl.train_config`'s `freeze`) and i32
    params get no gradient code at all.

    ```mlir
    // before
    func.func @graph(%x {dl.input = @x}, %W {dl.param = @W})
        -> (loss {dl.role = "loss"}, y {dl.role = "output"})
    // after (added)
    func.func @graph_grad(%x {dl.input = @x}, %W {dl.param = @W})
        -> (loss {dl.role = "loss"}, dW {dl.role = "grad", dl.name = "W"})
    ```

    Results of `@graph_grad`: the loss and the metrics of `@graph`, then one
    gradient per trained f32 param in argument order (a `dl.constant` zero
    when the loss does not depend on it). Outputs are dropped and the ops
    only they needed are erased. Gradient ops have the location
    `"grad"(forward op's location)`.

    Precondition: `@graph` has a result with `dl.role = "loss"` (else an
    error at `@graph`). Postcondition: `@graph` is unchanged.
  }];
  let dependentDialects = ["::mlir::dl::DLDialect"];
}

def ShapeInferencePass : Pass<"dl-shape-inference", "func::FuncOp"> {
  let summary = "refine dl result types from operand types";
  let description = [{
    Visits the ops of a function in order (operands before users) and asks
    each op implementing `InferTypeOpInterface` for its result types; a result
    whose declared type is less refined (unranked, or `?` where the inferred
    dimension is static) takes the inferred type. Inference failures (shape
    errors) are reported at the op and fail the pass. Function result types
    are updated to match the returned values.

    Precondition: function arguments have ranked types. Postcondition: every
    dl result is as refined as its operands allow.
  }];
  let dependentDialects = ["::mlir::dl::DLDialect"];
}

def StripTrainingOpsPass : Pass<"dl-strip-training-ops", "func::FuncOp"> {
  let summary = "make dropout the identity for evaluation and inference";
  let description = [{
    Replaces every `dl.dropout` by its input. Run on the functions that
    evaluate a model (not on the training step). Afterwards `dl.step_seed`
    has no users and is erased.
  }];
  let dependentDialects = ["::mlir::dl::DLDialect"];
}

//===----------------------------------------------------------------------===//
// Conversions
//===----------------------------------------------------------------------===//

def ConvertDLToLinalgPass : Pass<"convert-dl-to-linalg", "ModuleOp"> {
  let summary = "lower dl ops to linalg, tensor, arith and math on tensors";
  let description = [{
    Lowers every computational dl op to linalg on tensors: named ops where
    they exist (matmul, batch_matmul, conv_2d_nhwc_hwcf, pooling_nhwc_max/sum)
    and linalg.generic otherwise; elementwise ops share one pattern through
    `ElementwiseOpInterface`. Symbolic dimensions become `tensor.dim` values.
    The model declarations (`dl.input`, `dl.param`, `dl.data_source`,
    `dl.train_config`) are erased: by then the runtime has read them.

    Precondition: shapes inferred, `dl.step_seed` replaced by a function
    argument. Postcondition: no dl ops remain.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::tensor::TensorDialect",
    "::mlir::scf::SCFDialect"
  ];
}

def FuseElementwisePass : Pass<"dl-fuse-elementwise", "ModuleOp"> {
  let summary = "fuse elementwise linalg ops, keeping matmuls two-dimensional";
  let description = [{
    Upstream's elementwise fusion (producer into consumer, reshape
    propagation by expansion, constant folding), with one difference: a
    `linalg.generic` tagged `dlc.matmul` is never rewritten by reshape
    propagation. Upstream would fold the reshape that feeds a matmul (the
    flatten before a dense layer) into it, making a higher-dimensional
    contraction without the tag, and the CPU schedule (`dl-cpu-schedule`)
    tiles the two-dimensional form.

    Then an elementwise producer whose result is also used elsewhere is fused
    into an elementwise consumer over the same static iteration space, the
    fused op yielding both results (upstream fuses only single-use producers
    and would otherwise recompute): an Adam update becomes one pass over the
    param, its gradient and its two moments.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::affine::AffineDialect"];
}

def CPUSchedulePass : Pass<"dl-cpu-schedule", "ModuleOp"> {
  let summary = "tile and vectorize for the host CPU (transform dialect)";
  let description = [{
    Applies a transform-dialect schedule to linalg on tensors, before
    bufferization. The built-in schedule (passes/CPUSchedule.mlir, compiled
    into dlc) gives every `dlc.matmul` generic register tiles of 8x32
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

    `schedule-file` replaces the built-in schedule, for experiments; it
    must define `@__transform_main` and the sequences above. A schedule that fails on some module
    leaves that module as it was (the generic lowering still compiles it,
    only slower); `strict` makes such a failure an error instead, which is
    how the tests run it.
  }];
  let options = [
    Option<"scheduleFile", "schedule-file", "std::string", "\"\"",
           "transform library to apply instead of the built-in schedule">,
    Option<"strict", "strict", "bool", "false",
           "fail when the schedule fails instead of keeping the module as it was">,
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

//===----------------------------------------------------------------------===//
// Buffer-level passes
//===----------------------------------------------------------------------===//

def LowerStridedCopiesPass : Pass<"dl-lower-strided-copies", "ModuleOp"> {
  let summary = "turn memref.copy between strided buffers into linalg.copy";
  let description = [{
    The LLVM lowering of `memref.copy` calls `memrefCopy` from MLIR's C
    runner utilities when a layout is not the identity; compiled dlc models
    must not depend on that library. This pass rewrites such copies to
    `linalg.copy`, which `convert-linalg-to-loops` turns into plain loops.
    Copies between identity layouts stay (they become `memcpy`).

    Precondition: bufferized IR. Postcondition: every `memref.copy` has
    identity layouts on both sides.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

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

#endif // DLC_PASSES_TD
