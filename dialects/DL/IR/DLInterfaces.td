//===- DLInterfaces.td - dl op interfaces ------------------*- tablegen -*-===//
//
// Behaviour shared across dl ops: gradients (used by dl-derive-gradients) and
// the scalar body of elementwise ops (used by the lowering to linalg).
//
//===----------------------------------------------------------------------===//

#ifndef DL_INTERFACES_TD
#define DL_INTERFACES_TD

include "mlir/IR/OpBase.td"

def DL_DifferentiableOpInterface : OpInterface<"DifferentiableOpInterface"> {
  let cppNamespace = "::mlir::dl";
  let description = [{
    An op that knows its own derivative. Given the gradient of the loss with
    respect to the op's first result (other results, such as the arg-max a
    fused max pool saves, are integers and carry no gradient), `buildGradients` builds, with dl ops
    at the builder's insertion point, the gradient with respect to each
    operand: it appends exactly one value per operand, or a null value for an
    operand that receives no gradient (i32 operands, labels, seeds). The
    gradient of an operand has the operand's type.
  }];
  let methods = [
    InterfaceMethod<
      "Appends one gradient per operand (null where none flows).",
      "::llvm::LogicalResult", "buildGradients",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Value":$resultGrad,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>
  ];
}

def DL_ElementwiseOpInterface : OpInterface<"ElementwiseOpInterface"> {
  let cppNamespace = "::mlir::dl";
  let description = [{
    An op computed element by element after NumPy broadcasting of its
    operands. `buildScalar` builds the computation of one result element from
    one element of each operand (arith/math ops), which lets one lowering
    pattern handle every elementwise op.
  }];
  let methods = [
    InterfaceMethod<
      "Builds the scalar body from one element of each operand.",
      "::mlir::Value", "buildScalar",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
           "::mlir::ValueRange":$args)>
  ];
}

#endif // DL_INTERFACES_TD
