//===- Passes.cpp - dlc pass registration -----------------------------------===//
//
// The single registration point for dlc passes, used by dlc and dlc-opt.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

namespace mlir::dlc {
namespace {
#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"
} // namespace

void registerDLCPasses() { registerDLCGenPasses(); }
} // namespace mlir::dlc
