//===- Patterns.h - dl to linalg patterns -----------------------*- C++ -*-===//
//
// The patterns that lower dl ops to linalg on tensors, for reuse by any pass
// or pipeline (the convert-dl-to-linalg pass only drives them).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_PASSES_CONVERSION_DLTOLINALG_PATTERNS_H
#define DLC_PASSES_CONVERSION_DLTOLINALG_PATTERNS_H

#include "mlir/IR/PatternMatch.h"

namespace mlir::dlc {
/// Adds the patterns lowering every computational dl op to linalg, tensor,
/// arith and math ops on tensors.
void populateDLToLinalgPatterns(RewritePatternSet &patterns);
} // namespace mlir::dlc

#endif // DLC_PASSES_CONVERSION_DLTOLINALG_PATTERNS_H
