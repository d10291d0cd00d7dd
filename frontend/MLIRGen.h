//===- MLIRGen.h - dl AST to the dl dialect ---------------------*- C++ -*-===//
//
// Turns a parsed model into a dl module: declarations become dl.input,
// dl.param, dl.data_source and dl.train_config ops; the computation becomes
// func.func @graph. Names are resolved here and every semantic error is an
// MLIR diagnostic at the source location.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_FRONTEND_MLIRGEN_H
#define DLC_FRONTEND_MLIRGEN_H

#include "frontend/AST.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace dlc::frontend {

/// Builds the dl module of `model`. Reports errors through the context's
/// diagnostic handler and returns null on the first one.
mlir::OwningOpRef<mlir::ModuleOp> mlirGen(mlir::MLIRContext &context,
                                          const ModuleAST &model);

/// Converts a frontend location to an MLIR FileLineColLoc.
mlir::Location toMLIRLocation(mlir::MLIRContext &context, const Location &loc);

} // namespace dlc::frontend

#endif // DLC_FRONTEND_MLIRGEN_H
