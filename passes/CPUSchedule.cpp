//===- CPUSchedule.cpp - apply the CPU transform schedule -------------------===//
//
// The schedule itself is data: passes/CPUSchedule.mlir, a transform-dialect
// library compiled into dlc (or any file given with `schedule-file`). This
// pass parses it once and runs its `@__transform_main` on the module.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Dialect/Transform/IR/TransformDialect.h"
#include "mlir/Dialect/Transform/Interfaces/TransformInterfaces.h"
#include "mlir/Dialect/Transform/Transforms/TransformInterpreterUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/MemoryBuffer.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_CPUSCHEDULEPASS
#include "passes/Passes.h.inc"

namespace {
/// The built-in schedule, passes/CPUSchedule.mlir as a string literal.
constexpr const char kBuiltinSchedule[] =
#include "passes/CPUSchedule.mlir.inc"
    ;

struct CPUSchedulePass : public impl::CPUSchedulePassBase<CPUSchedulePass> {
  using Base::Base;

  LogicalResult initialize(MLIRContext *ctx) override {
    std::string text = kBuiltinSchedule, name = "<dlc cpu schedule>";
    if (!scheduleFile.empty()) {
      auto buffer = llvm::MemoryBuffer::getFile(scheduleFile);
      if (!buffer)
        return emitError(UnknownLoc::get(ctx))
               << "cannot read schedule '" << scheduleFile
               << "': " << buffer.getError().message();
      text = (*buffer)->getBuffer().str();
      name = scheduleFile;
    }
    ParserConfig config(ctx);
    auto library = parseSourceString<ModuleOp>(text, config, name);
    if (!library)
      return failure();
    entry = SymbolTable::lookupSymbolIn(
        *library, transform::TransformDialect::kTransformEntryPointSymbolName);
    if (!entry)
      return emitError(library->getLoc()) << "schedule has no @__transform_main";
    schedule = std::make_shared<OwningOpRef<ModuleOp>>(std::move(library));
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    transform::TransformOptions options;
    if (strict) {
      if (failed(transform::applyTransformNamedSequence(module, entry, **schedule,
                                                        options)))
        signalPassFailure();
      return;
    }
    // Schedule a copy; keep it only if the whole schedule succeeded. A
    // schedule is an optimization: when it cannot handle some shape, the
    // untouched module still compiles through the generic lowering.
    OwningOpRef<ModuleOp> copy(cast<ModuleOp>(module->clone()));
    LogicalResult result = success();
    {
      ScopedDiagnosticHandler silence(&getContext(), [](Diagnostic &) {
        return success();
      });
      result = transform::applyTransformNamedSequence(*copy, entry, **schedule,
                                                      options);
    }
    if (failed(result))
      return;
    module.getBodyRegion().takeBody(copy->getBodyRegion());
  }

  std::shared_ptr<OwningOpRef<ModuleOp>> schedule;
  Operation *entry = nullptr;
};
} // namespace
} // namespace mlir::dlc
