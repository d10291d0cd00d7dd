//===- DLDialect.h - the dl dialect -------------------------------*- C++ -*-===//
//
// Declares the dl dialect class, its enums and interfaces. Include DLOps.h
// for the ops themselves.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_DIALECTS_DL_IR_DLDIALECT_H
#define DLC_DIALECTS_DL_IR_DLDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/DL/IR/DLOpsDialect.h.inc"
#include "dialects/DL/IR/DLOpsEnums.h.inc"
#include "dialects/DL/IR/DLInterfaces.h.inc"

namespace mlir::dl {
/// True when each inferred type `l[i]` and declared type `r[i]` have the same
/// element type and compatible shapes (unranked or `?` match anything).
bool areCompatibleReturnTypes(TypeRange l, TypeRange r);
} // namespace mlir::dl

#endif // DLC_DIALECTS_DL_IR_DLDIALECT_H
