//===- Export.h - a dl module as a model file -------------------*- C++ -*-===//
//
// `dlc import` writes an imported ONNX model in the model language: one line
// per dl op, names kept from the ONNX graph where they are valid identifiers.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_FRONTEND_ONNX_EXPORT_H
#define DLC_FRONTEND_ONNX_EXPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace dlc::onnx {

/// The model language text of `module`'s @graph and declarations (params
/// declared with zeros(); their values belong in a checkpoint). Fails, with
/// `error` set, on an op the language cannot write.
mlir::FailureOr<std::string> writeModelSource(mlir::ModuleOp module, std::string &error);

} // namespace dlc::onnx

#endif // DLC_FRONTEND_ONNX_EXPORT_H
