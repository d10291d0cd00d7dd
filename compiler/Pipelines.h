//===- Pipelines.h - the pipeline of each stage ------------------*- C++ -*-===//
//
// One build function per stage of the ladder in Stage.h, each appending the
// passes that take a module from the stage before to its own; buildPipeline
// chains them between two stages. Below linalg on tensors the target
// appends its own (Target::buildLoopsPipeline, buildLLVMPipeline).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_COMPILER_PIPELINES_H
#define DLC_COMPILER_PIPELINES_H

#include "compiler/CompileOptions.h"
#include "compiler/Stage.h"

#include "mlir/Pass/PassManager.h"

#include <string>
#include <vector>

namespace dlc {

class Target;

/// What the entry-point stage (Stage::Grad) builds.
struct EntryRequest {
  /// The entry points: "run", "train_step", "eval", "graph_grad".
  std::vector<std::string> entries;
  /// For @run: the inputs that are not fed.
  std::vector<std::string> unfed;
};

/// Stage::DL, after MLIRGen: shape inference, canonicalization, CSE.
void buildDLPipeline(mlir::OpPassManager &pm, const CompileOptions &options);

/// Stage::Fused: fusion on @graph, before gradients are derived.
void buildFusedPipeline(mlir::OpPassManager &pm, const CompileOptions &options);

/// Stage::Grad: the entry points of `request` (@run, or @graph_grad,
/// @train_step and @eval by differentiation), then nothing else.
void buildEntryPipeline(mlir::OpPassManager &pm, const CompileOptions &options,
                        const EntryRequest &request);

/// Stage::Linalg: dl to linalg on tensors, with elementwise fusion.
void buildLinalgPipeline(mlir::OpPassManager &pm, const CompileOptions &options);

/// Appends the pipelines of the stages after `from` up to and including
/// `to` (both between Stage::DL and Stage::LLVM); the target's for Loops
/// and LLVM.
void buildPipeline(mlir::OpPassManager &pm, Stage from, Stage to,
                   const CompileOptions &options, const Target &target,
                   const EntryRequest &request);

} // namespace dlc

#endif // DLC_COMPILER_PIPELINES_H
