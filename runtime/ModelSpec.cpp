//===- ModelSpec.cpp - ModelSpec lookup and JSON ----------------------------===//
//
// JSON (de)serialization of ModelSpec with nlohmann-json; parse errors are
// caught here and returned as Status.
//
//===----------------------------------------------------------------------===//

#include "runtime/ModelSpec.h"

#include "runtime/Contracts.h"
#include "runtime/LanguageFacts.h"
#include "runtime/Memory.h"
#include "runtime/Random.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace dlc::runtime;
using nlohmann::json;
using namespace dlc::contract::modelspec;

std::string SourceLoc::prefix() const {
  if (file.empty())
    return "";
  return file + ":" + std::to_string(line) + ":" + std::to_string(col) + ": ";
}

std::string SourceLoc::diagnostic(const std::string &message) const {
  if (file.empty())
    return message;
  std::string out = prefix() + "error: " + message;
  std::ifstream in(file);
  std::string text;
  for (unsigned i = 0; i < line && std::getline(in, text); ++i)
    if (i + 1 == line) {
      out += "\n" + text + "\n";
      // Keep tabs so that the caret lines up under the column.
      for (unsigned c = 1; c < col && c - 1 < text.size(); ++c)
        out += text[c - 1] == '\t' ? '\t' : ' ';
      out += "^";
    }
  return out;
}

template <class T>
static const T *findByName(const std::vector<T> &v, const std::string &n) {
  for (const T &x : v)
    if (x.name == n)
      return &x;
  return nullptr;
}

const InputSpec *ModelSpec::findInput(const std::string &n) const {
  return findByName(inputs, n);
}
const ParamSpec *ModelSpec::findParam(const std::string &n) const {
  return findByName(params, n);
}
const EntrySpec *ModelSpec::findEntry(const std::string &n) const {
  return findByName(entries, n);
}

int EntrySpec::inPlaceArg(size_t r) const {
  const ValueSpec &result = results.at(r);
  if (!inPlace || (result.role != dlc::contract::kRoleParam && result.role != dlc::contract::kRoleState))
    return -1;
  for (size_t i = 0; i < args.size(); ++i)
    if (args[i].role == result.role && args[i].name == result.name)
      return static_cast<int>(i);
  return -1;
}

namespace {
/// An integer field: a JSON integer within T's range. (nlohmann's own
/// conversion casts a fractional or out-of-range number, which is undefined
/// behavior: a module's description is input anyone can hand dlc-rt.)
template <typename T> T integer(const json &j) {
  using Limits = std::numeric_limits<T>;
  if (j.is_number_unsigned()) {
    uint64_t v = j.get<uint64_t>();
    if (v <= static_cast<uint64_t>(Limits::max()))
      return static_cast<T>(v);
  } else if (j.is_number_integer()) {
    int64_t v = j.get<int64_t>();
    if (v >= static_cast<int64_t>(Limits::min()) &&
        (v < 0 || static_cast<uint64_t>(v) <= static_cast<uint64_t>(Limits::max())))
      return static_cast<T>(v);
  } else {
    throw std::invalid_argument(std::string("expected an integer, got ") +
                                j.type_name());
  }
  throw std::out_of_range("integer " + j.dump() + " is out of range");
}
std::vector<int64_t> integers(const json &j) {
  if (!j.is_array())
    throw std::invalid_argument(std::string("expected a list of integers, got ") +
                                j.type_name());
  std::vector<int64_t> out;
  for (const json &e : j)
    out.push_back(integer<int64_t>(e));
  return out;
}

json locJSON(const SourceLoc &l) { return {l.file, l.line, l.col}; }
SourceLoc locFrom(const json &j) {
  return SourceLoc{j.at(0).get<std::string>(), integer<unsigned>(j.at(1)),
                   integer<unsigned>(j.at(2))};
}
json valueJSON(const ValueSpec &v) {
  return {{kRole, v.role}, {kName, v.name}, {kDType, dtypeName(v.dtype)},
          {kShape, v.shape}};
}
DType dtypeFrom(const json &j) {
  return j.get<std::string>() == "i32" ? DType::I32 : DType::F32;
}
ValueSpec valueFrom(const json &j) {
  return ValueSpec{j.at(kRole), j.at(kName), dtypeFrom(j.at(kDType)),
                   integers(j.at(kShape))};
}
} // namespace

std::string ModelSpec::toJSON() const {
  json j;
  j[kName] = name;
  j[kFile] = file;
  if (device != "cpu")
    j[kDevice] = device;
  if (regionShares != 1)
    j[kRegionShares] = regionShares;
  for (const InputSpec &i : inputs)
    j[kInputs].push_back({{kName, i.name}, {kDType, dtypeName(i.dtype)},
                           {kShape, i.shape}, {kDims, i.dimNames},
                           {kClasses, i.classes}, {kLoc, locJSON(i.loc)}});
  for (const ParamSpec &p : params)
    j[kParams].push_back({{kName, p.name}, {kDType, dtypeName(p.dtype)},
                           {kShape, p.shape}, {kInit, p.init},
                           {kArgs, p.initArgs}, {kLiteral, p.literal},
                           {kLoc, locJSON(p.loc)}});
  for (const DataSourceSpec &d : data)
    j[kData].push_back({{kSet, d.set}, {kInput, d.input}, {kKind, d.kind},
                         {kPath, d.path}, {kScale, d.scale},
                         {kLiteral, d.literal}, {kLiteralShape, d.literalShape},
                         {kLoc, locJSON(d.loc)}});
  if (train) {
    json t = {{kOptimizer, train->optimizer}, {kArgs, train->optimizerArgs},
              {kValidation, train->validation}, {kLogEvery, train->logEvery},
              {kSeed, train->seed}, {kFreeze, train->freeze},
              {kLoc, locJSON(train->loc)}};
    if (train->batch) t[kBatch] = *train->batch;
    if (train->steps) t[kSteps] = *train->steps;
    if (train->epochs) t[kEpochs] = *train->epochs;
    if (train->evalEvery) t[kEvalEvery] = *train->evalEvery;
    if (train->shuffle) t[kShuffle] = *train->shuffle;
    j[kTrain] = t;
  }
  for (const EntrySpec &e : entries) {
    json ej = {{kName, e.name}, {kArgs, json::array()}, {kResults, json::array()}};
    for (const ValueSpec &v : e.args)
      ej[kArgs].push_back(valueJSON(v));
    for (const ValueSpec &v : e.results)
      ej[kResults].push_back(valueJSON(v));
    for (const NumericsCheck &c : e.checks)
      ej[kChecks].push_back({{kOp, c.op}, {kPart, c.part}, {kLoc, locJSON(c.loc)}});
    if (e.inPlace)
      ej[kInPlace] = true;
    j[kEntries].push_back(ej);
  }
  for (const GraphNode &n : graph)
    j[kGraph].push_back({{kName, n.name}, {kOp, n.op}, {kInputs, n.inputs},
                         {kTypes, n.types}, {kShapes, n.shapes},
                         {kAttrs, n.attrs}, {kFused, n.fused},
                         {kFrozen, n.frozen}, {kLoc, locJSON(n.loc)}});
  return j.dump();
}

StatusOr<ModelSpec> ModelSpec::fromJSON(const std::string &text) {
  try {
    json j = json::parse(text);
    ModelSpec s;
    s.name = j.at(kName);
    s.file = j.value(kFile, "");
    s.device = j.value(kDevice, "cpu");
    s.regionShares = j.value(kRegionShares, 1);
    if (s.regionShares < 1 || s.regionShares > dlc::contract::kMaxRegionShares)
      return makeError("invalid model description in the compiled module: region_shares ",
                       s.regionShares, " is not between 1 and ", dlc::contract::kMaxRegionShares);
    for (const json &i : j.value(kInputs, json::array())) {
      s.inputs.push_back(InputSpec{i.at(kName), dtypeFrom(i.at(kDType)),
                                   integers(i.at(kShape)),
                                   i.at(kDims).get<std::vector<std::string>>(),
                                   locFrom(i.at(kLoc))});
      if (i.contains(kClasses))
        s.inputs.back().classes = integer<int64_t>(i.at(kClasses));
      if (s.inputs.back().classes < 0)
        return makeError("invalid model description in the compiled module: input '",
                         s.inputs.back().name, "' has ", s.inputs.back().classes, " classes");
    }
    for (const json &p : j.value(kParams, json::array()))
      s.params.push_back(ParamSpec{p.at(kName), dtypeFrom(p.at(kDType)),
                                   integers(p.at(kShape)),
                                   p.at(kInit),
                                   p.at(kArgs).get<std::vector<double>>(),
                                   p.at(kLiteral).get<std::vector<double>>(),
                                   locFrom(p.at(kLoc))});
    for (const json &d : j.value(kData, json::array()))
      s.data.push_back(DataSourceSpec{
          d.at(kSet), d.at(kInput), d.at(kKind), d.at(kPath), d.at(kScale),
          d.at(kLiteral).get<std::vector<double>>(),
          integers(d.at(kLiteralShape)), locFrom(d.at(kLoc))});
    if (j.contains(kTrain)) {
      const json &t = j.at(kTrain);
      TrainSpec ts;
      ts.optimizer = t.at(kOptimizer);
      ts.optimizerArgs = t.at(kArgs).get<std::vector<double>>();
      ts.validation = integer<int64_t>(t.at(kValidation));
      ts.logEvery = integer<int64_t>(t.at(kLogEvery));
      ts.seed = integer<int64_t>(t.at(kSeed));
      ts.freeze = t.at(kFreeze).get<std::vector<std::string>>();
      ts.loc = locFrom(t.at(kLoc));
      if (t.contains(kBatch)) ts.batch = integer<int64_t>(t.at(kBatch));
      if (t.contains(kSteps)) ts.steps = integer<int64_t>(t.at(kSteps));
      if (t.contains(kEpochs)) ts.epochs = integer<int64_t>(t.at(kEpochs));
      if (t.contains(kEvalEvery)) ts.evalEvery = integer<int64_t>(t.at(kEvalEvery));
      if (t.contains(kShuffle)) ts.shuffle = t.at(kShuffle).get<bool>();
      s.train = ts;
    }
    for (const json &e : j.value(kEntries, json::array())) {
      EntrySpec es;
      es.name = e.at(kName);
      for (const json &v : e.at(kArgs))
        es.args.push_back(valueFrom(v));
      for (const json &v : e.at(kResults))
        es.results.push_back(valueFrom(v));
      for (const json &c : e.value(kChecks, json::array()))
        es.checks.push_back(NumericsCheck{c.at(kOp), c.at(kPart), locFrom(c.at(kLoc))});
      es.inPlace = e.value(kInPlace, false);
      s.entries.push_back(std::move(es));
    }
    for (const json &n : j.value(kGraph, json::array()))
      s.graph.push_back(GraphNode{
          n.at(kName), n.at(kOp), n.at(kInputs).get<std::vector<std::string>>(),
          n.at(kTypes).get<std::vector<std::string>>(),
          n.at(kShapes).get<std::vector<std::vector<int64_t>>>(),
          n.at(kAttrs).get<std::vector<std::pair<std::string, std::string>>>(),
          n.at(kFused).get<bool>(), n.at(kFrozen).get<bool>(), locFrom(n.at(kLoc))});
    return s;
  } catch (const std::exception &e) {
    return makeError("invalid model description in the compiled module: ", e.what());
  }
}

Status dlc::runtime::countParams(const ModelSpec &spec, MemoryPlan &plan) {
  plan.kind("params");
  for (const ParamSpec &p : spec.params)
    if (Status s = plan.add("param '" + p.name + "' of type " + formatType(p.dtype, p.shape),
                            tensorBytes(p.shape, dtypeSize(p.dtype)));
        !s.ok())
      return Status::error(p.loc.diagnostic(s.message()));
  return Status::success();
}

namespace {
/// The bytes of one element of a graph value whose type MLIR prints as
/// "?x14x14x32xf32".
uint64_t elementBytes(const std::string &type) {
  size_t x = type.rfind('x');
  std::string element = x == std::string::npos ? type : type.substr(x + 1);
  if (element == "i1" || element == "i8")
    return 1;
  if (element == "f64" || element == "i64")
    return 8;
  return 4;
}
} // namespace

Status dlc::runtime::countGraphValues(const ModelSpec &spec, MemoryPlan &plan, int64_t batch,
                                      bool training, const std::string &what) {
  plan.kind("activations");
  for (const GraphNode &node : spec.graph) {
    if (node.op == "input" || node.op == "param" || node.op == contract::kRoleLoss ||
        node.op == contract::kRoleMetric || node.op == contract::kRoleOutput)
      continue;
    for (size_t k = 0; k < node.shapes.size(); ++k) {
      std::vector<int64_t> shape = node.shapes[k];
      for (int64_t &d : shape)
        if (d < 0)
          d = batch;
      std::string type = formatShape(shape);
      if (Status s = plan.add("the result of " + node.op + " (" + node.name + ") of shape " +
                                  type + (training ? " with its gradient" : ""),
                              tensorBytes(shape, k < node.types.size() ? elementBytes(node.types[k]) : 4,
                                          training ? 2 : 1));
          !s.ok())
        return errorAt(node.loc, what, ": ", s.message());
    }
  }
  return Status::success();
}

Status dlc::runtime::planRun(const ModelSpec &spec, const std::map<std::string, Tensor> &feeds) {
  int64_t batch = 1;
  for (const auto &[name, value] : feeds)
    if (const InputSpec *in = spec.findInput(name))
      for (size_t d = 0; d < in->shape.size() && d < static_cast<size_t>(value.rank()); ++d)
        if (in->shape[d] < 0)
          batch = std::max(batch, value.dim(static_cast<int64_t>(d)));
  MemoryPlan plan;
  if (Status s = countParams(spec, plan); !s.ok())
    return s;
  return countGraphValues(spec, plan, batch, /*training=*/false,
                          "the run at batch " + std::to_string(batch));
}

StatusOr<std::map<std::string, Tensor>>
dlc::runtime::initializeParams(const ModelSpec &spec, int64_t seed) {
  // What the params need, counted before anything is allocated.
  MemoryPlan plan;
  if (Status s = countParams(spec, plan); !s.ok())
    return s;
  Generator generator(static_cast<uint64_t>(seed));
  std::map<std::string, Tensor> params;
  for (const ParamSpec &p : spec.params) {
    auto allocated = Tensor::allocate(p.dtype, p.shape);
    if (!allocated.ok())
      return allocated.status().withPrefix(p.loc.prefix() + "param '" + p.name + "': ");
    Tensor t = std::move(*allocated);
    if (p.init == language::kLiteralInitializer) {
      for (int64_t i = 0; i < t.numElements(); ++i) {
        double v = p.literal.size() == 1 ? p.literal[0] : p.literal[i];
        if (p.dtype == DType::F32)
          t.data<float>()[i] = static_cast<float>(v);
        else
          t.data<int32_t>()[i] = static_cast<int32_t>(v);
      }
    } else {
      InitSpec init{p.init, p.initArgs.size() > 0 ? p.initArgs[0] : 0,
                    p.initArgs.size() > 1 ? p.initArgs[1] : 0};
      if (Status s = initialize(t, init, generator); !s.ok())
        return s.withPrefix(p.loc.prefix() + "param '" + p.name + "': ");
    }
    params.emplace(p.name, std::move(t));
  }
  return params;
}

Status dlc::runtime::restoreParams(const ModelSpec &spec,
                                   const std::map<std::string, Tensor> &tensors,
                                   const std::string &path,
                                   std::map<std::string, Tensor> &params,
                                   std::string *note) {
  if (note) {
    std::vector<std::string> ignored;
    for (const auto &[name, tensor] : tensors) {
      bool known = spec.findParam(name) != nullptr;
      // Optimizer state: "opt." PARAM "." SLOT, for a param of the model.
      if (!known && name.rfind("opt.", 0) == 0) {
        size_t dot = name.rfind('.');
        known = dot > 4 && spec.findParam(name.substr(4, dot - 4)) != nullptr;
      }
      if (!known)
        ignored.push_back(name);
    }
    note->clear();
    if (!ignored.empty()) {
      *note = path + ": ignoring " + std::to_string(ignored.size()) + " tensor" +
              (ignored.size() == 1 ? "" : "s") + " the model does not have:";
      for (size_t i = 0; i < ignored.size() && i < 8; ++i)
        *note += (i ? ", '" : " '") + ignored[i] + "'";
      if (ignored.size() > 8)
        *note += ", ...";
    }
  }
  for (const ParamSpec &p : spec.params) {
    auto it = tensors.find(p.name);
    if (it == tensors.end())
      return makeError(path, ": param '", p.name, "' is missing: expected ",
                       formatType(p.dtype, p.shape));
    if (it->second.dtype() != p.dtype || it->second.shape() != p.shape)
      return makeError(path, ": param '", p.name, "' is ", it->second.typeString(),
                       " but the model declares ", formatType(p.dtype, p.shape));
  }
  for (const ParamSpec &p : spec.params)
    params[p.name] = tensors.at(p.name);
  return Status::success();
}
