//===- fuzz-parse.cpp - lexer, parser, MLIR generation and shape inference -===//
//
// Any text as a model: it must compile to a verified dl module or stop with
// diagnostics, never crash. The diagnostics are swallowed.
//
//===----------------------------------------------------------------------===//

#include "compiler/Compiler.h"
#include "compiler/Pipelines.h"
#include "frontend/MLIRGen.h"
#include "frontend/Parser.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef source(reinterpret_cast<const char *>(data), size);
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  dlc::registerCompilerDialects(context);
  mlir::ScopedDiagnosticHandler quiet(&context, [](mlir::Diagnostic &) {
    return mlir::success();
  });
  dlc::runOnFrontendStack([&] {
    auto ast = dlc::frontend::parseModule(
        source, "fuzz.dl",
        [](const dlc::frontend::Location &, const llvm::Twine &) {});
    if (!ast)
      return;
    mlir::OwningOpRef<mlir::ModuleOp> module =
        dlc::frontend::mlirGen(context, *ast);
    if (!module)
      return;
    if (mlir::failed(mlir::verify(*module)))
      __builtin_trap(); // MLIR generation must build valid IR or report.
    mlir::PassManager pm(&context);
    dlc::buildDLPipeline(pm, dlc::CompileOptions());
    (void)pm.run(*module);
  });
  return 0;
}
