//===- ModelSpec.cpp - ModelSpec lookup and JSON ----------------------------===//
//
// JSON (de)serialization of ModelSpec with nlohmann-json; parse errors are
// caught here and returned as Status.
//
//===----------------------------------------------------------------------===//

#include "runtime/ModelSpec.h"

#include "runtime/Random.h"

#include <nlohmann/json.hpp>

#include <fstream>

using namespace dlc::runtime;
using nlohmann::json;

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

namespace {
json locJSON(const SourceLoc &l) { return {l.file, l.line, l.col}; }
SourceLoc locFrom(const json &j) {
  return SourceLoc{j.at(0).get<std::string>(), j.at(1).get<unsigned>(),
                   j.at(2).get<unsigned>()};
}
json valueJSON(const ValueSpec &v) {
  return {{"role", v.role}, {"name", v.name}, {"dtype", dtypeName(v.dtype)},
          {"shape", v.shape}};
}
DType dtypeFrom(const json &j) {
  return j.get<std::string>() == "i32" ? DType::I32 : DType::F32;
}
ValueSpec valueFrom(const json &j) {
  return ValueSpec{j.at("role"), j.at("name"), dtypeFrom(j.at("dtype")),
                   j.at("shape").get<std::vector<int64_t>>()};
}
} // namespace

std::string ModelSpec::toJSON() const {
  json j;
  j["name"] = name;
  j["file"] = file;
  for (const InputSpec &i : inputs)
    j["inputs"].push_back({{"name", i.name}, {"dtype", dtypeName(i.dtype)},
                           {"shape", i.shape}, {"dims", i.dimNames},
                           {"loc", locJSON(i.loc)}});
  for (const ParamSpec &p : params)
    j["params"].push_back({{"name", p.name}, {"dtype", dtypeName(p.dtype)},
                           {"shape", p.shape}, {"init", p.init},
                           {"args", p.initArgs}, {"literal", p.literal},
                           {"loc", locJSON(p.loc)}});
  for (const DataSourceSpec &d : data)
    j["data"].push_back({{"set", d.set}, {"input", d.input}, {"kind", d.kind},
                         {"path", d.path}, {"scale", d.scale},
                         {"literal", d.literal}, {"literal_shape", d.literalShape},
                         {"loc", locJSON(d.loc)}});
  if (train) {
    json t = {{"optimizer", train->optimizer}, {"args", train->optimizerArgs},
              {"validation", train->validation}, {"log_every", train->logEvery},
              {"seed", train->seed}, {"freeze", train->freeze},
              {"loc", locJSON(train->loc)}};
    if (train->batch) t["batch"] = *train->batch;
    if (train->steps) t["steps"] = *train->steps;
    if (train->epochs) t["epochs"] = *train->epochs;
    if (train->evalEvery) t["eval_every"] = *train->evalEvery;
    if (train->shuffle) t["shuffle"] = *train->shuffle;
    j["train"] = t;
  }
  for (const EntrySpec &e : entries) {
    json ej = {{"name", e.name}, {"args", json::array()}, {"results", json::array()}};
    for (const ValueSpec &v : e.args)
      ej["args"].push_back(valueJSON(v));
    for (const ValueSpec &v : e.results)
      ej["results"].push_back(valueJSON(v));
    j["entries"].push_back(ej);
  }
  return j.dump();
}

StatusOr<ModelSpec> ModelSpec::fromJSON(const std::string &text) {
  try {
    json j = json::parse(text);
    ModelSpec s;
    s.name = j.at("name");
    s.file = j.value("file", "");
    for (const json &i : j.value("inputs", json::array()))
      s.inputs.push_back(InputSpec{i.at("name"), dtypeFrom(i.at("dtype")),
                                   i.at("shape").get<std::vector<int64_t>>(),
                                   i.at("dims").get<std::vector<std::string>>(),
                                   locFrom(i.at("loc"))});
    for (const json &p : j.value("params", json::array()))
      s.params.push_back(ParamSpec{p.at("name"), dtypeFrom(p.at("dtype")),
                                   p.at("shape").get<std::vector<int64_t>>(),
                                   p.at("init"),
                                   p.at("args").get<std::vector<double>>(),
                                   p.at("literal").get<std::vector<double>>(),
                                   locFrom(p.at("loc"))});
    for (const json &d : j.value("data", json::array()))
      s.data.push_back(DataSourceSpec{
          d.at("set"), d.at("input"), d.at("kind"), d.at("path"), d.at("scale"),
          d.at("literal").get<std::vector<double>>(),
          d.at("literal_shape").get<std::vector<int64_t>>(), locFrom(d.at("loc"))});
    if (j.contains("train")) {
      const json &t = j.at("train");
      TrainSpec ts;
      ts.optimizer = t.at("optimizer");
      ts.optimizerArgs = t.at("args").get<std::vector<double>>();
      ts.validation = t.at("validation");
      ts.logEvery = t.at("log_every");
      ts.seed = t.at("seed");
      ts.freeze = t.at("freeze").get<std::vector<std::string>>();
      ts.loc = locFrom(t.at("loc"));
      if (t.contains("batch")) ts.batch = t.at("batch").get<int64_t>();
      if (t.contains("steps")) ts.steps = t.at("steps").get<int64_t>();
      if (t.contains("epochs")) ts.epochs = t.at("epochs").get<int64_t>();
      if (t.contains("eval_every")) ts.evalEvery = t.at("eval_every").get<int64_t>();
      if (t.contains("shuffle")) ts.shuffle = t.at("shuffle").get<bool>();
      s.train = ts;
    }
    for (const json &e : j.value("entries", json::array())) {
      EntrySpec es;
      es.name = e.at("name");
      for (const json &v : e.at("args"))
        es.args.push_back(valueFrom(v));
      for (const json &v : e.at("results"))
        es.results.push_back(valueFrom(v));
      s.entries.push_back(std::move(es));
    }
    return s;
  } catch (const std::exception &e) {
    return makeError("invalid model description in the compiled module: ", e.what());
  }
}

StatusOr<std::map<std::string, Tensor>>
dlc::runtime::initializeParams(const ModelSpec &spec, int64_t seed) {
  Generator generator(static_cast<uint64_t>(seed));
  std::map<std::string, Tensor> params;
  for (const ParamSpec &p : spec.params) {
    Tensor t(p.dtype, p.shape);
    if (p.init == "literal") {
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
                                   std::map<std::string, Tensor> &params) {
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
