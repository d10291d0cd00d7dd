//===- DLBase.td - dl dialect definition -------------------*- tablegen -*-===//
//
// The `dl` dialect record, type constraints and the DL_Op base class.
//
//===----------------------------------------------------------------------===//

#ifndef DL_BASE_TD
#define DL_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"

def DL_Dialect : Dialect {
  let name = "dl";
  let cppNamespace = "::mlir::dl";
  let summary = "Tensor-level operations of the dl model language";
  let description = [{
    `dl` models a neural network written in the dl model language (LANGUAGE.md)
    at the level the user wrote it: one op per language op, on value-semantic
    ranked tensors of `f32` or `i32`. A symbolic dimension such as the batch
    size `B` is a dynamic dimension (`?`); the names of symbols are kept on the
    `dl.input` declarations so the runtime can check that every use agrees.

    The whole model lives in IR: `dl.input` and `dl.param` declare the
    placeholders and variables (params carry their initializer),
    `dl.data_source` and `dl.train_config` carry the `data` and `train` blocks,
    and `func.func @graph` holds the computation. Its arguments are the inputs
    and then the params (argument attributes `dl.input`/`dl.param` name them);
    its results are the loss, the metrics and the outputs (result attribute
    `dl.role` and `dl.name`).

    Every op infers its result type from its operands and attributes
    (`InferTypeOpInterface`); results may be written unranked in textual IR
    and `dl-shape-inference` refines them. Differentiable ops implement
    `DifferentiableOpInterface`; elementwise ops implement
    `ElementwiseOpInterface`, which the lowering to linalg uses to build their
    scalar bodies. Left out on purpose: control flow, mutable state (the
    optimizer update is built by the compiler, not written by users) and
    dtypes other than f32/i32.
  }];
  let hasConstantMaterializer = 1;
  // The function argument and result attributes (dl.input, dl.role, ...) are
  // a contract between the frontend, the passes and the runtime: check them.
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
}

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def DL_Tensor : TensorOf<[F32, I32]>;
def DL_FloatTensor : TensorOf<[F32]>;
def DL_IntTensor : TensorOf<[I32]>;
def DL_SeedTensor : 0DTensorOf<[I64]>;
/// Positions inside a pool window (the arg-max a fused max pool saves).
def DL_IndexTensor : TensorOf<[I8]>;

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def DL_CmpPredicate : I32EnumAttr<"CmpPredicate", "comparison predicate", [
  I32EnumAttrCase<"eq", 0>, I32EnumAttrCase<"ne", 1>, I32EnumAttrCase<"lt", 2>,
  I32EnumAttrCase<"le", 3>, I32EnumAttrCase<"gt", 4>, I32EnumAttrCase<"ge", 5>
]> {
  let cppNamespace = "::mlir::dl";
}

/// The activation a fused convolution applies after its bias.
def DL_Activation : I32EnumAttr<"Activation", "activation of a fused op", [
  I32EnumAttrCase<"none", 0>, I32EnumAttrCase<"relu", 1>,
  I32EnumAttrCase<"sigmoid", 2>, I32EnumAttrCase<"tanh", 3>,
  I32EnumAttrCase<"leaky_relu", 4>, I32EnumAttrCase<"elu", 5>
]> {
  let cppNamespace = "::mlir::dl";
}

/// The pooling a fused convolution ends with.
def DL_PoolKind : I32EnumAttr<"PoolKind", "pooling of a fused op", [
  I32EnumAttrCase<"none", 0>, I32EnumAttrCase<"max", 1>, I32EnumAttrCase<"avg", 2>
]> {
  let cppNamespace = "::mlir::dl";
}

//===----------------------------------------------------------------------===//
// Base classes
//===----------------------------------------------------------------------===//

class DL_Op<string mnemonic, list<Trait> traits = []>
    : Op<DL_Dialect, mnemonic, traits>;

/// Result type inference shared by every computational op. Results written
/// with a less refined type (unranked, or `?` where the inferred type is
/// static) are accepted so that `dl-shape-inference` can refine them.
def DL_InferShape : InferTypeOpAdaptorBase<[{
  static bool isCompatibleReturnTypes(::mlir::TypeRange l, ::mlir::TypeRange r) {
    return ::mlir::dl::areCompatibleReturnTypes(l, r);
  }
}]>;

#endif // DL_BASE_TD
