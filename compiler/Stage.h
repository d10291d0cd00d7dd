//===- Stage.h - the stages of compilation, in pipeline order ---*- C++ -*-===//
//
// One ladder of stages from the parsed model to the target's binary. The
// `--emit=` flag names a stage, the compiler runs its pipeline up to that
// stage and stops, and the tests stop at the stage they check. No MLIR or
// LLVM here: the ladder is public through compiler/JIT.h.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_COMPILER_STAGE_H
#define DLC_COMPILER_STAGE_H

#include <optional>
#include <string>
#include <string_view>

namespace dlc {

/// Stages in pipeline order; each one's pipeline starts from the one before.
enum class Stage {
  AST,    ///< the syntax tree with source positions (no semantic checks)
  DL,     ///< the dl dialect: @graph, shape-inferred and canonicalized
  Fused,  ///< dl after fusion (conv + bias + activation + pool as one op)
  Grad,   ///< the entry points: @run, @graph_grad, @train_step, @eval
  Linalg, ///< linalg, tensor, arith and math on tensors
  Loops,  ///< the target's schedule applied, bufferized, loops on memrefs
  LLVM,   ///< LLVM IR of the host code (the target translates the LLVM dialect)
  PTX,    ///< PTX of the device kernels (the CUDA target)
  Obj,    ///< an object file
  Module, ///< a shared module that dlc-rt and Executable::loadShared load
};

/// The `--emit=` name of each stage, in order.
inline constexpr std::string_view kStageNames[] = {
    "ast", "dl", "fused", "grad", "linalg", "loops", "llvm", "ptx", "obj", "module"};

inline std::string_view stageName(Stage stage) {
  return kStageNames[static_cast<int>(stage)];
}

/// The stage named `name`, or nothing if there is none.
inline std::optional<Stage> parseStage(std::string_view name) {
  for (int i = 0, e = sizeof(kStageNames) / sizeof(kStageNames[0]); i < e; ++i)
    if (kStageNames[i] == name)
      return static_cast<Stage>(i);
  return std::nullopt;
}

/// "ast, dl, ..., obj or module", for messages and help.
inline std::string stageList() {
  std::string list;
  constexpr int n = sizeof(kStageNames) / sizeof(kStageNames[0]);
  for (int i = 0; i < n; ++i) {
    if (i)
      list += i == n - 1 ? " or " : ", ";
    list += kStageNames[i];
  }
  return list;
}

/// Stages written to a file rather than printed as text.
inline bool isBinaryStage(Stage stage) {
  return stage == Stage::Obj || stage == Stage::Module;
}

} // namespace dlc

#endif // DLC_COMPILER_STAGE_H
