//===- CPUTarget.h - LLVM dialect to native code ----------------*- C++ -*-===//
//
// The CPU target: translates a module in the LLVM dialect to LLVM IR for the
// host CPU (its real features, from LLVM's host detection), adds the packed
// entry-point wrappers of docs/ABI.md and the embedded model description,
// then JIT-compiles it in-process or writes an object file / shared module.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_COMPILER_TARGETS_CPU_CPUTARGET_H
#define DLC_COMPILER_TARGETS_CPU_CPUTARGET_H

#include "compiler/CompileOptions.h"
#include "runtime/Executable.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

namespace dlc::cpu {

/// JIT-compiles `module` (LLVM dialect) and returns the callable model.
llvm::Expected<std::unique_ptr<runtime::Executable>>
jitCompile(mlir::ModuleOp module, runtime::ModelSpec spec,
           const CompileOptions &options);

/// Writes `module` as a host object file (`shared` = false) or as a shared
/// module the runtime loads with Executable::loadShared.
llvm::Error emitNative(mlir::ModuleOp module, const runtime::ModelSpec &spec,
                       const CompileOptions &options, llvm::StringRef path,
                       bool shared);

/// Translates `module` to textual LLVM IR (for `--emit=llvm`).
llvm::Error emitLLVMIR(mlir::ModuleOp module, const runtime::ModelSpec &spec,
                       const CompileOptions &options, llvm::raw_ostream &os);

} // namespace dlc::cpu

#endif // DLC_COMPILER_TARGETS_CPU_CPUTARGET_H
