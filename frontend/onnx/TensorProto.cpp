//===- TensorProto.cpp - ONNX TensorProto files and graph signatures ------===//
//
// Every protobuf or ONNX call that can throw is inside a try block here;
// callers see Status values only.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/TensorProto.h"

#include "runtime/LanguageFacts.h"
#include "runtime/Outputs.h"

#include "onnx/onnx_pb.h"

#include <cctype>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include <unistd.h>

namespace dlc::onnx {

using ::onnx::TensorProto;

std::string elementTypeName(int32_t type) {
  if (TensorProto::DataType_IsValid(type))
    return TensorProto::DataType_Name(static_cast<TensorProto::DataType>(type));
  return "type " + std::to_string(type);
}

bool isSupportedElementType(int32_t type) {
  return type == TensorProto::FLOAT || type == TensorProto::INT64 ||
         type == TensorProto::INT32;
}

std::string identifierFor(const std::string &name) {
  std::string id;
  for (char c : name)
    id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  if (id.empty() || std::isdigit(static_cast<unsigned char>(id[0])))
    id = "t" + id;
  // Declaration keywords, ops and initializers cannot be bound by name.
  static const std::set<std::string> keywords = {
      "model", "input", "param", "def", "loss", "metric", "output", "data", "train"};
  if (keywords.count(id) || language::findOp(id) || language::findInitializer(id))
    id += "_";
  return id;
}

bool isONNXFile(const std::string &path) {
  return path.size() > 5 && path.compare(path.size() - 5, 5, ".onnx") == 0;
}

/// Reads the bytes of a tensor stored outside the model file.
static StatusOr<std::string> readExternal(const TensorProto &proto,
                                          const std::string &baseDir,
                                          const std::string &what) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &entry : proto.external_data()) {
    if (entry.key() == "location")
      location = entry.value();
    else if (entry.key() == "offset")
      offset = std::stoll(entry.value());
    else if (entry.key() == "length")
      length = std::stoll(entry.value());
  }
  if (location.empty())
    return Status::error(what + ": external data without a location");
  if (location.find("..") != std::string::npos || location[0] == '/')
    return Status::error(what + ": external data location '" + location +
                         "' is outside the model's folder");
  std::string path = baseDir.empty() ? location : baseDir + "/" + location;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::error(what + ": cannot read its external data file '" + path + "'");
  in.seekg(0, std::ios::end);
  int64_t size = in.tellg();
  if (length < 0)
    length = size - offset;
  if (offset < 0 || length < 0 || offset + length > size)
    return Status::error(what + ": external data file '" + path + "' has " +
                         std::to_string(size) + " bytes; the tensor needs " +
                         std::to_string(length) + " at offset " + std::to_string(offset));
  std::string bytes(static_cast<size_t>(length), '\0');
  in.seekg(offset);
  in.read(bytes.data(), length);
  if (!in)
    return Status::error(what + ": cannot read its external data file '" + path + "'");
  return bytes;
}

/// The raw little-endian bytes of `proto`, or empty with `typed` set when
/// its elements are in the typed fields.
static StatusOr<std::string> rawBytes(const TensorProto &proto,
                                      const std::string &baseDir,
                                      const std::string &what) {
  if (proto.data_location() == TensorProto::EXTERNAL)
    return readExternal(proto, baseDir, what);
  return proto.raw_data();
}

static StatusOr<std::vector<int64_t>> shapeOf(const TensorProto &proto,
                                              const std::string &what) {
  std::vector<int64_t> shape(proto.dims().begin(), proto.dims().end());
  if (runtime::checkedNumElements(shape) < 0)
    return Status::error(what + ": invalid shape " + runtime::formatShape(shape));
  return shape;
}

template <class T>
static Status elementsAs(const TensorProto &proto, const std::string &baseDir,
                         const std::string &what, int64_t count,
                         std::vector<T> &out) {
  auto raw = rawBytes(proto, baseDir, what);
  if (!raw.ok())
    return raw.status();
  bool typed = raw->empty() && proto.data_location() != TensorProto::EXTERNAL;
  if (!typed) {
    if (raw->size() != static_cast<size_t>(count) * sizeof(T))
      return Status::error(what + ": " + std::to_string(raw->size()) +
                           " bytes of data for " + std::to_string(count) +
                           " elements of " + elementTypeName(proto.data_type()));
    out.resize(count);
    std::memcpy(out.data(), raw->data(), raw->size());
    return Status::success();
  }
  auto take = [&](const auto &field) {
    out.assign(field.begin(), field.end());
  };
  if constexpr (std::is_same_v<T, float>)
    take(proto.float_data());
  else if constexpr (std::is_same_v<T, int64_t>)
    take(proto.int64_data());
  else
    take(proto.int32_data());
  if (static_cast<int64_t>(out.size()) != count)
    return Status::error(what + ": " + std::to_string(out.size()) +
                         " values for a tensor of " + std::to_string(count) +
                         " elements");
  return Status::success();
}

StatusOr<std::vector<int64_t>> intsFromProto(const TensorProto &proto,
                                             const std::string &baseDir,
                                             const std::string &what) {
  try {
    auto shape = shapeOf(proto, what);
    if (!shape.ok())
      return shape.status();
    std::vector<int64_t> values;
    int64_t count = runtime::checkedNumElements(*shape);
    if (proto.data_type() == TensorProto::INT64) {
      if (Status s = elementsAs(proto, baseDir, what, count, values); !s.ok())
        return s;
    } else if (proto.data_type() == TensorProto::INT32) {
      std::vector<int32_t> narrow;
      if (Status s = elementsAs(proto, baseDir, what, count, narrow); !s.ok())
        return s;
      values.assign(narrow.begin(), narrow.end());
    } else {
      return Status::error(what + ": expected an integer tensor, got " +
                           elementTypeName(proto.data_type()));
    }
    return values;
  } catch (const std::exception &e) {
    return Status::error(what + ": " + e.what());
  }
}

StatusOr<Tensor> tensorFromProto(const TensorProto &proto,
                                 const std::string &baseDir,
                                 const std::string &what) {
  int32_t type = proto.data_type();
  if (type != TensorProto::FLOAT && type != TensorProto::INT64 &&
      type != TensorProto::INT32)
    return Status::error(what + ": element type " + elementTypeName(type) +
                         " is not supported (dlc computes in f32 and i32; "
                         "FLOAT, INT64 and INT32 tensors are read)");
  std::vector<int64_t> shape(proto.dims().begin(), proto.dims().end());
  if (type != TensorProto::FLOAT) {
    auto values = intsFromProto(proto, baseDir, what);
    if (!values.ok())
      return values.status();
    std::vector<int32_t> narrow;
    narrow.reserve(values->size());
    for (int64_t v : *values) {
      if (v < std::numeric_limits<int32_t>::min() ||
          v > std::numeric_limits<int32_t>::max())
        return Status::error(what + ": the value " + std::to_string(v) +
                             " does not fit in i32, which dlc computes "
                             "integers in");
      narrow.push_back(static_cast<int32_t>(v));
    }
    return Tensor::fromVector(shape, narrow);
  }
  try {
    if (runtime::checkedNumElements(shape) < 0)
      return Status::error(what + ": invalid shape " + runtime::formatShape(shape));
    std::vector<float> values;
    if (Status s = elementsAs(proto, baseDir, what,
                              runtime::checkedNumElements(shape), values);
        !s.ok())
      return s;
    return Tensor::fromVector(shape, values);
  } catch (const std::exception &e) {
    return Status::error(what + ": " + e.what());
  }
}

/// Reads a whole file; `what` describes it in errors.
static StatusOr<std::string> readFile(const std::string &path,
                                      const std::string &what) {
  // A regular file only (a FIFO would block, a device read forever).
  auto fd = runtime::openRegularFile(path);
  if (!fd.ok())
    return Status::error(path + ": cannot read the " + what + ": " + fd.status().message());
  ::close(*fd);
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::error(path + ": cannot read the " + what);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

static std::string folderOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

StatusOr<Tensor> readTensorFile(const std::string &path) {
  auto bytes = readFile(path, "tensor file");
  if (!bytes.ok())
    return bytes.status();
  TensorProto proto;
  try {
    if (!proto.ParseFromString(*bytes))
      return Status::error(path + ": not an ONNX TensorProto file (truncated "
                                  "or another format)");
  } catch (const std::exception &e) {
    return Status::error(path + ": " + e.what());
  }
  return tensorFromProto(proto, folderOf(path), path);
}

Status writeTensorFile(const std::string &path, const Tensor &value,
                       const std::string &name, int32_t type) {
  TensorProto proto;
  try {
    proto.set_name(name);
    for (int64_t d : value.shape())
      proto.add_dims(d);
    proto.set_data_type(type);
    std::string raw;
    if (value.dtype() == runtime::DType::F32) {
      if (type != TensorProto::FLOAT)
        return Status::error(path + ": output '" + name + "' is f32 but the "
                             "model declares it " + elementTypeName(type));
      raw.assign(static_cast<const char *>(value.rawData()), value.byteSize());
    } else if (type == TensorProto::INT64) {
      std::vector<int64_t> wide(value.data<int32_t>(),
                                value.data<int32_t>() + value.numElements());
      raw.assign(reinterpret_cast<const char *>(wide.data()), wide.size() * 8);
    } else if (type == TensorProto::INT32) {
      raw.assign(static_cast<const char *>(value.rawData()), value.byteSize());
    } else {
      return Status::error(path + ": output '" + name + "' is i32 but the "
                           "model declares it " + elementTypeName(type));
    }
    proto.set_raw_data(raw);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out || !proto.SerializeToOstream(&out))
      return Status::error(path + ": cannot write the tensor file");
  } catch (const std::exception &e) {
    return Status::error(path + ": " + e.what());
  }
  return Status::success();
}

GraphSignature signatureOf(const ::onnx::ModelProto &model) {
  std::set<std::string> initialized;
  for (const TensorProto &t : model.graph().initializer())
    initialized.insert(t.name());
  GraphSignature sig;
  std::set<std::string> used;
  auto add = [&](const ::onnx::ValueInfoProto &v, std::vector<GraphValue> &to) {
    GraphValue g;
    g.onnxName = v.name();
    g.name = identifierFor(v.name());
    while (!used.insert(g.name).second)
      g.name += "_";
    g.type = v.type().tensor_type().elem_type();
    to.push_back(std::move(g));
  };
  for (const auto &v : model.graph().input())
    if (!initialized.count(v.name()))
      add(v, sig.inputs);
  for (const auto &v : model.graph().output())
    add(v, sig.outputs);
  std::set<std::string> ops;
  for (const auto &n : model.graph().node())
    ops.insert(n.op_type());
  sig.opTypes.assign(ops.begin(), ops.end());
  return sig;
}

StatusOr<GraphSignature> readSignature(const std::string &path) {
  auto bytes = readFile(path, "ONNX model");
  if (!bytes.ok())
    return bytes.status();
  ::onnx::ModelProto model;
  try {
    if (!model.ParseFromString(*bytes))
      return Status::error(path + ": not an ONNX model (truncated or another format)");
    return signatureOf(model);
  } catch (const std::exception &e) {
    return Status::error(path + ": " + e.what());
  }
}

} // namespace dlc::onnx
