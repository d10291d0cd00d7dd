//===- DLOps.td - dl dialect operations --------------------*- tablegen -*-===//
//
// One op per operation of the dl model language, plus the declarations that
// put the whole model (inputs, params, data, training) in IR and the ops that
// gradients need (conv/pool backprop, broadcast/unbroadcast).
//
//===----------------------------------------------------------------------===//

#ifndef DL_OPS_TD
#define DL_OPS_TD

include "dialects/DL/IR/DLBase.td"
include "dialects/DL/IR/DLInterfaces.td"

//===----------------------------------------------------------------------===//
// Model declarations
//===----------------------------------------------------------------------===//

def DL_InputOp : DL_Op<"input", [Symbol]> {
  let summary = "a placeholder fed at run time";
  let description = [{
    Declares a model input. Dynamic dimensions are symbols bound from what is
    fed; `dim_names` gives the symbol of each dimension ("" for static ones).

    ```mlir
    dl.input @x : tensor<?x784xf32> {dim_names = ["B", ""]}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, TypeAttrOf<AnyRankedTensor>:$type,
                       StrArrayAttr:$dim_names);
  let assemblyFormat = "$sym_name `:` $type attr-dict";
  let hasVerifier = 1;
}

def DL_ParamOp : DL_Op<"param", [Symbol]> {
  let summary = "a trainable variable with its initializer";
  let description = [{
    Declares a param of static shape. `init` names the initializer
    (`zeros`, `ones`, `fill`, `normal`, `truncated_normal`, `uniform`,
    `glorot_uniform` or `literal`); `init_args` holds its numeric arguments
    in a fixed order (fill: value; normal/truncated_normal: mean, stddev;
    uniform: low, high); a literal initializer stores its value.

    ```mlir
    dl.param @W : tensor<784x10xf32> {init = "truncated_normal", init_args = array<f64: 0.0, 0.1>}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<AnyStaticShapeTensor>:$type, StrAttr:$init,
                       DefaultValuedAttr<DenseF64ArrayAttr, "{}">:$init_args,
                       OptionalAttr<ElementsAttr>:$value);
  let assemblyFormat = "$sym_name `:` $type attr-dict";
  let hasVerifier = 1;
}

def DL_DataSourceOp : DL_Op<"data_source"> {
  let summary = "where one input of one data set comes from";
  let description = [{
    One entry of a `data SET { ... }` block: `kind` is `idx` (an IDX file at
    `path`, uint8 data multiplied by `scale`), `npy` (a NumPy array file at
    `path`, the same way) or `literal` (`value`).

    ```mlir
    dl.data_source {set = "train", input = @x, kind = "idx", path = "train-images-idx3-ubyte.gz", scale = 0.0039215686}
    ```
  }];
  let arguments = (ins StrAttr:$set, FlatSymbolRefAttr:$input, StrAttr:$kind,
                       OptionalAttr<StrAttr>:$path, OptionalAttr<F64Attr>:$scale,
                       OptionalAttr<ElementsAttr>:$value);
  let assemblyFormat = "attr-dict";
  let hasVerifier = 1;
}

def DL_TrainConfigOp : DL_Op<"train_config"> {
  let summary = "the train block: optimizer and schedule";
  let description = [{
    `optimizer` is `sgd`, `momentum` or `adam`; `optimizer_args` holds all of
    its hyperparameters in a fixed order with defaults filled in (sgd: lr;
    momentum: lr, nu; adam: lr, beta1, beta2, eps).

    ```mlir
    dl.train_config {optimizer = "adam", optimizer_args = array<f64: 1.0e-4, 0.9, 0.999, 1.0e-8>, batch = 50 : i64, steps = 20000 : i64}
    ```
  }];
  let arguments = (ins StrAttr:$optimizer, DenseF64ArrayAttr:$optimizer_args,
                       OptionalAttr<I64Attr>:$batch, OptionalAttr<I64Attr>:$steps,
                       OptionalAttr<I64Attr>:$epochs, OptionalAttr<BoolAttr>:$shuffle,
                       DefaultValuedAttr<I64Attr, "0">:$validation,
                       OptionalAttr<FlatSymbolRefArrayAttr>:$freeze,
                       DefaultValuedAttr<I64Attr, "100">:$log_every,
                       OptionalAttr<I64Attr>:$eval_every,
                       DefaultValuedAttr<I64Attr, "0">:$seed);
  let assemblyFormat = "attr-dict";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Base classes of computational ops
//===----------------------------------------------------------------------===//

class DL_ComputeOp<string mnemonic, list<Trait> traits = []>
    : DL_Op<mnemonic, !listconcat([Pure, DL_InferShape], traits)>;

class DL_BinaryOp<string mnemonic, list<Trait> traits = []>
    : DL_ComputeOp<mnemonic, !listconcat([
        DeclareOpInterfaceMethods<DL_ElementwiseOpInterface>,
        DeclareOpInterfaceMethods<DL_DifferentiableOpInterface>], traits)> {
  let arguments = (ins DL_Tensor:$lhs, DL_Tensor:$rhs);
  let results = (outs DL_Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

class DL_UnaryOp<string mnemonic, list<Trait> traits = []>
    : DL_ComputeOp<mnemonic, !listconcat([
        DeclareOpInterfaceMethods<DL_ElementwiseOpInterface>,
        DeclareOpInterfaceMethods<DL_DifferentiableOpInterface>], traits)> {
  let arguments = (ins DL_FloatTensor:$input);
  let results = (outs DL_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Elementwise binary ops (NumPy broadcasting)
//===----------------------------------------------------------------------===//

def DL_AddOp : DL_BinaryOp<"add", [Commutative]> {
  let summary = "elementwise addition";
  let description = [{
    ```mlir
    %0 = dl.add %a, %b : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
    ```
  }];
  let hasFolder = 1;
}
def DL_SubOp : DL_BinaryOp<"sub"> {
  let summary = "elementwise subtraction";
  let hasFolder = 1;
}
def DL_MulOp : DL_BinaryOp<"mul", [Commutative]> {
  let summary = "elementwise multiplication";
  let hasFolder = 1;
}
def DL_DivOp : DL_BinaryOp<"div"> {
  let summary = "elementwise division";
  let hasFolder = 1;
}
def DL_PowOp : DL_BinaryOp<"pow"> {
  let summary = "elementwise power (the `**` operator)";
  let arguments = (ins DL_FloatTensor:$lhs, DL_FloatTensor:$rhs);
}
def DL_MaximumOp : DL_BinaryOp<"maximum", [Commutative]> {
  let summary = "elementwise maximum";
}
def DL_MinimumOp : DL_BinaryOp<"minimum", [Commutative]> {
  let summary = "elementwise minimum";
}

def DL_CmpOp : DL_ComputeOp<"cmp", [
    DeclareOpInterfaceMethods<DL_ElementwiseOpInterface>]> {
  let summary = "elementwise comparison giving f32 1.0 or 0.0";
  let description = [{
    Comparisons have no gradient: `dl-derive-gradients` stops at them.

    ```mlir
    %0 = dl.cmp eq, %a, %b : (tensor<?xi32>, tensor<?xi32>) -> tensor<?xf32>
    ```
  }];
  let arguments = (ins DL_CmpPredicate:$predicate, DL_Tensor:$lhs, DL_Tensor:$rhs);
  let results = (outs DL_FloatTensor:$result);
  let assemblyFormat = "$predicate `,` $lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Elementwise unary ops
//===----------------------------------------------------------------------===//

def DL_NegOp : DL_UnaryOp<"neg"> {
  let summary = "elementwise negation";
  let arguments = (ins DL_Tensor:$input);
  let results = (outs DL_Tensor:$result);
  let hasFolder = 1;
}
def DL_ReluOp : DL_UnaryOp<"relu"> { let summary = "max(x, 0)"; }
def DL_SigmoidOp : DL_UnaryOp<"sigmoid"> { let summary = "1 / (1 + exp(-x))"; }
def DL_TanhOp : DL_UnaryOp<"tanh"> { let summary = "hyperbolic tangent"; }
def DL_ExpOp : DL_UnaryOp<"exp"> { let summary = "e to the x"; }
def DL_LogOp : DL_UnaryOp<"log"> { let summary = "natural logarithm"; }
def DL_SqrtOp : DL_UnaryOp<"sqrt"> { let summary = "square root"; }
def DL_SquareOp : DL_UnaryOp<"square"> {
  let summary = "x * x";
  let arguments = (ins DL_Tensor:$input);
  let results = (outs DL_Tensor:$result);
}
def DL_AbsOp : DL_UnaryOp<"abs"> {
  let summary = "absolute value";
  let arguments = (ins DL_Tensor:$input);
  let results = (outs DL_Tensor:$result);
}
def DL_LeakyReluOp : DL_UnaryOp<"leaky_relu"> {
  let summary = "x for x >= 0, alpha * x otherwise";
  let arguments = (ins DL_FloatTensor:$input, DefaultValuedAttr<F64Attr, "0.2">:$alpha);
}
def DL_EluOp : DL_UnaryOp<"elu"> {
  let summary = "x for x >= 0, alpha * (exp(x) - 1) otherwise";
  let arguments = (ins DL_FloatTensor:$input, DefaultValuedAttr<F64Attr, "1.0">:$alpha);
}

def DL_CastOp : DL_ComputeOp<"cast", [
    DeclareOpInterfaceMethods<DL_ElementwiseOpInterface>,
    DeclareOpInterfaceMethods<DL_DifferentiableOpInterface>]> {
  let summary = "convert between f32 and i32";
  let description = [{
    f32 to i32 truncates toward zero. Only a cast to f32 of an f32 value
    passes a gradient; a cast to i32 stops it.

    ```mlir
    %0 = dl.cast %labels {element_type = f32} : (tensor<?xi32>) -> tensor<?xf32>
    ```
  }];
  let arguments = (ins DL_Tensor:$input, TypeAttr:$element_type);
  let results = (outs DL_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Tensor ops
//===----------------------------------------------------------------------===//

def DL_ConstantOp : DL_ComputeOp<"constant", [ConstantLike]> {
  let summary = "a literal tensor";
  let description = [{
    ```mlir
    %0 = dl.constant dense<[1.0, 2.0]> : tensor<2xf32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs DL_Tensor:$result);
  let assemblyFormat = "$value attr-dict";
  let hasFolder = 1;
}

def DL_ReshapeOp : DL_ComputeOp<"reshape", [
    DeclareOpInterfaceMethods<DL_DifferentiableOpInterface>]> {
  let summary = "reshape to a new shape with the same number of elements";
  let description = [{
    At most one entry of `shape` is -1: that dimension is computed from the
    element count (statically when the input is static, else at run time).

    ```mlir
    %0 = dl.reshape %x {shape = array<i64: -1, 784>} : (tensor<?x28x28x1xf32>) -> tensor<?x784xf32>
    ```
  }];
  let arguments = (ins DL_Tensor:$input, DenseI64ArrayAttr:$shape);
  let results = (outs DL_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def DL_FlattenOp : DL_ComputeOp<"flatten", [
    DeclareOpInterfaceMethods<DL_DifferentiableOpInterface>]> {
  let summary = "[N, ...] -> [N, product of the rest]";
  let arguments = (ins DL_Tensor:$input);
  let results = (outs DL_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def DL_TransposeOp : DL_ComputeOp<"transpose", [
    DeclareOpInterfaceMethods<DL_DifferentiableOpInterface>]> {
  let summary = "permute the axes";
  let description = [{
    Result dimension `i` is input dimension `perm[i]`.

    ```mlir
    %0 = dl.transpose %x {perm = array<i64: 1, 0>} : (tensor<3x4xf32>) -> tensor<4x3xf32>
    ```
  }];
  let arguments = (ins DL_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs DL_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def DL_OneHotOp : DL_ComputeOp<"one_hot"> {
  let summary = "i32 class ids [N] to f32 one-hot rows [N, depth]";
  let arguments = (ins DL_IntTensor:$labels, I64Attr:$depth);
  let results = (outs DL_FloatTensor:$result);
  let assemblyFormat = "$labels attr-dict `:` functional-type(operands, results)";
}

def DL_BroadcastToOp : DL_ComputeOp<"broadcast_to", [
    DeclareOpInterfaceMethods<DL_DifferentiableOpInterface>]> {
  let summary = "broadcast a tensor to the shape of another (NumPy rules)";
  let description = [{
    Used by gradients. The result has the shape of `like` and the element
    type of `input`; `like` only provides the shape.

    ```mlir
    %0 = dl.broadcast_to %g, %x : (tensor<f32>, tensor<?x10xf32>) -> tensor<?x10xf32>
    ```
  }];
  let arguments = (ins DL_Tensor:$input, DL_Tensor:$like);
  let results = (outs DL_Tensor:$result);
  let assemblyFormat = "$input `,` $like attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def DL_UnbroadcastOp : DL_ComputeOp<"unbroadcast", [
    DeclareOpInterfaceMethods<DL_DifferentiableOpInterface>]> {
  let summary = "sum a broadcast result back to the shape of an operand";
  let description = [{
    The adjoint of broadcasting: sums `input` over the dimensions along which
    a value of `like`'s shape was broadcast, giving `like`'s shape.

    ```mlir
    %0 = dl.unbroadcast %g, %b : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<10xf32>
    ```
  }];
  let arguments = (ins DL_FloatTensor:$input, DL_Tensor:$like);
  let results = (outs DL_FloatTensor:$result);
  let assemblyFormat = "$input `,` $like attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def DL_SizeOp : DL_ComputeOp<"size"> {
  let summary = "the number of elements along some axes, as an f32 scalar";
  let description = [{
    Used by the gradient of `mean` when the reduced dimensions are symbolic.

    ```mlir
    %0 = dl.size %x {axes = array<i64: 0>} : (tensor<?x10xf32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins DL_Tensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs 0DTensorOf<[F32]>:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

class DL_ReduceOp<string mnemonic> : DL_ComputeOp<mnemonic, [
    DeclareOpInterfaceMethods<DL_DifferentiableOpInterface>]> {
  let arguments = (ins DL_FloatTensor:$input, DenseI64ArrayAttr:$axes,
                       DefaultValuedAttr<BoolAttr, "false">:$keepdims);
  let results = (outs DL_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def DL_SumOp : DL_ReduceOp<"sum"> {
  let summary = "sum over axes";
  let description = [{
    `axes` is sorted, non-negative and without repeats; all axes reduce to a
    scalar.

    ```mlir
    %0 = dl.sum %x {axes = array<i64: 0, 1>} : (tensor<?x10xf32>) -> tensor<f32>
    ```
  }];
}
def DL_MeanOp : DL_ReduceOp<"mean"> { let summary = "mean over axes"; }
def DL_MaxOp : DL_ReduceOp<"max"> { let summary = "maximum over axes"; }

def DL_ArgmaxOp : DL_ComputeOp<"argmax"> {
  let summary = "index of the maximum along an axis (i32, first on ties)";
  let arguments = (ins DL_FloatTensor:$input, I64Attr:$axis);
  let results = (outs DL_IntTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Neural-network ops
//===----------------------------------------------------------------------===//

def DL_MatmulOp : DL_ComputeOp<"matmul", [
    DeclareOpInterfaceMethods<DL_DifferentiableOpInterface>]> {
  let summary = "matrix product, [M,K] x [K,N] -> [M,N]; rank 3 is batched";
  let description = [{
    ```mlir
    %0 = dl.matmul %a, %b : (tensor<?x784xf32>, tensor<784x10xf32>) -> tensor<?x10xf32>
    ```
  }];
  let arguments = (ins DL_FloatTensor:$lhs, DL_FloatTensor:$rhs);
  let results = (outs DL_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def DL_Conv2DOp : DL_ComputeOp<"conv2d", [
    DeclareOpInterfaceMethods<DL_DifferentiableOpInterface>]> {
  let summary = "2-D convolution, NHWC input and HWIO filter";
  let description = [{
    `strides` is [sh, sw]; `pads` is [top, bottom, left, right] (the frontend
    resolves `padding=same|valid` into explicit pads). Output size per
    spatial dimension: (H + top + bottom - KH) / sh + 1.

    ```mlir
    %0 = dl.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 2, 2, 2, 2>}
        : (tensor<?x28x28x1xf32>, tensor<5x5x1x32xf32>) -> tensor<?x28x28x32xf32>
    ```
  }];
  let arguments = (ins DL_FloatTensor:$input, DL_FloatTensor:$filter,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads);
  let results = (outs DL_FloatTensor:$result);
  let assemblyFormat = "$input `,` $filter attr-dict `:` functional-type(operands, results)";
}

def DL_Conv2DGradInputOp : DL_ComputeOp<"conv2d_grad_input"> {
  let summary = "gradient of conv2d with respect to its input";
  let description = [{
    `grad` is the gradient of the conv2d result; `like` is the conv2d input
    (only its shape is used). Attributes are those of the conv2d.
  }];
  let arguments = (ins DL_FloatTensor:$grad, DL_FloatTensor:$filter,
                       DL_FloatTensor:$like, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$pads);
  let results = (outs DL_FloatTensor:$result);
  let assemblyFormat = "$grad `,` $filter `,` $like attr-dict `:` functional-type(operands, results)";
}

def DL_Conv2DGradFilterOp : DL_ComputeOp<"conv2d_grad_filter"> {
  let summary = "gradient of conv2d with respect to its filter";
  let description = [{
    `like` is the conv2d filter (only its shape is used).
  }];
  let arguments = (ins DL_FloatTensor:$input, DL_FloatTensor:$grad,
                       DL_FloatTensor:$like, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$pads);
  let results = (outs DL_FloatTensor:$result);
  let assemblyFormat = "$input `,` $grad `,` $like attr-dict `:` functional-type(operands, results)";
}

class DL_PoolOp<string mnemonic> : DL_ComputeOp<mnemonic, [
    DeclareOpInterfaceMethods<DL_DifferentiableOpInterface>]> {
  let arguments = (ins DL_FloatTensor:$input, DenseI64ArrayAttr:$window,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads);
  let results = (outs DL_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def DL_MaxPoolOp : DL_PoolOp<"max_pool"> {
  let summary = "NHWC max pooling";
  let description = [{
    Padding cells never win (they are -infinity).

    ```mlir
    %0 = dl.max_pool %x {window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>}
        : (tensor<?x28x28x32xf32>) -> tensor<?x14x14x32xf32>
    ```
  }];
}
def DL_AvgPoolOp : DL_PoolOp<"avg_pool"> {
  let summary = "NHWC average pooling (padding cells not counted)";
}

class DL_PoolGradOp<string mnemonic> : DL_ComputeOp<mnemonic> {
  let arguments = (ins DL_FloatTensor:$input, DL_FloatTensor:$grad,
                       DenseI64ArrayAttr:$window, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$pads);
  let results = (outs DL_FloatTensor:$result);
  let assemblyFormat = "$input `,` $grad attr-dict `:` functional-type(operands, results)";
}
def DL_MaxPoolGradOp : DL_PoolGradOp<"max_pool_grad"> {
  let summary = "gradient of max_pool: each window's gradient goes to its first maximum";
}
def DL_AvgPoolGradOp : DL_PoolGradOp<"avg_pool_grad"> {
  let summary = "gradient of avg_pool: spread evenly over the counted cells";
}

//===----------------------------------------------------------------------===//
// Fused ops (produced by dl-fuse-conv-relu-pool, never by the frontend)
//===----------------------------------------------------------------------===//

def DL_FusedConv2DOp : DL_Op<"fused_conv2d", [Pure, DL_InferShape,
    DeclareOpInterfaceMethods<DL_DifferentiableOpInterface>]> {
  let summary = "conv2d, then + bias, an activation and a pool, as one op";
  let description = [{
    `activation(conv2d(input, filter) + bias)`, then pooled when `pool` is
    not `none`; `bias` ([F]) is optional. `strides` and `pads` are the
    convolution's, `pool_window`, `pool_strides` and `pool_pads` the pool's
    (empty without a pool); `alpha` is the slope of `leaky_relu` or the scale
    of `elu`. A max pool has a second result: for each window, the position
    of its first maximum (`kh * KW + kw`, i8), which is all the gradient
    needs of the forward pass besides the pooled result itself (where a
    window's maximum is, the activation's output is the pooled value, so
    the activation's derivative comes from the pooled result). The
    activation before the pool is never kept.

    ```mlir
    %p, %i = dl.fused_conv2d relu max %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 2, 2, 2, 2>,
        pool_window = array<i64: 2, 2>, pool_strides = array<i64: 2, 2>, pool_pads = array<i64: 0, 0, 0, 0>}
        : (tensor<?x28x28x1xf32>, tensor<5x5x1x32xf32>, tensor<32xf32>) -> (tensor<?x14x14x32xf32>, tensor<?x14x14x32xi8>)
    ```
  }];
  let arguments = (ins DL_FloatTensor:$input, DL_FloatTensor:$filter,
                       Optional<DL_FloatTensor>:$bias,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DL_Activation:$activation,
                       DefaultValuedAttr<F64Attr, "0.0">:$alpha,
                       DL_PoolKind:$pool,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$pool_window,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$pool_strides,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$pool_pads);
  let results = (outs DL_FloatTensor:$result, Optional<DL_IndexTensor>:$indices);
  let assemblyFormat = [{
    $activation $pool $input `,` $filter (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The type of the convolution's output (the activation before the pool).
    ::mlir::RankedTensorType getConvType();
  }];
}

def DL_UnpoolOp : DL_ComputeOp<"unpool"> {
  let summary = "gradient of a fused pool: route each window's gradient back";
  let description = [{
    The gradient with respect to a pool's input, [N, H, W, C] with `size` =
    [H, W], from `grad`, the gradient of the pooled result: a max pool sends
    each window's gradient to the position `indices` saved (see
    `dl.fused_conv2d`), an average pool spreads it over the window's real
    cells. Overlapping windows add up.

    ```mlir
    %dz = dl.unpool max %g, %i {size = array<i64: 28, 28>, window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>}
        : (tensor<?x14x14x32xf32>, tensor<?x14x14x32xi8>) -> tensor<?x28x28x32xf32>
    ```
  }];
  let arguments = (ins DL_FloatTensor:$grad, Optional<DL_IndexTensor>:$indices,
                       DL_PoolKind:$pool, DenseI64ArrayAttr:$size,
                       DenseI64ArrayAttr:$window, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$pads);
  let results = (outs DL_FloatTensor:$result);
  let assemblyFormat = [{
    $pool $grad (`,` $indices^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def DL_SoftmaxOp : DL_ComputeOp<"softmax", [
    DeclareOpInterfaceMethods<DL_DifferentiableOpInterface>]> {
  let summary = "softmax along an axis (max subtracted first)";
  let arguments = (ins DL_FloatTensor:$input, I64Attr:$axis);
  let results = (outs DL_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}
def DL_LogSoftmaxOp : DL_ComputeOp<"log_softmax", [
    DeclareOpInterfaceMethods<DL_DifferentiableOpInterface>]> {
  let summary = "log of softmax along an axis, computed stably";
  let arguments = (ins DL_FloatTensor:$input, I64Attr:$axis);
  let results = (outs DL_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def DL_StepSeedOp : DL_ComputeOp<"step_seed"> {
  let summary = "the random seed of the current training step";
  let description = [{
    A fresh value each training step, derived from the `seed` of training and
    the step number; dropout masks are drawn from it.
  }];
  let results = (outs DL_SeedTensor:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
}

def DL_DropoutOp : DL_ComputeOp<"dropout", [
    DeclareOpInterfaceMethods<DL_DifferentiableOpInterface>]> {
  let summary = "in training, zero elements with probability rate and rescale";
  let description = [{
    The mask is a pure function of `seed`, `salt` (distinct per dropout op)
    and the element index, so the gradient recomputes the same mask. Outside
    training (`dl-strip-training-ops`), dropout is the identity.

    The optional `offset` (data-parallel training's `@grad`) is the index of
    the input's first row in the global batch: element indices count from
    `offset` rows on, so a process holding rows `[offset, offset + n)` draws
    the masks one process holding the whole batch would.
  }];
  let arguments = (ins DL_FloatTensor:$input, DL_SeedTensor:$seed,
                       Optional<DL_SeedTensor>:$offset, F64Attr:$rate,
                       DefaultValuedAttr<I64Attr, "0">:$salt);
  let results = (outs DL_FloatTensor:$result);
  let assemblyFormat = "$input `,` $seed (`offset` $offset^)? attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def DL_SoftmaxCrossEntropyOp : DL_ComputeOp<"softmax_cross_entropy", [
    DeclareOpInterfaceMethods<DL_DifferentiableOpInterface>]> {
  let summary = "per-example cross entropy of softmax(logits), from logits";
  let description = [{
    logits `[N, C]`; labels i32 `[N]` (class ids) or f32 `[N, C]`
    (probabilities). Result `[N]`: `logsumexp(logits) - logits[label]`.
  }];
  let arguments = (ins DL_FloatTensor:$logits, DL_Tensor:$labels);
  let results = (outs DL_FloatTensor:$result);
  let assemblyFormat = "$logits `,` $labels attr-dict `:` functional-type(operands, results)";
}

def DL_MseOp : DL_ComputeOp<"mse", [
    DeclareOpInterfaceMethods<DL_DifferentiableOpInterface>]> {
  let summary = "mean of squared differences, a scalar";
  let arguments = (ins DL_FloatTensor:$lhs, DL_FloatTensor:$rhs);
  let results = (outs 0DTensorOf<[F32]>:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def DL_L2Op : DL_ComputeOp<"l2", [
    DeclareOpInterfaceMethods<DL_DifferentiableOpInterface>]> {
  let summary = "sum of squares, a scalar";
  let arguments = (ins DL_FloatTensor:$input);
  let results = (outs 0DTensorOf<[F32]>:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

#endif // DL_OPS_TD
