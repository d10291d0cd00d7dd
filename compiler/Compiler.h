//===- Compiler.h - from model source to entry points ----------*- C++ -*-===//
//
// The compiler's internal interface (MLIR types appear here; the public
// embedding API in JIT.h hides them): parse a model into a dl module, read
// its declarations into a runtime::ModelSpec, and lower it stage by stage.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_COMPILER_COMPILER_H
#define DLC_COMPILER_COMPILER_H

#include "compiler/CompileOptions.h"
#include "compiler/Pipelines.h"
#include "compiler/targets/Target.h"
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

/// The stack, in bytes, that the frontend runs on. Its walks recurse along the
/// expression tree, whose depth the parser bounds (20,000 levels took 4 to 8
/// MiB); a host thread's stack (the C API's caller, often 8 MiB or less) is
/// not enough, so the frontend gets its own.
constexpr unsigned kFrontendStackBytes = 64u << 20;

/// Runs `fn` (parsing, the AST's walks and its destruction) on a stack of
/// kFrontendStackBytes.
void runOnFrontendStack(llvm::function_ref<void()> fn);

/// Parses and builds the dl module (shape-inferred and canonicalized).
mlir::OwningOpRef<mlir::ModuleOp> buildDLModule(mlir::MLIRContext &context,
                                                llvm::SourceMgr &sourceMgr,
                                                const CompileOptions &options);

/// Reads the model declarations (inputs, params, data, train) of a dl module.
runtime::ModelSpec extractModelSpec(mlir::ModuleOp module);

/// Describes the arguments and results of entry point `name`.
/// The graph of @graph as it stands (run after fusion, it shows fused ops);
/// empty when the module has no @graph.
std::vector<runtime::GraphNode> describeGraph(mlir::ModuleOp module);

runtime::EntrySpec describeEntry(mlir::ModuleOp module, llvm::StringRef name);

/// Runs the pipelines of the stages after `from` up to and including `to`
/// (between Stage::DL and Stage::LLVM) on `module`.
mlir::LogicalResult runPipeline(mlir::ModuleOp module, Stage from, Stage to,
                                const CompileOptions &options,
                                const Target &target,
                                const EntryRequest &request);

} // namespace dlc

#endif // DLC_COMPILER_COMPILER_H
