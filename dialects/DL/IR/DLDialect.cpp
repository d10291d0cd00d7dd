//===- DLDialect.cpp - dl dialect registration ------------------------------===//
//
// Registers the dl ops and lets constants materialize during folding.
//
//===----------------------------------------------------------------------===//

#include "dialects/DL/IR/DLOps.h"

using namespace mlir;
using namespace mlir::dl;

#include "dialects/DL/IR/DLOpsDialect.cpp.inc"
#include "dialects/DL/IR/DLOpsEnums.cpp.inc"
#include "dialects/DL/IR/DLInterfaces.cpp.inc"

void DLDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/DL/IR/DLOps.cpp.inc"
      >();
}

Operation *DLDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                          Type type, Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, elements);
}
