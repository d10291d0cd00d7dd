//===- Train.cpp - dlc train and dlc eval -----------------------------------===//
//
// Placeholder until the trainer lands.
//
//===----------------------------------------------------------------------===//

#include "compiler/tools/dlc/Commands.h"

#include "llvm/Support/raw_ostream.h"

namespace dlc::tool {
int train(const Flags &) {
  llvm::errs() << "dlc: error: 'dlc train' is not built yet\n";
  return 1;
}
int eval(const Flags &) {
  llvm::errs() << "dlc: error: 'dlc eval' is not built yet\n";
  return 1;
}
} // namespace dlc::tool
