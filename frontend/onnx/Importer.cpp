//===- Importer.cpp - ONNX models to the dl dialect -----------------------===//
//
// Parses the file (protobuf), runs ONNX's checker (which throws: this file
// is built with exceptions and catches them here, at the frontend's edge),
// then maps each node to dl ops. A node that cannot be mapped does not stop
// the import: its outputs are marked unavailable, the reason is recorded, and
// all reasons are reported at the end in one error. Layout: ONNX is NCHW with
// OIHW filters, dl's convolutions and pools are NHWC with HWIO filters, so a
// Conv or pool is wrapped in transposes (canonicalization folds the pairs
// that meet). 1-D convolutions and pools run as 2-D ones of height 1.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/Importer.h"

#include "frontend/MLIRGen.h"
#include "frontend/onnx/TensorProto.h"
#include "dialects/DL/IR/DLOps.h"
#include "runtime/Contracts.h"
#include "runtime/LanguageFacts.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"

#include "onnx/checker.h"
#include "onnx/defs/schema.h"
#include "onnx/onnx_pb.h"

#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <set>

namespace dlc::onnx {

using ::onnx::AttributeProto;
using ::onnx::NodeProto;
using ::onnx::TensorProto;
using mlir::NamedAttribute;
using mlir::RankedTensorType;
using mlir::Value;
using llvm::SmallVector;

int64_t newestOpset() {
  const auto &map = ::onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  auto it = map.find(::onnx::ONNX_DOMAIN);
  return it == map.end() ? 17 : it->second.second;
}

namespace {

constexpr int64_t kDyn = mlir::ShapedType::kDynamic;

/// Raised inside a node's mapping to give up on the node with a reason.
struct Unsupported {
  std::string reason;
};

class Importer {
public:
  Importer(mlir::MLIRContext &context, llvm::StringRef path)
      : context(context), b(&context), path(path.str()),
        fileLoc(mlir::FileLineColLoc::get(&context, path, 0, 0)) {
    size_t slash = this->path.rfind('/');
    baseDir = slash == std::string::npos ? "" : this->path.substr(0, slash);
  }

  mlir::OwningOpRef<mlir::ModuleOp> run(llvm::StringRef bytes);

private:
  mlir::MLIRContext &context;
  mlir::OpBuilder b;
  std::string path, baseDir;
  mlir::Location fileLoc;
  ::onnx::ModelProto model;
  int64_t opset = 0;
  mlir::ModuleOp module;
  mlir::Block *body = nullptr;
  SmallVector<mlir::Attribute> argAttrs;
  std::set<std::string> usedNames;

  std::map<std::string, Value> values;
  std::map<std::string, const TensorProto *> initializers;
  /// Integer values known at import time (initializers, Constant, Shape).
  std::map<std::string, std::vector<int64_t>> knownInts;
  /// Values that could not be produced, with the reason.
  std::map<std::string, std::string> unavailable;
  /// One line per node that could not be mapped.
  std::vector<std::string> failures;

  // The node being mapped.
  const NodeProto *node = nullptr;
  int nodeIndex = 0;
  mlir::Location loc = fileLoc;
  std::string diagText;

  //===--------------------------------------------------------------------===//
  // Errors
  //===--------------------------------------------------------------------===//

  [[noreturn]] void unsupported(const std::string &reason) {
    throw Unsupported{reason};
  }

  std::string describeNode(const NodeProto &n) {
    std::string name = n.name().empty() ? "#" + std::to_string(nodeIndex) + " "
                                        : "'" + n.name() + "' ";
    std::string domain = n.domain().empty() || n.domain() == "ai.onnx"
                             ? ""
                             : n.domain() + ".";
    return "node " + name + "(" + domain + n.op_type() + ", opset " +
           std::to_string(opsetOf(n)) + ")";
  }

  int64_t opsetOf(const NodeProto &n) {
    for (const auto &o : model.opset_import())
      if (o.domain() == n.domain() ||
          (n.domain().empty() && o.domain() == "ai.onnx") ||
          (n.domain() == "ai.onnx" && o.domain().empty()))
        return o.version();
    return 0;
  }

  //===--------------------------------------------------------------------===//
  // Attributes and inputs of the current node
  //===--------------------------------------------------------------------===//

  const AttributeProto *findAttr(llvm::StringRef name) {
    for (const AttributeProto &a : node->attribute())
      if (a.name() == name)
        return &a;
    return nullptr;
  }
  int64_t attrInt(llvm::StringRef name, int64_t dflt) {
    const AttributeProto *a = findAttr(name);
    return a ? a->i() : dflt;
  }
  float attrFloat(llvm::StringRef name, float dflt) {
    const AttributeProto *a = findAttr(name);
    return a ? a->f() : dflt;
  }
  std::string attrString(llvm::StringRef name, const std::string &dflt) {
    const AttributeProto *a = findAttr(name);
    return a ? a->s() : dflt;
  }
  std::optional<std::vector<int64_t>> attrInts(llvm::StringRef name) {
    const AttributeProto *a = findAttr(name);
    if (!a)
      return std::nullopt;
    return std::vector<int64_t>(a->ints().begin(), a->ints().end());
  }

  bool hasInput(int i) {
    return i < node->input_size() && !node->input(i).empty();
  }
  int numInputs() { return node->input_size(); }

  /// The value of input `i` (initializers become params or constants the
  /// first time they are used).
  Value input(int i) {
    if (!hasInput(i))
      unsupported("input " + std::to_string(i) + " is missing");
    return valueOf(node->input(i));
  }

  Value valueOf(const std::string &name) {
    if (auto it = values.find(name); it != values.end())
      return it->second;
    if (auto it = unavailable.find(name); it != unavailable.end())
      unsupported("its input '" + name + "' is unavailable (" + it->second + ")");
    if (auto it = initializers.find(name); it != initializers.end())
      return values[name] = materialize(*it->second);
    unsupported("its input '" + name + "' is not defined");
  }

  /// The integers of input `i`, which must be known at import time.
  std::vector<int64_t> constInts(int i, const char *what) {
    if (!hasInput(i))
      unsupported(std::string("the ") + what + " input is missing");
    const std::string &name = node->input(i);
    if (auto it = knownInts.find(name); it != knownInts.end())
      return it->second;
    unsupported(std::string("its ") + what + " ('" + name +
                "') must be a constant or an initializer");
  }

  //===--------------------------------------------------------------------===//
  // Building dl ops
  //===--------------------------------------------------------------------===//

  NamedAttribute attr(llvm::StringRef name, mlir::Attribute value) {
    return b.getNamedAttr(name, value);
  }
  mlir::Attribute ints(llvm::ArrayRef<int64_t> v) { return b.getDenseI64ArrayAttr(v); }

  Value op(llvm::StringRef name, mlir::ValueRange operands,
           llvm::ArrayRef<NamedAttribute> attrs = {}) {
    diagText.clear();
    Value v = frontend::createDLOp(b, name, loc, operands, attrs);
    if (!v)
      unsupported("dl." + name.str() + ": " + diagText);
    return v;
  }

  RankedTensorType typeOf(Value v) { return llvm::cast<RankedTensorType>(v.getType()); }
  SmallVector<int64_t> shapeOf(Value v) { return SmallVector<int64_t>(typeOf(v).getShape()); }
  int64_t rankOf(Value v) { return typeOf(v).getRank(); }
  bool isFloat(Value v) { return typeOf(v).getElementType().isF32(); }

  Value scalar(float x) {
    auto t = RankedTensorType::get({}, b.getF32Type());
    return op("constant", {}, {attr("value", mlir::DenseElementsAttr::get(t, x))});
  }
  Value constantTensor(llvm::ArrayRef<int64_t> shape, llvm::ArrayRef<float> data) {
    auto t = RankedTensorType::get(shape, b.getF32Type());
    return op("constant", {}, {attr("value", mlir::DenseElementsAttr::get(t, data))});
  }
  Value binary(llvm::StringRef name, Value l, Value r) { return op(name, {l, r}); }
  Value unary(llvm::StringRef name, Value x) { return op(name, {x}); }
  Value transpose(Value v, llvm::ArrayRef<int64_t> perm) {
    return op("transpose", {v}, {attr("perm", ints(perm))});
  }
  /// Reshapes to `shape`, where kDynamic (at most one) stays symbolic.
  Value reshape(Value v, llvm::ArrayRef<int64_t> shape) {
    SmallVector<int64_t> s(shape);
    if (llvm::count(s, kDyn) > 1)
      unsupported("a reshape to " + std::to_string(llvm::count(s, kDyn)) +
                  " dynamic dimensions");
    for (int64_t &d : s)
      if (d == kDyn)
        d = -1;
    if (llvm::ArrayRef<int64_t>(shapeOf(v)) == shape)
      return v;
    return op("reshape", {v}, {attr("shape", ints(s))});
  }
  Value requireFloat(Value v, const char *what) {
    if (!isFloat(v))
      unsupported(std::string(what) + " must be FLOAT");
    return v;
  }
  int64_t normAxis(int64_t axis, int64_t rank) {
    if (axis < -rank || axis >= rank)
      unsupported("axis " + std::to_string(axis) + " is out of range for rank " +
                  std::to_string(rank));
    return axis < 0 ? axis + rank : axis;
  }
  int64_t staticDim(Value v, int64_t i, const char *what) {
    int64_t d = typeOf(v).getDimSize(i);
    if (d == kDyn)
      unsupported(std::string(what) + " needs a static dimension " + std::to_string(i));
    return d;
  }

  //===--------------------------------------------------------------------===//
  // Declarations
  //===--------------------------------------------------------------------===//

  std::string uniqueName(const std::string &onnxName) {
    std::string id = identifierFor(onnxName);
    while (!usedNames.insert(id).second)
      id += "_";
    return id;
  }

  Value materialize(const TensorProto &t);
  bool declareInput(const ::onnx::ValueInfoProto &v, const std::string &name);

  //===--------------------------------------------------------------------===//
  // Node mapping
  //===--------------------------------------------------------------------===//

  void mapNode(const NodeProto &n);
  SmallVector<Value> mapOp(const std::string &type);

  struct Window {
    SmallVector<int64_t, 2> kernel, strides;
    /// dl order: top, bottom, left, right.
    std::array<int64_t, 4> pads{};
    /// Explicit pads only (without ceil_mode's extra cells).
    std::array<int64_t, 4> explicitPads{};
  };
  Window window(llvm::ArrayRef<int64_t> inHW, llvm::ArrayRef<int64_t> kernel,
                bool spatial1, bool ceilMode);
  Value toNHWC(Value x, bool &spatial1);
  Value fromNHWC(Value y, bool spatial1);
  Value conv();
  Value pool(bool isMax);
  Value gemm();
  Value matmul(Value a, Value bv);
  Value reduce(const std::string &type);
  Value softmax(bool log);
  Value batchNorm();
  SmallVector<int64_t> reduceAxes(Value x, int axesInput);
};

//===----------------------------------------------------------------------===//
// Declarations
//===----------------------------------------------------------------------===//

Value Importer::materialize(const TensorProto &t) {
  auto tensor = tensorFromProto(t, baseDir, "initializer '" + t.name() + "'");
  if (!tensor.ok())
    unsupported(tensor.status().message());
  SmallVector<int64_t> shape(tensor->shape().begin(), tensor->shape().end());
  mlir::OpBuilder::InsertionGuard guard(b);
  if (tensor->dtype() == runtime::DType::I32) {
    auto type = RankedTensorType::get(shape, b.getIntegerType(32));
    auto data = llvm::ArrayRef<int32_t>(tensor->data<int32_t>(),
                                        tensor->numElements());
    b.setInsertionPointToStart(body);
    return op("constant", {}, {attr("value", mlir::DenseElementsAttr::get(type, data))});
  }
  if (llvm::is_contained(shape, 0))
    unsupported("initializer '" + t.name() + "' is empty");
  auto type = RankedTensorType::get(shape, b.getF32Type());
  auto data = llvm::ArrayRef<float>(tensor->data<float>(), tensor->numElements());
  std::string name = uniqueName(t.name());
  b.setInsertionPoint(body->getParentOp());
  mlir::dl::ParamOp::create(b, fileLoc, name, type, language::kLiteralInitializer,
                            llvm::ArrayRef<double>{},
                            mlir::DenseElementsAttr::get(type, data));
  argAttrs.push_back(b.getDictionaryAttr(
      attr(contract::kParamAttr, mlir::FlatSymbolRefAttr::get(&context, name))));
  return body->addArgument(type, fileLoc);
}

bool Importer::declareInput(const ::onnx::ValueInfoProto &v,
                            const std::string &name) {
  const auto &tt = v.type().tensor_type();
  if (!v.type().has_tensor_type() || !isSupportedElementType(tt.elem_type())) {
    failures.push_back("graph input '" + v.name() + "': element type " +
                       (v.type().has_tensor_type() ? elementTypeName(tt.elem_type())
                                                   : std::string("(not a tensor)")) +
                       " is not supported (FLOAT, INT64 and INT32 are)");
    unavailable[v.name()] = "an unsupported graph input";
    return false;
  }
  if (!tt.has_shape()) {
    failures.push_back("graph input '" + v.name() + "': it has no shape (its rank must be known)");
    unavailable[v.name()] = "an input of unknown rank";
    return false;
  }
  SmallVector<int64_t> shape;
  SmallVector<mlir::Attribute> dimNames;
  for (auto [i, d] : llvm::enumerate(tt.shape().dim())) {
    if (d.has_dim_value()) {
      if (d.dim_value() <= 0) {
        failures.push_back("graph input '" + v.name() + "': dimension " +
                           std::to_string(i) + " is " + std::to_string(d.dim_value()) +
                           " (empty tensors are not supported)");
        unavailable[v.name()] = "an empty graph input";
        return false;
      }
      shape.push_back(d.dim_value());
      dimNames.push_back(b.getStringAttr(""));
    } else {
      shape.push_back(kDyn);
      std::string sym = d.has_dim_param() && !d.dim_param().empty()
                            ? identifierFor(d.dim_param())
                            : name + "_d" + std::to_string(i);
      dimNames.push_back(b.getStringAttr(sym));
    }
  }
  mlir::Type elem = tt.elem_type() == TensorProto::FLOAT ? mlir::Type(b.getF32Type())
                                                          : b.getIntegerType(32);
  auto type = RankedTensorType::get(shape, elem);
  {
    mlir::OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(body->getParentOp());
    mlir::dl::InputOp::create(b, fileLoc, name, type, b.getArrayAttr(dimNames));
  }
  argAttrs.push_back(b.getDictionaryAttr(
      attr(contract::kInputAttr, mlir::FlatSymbolRefAttr::get(&context, name))));
  values[v.name()] = body->addArgument(type, fileLoc);
  return true;
}

//===----------------------------------------------------------------------===//
// Windows: Conv and pools
//===----------------------------------------------------------------------===//

/// NCHW (or NCL) to NHWC; `spatial1` is set for rank-3 (1-D) inputs, which
/// get a height of 1.
Value Importer::toNHWC(Value x, bool &spatial1) {
  requireFloat(x, "the input");
  int64_t r = rankOf(x);
  if (r != 3 && r != 4)
    unsupported("only 1-D and 2-D windows are supported (the input has rank " +
                std::to_string(r) + ")");
  spatial1 = r == 3;
  if (spatial1) {
    SmallVector<int64_t> s = shapeOf(x);
    x = reshape(x, {s[0], s[1], 1, s[2]});
  }
  return transpose(x, {0, 2, 3, 1});
}

Value Importer::fromNHWC(Value y, bool spatial1) {
  y = transpose(y, {0, 3, 1, 2});
  if (spatial1) {
    SmallVector<int64_t> s = shapeOf(y);
    y = reshape(y, {s[0], s[1], s[3]});
  }
  return y;
}

Importer::Window Importer::window(llvm::ArrayRef<int64_t> inHW,
                                  llvm::ArrayRef<int64_t> kernel, bool spatial1,
                                  bool ceilMode) {
  size_t n = spatial1 ? 1 : 2;
  auto lift = [&](std::vector<int64_t> v, int64_t fill) {
    SmallVector<int64_t, 2> out(v.begin(), v.end());
    if (spatial1)
      out.insert(out.begin(), fill);
    return out;
  };
  Window w;
  if (kernel.size() != n)
    unsupported("kernel_shape has " + std::to_string(kernel.size()) +
                " entries for " + std::to_string(n) + " spatial dimensions");
  w.kernel = lift(std::vector<int64_t>(kernel.begin(), kernel.end()), 1);
  w.strides = lift(attrInts("strides").value_or(std::vector<int64_t>(n, 1)), 1);
  auto dil = attrInts("dilations").value_or(std::vector<int64_t>(n, 1));
  if (llvm::any_of(dil, [](int64_t d) { return d != 1; }))
    unsupported("dilations other than 1 are not supported");
  if (w.strides.size() != 2 || llvm::any_of(w.strides, [](int64_t s) { return s < 1; }))
    unsupported("invalid strides");
  std::string autoPad = attrString("auto_pad", "NOTSET");
  std::array<int64_t, 2> begin{}, end{};
  if (autoPad == "NOTSET") {
    auto pads = attrInts("pads").value_or(std::vector<int64_t>(2 * n, 0));
    if (pads.size() != 2 * n)
      unsupported("pads has " + std::to_string(pads.size()) + " entries");
    for (size_t i = 0; i < n; ++i) {
      begin[i + 2 - n] = pads[i];
      end[i + 2 - n] = pads[i + n];
    }
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (size_t i = 0; i < 2; ++i) {
      if (inHW[i] == kDyn)
        unsupported("auto_pad " + autoPad + " needs static spatial dimensions");
      int64_t out = (inHW[i] + w.strides[i] - 1) / w.strides[i];
      int64_t total = std::max<int64_t>(0, (out - 1) * w.strides[i] + w.kernel[i] - inHW[i]);
      int64_t small = total / 2;
      begin[i] = autoPad == "SAME_UPPER" ? small : total - small;
      end[i] = total - begin[i];
    }
  } else if (autoPad != "VALID") {
    unsupported("auto_pad '" + autoPad + "' is not supported");
  }
  w.explicitPads = {begin[0], end[0], begin[1], end[1]};
  if (ceilMode)
    for (size_t i = 0; i < 2; ++i) {
      if (inHW[i] == kDyn)
        unsupported("ceil_mode needs static spatial dimensions");
      int64_t span = inHW[i] + begin[i] + end[i] - w.kernel[i];
      int64_t out = (span + w.strides[i] - 1) / w.strides[i] + 1;
      // The last window must start inside the input or the leading pad.
      if ((out - 1) * w.strides[i] >= inHW[i] + begin[i])
        --out;
      int64_t extra = (out - 1) * w.strides[i] + w.kernel[i] - (inHW[i] + begin[i] + end[i]);
      if (extra > 0)
        end[i] += extra;
    }
  w.pads = {begin[0], end[0], begin[1], end[1]};
  return w;
}

Value Importer::conv() {
  bool spatial1;
  Value x = toNHWC(input(0), spatial1);
  Value wv = requireFloat(input(1), "the filter");
  if (attrInt("group", 1) != 1)
    unsupported("group " + std::to_string(attrInt("group", 1)) +
                " is not supported (only group 1)");
  SmallVector<int64_t> ws = shapeOf(wv);
  if (spatial1) {
    wv = reshape(wv, {ws[0], ws[1], 1, ws[2]});
    ws = shapeOf(wv);
  }
  if (auto k = attrInts("kernel_shape"))
    if (llvm::ArrayRef<int64_t>(*k) != llvm::ArrayRef<int64_t>(ws).drop_front(spatial1 ? 3 : 2))
      unsupported("kernel_shape does not match the filter");
  SmallVector<int64_t> xs = shapeOf(x);
  Window w = window({xs[1], xs[2]},
                    llvm::ArrayRef<int64_t>(ws).drop_front(spatial1 ? 3 : 2), spatial1,
                    false);
  Value filter = transpose(wv, {2, 3, 1, 0});
  Value y = op("conv2d", {x, filter},
               {attr("strides", ints(w.strides)), attr("pads", ints(w.pads))});
  if (hasInput(2))
    y = binary("add", y, requireFloat(input(2), "the bias"));
  return fromNHWC(y, spatial1);
}

Value Importer::pool(bool isMax) {
  bool spatial1;
  Value x = toNHWC(input(0), spatial1);
  auto kernel = attrInts("kernel_shape");
  if (!kernel)
    unsupported("kernel_shape is missing");
  if (isMax && attrInt("storage_order", 0) != 0 && node->output_size() > 1)
    unsupported("storage_order 1 is not supported");
  SmallVector<int64_t> xs = shapeOf(x);
  Window w = window({xs[1], xs[2]}, *kernel, spatial1, attrInt("ceil_mode", 0) != 0);
  Value y = op(isMax ? "max_pool" : "avg_pool", {x},
               {attr("window", ints(w.kernel)), attr("strides", ints(w.strides)),
                attr("pads", ints(w.pads))});
  bool anyPad = llvm::any_of(w.explicitPads, [](int64_t p) { return p != 0; });
  if (!isMax && attrInt("count_include_pad", 0) && anyPad) {
    // dl's average divides by the real cells; ONNX's by the real and
    // explicit pad cells. Rescale by real / counted, a constant per cell.
    SmallVector<int64_t> ys = shapeOf(y);
    std::array<std::vector<float>, 2> ratio;
    for (int i = 0; i < 2; ++i) {
      int64_t in = xs[1 + i], out = ys[1 + i];
      if (in == kDyn || out == kDyn)
        unsupported("count_include_pad needs static spatial dimensions");
      int64_t pb = w.explicitPads[2 * i], pe = w.explicitPads[2 * i + 1];
      for (int64_t o = 0; o < out; ++o) {
        int64_t lo = o * w.strides[i] - pb, hi = lo + w.kernel[i];
        int64_t real = std::min(hi, in) - std::max<int64_t>(lo, 0);
        int64_t counted = std::min(hi, in + pe) - std::max(lo, -pb);
        ratio[i].push_back(float(real) / float(counted));
      }
    }
    std::vector<float> factor;
    for (float a : ratio[0])
      for (float c : ratio[1])
        factor.push_back(a * c);
    y = binary("mul", y, constantTensor({ys[1], ys[2], 1}, factor));
  }
  return fromNHWC(y, spatial1);
}

//===----------------------------------------------------------------------===//
// Matrix products
//===----------------------------------------------------------------------===//

Value Importer::matmul(Value a, Value bv) {
  requireFloat(a, "MatMul's A");
  requireFloat(bv, "MatMul's B");
  int64_t ra = rankOf(a), rb = rankOf(bv);
  if (ra == 0 || rb == 0)
    unsupported("MatMul of a scalar");
  SmallVector<int64_t> as = shapeOf(a), bs = shapeOf(bv);
  if (ra == 1 && rb == 1) {
    Value y = op("matmul", {reshape(a, {1, as[0]}), reshape(bv, {bs[0], 1})});
    return reshape(y, {});
  }
  if (ra == 1) {
    // [K] x [..., K, N] = ([1, K] x ...) without the 1.
    Value y = matmul(reshape(a, {1, as[0]}), bv);
    SmallVector<int64_t> ys = shapeOf(y);
    ys.erase(ys.end() - 2);
    return reshape(y, ys);
  }
  if (rb == 1) {
    Value y = matmul(a, reshape(bv, {bs[0], 1}));
    SmallVector<int64_t> ys = shapeOf(y);
    ys.pop_back();
    return reshape(y, ys);
  }
  if (ra == 2 && rb == 2)
    return op("matmul", {a, bv});
  if (rb == 2) {
    // [..., M, K] x [K, N]: one matrix product over all the rows.
    int64_t k = as.back();
    Value y = op("matmul", {reshape(a, {kDyn, k}), bv});
    SmallVector<int64_t> ys(as);
    ys.back() = bs[1];
    return reshape(y, ys);
  }
  if (ra == rb) {
    llvm::ArrayRef<int64_t> batchA = llvm::ArrayRef<int64_t>(as).drop_back(2),
                            batchB = llvm::ArrayRef<int64_t>(bs).drop_back(2);
    if (batchA != batchB || llvm::is_contained(batchA, kDyn))
      unsupported("MatMul with broadcast or dynamic batch dimensions is not supported");
    int64_t batch = std::accumulate(batchA.begin(), batchA.end(), int64_t(1),
                                    std::multiplies<int64_t>());
    Value y = op("matmul", {reshape(a, {batch, as[ra - 2], as[ra - 1]}),
                            reshape(bv, {batch, bs[rb - 2], bs[rb - 1]})});
    SmallVector<int64_t> ys(as);
    ys.back() = bs.back();
    return reshape(y, ys);
  }
  unsupported("MatMul of ranks " + std::to_string(ra) + " and " + std::to_string(rb) +
              " (batch broadcast) is not supported");
}

Value Importer::gemm() {
  Value a = requireFloat(input(0), "A"), bv = requireFloat(input(1), "B");
  if (rankOf(a) != 2 || rankOf(bv) != 2)
    unsupported("Gemm expects matrices");
  if (attrInt("transA", 0))
    a = transpose(a, {1, 0});
  if (attrInt("transB", 0))
    bv = transpose(bv, {1, 0});
  Value y = op("matmul", {a, bv});
  float alpha = attrFloat("alpha", 1.0f), beta = attrFloat("beta", 1.0f);
  if (alpha != 1.0f)
    y = binary("mul", y, scalar(alpha));
  if (hasInput(2)) {
    Value c = requireFloat(input(2), "C");
    if (beta != 1.0f)
      c = binary("mul", c, scalar(beta));
    y = binary("add", y, c);
  }
  return y;
}

//===----------------------------------------------------------------------===//
// Reductions, softmax, normalization
//===----------------------------------------------------------------------===//

SmallVector<int64_t> Importer::reduceAxes(Value x, int axesInput) {
  int64_t r = rankOf(x);
  std::optional<std::vector<int64_t>> axes = attrInts("axes");
  if (axesInput >= 0 && hasInput(axesInput))
    axes = constInts(axesInput, "axes");
  std::set<int64_t> sorted;
  if (axes)
    for (int64_t a : *axes)
      sorted.insert(normAxis(a, r));
  if (sorted.empty())
    for (int64_t i = 0; i < r; ++i)
      sorted.insert(i);
  return SmallVector<int64_t>(sorted.begin(), sorted.end());
}

Value Importer::reduce(const std::string &type) {
  Value x = requireFloat(input(0), "the input");
  // ReduceSum takes its axes as an input from opset 13.
  int axesInput = type == "ReduceSum" && opsetOf(*node) >= 13 ? 1 : -1;
  bool noAxes = !findAttr("axes") && !(axesInput >= 0 && hasInput(axesInput) &&
                                       !constInts(axesInput, "axes").empty());
  if (noAxes && attrInt("noop_with_empty_axes", 0))
    return x;
  SmallVector<int64_t> axes = reduceAxes(x, axesInput);
  bool keep = attrInt("keepdims", 1) != 0;
  auto red = [&](llvm::StringRef name, Value v, bool keepdims) {
    return op(name, {v}, {attr("axes", ints(axes)), attr("keepdims", b.getBoolAttr(keepdims))});
  };
  if (type == "ReduceSum")
    return red("sum", x, keep);
  if (type == "ReduceMean")
    return red("mean", x, keep);
  if (type == "ReduceMax")
    return red("max", x, keep);
  if (type == "ReduceMin")
    return unary("neg", red("max", unary("neg", x), keep));
  if (type == "ReduceL1")
    return red("sum", unary("abs", x), keep);
  if (type == "ReduceL2")
    return unary("sqrt", red("sum", unary("square", x), keep));
  if (type == "ReduceSumSquare")
    return red("sum", unary("square", x), keep);
  if (type == "ReduceLogSum")
    return unary("log", red("sum", x, keep));
  // ReduceLogSumExp, stably: max + log(sum(exp(x - max))).
  Value m = red("max", x, true);
  Value s = unary("log", red("sum", unary("exp", binary("sub", x, m)), keep));
  return binary("add", s, keep ? m : red("max", x, false));
}

Value Importer::softmax(bool log) {
  Value x = requireFloat(input(0), "the input");
  int64_t r = rankOf(x);
  const char *name = log ? "log_softmax" : "softmax";
  if (opsetOf(*node) >= 13) {
    int64_t axis = normAxis(attrInt("axis", -1), r);
    return op(name, {x}, {attr("axis", b.getI64IntegerAttr(axis))});
  }
  // Before opset 13: the input is seen as a matrix [prod(:axis), prod(axis:)].
  int64_t axis = normAxis(attrInt("axis", 1), r);
  if (axis == r - 1)
    return op(name, {x}, {attr("axis", b.getI64IntegerAttr(axis))});
  SmallVector<int64_t> s = shapeOf(x);
  int64_t rows = 1, cols = 1;
  for (int64_t i = 0; i < r; ++i) {
    int64_t d = staticDim(x, i, "Softmax before opset 13");
    (i < axis ? rows : cols) *= d;
  }
  Value y = op(name, {reshape(x, {rows, cols})}, {attr("axis", b.getI64IntegerAttr(1))});
  return reshape(y, s);
}

Value Importer::batchNorm() {
  if (attrInt("training_mode", 0))
    unsupported("training_mode 1 is not supported (inference form only)");
  Value x = requireFloat(input(0), "the input");
  int64_t r = rankOf(x);
  if (r < 2)
    unsupported("the input needs rank 2 or more");
  int64_t c = staticDim(x, 1, "BatchNormalization");
  SmallVector<int64_t> cshape{c};
  cshape.append(r - 2, 1);
  auto channel = [&](int i) { return reshape(requireFloat(input(i), "a statistic"), cshape); };
  Value scale = channel(1), bias = channel(2), mean = channel(3), var = channel(4);
  Value inv = binary("div", scale,
                     unary("sqrt", binary("add", var, scalar(attrFloat("epsilon", 1e-5f)))));
  return binary("add", binary("mul", binary("sub", x, mean), inv), bias);
}

//===----------------------------------------------------------------------===//
// The op table
//===----------------------------------------------------------------------===//

SmallVector<Value> Importer::mapOp(const std::string &type) {
  auto variadic = [&](llvm::StringRef name) {
    Value acc = input(0);
    for (int i = 1; i < numInputs(); ++i)
      acc = binary(name, acc, input(i));
    return acc;
  };
  static const std::map<std::string, std::string> unaries = {
      {"Relu", "relu"}, {"Sigmoid", "sigmoid"}, {"Tanh", "tanh"}, {"Exp", "exp"},
      {"Log", "log"},   {"Sqrt", "sqrt"},       {"Neg", "neg"},   {"Abs", "abs"}};
  static const std::map<std::string, std::string> binaries = {
      {"Add", "add"}, {"Sub", "sub"}, {"Mul", "mul"}, {"Div", "div"}};
  if (auto it = unaries.find(type); it != unaries.end())
    return {unary(it->second, input(0))};
  if (auto it = binaries.find(type); it != binaries.end()) {
    Value l = input(0), r = input(1);
    if (isFloat(l) != isFloat(r))
      unsupported("mixed element types");
    return {binary(it->second, l, r)};
  }
  if (type == "Pow") {
    Value l = requireFloat(input(0), "the base"), r = input(1);
    if (!isFloat(r))
      r = op("cast", {r}, {attr("element_type", mlir::TypeAttr::get(b.getF32Type()))});
    return {binary("pow", l, r)};
  }
  if (type == "Max")
    return {variadic("maximum")};
  if (type == "Min")
    return {variadic("minimum")};
  if (type == "Sum")
    return {variadic("add")};
  if (type == "Mean")
    return {binary("div", variadic("add"), scalar(float(numInputs())))};
  if (type == "Reciprocal")
    return {binary("div", scalar(1.0f), requireFloat(input(0), "the input"))};
  if (type == "LeakyRelu")
    return {op("leaky_relu", {input(0)},
               {attr("alpha", b.getF64FloatAttr(attrFloat("alpha", 0.01f)))})};
  if (type == "Elu")
    return {op("elu", {input(0)}, {attr("alpha", b.getF64FloatAttr(attrFloat("alpha", 1.0f)))})};
  if (type == "Selu") {
    Value e = op("elu", {input(0)},
                 {attr("alpha", b.getF64FloatAttr(attrFloat("alpha", 1.67326319217681884765625f)))});
    return {binary("mul", e, scalar(attrFloat("gamma", 1.05070102214813232421875f)))};
  }
  auto hardSigmoid = [&](Value x, float alpha, float beta) {
    Value y = binary("add", binary("mul", x, scalar(alpha)), scalar(beta));
    return binary("minimum", binary("maximum", y, scalar(0.0f)), scalar(1.0f));
  };
  if (type == "HardSigmoid")
    return {hardSigmoid(requireFloat(input(0), "the input"), attrFloat("alpha", 0.2f),
                        attrFloat("beta", 0.5f))};
  if (type == "HardSwish") {
    Value x = requireFloat(input(0), "the input");
    return {binary("mul", x, hardSigmoid(x, 1.0f / 6, 0.5f))};
  }
  if (type == "Softsign") {
    Value x = requireFloat(input(0), "the input");
    return {binary("div", x, binary("add", scalar(1.0f), unary("abs", x)))};
  }
  if (type == "Softplus") {
    // relu(x) + log(1 + exp(-|x|)), which does not overflow.
    Value x = requireFloat(input(0), "the input");
    Value tail = unary("log", binary("add", scalar(1.0f),
                                     unary("exp", unary("neg", unary("abs", x)))));
    return {binary("add", unary("relu", x), tail)};
  }
  if (type == "ThresholdedRelu") {
    Value x = requireFloat(input(0), "the input");
    Value mask = op("cmp", {x, scalar(attrFloat("alpha", 1.0f))},
                    {attr("predicate", mlir::dl::CmpPredicateAttr::get(
                                           &context, mlir::dl::CmpPredicate::gt))});
    return {binary("mul", x, mask)};
  }
  if (type == "PRelu") {
    Value x = requireFloat(input(0), "the input"), slope = requireFloat(input(1), "the slope");
    Value neg = binary("minimum", x, scalar(0.0f));
    return {binary("add", unary("relu", x), binary("mul", slope, neg))};
  }
  if (type == "Clip") {
    Value x = requireFloat(input(0), "the input");
    if (opsetOf(*node) < 11) {
      if (findAttr("min"))
        x = binary("maximum", x, scalar(attrFloat("min", 0)));
      if (findAttr("max"))
        x = binary("minimum", x, scalar(attrFloat("max", 0)));
      return {x};
    }
    if (hasInput(1))
      x = binary("maximum", x, requireFloat(input(1), "min"));
    if (hasInput(2))
      x = binary("minimum", x, requireFloat(input(2), "max"));
    return {x};
  }
  if (type == "Identity")
    return {input(0)};
  if (type == "Dropout") {
    if (attrInt("training_mode", 0))
      unsupported("training_mode is not supported");
    if (hasInput(2)) {
      std::vector<int64_t> mode = constInts(2, "training_mode");
      if (!mode.empty() && mode[0])
        unsupported("training_mode true is not supported");
    }
    return {input(0)};
  }
  if (type == "Softmax" || type == "LogSoftmax")
    return {softmax(type == "LogSoftmax")};
  if (type == "Conv")
    return {conv()};
  if (type == "MaxPool" || type == "AveragePool")
    return {pool(type == "MaxPool")};
  if (type == "GlobalAveragePool" || type == "GlobalMaxPool") {
    Value x = requireFloat(input(0), "the input");
    SmallVector<int64_t> axes;
    for (int64_t i = 2; i < rankOf(x); ++i)
      axes.push_back(i);
    return {op(type == "GlobalMaxPool" ? "max" : "mean", {x},
               {attr("axes", ints(axes)), attr("keepdims", b.getBoolAttr(true))})};
  }
  if (type == "Gemm")
    return {gemm()};
  if (type == "MatMul")
    return {matmul(input(0), input(1))};
  if (type == "BatchNormalization")
    return {batchNorm()};
  static const std::set<std::string> reductions = {
      "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceL1",
      "ReduceL2", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp"};
  if (reductions.count(type))
    return {reduce(type)};
  if (type == "ArgMax" || type == "ArgMin") {
    if (attrInt("select_last_index", 0))
      unsupported("select_last_index 1 is not supported");
    Value x = requireFloat(input(0), "the input");
    int64_t axis = normAxis(attrInt("axis", 0), rankOf(x));
    if (type == "ArgMin")
      x = unary("neg", x);
    Value y = op("argmax", {x}, {attr("axis", b.getI64IntegerAttr(axis))});
    if (attrInt("keepdims", 1)) {
      SmallVector<int64_t> s = shapeOf(x);
      s[axis] = 1;
      y = reshape(y, s);
    }
    return {y};
  }
  if (type == "Reshape") {
    if (attrInt("allowzero", 0))
      unsupported("allowzero 1 is not supported");
    Value x = input(0);
    std::vector<int64_t> target;
    if (opsetOf(*node) < 5)
      target = attrInts("shape").value_or(std::vector<int64_t>{});
    else
      target = constInts(1, "shape");
    SmallVector<int64_t> in = shapeOf(x), out;
    for (auto [i, d] : llvm::enumerate(target)) {
      if (d == 0) {
        if (i >= in.size())
          unsupported("shape copies a dimension the input lacks");
        out.push_back(in[i]);
      } else {
        out.push_back(d < 0 ? kDyn : d);
      }
    }
    return {reshape(x, out)};
  }
  if (type == "Flatten") {
    Value x = input(0);
    int64_t r = rankOf(x);
    int64_t axis = attrInt("axis", 1);
    if (axis < 0)
      axis += r;
    if (axis < 0 || axis > r)
      unsupported("axis out of range");
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < r; ++i) {
      int64_t d = typeOf(x).getDimSize(i);
      int64_t &part = i < axis ? outer : inner;
      part = (d == kDyn || part == kDyn) ? kDyn : part * d;
    }
    return {reshape(x, {outer, inner})};
  }
  if (type == "Transpose") {
    Value x = input(0);
    int64_t r = rankOf(x);
    std::vector<int64_t> perm;
    if (auto p = attrInts("perm"))
      perm = *p;
    else
      for (int64_t i = r - 1; i >= 0; --i)
        perm.push_back(i);
    return {transpose(x, perm)};
  }
  if (type == "Squeeze" || type == "Unsqueeze") {
    Value x = input(0);
    std::optional<std::vector<int64_t>> axes = attrInts("axes");
    if (opsetOf(*node) >= 13 && hasInput(1))
      axes = constInts(1, "axes");
    SmallVector<int64_t> in = shapeOf(x), out;
    if (type == "Squeeze") {
      std::set<int64_t> drop;
      if (axes)
        for (int64_t a : *axes)
          drop.insert(normAxis(a, in.size()));
      for (auto [i, d] : llvm::enumerate(in)) {
        bool squeeze = axes ? drop.count(i) != 0 : d == 1;
        if (squeeze && d != 1)
          unsupported("cannot squeeze dimension " + std::to_string(i) +
                      (d == kDyn ? " (dynamic)" : " of size " + std::to_string(d)));
        if (!squeeze)
          out.push_back(d);
      }
    } else {
      if (!axes)
        unsupported("axes are missing");
      int64_t r = in.size() + axes->size();
      std::set<int64_t> add;
      for (int64_t a : *axes)
        add.insert(normAxis(a, r));
      for (int64_t i = 0, j = 0; i < r; ++i)
        out.push_back(add.count(i) ? 1 : in[j++]);
    }
    return {reshape(x, out)};
  }
  if (type == "LayerNormalization") {
    Value x = requireFloat(input(0), "the input");
    int64_t r = rankOf(x);
    int64_t axis = normAxis(attrInt("axis", -1), r);
    if (attrInt("stash_type", 1) != 1)
      unsupported("stash_type other than FLOAT is not supported");
    SmallVector<int64_t> axes;
    for (int64_t i = axis; i < r; ++i)
      axes.push_back(i);
    auto mean = [&](Value v) {
      return op("mean", {v}, {attr("axes", ints(axes)), attr("keepdims", b.getBoolAttr(true))});
    };
    Value centered = binary("sub", x, mean(x));
    Value var = mean(unary("square", centered));
    Value y = binary("div", centered,
                     unary("sqrt", binary("add", var, scalar(attrFloat("epsilon", 1e-5f)))));
    y = binary("mul", y, requireFloat(input(1), "the scale"));
    if (hasInput(2))
      y = binary("add", y, requireFloat(input(2), "the bias"));
    return {y};
  }
  if (type == "Cast") {
    Value x = input(0);
    int64_t to = attrInt("to", 0);
    if (to == TensorProto::FLOAT)
      return {isFloat(x) ? x
                         : op("cast", {x}, {attr("element_type",
                                                 mlir::TypeAttr::get(b.getF32Type()))})};
    if (to == TensorProto::INT64 || to == TensorProto::INT32)
      return {!isFloat(x) ? x
                          : op("cast", {x}, {attr("element_type", mlir::TypeAttr::get(
                                                                       b.getIntegerType(32)))})};
    unsupported("Cast to " + elementTypeName(to) + " is not supported");
  }
  unsupported("dlc has no mapping for " + type);
}

void Importer::mapNode(const NodeProto &n) {
  node = &n;
  loc = mlir::NameLoc::get(b.getStringAttr(n.name().empty() ? n.op_type() : n.name()),
                           fileLoc);
  std::string reason;
  SmallVector<Value> outs;
  if (!n.domain().empty() && n.domain() != "ai.onnx") {
    reason = "the domain '" + n.domain() + "' is not supported";
  } else {
    // Diagnostics of the dl ops (shape errors) become the node's reason.
    mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
      diagText += d.str();
      return mlir::success();
    });
    try {
      // Before opset 7, binary ops broadcast only with `broadcast` = 1, and
      // then along `axis`; without `axis` that is NumPy's rule, which dl's
      // ops follow. Inference-form ops said so with `is_test`.
      if (opsetOf(n) < kOldestOpset) {
        if (attrInt("broadcast", 0) && findAttr("axis"))
          unsupported("broadcasting along an axis (before opset 7) is not supported");
        if ((n.op_type() == "BatchNormalization" || n.op_type() == "Dropout") &&
            !attrInt("is_test", 0))
          unsupported("is_test 0 (training form, before opset 7) is not supported");
      }
      // Constants and shapes are known at import time.
      if (n.op_type() == "Constant") {
        const AttributeProto *value = findAttr("value");
        TensorProto t;
        if (value && value->has_t()) {
          t = value->t();
        } else if (const AttributeProto *f = findAttr("value_float")) {
          t.set_data_type(TensorProto::FLOAT);
          t.add_float_data(f->f());
        } else if (const AttributeProto *fs = findAttr("value_floats")) {
          t.set_data_type(TensorProto::FLOAT);
          t.add_dims(fs->floats_size());
          for (float v : fs->floats())
            t.add_float_data(v);
        } else if (const AttributeProto *i = findAttr("value_int")) {
          t.set_data_type(TensorProto::INT64);
          t.add_int64_data(i->i());
        } else if (const AttributeProto *is = findAttr("value_ints")) {
          t.set_data_type(TensorProto::INT64);
          t.add_dims(is->ints_size());
          for (int64_t v : is->ints())
            t.add_int64_data(v);
        } else {
          unsupported("only tensor and number values are supported");
        }
        t.set_name(n.output(0));
        if (t.data_type() == TensorProto::INT64 || t.data_type() == TensorProto::INT32) {
          auto known = intsFromProto(t, baseDir, "constant '" + n.output(0) + "'");
          if (known.ok())
            knownInts[n.output(0)] = *known;
        }
        auto tensor = tensorFromProto(t, baseDir, "constant '" + n.output(0) + "'");
        if (!tensor.ok())
          unsupported(tensor.status().message());
        SmallVector<int64_t> shape(tensor->shape().begin(), tensor->shape().end());
        if (llvm::is_contained(shape, 0))
          unsupported("empty constants are not supported");
        mlir::DenseElementsAttr attrValue;
        if (tensor->dtype() == runtime::DType::F32)
          attrValue = mlir::DenseElementsAttr::get(
              RankedTensorType::get(shape, b.getF32Type()),
              llvm::ArrayRef<float>(tensor->data<float>(), tensor->numElements()));
        else
          attrValue = mlir::DenseElementsAttr::get(
              RankedTensorType::get(shape, b.getIntegerType(32)),
              llvm::ArrayRef<int32_t>(tensor->data<int32_t>(), tensor->numElements()));
        outs = {op("constant", {}, {attr("value", attrValue)})};
      } else if (n.op_type() == "Size") {
        Value x = input(0);
        int64_t count = 1;
        for (int64_t i = 0; i < rankOf(x); ++i)
          count *= staticDim(x, i, "Size");
        if (count > std::numeric_limits<int32_t>::max())
          unsupported("the size " + std::to_string(count) + " does not fit in i32");
        knownInts[n.output(0)] = {count};
        auto t = RankedTensorType::get({}, b.getIntegerType(32));
        outs = {op("constant", {}, {attr("value", mlir::DenseElementsAttr::get(
                                                        t, static_cast<int32_t>(count)))})};
      } else if (n.op_type() == "Shape") {
        Value x = input(0);
        std::vector<int64_t> dims;
        for (int64_t i = 0; i < rankOf(x); ++i)
          dims.push_back(staticDim(x, i, "Shape"));
        int64_t r = dims.size();
        int64_t start = attrInt("start", 0), end = attrInt("end", r);
        start = std::clamp<int64_t>(start < 0 ? start + r : start, 0, r);
        end = std::clamp<int64_t>(end < 0 ? end + r : end, 0, r);
        dims = std::vector<int64_t>(dims.begin() + start,
                                    dims.begin() + std::max(start, end));
        if (dims.empty())
          unsupported("an empty shape");
        knownInts[n.output(0)] = dims;
        std::vector<int32_t> narrow(dims.begin(), dims.end());
        auto t = RankedTensorType::get({(int64_t)dims.size()}, b.getIntegerType(32));
        outs = {op("constant", {}, {attr("value", mlir::DenseElementsAttr::get(
                                                        t, llvm::ArrayRef<int32_t>(narrow)))})};
      } else {
        outs = mapOp(n.op_type());
      }
    } catch (const Unsupported &u) {
      reason = u.reason;
    }
  }
  if (!reason.empty()) {
    while (!reason.empty() && reason.back() == '\n')
      reason.pop_back();
    failures.push_back(describeNode(n) + ": " + reason);
    for (const std::string &o : n.output())
      if (!o.empty())
        unavailable[o] = "the output of " + describeNode(n);
    return;
  }
  for (int i = 0; i < n.output_size(); ++i) {
    if (n.output(i).empty())
      continue;
    if (i < (int)outs.size())
      values[n.output(i)] = outs[i];
    else
      unavailable[n.output(i)] = "output " + std::to_string(i) + " of " +
                                 describeNode(n) + " is not supported";
  }
}

//===----------------------------------------------------------------------===//
// The model
//===----------------------------------------------------------------------===//

mlir::OwningOpRef<mlir::ModuleOp> Importer::run(llvm::StringRef bytes) {
  auto error = [&](const std::string &msg) {
    mlir::emitError(fileLoc) << msg;
    return nullptr;
  };
  try {
    if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
      return error("not an ONNX model: the file cannot be parsed as an ONNX "
                   "ModelProto (it is truncated or another format)");
    if (!model.has_graph())
      return error("not an ONNX model: it has no graph");
    ::onnx::checker::check_model(path);
  } catch (const ::onnx::checker::ValidationError &e) {
    return error(std::string("the ONNX checker rejects the model: ") + e.what());
  } catch (const std::exception &e) {
    return error(std::string("cannot read the ONNX model: ") + e.what());
  }
  for (const auto &o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx")
      opset = o.version();
  if (opset == 0)
    return error("the model imports no opset of the default (ai.onnx) domain");
  if (opset > newestOpset())
    return error("opset " + std::to_string(opset) + " is newer than the ONNX library's " +
                 std::to_string(newestOpset()));

  context.loadDialect<mlir::dl::DLDialect, mlir::func::FuncDialect>();
  module = mlir::ModuleOp::create(fileLoc);
  const ::onnx::GraphProto &g = model.graph();
  std::string stem = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  stem = stem.substr(0, stem.rfind('.'));
  module.setSymName(identifierFor(stem == "model" && !g.name().empty() ? g.name() : stem));
  b.setInsertionPointToEnd(module.getBody());
  auto graph = mlir::func::FuncOp::create(b, fileLoc, contract::kGraphEntry,
                                          b.getFunctionType({}, {}));
  body = graph.addEntryBlock();
  b.setInsertionPointToEnd(body);

  GraphSignature sig = signatureOf(model);
  for (const GraphValue &v : sig.inputs)
    usedNames.insert(v.name);
  for (const GraphValue &v : sig.outputs)
    usedNames.insert(v.name);
  for (const TensorProto &t : g.initializer()) {
    initializers[t.name()] = &t;
    if (t.data_type() == TensorProto::INT64 || t.data_type() == TensorProto::INT32) {
      auto known = intsFromProto(t, baseDir, "initializer '" + t.name() + "'");
      if (known.ok())
        knownInts[t.name()] = *known;
    }
  }
  size_t in = 0;
  for (const auto &v : g.input())
    if (!initializers.count(v.name()))
      declareInput(v, sig.inputs[in++].name);
  for (const NodeProto &n : g.node()) {
    mapNode(n);
    ++nodeIndex;
  }

  SmallVector<Value> results;
  SmallVector<mlir::Attribute> resultAttrs;
  for (auto [i, v] : llvm::enumerate(g.output())) {
    Value value;
    if (auto it = values.find(v.name()); it != values.end())
      value = it->second;
    else if (auto it = initializers.find(v.name()); it != initializers.end()) {
      node = nullptr;
      try {
        value = values[v.name()] = materialize(*it->second);
      } catch (const Unsupported &u) {
        failures.push_back("graph output '" + v.name() + "': " + u.reason);
      }
    } else if (auto it = unavailable.find(v.name()); it == unavailable.end()) {
      failures.push_back("graph output '" + v.name() + "' is not produced by any node");
    } else if (it->second.rfind("the output of ", 0) != 0) {
      // Not reported yet: a node mapped, but not this output of it.
      failures.push_back("graph output '" + v.name() + "': " + it->second);
    }
    if (!value)
      continue;
    results.push_back(value);
    resultAttrs.push_back(frontend::resultAttrs(b, contract::kRoleOutput, sig.outputs[i].name));
  }
  if (!failures.empty()) {
    mlir::InFlightDiagnostic diag = mlir::emitError(fileLoc);
    diag << failures.size() << (failures.size() == 1 ? " part" : " parts")
         << " of the ONNX model cannot be imported:";
    for (const std::string &f : failures)
      diag << "\n  " << f;
    module->erase();
    return nullptr;
  }
  if (failed(frontend::finishGraph(b, graph, fileLoc, results, argAttrs, resultAttrs))) {
    module->erase();
    return nullptr;
  }
  return module;
}

} // namespace

mlir::OwningOpRef<mlir::ModuleOp> importModel(mlir::MLIRContext &context,
                                              llvm::StringRef path,
                                              llvm::StringRef bytes) {
  return Importer(context, path).run(bytes);
}

} // namespace dlc::onnx
