//===- BuildEval.cpp - the evaluation entry point -------------------------===//
//
// The dl-build-eval pass builds `@eval` from `@graph`: the same signature and
// results, with dropout made the identity and no dl.step_seed, so evaluation
// needs no seed.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "runtime/Contracts.h"

namespace contract = ::dlc::contract;

namespace mlir::dlc {
#define GEN_PASS_DEF_BUILDEVALPASS
#include "passes/Passes.h.inc"

func::FuncOp buildEval(ModuleOp module) {
  SymbolTable symbols(module);
  auto graph = symbols.lookup<func::FuncOp>(contract::kGraphEntry);
  if (!graph || graph.isExternal()) {
    module.emitError("expected a func.func @graph with a body");
    return nullptr;
  }
  if (Operation *old = symbols.lookup(contract::kEvalEntry))
    symbols.erase(old);
  auto eval = cast<func::FuncOp>(graph->clone());
  eval.setSymName(contract::kEvalEntry);
  symbols.insert(eval, std::next(Block::iterator(graph)));
  stripTrainingOps(eval);
  return eval;
}

namespace {
struct BuildEvalPass : public impl::BuildEvalPassBase<BuildEvalPass> {
  using BuildEvalPassBase::BuildEvalPassBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!buildEval(module))
      return signalPassFailure();
    if (!keepGraph)
      SymbolTable(module).erase(
          SymbolTable::lookupSymbolIn(module, contract::kGraphEntry));
  }
};
} // namespace
} // namespace mlir::dlc
