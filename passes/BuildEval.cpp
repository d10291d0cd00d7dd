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

func::FuncOp lookupGraph(ModuleOp module) {
  auto graph = module.lookupSymbol<func::FuncOp>(contract::kGraphEntry);
  if (!graph || graph.isExternal()) {
    module.emitError("expected a func.func @graph with a body");
    return nullptr;
  }
  return graph;
}

func::FuncOp cloneGraph(func::FuncOp graph, StringRef name) {
  SymbolTable symbols(graph->getParentOp());
  if (Operation *old = symbols.lookup(name))
    symbols.erase(old);
  auto clone = cast<func::FuncOp>(graph->clone());
  clone.setSymName(name);
  symbols.insert(clone, std::next(Block::iterator(graph)));
  return clone;
}

func::FuncOp buildEval(ModuleOp module) {
  func::FuncOp graph = lookupGraph(module);
  if (!graph)
    return nullptr;
  func::FuncOp eval = cloneGraph(graph, contract::kEvalEntry);
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
