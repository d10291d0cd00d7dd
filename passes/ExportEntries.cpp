//===- ExportEntries.cpp - keep only the entry points to compile ------------===//
//
// The dl-export-entries pass ends the entry-point stage: the functions a
// request compiles stay (the targets wrap them as `dlc_NAME`, docs/ABI.md);
// the others (@graph, and entry points not asked for) go.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_EXPORTENTRIESPASS
#include "passes/Passes.h.inc"

namespace {
struct ExportEntriesPass
    : public impl::ExportEntriesPassBase<ExportEntriesPass> {
  using ExportEntriesPassBase::ExportEntriesPassBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (const std::string &name : entries)
      if (!module.lookupSymbol<func::FuncOp>(name)) {
        module.emitError() << "expected an entry point @" << name
                           << " in the module";
        return signalPassFailure();
      }
    SmallVector<func::FuncOp> drop;
    for (auto f : module.getOps<func::FuncOp>())
      if (!llvm::is_contained(entries, f.getSymName().str()))
        drop.push_back(f);
    for (auto f : drop)
      f.erase();
  }
};
} // namespace
} // namespace mlir::dlc
