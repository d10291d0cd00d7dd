//===- Pipelines.h - the compiler's phases and their pipelines ---*- C++ -*-===//
//
// The ordered phases of compilation (the `--emit=` ladder) and one build
// function per phase, each appending the passes that take a module from the
// previous phase to this one.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_COMPILER_PIPELINES_H
#define DLC_COMPILER_PIPELINES_H

#include "compiler/CompileOptions.h"

#include "mlir/Pass/PassManager.h"

namespace dlc {

/// Phases in order; `--emit=X` stops after phase X.
enum class Phase { AST, DL, Grad, Fused, Linalg, LLVM, PTX, Obj, Module };

/// Parses an `--emit=` name; std::nullopt if unknown.
std::optional<Phase> parsePhase(llvm::StringRef name);

/// dl cleanup after MLIRGen: shape inference, canonicalization, CSE.
void buildDLPipeline(mlir::OpPassManager &pm, const CompileOptions &options);

/// Differentiation: @graph -> @graph_grad -> @train_step, plus @eval.
void buildGradPipeline(mlir::OpPassManager &pm, const CompileOptions &options);

/// dl -> linalg on tensors, with elementwise fusion.
void buildLinalgPipeline(mlir::OpPassManager &pm, const CompileOptions &options);

/// linalg on tensors -> bufferized loops -> the LLVM dialect.
void buildLLVMPipeline(mlir::OpPassManager &pm, const CompileOptions &options);

} // namespace dlc

#endif // DLC_COMPILER_PIPELINES_H
