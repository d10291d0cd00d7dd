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

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace dlc::frontend {

/// Builds the dl module of `model`. Reports errors through the context's
/// diagnostic handler and returns null on the first one.
mlir::OwningOpRef<mlir::ModuleOp> mlirGen(mlir::MLIRContext &context,
                                          const ModuleAST &model);

/// Creates dl op `dl.NAME` generically at `l`, infers its result type through
/// its InferTypeOpInterface and verifies it. On failure the op is erased, the
/// error has been reported at `l`, and null is returned. Shared by the model
/// language's generator and the ONNX importer.
mlir::Value createDLOp(mlir::OpBuilder &builder, llvm::StringRef name,
                       mlir::Location l, mlir::ValueRange operands,
                       llvm::ArrayRef<mlir::NamedAttribute> attrs = {});

/// Ends @graph (`graph`, whose entry block holds the computation): returns
/// `results`, sets the function type and the argument and result attributes
/// (dl.input/dl.param; dl.role/dl.name), and verifies the module holding it.
/// Shared by both frontends.
mlir::LogicalResult finishGraph(mlir::OpBuilder &builder, mlir::Operation *graph,
                                mlir::Location loc, mlir::ValueRange results,
                                llvm::ArrayRef<mlir::Attribute> argAttrs,
                                llvm::ArrayRef<mlir::Attribute> resultAttrs);

/// The attributes of a @graph result: its role and its name.
mlir::DictionaryAttr resultAttrs(mlir::OpBuilder &builder, llvm::StringRef role,
                                 llvm::StringRef name);

/// Converts a frontend location to an MLIR FileLineColLoc.
mlir::Location toMLIRLocation(mlir::MLIRContext &context, const Location &loc);

} // namespace dlc::frontend

#endif // DLC_FRONTEND_MLIRGEN_H
