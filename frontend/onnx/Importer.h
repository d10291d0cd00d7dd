//===- Importer.h - ONNX models to the dl dialect ---------------*- C++ -*-===//
//
// The second frontend: an ONNX model file becomes a dl module like the one
// MLIRGen builds from the model language. Graph inputs become dl.input,
// float initializers dl.param (literal values, so they train and checkpoint
// like any param), nodes dl ops in NHWC where ONNX is NCHW, graph outputs
// results with role `output`. ONNX's int64 tensors are i32 inside.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_FRONTEND_ONNX_IMPORTER_H
#define DLC_FRONTEND_ONNX_IMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

namespace dlc::onnx {

/// Imports the ONNX model whose file is `path` and whose bytes are `bytes`.
/// The file is parsed, checked by ONNX's checker and mapped node by node;
/// every error (a file that is not ONNX, a failed check, missing external
/// data, and every node dlc does not support, all listed in one error) is
/// an MLIR diagnostic naming the file. Returns null on error.
mlir::OwningOpRef<mlir::ModuleOp> importModel(mlir::MLIRContext &context,
                                              llvm::StringRef path,
                                              llvm::StringRef bytes);

/// The newest default-domain opset the importer maps (the ONNX library's).
int64_t newestOpset();

/// The oldest default-domain opset the importer claims. Older models are
/// imported too where their nodes mean what they mean at opset 7 (no
/// broadcast along an axis, the inference form of BatchNormalization and
/// Dropout).
inline constexpr int64_t kOldestOpset = 7;

} // namespace dlc::onnx

#endif // DLC_FRONTEND_ONNX_IMPORTER_H
