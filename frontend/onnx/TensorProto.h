//===- TensorProto.h - ONNX TensorProto files and graph signatures -*- C++ -*-===//
//
// The runtime side of dlc's ONNX support, without MLIR: reading and writing
// ONNX TensorProto files (`input_N.pb` / `output_N.pb`, the layout of ONNX's
// own test data), converting ONNX tensors to runtime Tensors (int64 to i32,
// range-checked), and the names and element types of a model's graph inputs
// and outputs as the importer names them. Built with exceptions: protobuf and
// the ONNX library may throw, and nothing thrown leaves these functions.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_FRONTEND_ONNX_TENSORPROTO_H
#define DLC_FRONTEND_ONNX_TENSORPROTO_H

#include "runtime/Status.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <string>
#include <vector>

namespace onnx {
class ModelProto;
class TensorProto;
} // namespace onnx

namespace dlc::onnx {

using runtime::Status;
using runtime::StatusOr;
using runtime::Tensor;

/// ONNX element types (TensorProto.DataType) dlc reads and writes.
inline constexpr int32_t kFloatType = 1, kInt32Type = 6, kInt64Type = 7;

/// The ONNX element type of a runtime dtype (FLOAT or INT32).
inline int32_t elementTypeOf(runtime::DType dtype) {
  return dtype == runtime::DType::F32 ? kFloatType : kInt32Type;
}

/// The name of an ONNX element type (`FLOAT`, `INT64`, ...; `type N` for an
/// unknown one).
std::string elementTypeName(int32_t type);

/// True for the ONNX element types dlc computes in: FLOAT (f32) and INT64 /
/// INT32 (i32 inside).
bool isSupportedElementType(int32_t type);

/// A valid identifier of the model language made from an ONNX name
/// (`conv1.weight` -> `conv1_weight`, `0` -> `t0`). Distinct names may map
/// to one identifier; the importer makes them unique in graph order.
std::string identifierFor(const std::string &name);

/// The elements of `proto` as a runtime Tensor: FLOAT as f32, INT64 and INT32
/// as i32 (an error names the first value outside i32's range). Raw and
/// typed data and external data (resolved against `baseDir`) are read.
/// `what` names the tensor in errors.
StatusOr<Tensor> tensorFromProto(const ::onnx::TensorProto &proto,
                                 const std::string &baseDir,
                                 const std::string &what);

/// The elements of an integer (INT64, INT32) tensor as int64 values, for
/// shapes and axes.
StatusOr<std::vector<int64_t>> intsFromProto(const ::onnx::TensorProto &proto,
                                             const std::string &baseDir,
                                             const std::string &what);

/// Reads a TensorProto file (`input_0.pb`) as a runtime Tensor.
StatusOr<Tensor> readTensorFile(const std::string &path);

/// Writes `value` to `path` as a TensorProto named `name` of ONNX element
/// type `type` (FLOAT, INT64 or INT32; i32 values widen to INT64).
Status writeTensorFile(const std::string &path, const Tensor &value,
                       const std::string &name, int32_t type);

/// One graph input (not an initializer) or output of an ONNX model.
struct GraphValue {
  std::string onnxName; ///< as in the file
  std::string name;     ///< the identifier dlc gives it
  int32_t type = 0;     ///< ONNX element type
};

/// The inputs and outputs of an ONNX model's graph.
struct GraphSignature {
  std::vector<GraphValue> inputs, outputs;
  /// The op types of the graph's nodes, sorted, each once.
  std::vector<std::string> opTypes;
};

/// The signature of a parsed model: inputs (initializers excluded) then
/// outputs, named by identifierFor() and made unique in that order.
GraphSignature signatureOf(const ::onnx::ModelProto &model);

/// Reads the signature of the ONNX model at `path`.
StatusOr<GraphSignature> readSignature(const std::string &path);

/// True when `path` names an ONNX model (its extension is `.onnx`).
bool isONNXFile(const std::string &path);

} // namespace dlc::onnx

#endif // DLC_FRONTEND_ONNX_TENSORPROTO_H
