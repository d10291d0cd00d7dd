//===- Target.cpp - the registry of targets ---------------------------------===//
//
// Every target dlc knows, and whether this build has it. Adding a target is
// a folder under compiler/targets/ and one line here.
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/Target.h"

#include "compiler/targets/cpu/CPUTarget.h"
#include "compiler/targets/cuda/CUDATarget.h"

using namespace dlc;

namespace {
struct TargetEntry {
  llvm::StringLiteral name;
  /// The target, or null when this build does not have it.
  const Target *(*get)();
  void (*registerPasses)();
};

const TargetEntry kTargets[] = {
    {"cpu", cpu::getTarget, cpu::registerPasses},
    {"cuda", cuda::getTarget, cuda::registerPasses},
    // For tests: the CUDA target's mapped loops on the host (its passes are
    // the CUDA target's).
    {"cuda-emulated", cuda::getEmulatedTarget, nullptr},
};
} // namespace

std::string dlc::builtTargetNames() {
  std::string names;
  for (const TargetEntry &t : kTargets)
    if (t.get)
      names += (names.empty() ? "" : ", ") + t.name.str();
  return names;
}

llvm::Expected<const Target &> dlc::lookupTarget(llvm::StringRef name) {
  for (const TargetEntry &t : kTargets) {
    if (t.name != name)
      continue;
    if (!t.get)
      return llvm::createStringError("the " + name + " target is not built into "
                                     "this dlc; built targets: " +
                                     builtTargetNames());
    return *t.get();
  }
  return llvm::createStringError("unknown target '" + name +
                                 "'; built targets: " + builtTargetNames());
}

void dlc::registerTargetPasses() {
  for (const TargetEntry &t : kTargets)
    if (t.registerPasses)
      t.registerPasses();
}
