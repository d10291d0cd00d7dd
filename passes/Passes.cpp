//===- Passes.cpp - dlc pass registration -----------------------------------===//
//
// The single registration point for dlc passes, used by dlc and dlc-opt.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

namespace mlir::dlc {
namespace {
#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"
} // namespace

void registerDLCPasses() { registerDLCGenPasses(); }

void addPassPipeline(OpPassManager &pm, StringRef text) {
  // The pipelines are fixed strings of registered passes: failing to parse
  // them is a bug in dlc, not a user error.
  if (failed(parsePassPipeline(text, pm, llvm::errs())))
    llvm::report_fatal_error("dlc: invalid built-in pipeline");
}
} // namespace mlir::dlc
