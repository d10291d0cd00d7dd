//===- BuildEval.cpp - the evaluation entry point -------------------------===//
//
// The dl-build-eval pass builds `@eval` from `@graph`: the same signature and
// results, with dropout made the identity and no dl.step_seed, so evaluation
// needs no seed.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_BUILDEVALPASS
#include "passes/Passes.h.inc"

func::FuncOp buildEval(ModuleOp module) {
  SymbolTable symbols(module);
  auto graph = symbols.lookup<func::FuncOp>("graph");
  if (!graph || graph.isExternal()) {
    module.emitError("expected a func.func @graph with a body");
    return nullptr;
  }
  if (Operation *old = symbols.lookup("eval"))
    symbols.erase(old);
  auto eval = cast<func::FuncOp>(graph->clone());
  eval.setSymName("eval");
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
      SymbolTable(module).erase(SymbolTable::lookupSymbolIn(module, "graph"));
  }
};
} // namespace
} // namespace mlir::dlc
