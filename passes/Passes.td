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

#endif // DLC_PASSES_TD
