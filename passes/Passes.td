//===- Passes.td - dlc passes ------------------------------*- tablegen -*-===//
//
// Every target-independent pass of dlc (a target keeps its own passes in
// compiler/targets/NAME/Passes.td). Passes over the dl dialect start with
// `dl-`; conversions follow upstream's `convert-X-to-Y`.
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

def CheckNumericsPass : Pass<"dl-check-numerics", "ModuleOp"> {
  let summary = "find the first op of each entry point that yields a NaN or an infinity";
  let description = [{
    TensorFlow's `tf.debugging.enable_check_numerics` for compiled entry
    points (`--check-numerics`). In every function, each param and input
    argument and each result of type f32 of every op but constants and the
    gradient norm's (forward, gradient and optimizer alike) is checked, in
    program order: the sum of
    `x * 0` over its elements is NaN exactly when an element is NaN or
    infinite. The function gets one more result, `tensor<f32>` with
    `dl.role = "numerics"`: the 1-based number of the first check that
    failed, or the number of checks plus one when none did. The function
    attribute `dlc.numerics_checks` lists what each check watches
    (`{op = "dl.log", loc = ...}`; an argument's op is `input` or `param`,
    its loc the declaration's), for the runtime to name the op and its line.

    The first failing check in program order is an op whose operands were
    all finite (or an argument that was not): the op that made the first
    non-finite value.
  }];
  let dependentDialects = ["::mlir::dl::DLDialect"];
}

def PlacePass : Pass<"dl-place", "ModuleOp"> {
  let summary = "check where each op is pinned against the device the step runs on";
  let description = [{
    `device NAME { ... }` blocks pin the ops their declarations create
    (`dl.device = "cpu"` or `"cuda:N"`); every other op runs on `device`,
    the device of the run (`--device`). A step runs on the CPU and at most
    one GPU: when `device` is a GPU, an op pinned to the CPU is marked to
    run on the host (`dl.on_host` in its location, which the ops lowered
    or derived from it keep); an op pinned to a device the step does not
    have is an error at its line, unless `soft` is set, which runs it on
    `device` with a note (TensorFlow's soft placement, applied to every op
    that cannot run where it was pinned). With `log`, every op gets a
    remark saying where it runs (`--log-placement`). The attribute is
    dropped afterwards.
  }];
  let options = [
    Option<"device", "device", "std::string", /*default=*/"\"cpu\"",
           "the device the step runs on: cpu or cuda:N">,
    Option<"soft", "soft", "bool", /*default=*/"false",
           "run ops pinned to another device on `device`, with a note">,
    Option<"log", "log", "bool", /*default=*/"false",
           "a remark per op saying where it runs">
  ];
  let dependentDialects = ["::mlir::dl::DLDialect"];
}

def BuildRunPass : Pass<"dl-build-run", "ModuleOp"> {
  let summary = "build @run from @graph for the inputs that are fed";
  let description = [{
    Clones `func.func @graph` into `func.func @run` (replacing an existing
    one) for inference: dropout is the identity, and only the results that
    can be computed from the params and the fed inputs are kept. Every input
    is fed except those listed in `unfed`; their arguments are dropped when
    nothing left uses them, and so are the results (loss, metrics or
    outputs) that need them. `@graph` is unchanged.

    ```mlir
    // dl-build-run{unfed=y}: @run(%x, %W, ...) -> (probs), no loss
    ```

    Precondition: `@graph` exists. Postcondition: `@run` has no dropout, no
    `dl.step_seed` and no argument for an unfed input.
  }];
  let options = [
    ListOption<"unfed", "unfed", "std::string",
               "inputs that are not fed (by name)">
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

    With `split`, the pass also builds data-parallel training's halves of
    `@train_step`: `@grad(@graph_grad's arguments, %seed {dl.seed},
    %offset {dl.batch_offset})` returns `@graph_grad`'s results, with every
    dropout over the batch (dynamic leading dimension) counting its mask
    from row `%offset` of the global batch; `@apply(trained params, their
    gradients {dl.grad = "W"}, their state {dl.state}, %step {dl.step})`
    returns the new params and state as `@train_step` does.

    Precondition: `@graph_grad` exists (`dl-derive-gradients`), and `@graph`
    when `eval` is set. Postcondition: `@train_step` and `@eval` have no
    `dl.step_seed`.
  }];
  let options = [
    Option<"eval", "eval", "bool", /*default=*/"true",
           "also build @eval from @graph (as dl-build-eval)">,
    Option<"keepGraphs", "keep-graphs", "bool", /*default=*/"false",
           "keep @graph and @graph_grad next to the entry points">,
    Option<"split", "split", "bool", /*default=*/"false",
           "also build @grad and @apply, the halves of @train_step that "
           "data-parallel training calls around its allreduce">
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

def ExportEntriesPass : Pass<"dl-export-entries", "ModuleOp"> {
  let summary = "keep only the entry points to compile";
  let description = [{
    Erases every function but those named in `entries`, which the targets
    wrap as `dlc_NAME` (docs/ABI.md). Naming a function the module lacks is
    an error.

    Postcondition: the module's functions are exactly `entries`.
  }];
  let options = [
    ListOption<"entries", "entries", "std::string",
               "the functions to keep (run, train_step, eval, graph_grad)">
  ];
}

def FuseConvReluPoolPass : Pass<"dl-fuse-conv-relu-pool", "ModuleOp"> {
  let summary = "fuse conv2d, bias, activation and pool into dl.fused_conv2d";
  let description = [{
    Rewrites each `dl.conv2d` followed by a per-channel bias (`dl.add` of an
    [F] tensor), an activation (relu, sigmoid, tanh, leaky_relu with
    alpha >= 0, elu with alpha > 0) and a pool (max_pool; avg_pool only
    without an activation, whose gradient would need every activation value)
    into one `dl.fused_conv2d`; partial chains (conv + bias, conv + bias +
    activation, conv + pool, ...) fuse too. A value inside the chain must
    have no other use (a ReLU whose output is also used elsewhere ends the
    chain after the ReLU). The fused op's location is a FusedLoc of the ops
    it replaced, so later errors point at the model's lines.

    ```mlir
    %0 = dl.conv2d %x, %w {...}   %1 = dl.add %0, %b   %2 = dl.relu %1   %3 = dl.max_pool %2 {...}
    // becomes
    %3, %i = dl.fused_conv2d relu max %x, %w, %b {...}
    ```

    With `remarks`, every convolution gets a remark saying what fused into
    it, and each candidate that did not fuse (a pool or activation after a
    convolution, a pool whose input is not a convolution) says why.

    Precondition: shapes inferred; runs before dl-derive-gradients (the fused
    op's gradient uses what its forward saved). Postcondition: no
    `dl.conv2d` is followed by a fusible op with a single use.
  }];
  let options = [
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "emit a remark for every fusion and every candidate that did not fuse">
  ];
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

#endif // DLC_PASSES_TD
