//===- Pipelines.cpp - the pipeline of each stage ---------------------------===//
//
// Textual pipelines keep each stage readable as one line, the same text
// `dlc-opt` accepts, so any stage can be replayed by hand.
//
//===----------------------------------------------------------------------===//

#include "compiler/Pipelines.h"

#include "compiler/targets/Target.h"
#include "passes/Passes.h"
#include "runtime/Contracts.h"

#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

using namespace dlc;
namespace contract = ::dlc::contract;
using mlir::dlc::addPassPipeline;

void dlc::buildDLPipeline(mlir::OpPassManager &pm, const CompileOptions &) {
  addPassPipeline(pm, "func.func(dl-shape-inference),canonicalize,cse");
}

void dlc::buildFusedPipeline(mlir::OpPassManager &pm, const CompileOptions &options) {
  addPassPipeline(pm, "dl-place{device=" + options.runDevice() +
                          (options.softPlacement ? " soft=1" : "") +
                          (options.wantsRemarks("placement") ? " log=1" : "") + "}");
  if (options.fusion)
    addPassPipeline(pm, options.wantsRemarks("fusion")
                            ? "dl-fuse-conv-relu-pool{remarks=1}"
                            : "dl-fuse-conv-relu-pool");
}

void dlc::buildEntryPipeline(mlir::OpPassManager &pm, const CompileOptions &options,
                             const EntryRequest &request) {
  auto wants = [&](llvm::StringRef name) {
    return llvm::is_contained(request.entries, name);
  };
  if (wants(contract::kRunEntry))
    addPassPipeline(pm, request.unfed.empty()
                            ? std::string("dl-build-run")
                            : "dl-build-run{unfed=" + llvm::join(request.unfed, ",") + "}");
  bool split = wants(contract::kGradEntry) || wants(contract::kApplyEntry);
  bool training =
      split || wants(contract::kTrainStepEntry) || wants(contract::kEvalEntry);
  if (training || wants(contract::kGraphGradEntry)) {
    addPassPipeline(pm, split ? "dl-derive-gradients,dl-build-train-step{keep-graphs=1 split=1}"
                              : "dl-derive-gradients,dl-build-train-step{keep-graphs=1}");
    // @graph_grad alone (Model::gradients) is the gradient without dropout.
    if (!training)
      addPassPipeline(pm, "func.func(dl-strip-training-ops)");
  }
  addPassPipeline(pm, "canonicalize,cse,dl-export-entries{entries=" +
                          llvm::join(request.entries, ",") + "}");
  // After canonicalize and cse: the checks watch the ops that will run.
  if (options.checkNumerics)
    addPassPipeline(pm, "dl-check-numerics");
}

void dlc::buildLinalgPipeline(mlir::OpPassManager &pm, const CompileOptions &) {
  addPassPipeline(pm, "convert-dl-to-linalg,canonicalize,dl-fuse-elementwise,"
                      "canonicalize,cse");
}

void dlc::buildPipeline(mlir::OpPassManager &pm, Stage from, Stage to,
                        const CompileOptions &options, const Target &target,
                        const EntryRequest &request) {
  assert(from >= Stage::DL && to <= Stage::LLVM && "not a stage of passes");
  auto runs = [&](Stage s) { return from < s && s <= to; };
  if (runs(Stage::Fused))
    buildFusedPipeline(pm, options);
  if (runs(Stage::Grad))
    buildEntryPipeline(pm, options, request);
  if (runs(Stage::Linalg))
    buildLinalgPipeline(pm, options);
  if (runs(Stage::Loops))
    target.buildLoopsPipeline(pm, options);
  if (runs(Stage::LLVM))
    target.buildLLVMPipeline(pm, options);
}
