//===- dlc-opt.cpp - mlir-opt with the dl dialect and dlc passes ------------===//
//
// The lit workhorse: every upstream dialect and pass, plus dl and dlc's own
// passes and pipelines.
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/Target.h"
#include "passes/Passes.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<mlir::dl::DLDialect>();
  mlir::registerAllPasses();
  mlir::dlc::registerDLCPasses();
  dlc::registerTargetPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "dlc optimizer driver\n", registry));
}
