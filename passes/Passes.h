//===- Passes.h - dlc passes ------------------------------------*- C++ -*-===//
//
// Declarations of every dlc pass (generated from Passes.td) and the one
// registration entry point shared by dlc and dlc-opt.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_PASSES_PASSES_H
#define DLC_PASSES_PASSES_H

#include "dialects/DL/IR/DLOps.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Transform/IR/TransformDialect.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::dlc {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

/// Refines the result type of one op from its operands through
/// InferTypeOpInterface. Emits the inference error at the op on failure.
LogicalResult refineResultTypes(Operation *op);

/// Makes every dl.dropout under `root` the identity and erases the
/// dl.step_seed ops left without users (evaluation and inference graphs).
void stripTrainingOps(Operation *root);

/// The module's `@graph`; emits an error and returns null when there is none
/// (or it has no body).
func::FuncOp lookupGraph(ModuleOp module);

/// Clones `graph` into a function `name` placed after it, replacing an
/// existing function of that name (how every entry point starts).
func::FuncOp cloneGraph(func::FuncOp graph, StringRef name);

/// Clones `@graph` into `@eval` (replacing an existing one) and strips its
/// training ops. Emits an error and returns null when there is no `@graph`.
func::FuncOp buildEval(ModuleOp module);

/// The sum of every element of the f32 tensor `x`, a scalar: over every axis
/// but the last first (a vector of partial sums, whose loop the CPU schedule
/// tiles and vectorizes), then over that vector. One sum over every element
/// at once is a serial chain of adds.
Value buildSumAll(OpBuilder &b, Location loc, Value x);

/// Whether fusing elementwise `producer` into `consumer` keeps the fused
/// body within dl-fuse-elementwise's cap (64 ops): fusing a chain copies
/// bodies, so without it a long chain costs quadratic time and one huge op.
bool fusedBodyFits(Operation *producer, Operation *consumer);

/// Whether an op at `loc` runs on the host in a step on a GPU: pinned to
/// the CPU, or lowered or derived from an op that is (contract::kOnHostMark
/// somewhere in the location).
bool isOnHost(Location loc);

/// `loc`, marked as the location of an op that runs on the host.
Location markOnHost(Location loc);

/// Appends a textual pipeline of registered passes to `pm` (a bug in dlc if
/// it does not parse). The text is what `dlc-opt` accepts, so a pipeline
/// can be replayed by hand.
void addPassPipeline(OpPassManager &pm, StringRef text);

/// Registers every dlc pass and pipeline with the global registry.
void registerDLCPasses();

} // namespace mlir::dlc

#endif // DLC_PASSES_PASSES_H
