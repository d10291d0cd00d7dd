//===- Target.h - what a code generation backend provides -------*- C++ -*-===//
//
// The compiler's generic pipeline ends at linalg on tensors; everything
// below belongs to a target: its schedule (tiling, fusion tiling, vector or
// GPU mapping all start from linalg on tensors), bufferization, the lowering
// to the LLVM dialect and what it makes of that (a JIT object, an object
// file, a shared module, PTX). The rest of the compiler meets a target only
// through this interface and the registry below (IREE's TargetBackend,
// reduced to what dlc needs); each target lives in compiler/targets/NAME/.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_COMPILER_TARGETS_TARGET_H
#define DLC_COMPILER_TARGETS_TARGET_H

#include "compiler/CompileOptions.h"
#include "compiler/Stage.h"
#include "runtime/Executable.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>

namespace dlc {

class Target {
public:
  virtual ~Target() = default;

  /// The `--target=` name.
  virtual llvm::StringRef name() const = 0;

  /// Linalg on tensors to bufferized loops (Stage::Loops): the target's
  /// schedule, bufferization and its own buffer-level passes.
  virtual void buildLoopsPipeline(mlir::OpPassManager &pm,
                                  const CompileOptions &options) const = 0;

  /// Loops to the LLVM dialect (host code, and device modules for a GPU).
  virtual void buildLLVMPipeline(mlir::OpPassManager &pm,
                                 const CompileOptions &options) const = 0;

  /// Whether this target writes `stage` (LLVM and later stages differ by
  /// target: the CPU has no PTX).
  virtual bool hasStage(Stage stage) const = 0;

  /// Writes a text stage after the LLVM dialect (Stage::LLVM: LLVM IR;
  /// Stage::PTX) of `module`, which is in the LLVM dialect.
  virtual llvm::Error emitText(mlir::ModuleOp module,
                               const runtime::ModelSpec &spec,
                               const CompileOptions &options, Stage stage,
                               llvm::raw_ostream &os) const = 0;

  /// Writes an object file (Stage::Obj) or a shared module (Stage::Module)
  /// to `path`, atomically.
  virtual llvm::Error emitBinary(mlir::ModuleOp module,
                                 const runtime::ModelSpec &spec,
                                 const CompileOptions &options, Stage stage,
                                 llvm::StringRef path) const = 0;

  /// Compiles `module` in-process and returns the callable model.
  virtual llvm::Expected<std::unique_ptr<runtime::Executable>>
  jitCompile(mlir::ModuleOp module, runtime::ModelSpec spec,
             const CompileOptions &options) const = 0;

  /// What the generated code depends on beyond the options and the model
  /// (the host CPU and its features; a GPU architecture): part of the
  /// compile cache's key.
  virtual std::string cacheKey(const CompileOptions &options) const = 0;
};

/// The target named `name`: an error naming the targets built into this
/// dlc when there is no such target or it was not built.
llvm::Expected<const Target &> lookupTarget(llvm::StringRef name);

/// The names of the targets built into this dlc ("cpu", ...).
std::string builtTargetNames();

/// Registers the passes of every built target (dlc-opt runs them alone).
void registerTargetPasses();

} // namespace dlc

#endif // DLC_COMPILER_TARGETS_TARGET_H
