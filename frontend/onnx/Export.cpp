//===- Export.cpp - a dl module as a model file ---------------------------===//
//
// Writes the @graph of a dl module (an imported ONNX model) in the model
// language: `model`, one `input` and `param` line per declaration (params
// start from zeros(); their values go to a checkpoint), then one line per op,
// each named after the ONNX node it came from (its NameLoc), and the outputs.
//
//===----------------------------------------------------------------------===//

#include "frontend/onnx/Export.h"

#include "frontend/onnx/TensorProto.h"
#include "dialects/DL/IR/DLOps.h"
#include "runtime/Contracts.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>
#include <set>

namespace dlc::onnx {

namespace {

std::string number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.9g", v);
  std::string s = buffer;
  if (s == "inf" || s == "-inf" || s == "nan" || s == "-nan")
    return "";
  return s;
}

std::string intList(llvm::ArrayRef<int64_t> v) {
  std::string s = "[";
  for (auto [i, x] : llvm::enumerate(v))
    s += (i ? ", " : "") + std::to_string(x);
  return s + "]";
}

std::string typeText(mlir::Type t, llvm::ArrayRef<mlir::Attribute> dimNames = {}) {
  auto r = llvm::cast<mlir::RankedTensorType>(t);
  std::string s = r.getElementType().isF32() ? "f32[" : "i32[";
  for (auto [i, d] : llvm::enumerate(r.getShape())) {
    if (i)
      s += ", ";
    if (mlir::ShapedType::isDynamic(d))
      s += i < dimNames.size() ? llvm::cast<mlir::StringAttr>(dimNames[i]).str() : "B";
    else
      s += std::to_string(d);
  }
  return s + "]";
}

/// The node name an op came from, if its location says.
std::string nodeName(mlir::Location loc) {
  if (auto named = llvm::dyn_cast<mlir::NameLoc>(loc))
    return named.getName().str();
  if (auto fused = llvm::dyn_cast<mlir::FusedLoc>(loc))
    for (mlir::Location l : fused.getLocations())
      if (std::string n = nodeName(l); !n.empty())
        return n;
  return "";
}

class Writer {
public:
  explicit Writer(mlir::ModuleOp module) : module(module) {}

  mlir::FailureOr<std::string> write(std::string &error);

private:
  mlir::ModuleOp module;
  llvm::DenseMap<mlir::Value, std::string> names;
  std::set<std::string> used;
  std::string error;

  std::string fresh(const std::string &base) {
    std::string id = identifierFor(base.empty() ? "t" : base);
    std::string name = id;
    for (int i = 1; !used.insert(name).second; ++i)
      name = id + "_" + std::to_string(i);
    return name;
  }

  std::string literal(mlir::DenseElementsAttr value);
  std::string expr(mlir::Operation &op);
  std::string v(mlir::Value value) { return names.lookup(value); }
};

std::string Writer::literal(mlir::DenseElementsAttr value) {
  auto type = llvm::cast<mlir::RankedTensorType>(value.getType());
  bool isInt = type.getElementType().isInteger(32);
  std::vector<std::string> elems;
  if (isInt) {
    for (const llvm::APInt &x : value.getValues<llvm::APInt>())
      elems.push_back(std::to_string(x.getSExtValue()));
  } else {
    for (const llvm::APFloat &x : value.getValues<llvm::APFloat>()) {
      std::string n = number(x.convertToDouble());
      if (n.empty()) {
        error = "a constant holds an infinity or NaN, which the language cannot write";
        return "";
      }
      elems.push_back(n);
    }
  }
  llvm::ArrayRef<int64_t> shape = type.getShape();
  size_t at = 0;
  std::function<std::string(size_t)> nest = [&](size_t dim) -> std::string {
    if (dim == shape.size())
      return elems[at++];
    std::string s = "[";
    for (int64_t i = 0; i < shape[dim]; ++i)
      s += (i ? ", " : "") + nest(dim + 1);
    return s + "]";
  };
  std::string text = nest(0);
  return isInt ? "i32(" + text + ")" : text;
}

std::string Writer::expr(mlir::Operation &op) {
  llvm::StringRef name = op.getName().getStringRef();
  if (!name.consume_front("dl.")) {
    error = "op " + op.getName().getStringRef().str() + " has no form in the language";
    return "";
  }
  auto operand = [&](unsigned i) { return v(op.getOperand(i)); };
  auto i64s = [&](llvm::StringRef attr) {
    return intList(op.getAttrOfType<mlir::DenseI64ArrayAttr>(attr).asArrayRef());
  };
  static const std::map<std::string, std::string> infix = {
      {"add", " + "}, {"sub", " - "}, {"mul", " * "}, {"div", " / "}, {"pow", " ** "}};
  if (auto it = infix.find(name.str()); it != infix.end())
    return operand(0) + it->second + operand(1);
  if (auto c = llvm::dyn_cast<mlir::dl::ConstantOp>(op))
    return literal(llvm::cast<mlir::DenseElementsAttr>(c.getValue()));
  if (auto c = llvm::dyn_cast<mlir::dl::CmpOp>(op)) {
    static const char *ops[] = {" == ", " != ", " < ", " <= ", " > ", " >= "};
    return operand(0) + ops[static_cast<int>(c.getPredicate())] + operand(1);
  }
  if (name == "neg")
    return "-" + operand(0);
  if (auto c = llvm::dyn_cast<mlir::dl::CastOp>(op))
    return (c.getElementType().isF32() ? "f32(" : "i32(") + operand(0) + ")";
  if (name == "leaky_relu" || name == "elu")
    return name.str() + "(" + operand(0) + ", alpha=" +
           number(op.getAttrOfType<mlir::FloatAttr>("alpha").getValueAsDouble()) + ")";
  if (name == "reshape")
    return "reshape(" + operand(0) + ", " + i64s("shape") + ")";
  if (name == "transpose")
    return "transpose(" + operand(0) + ", perm=" + i64s("perm") + ")";
  if (name == "sum" || name == "mean" || name == "max")
    return name.str() + "(" + operand(0) + ", axis=" + i64s("axes") + ", keepdims=" +
           (op.getAttrOfType<mlir::BoolAttr>("keepdims").getValue() ? "true" : "false") + ")";
  if (name == "argmax" || name == "softmax" || name == "log_softmax")
    return name.str() + "(" + operand(0) + ", axis=" +
           std::to_string(op.getAttrOfType<mlir::IntegerAttr>("axis").getInt()) + ")";
  if (name == "conv2d")
    return "conv2d(" + operand(0) + ", " + operand(1) + ", stride=" + i64s("strides") +
           ", padding=" + i64s("pads") + ")";
  if (name == "max_pool" || name == "avg_pool")
    return name.str() + "(" + operand(0) + ", window=" + i64s("window") + ", stride=" +
           i64s("strides") + ", padding=" + i64s("pads") + ")";
  static const std::set<std::string> calls = {
      "relu", "sigmoid", "tanh", "exp", "log", "sqrt", "square", "abs",
      "flatten", "matmul", "maximum", "minimum"};
  if (calls.count(name.str())) {
    std::string s = name.str() + "(";
    for (unsigned i = 0; i < op.getNumOperands(); ++i)
      s += (i ? ", " : "") + operand(i);
    return s + ")";
  }
  error = "op dl." + name.str() + " has no form in the language";
  return "";
}

mlir::FailureOr<std::string> Writer::write(std::string &errorOut) {
  auto graph = module.lookupSymbol<mlir::func::FuncOp>(contract::kGraphEntry);
  if (!graph) {
    errorOut = "the module has no @graph";
    return mlir::failure();
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "# Imported from ONNX by `dlc import`; the params' values are in the\n"
        "# checkpoint written beside it (dlc run/train ... --restore FILE.safetensors).\n";
  os << "model " << identifierFor(module.getSymName() ? module.getSymName()->str() : "model")
     << "\n\n";
  for (auto in : module.getOps<mlir::dl::InputOp>()) {
    used.insert(in.getSymName().str());
    os << "input " << in.getSymName() << ": "
       << typeText(in.getType(), in.getDimNames().getValue()) << "\n";
    for (mlir::Attribute d : in.getDimNames())
      if (!llvm::cast<mlir::StringAttr>(d).getValue().empty())
        used.insert(llvm::cast<mlir::StringAttr>(d).str());
  }
  for (auto p : module.getOps<mlir::dl::ParamOp>()) {
    used.insert(p.getSymName().str());
    os << "param " << p.getSymName() << ": " << typeText(p.getType()) << " = zeros()\n";
  }
  os << "\n";
  mlir::Block &body = graph.getBody().front();
  for (mlir::BlockArgument arg : body.getArguments()) {
    mlir::DictionaryAttr attrs = graph.getArgAttrDict(arg.getArgNumber());
    for (const char *key : {contract::kInputAttr, contract::kParamAttr})
      if (auto ref = attrs ? attrs.getAs<mlir::FlatSymbolRefAttr>(key) : nullptr)
        names[arg] = ref.getValue().str();
  }
  // Outputs computed by an op take the output's name at the op.
  auto ret = llvm::cast<mlir::func::ReturnOp>(body.getTerminator());
  llvm::DenseMap<mlir::Value, std::string> outputAt;
  std::vector<std::pair<std::string, mlir::Value>> laterOutputs;
  for (auto [i, value] : llvm::enumerate(ret.getOperands())) {
    std::string outName =
        graph.getResultAttrOfType<mlir::StringAttr>(i, contract::kNameAttr).str();
    used.insert(outName);
    if (value.getDefiningOp() && !outputAt.count(value))
      outputAt[value] = outName;
    else
      laterOutputs.push_back({outName, value});
  }
  for (mlir::Operation &op : body.without_terminator()) {
    if (op.getNumResults() != 1) {
      errorOut = "op " + op.getName().getStringRef().str() + " has no form in the language";
      return mlir::failure();
    }
    std::string e = expr(op);
    if (!error.empty()) {
      errorOut = error;
      return mlir::failure();
    }
    mlir::Value result = op.getResult(0);
    if (auto it = outputAt.find(result); it != outputAt.end()) {
      names[result] = it->second;
      os << "output " << it->second << " = " << e << "\n";
    } else {
      names[result] = fresh(nodeName(op.getLoc()));
      os << names[result] << " = " << e << "\n";
    }
  }
  for (auto &[outName, value] : laterOutputs)
    os << "output " << outName << " = " << v(value) << "\n";
  return text;
}

} // namespace

mlir::FailureOr<std::string> writeModelSource(mlir::ModuleOp module, std::string &error) {
  return Writer(module).write(error);
}

} // namespace dlc::onnx
