//===- Pipelines.cpp - the compiler's phases and their pipelines ------------===//
//
// Textual pipelines keep each phase readable as one line, the same text
// `dlc-opt` accepts, so any phase can be replayed by hand.
//
//===----------------------------------------------------------------------===//

#include "compiler/Pipelines.h"

#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/StringSwitch.h"

using namespace dlc;

std::optional<Phase> dlc::parsePhase(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<Phase>>(name)
      .Case("ast", Phase::AST)
      .Case("dl", Phase::DL)
      .Case("grad", Phase::Grad)
      .Case("fused", Phase::Fused)
      .Case("linalg", Phase::Linalg)
      .Case("llvm", Phase::LLVM)
      .Case("ptx", Phase::PTX)
      .Case("obj", Phase::Obj)
      .Case("module", Phase::Module)
      .Default(std::nullopt);
}

static void addPipeline(mlir::OpPassManager &pm, llvm::StringRef text) {
  // The pipelines are fixed strings of registered passes: failing to parse
  // them is a bug in dlc, not a user error.
  if (failed(mlir::parsePassPipeline(text, pm, llvm::errs())))
    llvm::report_fatal_error("dlc: invalid built-in pipeline");
}

void dlc::buildDLPipeline(mlir::OpPassManager &pm, const CompileOptions &) {
  addPipeline(pm, "func.func(dl-shape-inference),canonicalize,cse");
}

void dlc::buildGradPipeline(mlir::OpPassManager &pm, const CompileOptions &) {
  addPipeline(pm, "dl-derive-gradients,dl-build-train-step{keep-graphs=1},canonicalize,cse");
}

void dlc::buildLinalgPipeline(mlir::OpPassManager &pm, const CompileOptions &) {
  addPipeline(pm, "convert-dl-to-linalg,canonicalize,dl-fuse-elementwise,"
                  "canonicalize,cse");
}

void dlc::buildLLVMPipeline(mlir::OpPassManager &pm, const CompileOptions &options) {
  // The transform-dialect schedule tiles and vectorizes matmuls and
  // convolutions; without it they become plain loops (LLVM still vectorizes
  // their innermost loop).
  if (options.vectorize)
    addPipeline(pm, options.strictSchedule ? "dl-cpu-schedule{strict=1},canonicalize,cse"
                                           : "dl-cpu-schedule,canonicalize,cse");
  addPipeline(pm,
              "one-shot-bufferize{bufferize-function-boundaries "
              "function-boundary-type-conversion=identity-layout-map},"
              "canonicalize,scf-forall-to-for,dl-prefetch-panels,buffer-deallocation-pipeline,"
              "convert-bufferization-to-memref,dl-lower-strided-copies,"
              "convert-linalg-to-loops,"
              "convert-vector-to-scf{full-unroll=true},expand-strided-metadata,lower-affine,convert-scf-to-cf,"
              "convert-math-to-llvm,convert-math-to-libm,"
              "convert-vector-to-llvm,finalize-memref-to-llvm{use-aligned-alloc=1},convert-to-llvm,"
              "reconcile-unrealized-casts");
}
