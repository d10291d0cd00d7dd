//===- HostCode.h - native code for the host, for every target ---*- C++ -*-===//
//
// Every target's host code is CPU code: the CPU target's whole module, the
// launching side of a GPU target. These turn a module in the LLVM dialect
// into code for this host (LLVM IR, an object file or shared module, or a
// JIT-compiled executable), with the packed entry-point wrappers of
// docs/ABI.md and the embedded model description.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_COMPILER_TARGETS_CPU_HOSTCODE_H
#define DLC_COMPILER_TARGETS_CPU_HOSTCODE_H

#include "compiler/CompileOptions.h"
#include "runtime/Executable.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

namespace dlc::cpu {

/// Writes the optimized LLVM IR of `module` for this host.
llvm::Error emitHostLLVMIR(mlir::ModuleOp module, const runtime::ModelSpec &spec,
                           const CompileOptions &options, llvm::raw_ostream &os);

/// Writes an object file, or with `shared` a shared module, to `path`
/// (atomically: a temporary file renamed).
llvm::Error emitHostBinary(mlir::ModuleOp module, const runtime::ModelSpec &spec,
                           const CompileOptions &options, llvm::StringRef path,
                           bool shared);

/// JIT-compiles `module`; the runtime functions it calls are resolved from
/// `symbolTables`.
llvm::Expected<std::unique_ptr<runtime::Executable>>
jitCompileHost(mlir::ModuleOp module, runtime::ModelSpec spec,
               const CompileOptions &options,
               llvm::ArrayRef<runtime::SymbolTable> symbolTables);

/// The host CPU and its enabled features (what LLVM generates code for).
std::string hostCacheKey();

} // namespace dlc::cpu

#endif // DLC_COMPILER_TARGETS_CPU_HOSTCODE_H
