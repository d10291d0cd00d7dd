//===- Compiler.h - from model source to entry points ----------*- C++ -*-===//
//
// The compiler's internal interface (MLIR types appear here; the public
// embedding API in JIT.h hides them): parse a model into a dl module, read
// its declarations into a runtime::ModelSpec, build the entry-point
// functions a command needs, and lower them phase by phase.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_COMPILER_COMPILER_H
#define DLC_COMPILER_COMPILER_H

#include "compiler/CompileOptions.h"
#include "compiler/Pipelines.h"
#include "frontend/AST.h"
#include "runtime/ModelSpec.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/SourceMgr.h"

#include <set>

namespace dlc {

/// Registers the dialects and translations dlc uses with `context`.
void registerCompilerDialects(mlir::MLIRContext &context);

/// Parses the model held by `sourceMgr`'s main buffer. Syntax errors are
/// emitted as MLIR diagnostics at their location.
std::unique_ptr<frontend::ModuleAST> parseModel(mlir::MLIRContext &context,
                                                llvm::SourceMgr &sourceMgr);

/// Parses and builds the dl module (shape-inferred and canonicalized).
mlir::OwningOpRef<mlir::ModuleOp> buildDLModule(mlir::MLIRContext &context,
                                                llvm::SourceMgr &sourceMgr,
                                                const CompileOptions &options);

/// Reads the model declarations (inputs, params, data, train) of a dl module.
runtime::ModelSpec extractModelSpec(mlir::ModuleOp module);

/// Adds `@run`: @graph without dropout, keeping only the results computable
/// from the params and the inputs in `fed`, with only those inputs as
/// arguments.
mlir::LogicalResult buildRunFunction(mlir::ModuleOp module,
                                     const std::set<std::string> &fed);

/// Drops every function but `keep` (the entry points to compile).
void keepOnlyFunctions(mlir::ModuleOp module, llvm::ArrayRef<std::string> keep);

/// Describes the arguments and results of entry point `name`.
runtime::EntrySpec describeEntry(mlir::ModuleOp module, llvm::StringRef name);

/// Runs the pipelines from the dl phase up to and including `phase`
/// (Grad, Linalg or LLVM).
mlir::LogicalResult lowerTo(mlir::ModuleOp module, Phase from, Phase to,
                            const CompileOptions &options);

} // namespace dlc

#endif // DLC_COMPILER_COMPILER_H
