//===- CAPI.cpp - the C API on top of dlc::Model ----------------------------===//
//
// Implements compiler/dlc.h. A dlc_model_t owns a dlc::Model; tensors are
// copied in and out as malloc'd dlc_tensor_t records. Failures are recorded
// in a thread-local message and returned as status codes; nothing here
// prints, throws or exits.
//
//===----------------------------------------------------------------------===//

#include "compiler/dlc.h"

#include "compiler/JIT.h"
#include "runtime/Checkpoint.h"
#include "runtime/Contracts.h"
#include "runtime/Trainer.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <tuple>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

using namespace dlc;

struct dlc_model {
  Model model;
  std::string name;
  /// The C strings of each input's and param's dimension symbols.
  std::vector<std::vector<const char *>> inputDims, paramDims;
};

struct dlc_trainer {
  dlc_model *model;
  /// The compiled training program (train_step, eval).
  std::shared_ptr<runtime::Executable> exe;
  /// The params the trainer updates (copied into the model after training).
  std::map<std::string, Tensor> params;
  std::unique_ptr<runtime::Trainer> trainer;
};

namespace {

/// The message of the latest failure on this thread.
thread_local std::string lastError;

dlc_status_t fail(dlc_status_t code, std::string message) {
  lastError = std::move(message);
  return code;
}

dlc_status_t fail(const Status &status) {
  return fail(DLC_ERROR, status.message());
}

/// Tensors crossing the API have at most this many dimensions (a garbage
/// rank must not make the library read far beyond the shape array).
constexpr int64_t kMaxRank = 64;

/// An enum field a C host filled, as the integer it holds: a C enum may hold
/// any int, and reading one beyond the enumerators as the C++ enum type is
/// undefined (the C API fuzzer found it with dlc_options_t::target).
template <class Enum> int64_t rawEnum(const Enum &field) {
  std::underlying_type_t<Enum> value;
  std::memcpy(&value, &field, sizeof value);
  return value;
}

bool validDType(const dlc_dtype_t &dtype) {
  int64_t value = rawEnum(dtype);
  return value == DLC_F32 || value == DLC_I32;
}

/// Only for a dtype validDType accepted.
runtime::DType toDType(dlc_dtype_t dtype) {
  return dtype == DLC_I32 ? runtime::DType::I32 : runtime::DType::F32;
}

dlc_dtype_t fromDType(runtime::DType dtype) {
  return dtype == runtime::DType::I32 ? DLC_I32 : DLC_F32;
}

/// Copies a borrowed C tensor into a Tensor; `what` names it in messages.
StatusOr<Tensor> toTensor(const dlc_tensor_t &t, const std::string &what) {
  if (!validDType(t.dtype))
    return Status::error(what + ": unknown dtype " + std::to_string(rawEnum(t.dtype)));
  if (t.rank < 0 || t.rank > kMaxRank || (t.rank > 0 && !t.shape))
    return Status::error(what + ": expected a shape of rank 0 to " +
                         std::to_string(kMaxRank) + " (a non-null shape), got rank " +
                         std::to_string(t.rank));
  std::vector<int64_t> shape(t.shape, t.shape + t.rank);
  auto tensor = Tensor::allocate(toDType(t.dtype), shape);
  if (!tensor.ok())
    return tensor.status().withPrefix(std::string(what) + ": ");
  if (tensor->byteSize() != 0) {
    if (!t.data)
      return Status::error(what + ": no data for " + tensor->typeString());
    std::memcpy(tensor->rawData(), t.data, tensor->byteSize());
  }
  return std::move(*tensor);
}

char *copyString(const std::string &s) {
  char *p = static_cast<char *>(std::malloc(s.size() + 1));
  if (p)
    std::memcpy(p, s.c_str(), s.size() + 1);
  return p;
}

void freeTensor(dlc_tensor_t &t) {
  std::free(const_cast<char *>(t.name));
  std::free(const_cast<char *>(t.role));
  std::free(const_cast<int64_t *>(t.shape));
  std::free(const_cast<void *>(t.data));
  t = dlc_tensor_t{};
}

/// Fills `out` with malloc'd copies of `value`; false when out of memory.
bool fromTensor(const std::string &name, const std::string &role,
                const Tensor &value, dlc_tensor_t &out) {
  out = dlc_tensor_t{};
  out.dtype = fromDType(value.dtype());
  out.rank = value.rank();
  out.name = copyString(name);
  out.role = copyString(role);
  // malloc(0) may return NULL; always ask for at least one byte.
  auto *shape = static_cast<int64_t *>(
      std::malloc(sizeof(int64_t) * std::max<size_t>(1, value.rank())));
  void *data = std::malloc(std::max<size_t>(1, value.byteSize()));
  out.shape = shape;
  out.data = data;
  if (!out.name || !out.role || !shape || !data) {
    freeTensor(out);
    return false;
  }
  std::copy(value.shape().begin(), value.shape().end(), shape);
  if (value.byteSize() != 0)
    std::memcpy(data, value.rawData(), value.byteSize());
  return true;
}

/// Copies `values` into a malloc'd array for the caller.
dlc_status_t exportTensors(const std::vector<NamedTensor> &values,
                           dlc_tensor_t **results, size_t *numResults) {
  auto *array = static_cast<dlc_tensor_t *>(
      std::calloc(std::max<size_t>(1, values.size()), sizeof(dlc_tensor_t)));
  if (!array)
    return fail(DLC_ERROR, "out of memory copying the results");
  for (size_t i = 0; i < values.size(); ++i) {
    if (!fromTensor(values[i].name, values[i].role, values[i].value, array[i])) {
      dlc_tensors_free(array, i);
      return fail(DLC_ERROR, "out of memory copying the results");
    }
  }
  *results = array;
  *numResults = values.size();
  return DLC_OK;
}

/// Initializes the params the way Model::run does when nothing set them, so
/// that a param set or read before the first run is not reset by it.
Status ensureParams(Model &model) {
  const runtime::ModelSpec &spec = model.spec();
  if (model.params().size() == spec.params.size())
    return Status::success();
  return model.initParams(spec.train ? spec.train->seed : 0);
}

CompileOptions toOptions(const dlc_options_t *options) {
  CompileOptions result;
  if (!options)
    return result;
  result.target = rawEnum(options->target) == DLC_TARGET_CUDA ? "cuda" : "cpu";
  result.optLevel = options->opt_level;
  result.vectorize = options->vectorize != 0;
  result.useCache = options->use_cache != 0;
  return result;
}

dlc_status_t checkOptions(const dlc_options_t *options) {
  if (!options)
    return DLC_OK;
  if (int64_t target = rawEnum(options->target); target != DLC_TARGET_CPU && target != DLC_TARGET_CUDA)
    return fail(DLC_INVALID_ARGUMENT, "unknown target " + std::to_string(target));
  if (options->opt_level > 3)
    return fail(DLC_INVALID_ARGUMENT, "expected an optimization level 0-3, got " +
                                          std::to_string(options->opt_level));
  return DLC_OK;
}

dlc_status_t adopt(StatusOr<Model> loaded, dlc_model_t **model) {
  if (!loaded.ok())
    return fail(loaded.status());
  auto *result = new dlc_model{std::move(*loaded), "", {}, {}};
  // The strings live in the model's spec, which never changes.
  const runtime::ModelSpec &spec = result->model.spec();
  result->name = spec.name;
  for (const runtime::InputSpec &in : spec.inputs) {
    std::vector<const char *> &dims = result->inputDims.emplace_back();
    for (size_t i = 0; i < in.shape.size(); ++i)
      dims.push_back(i < in.dimNames.size() ? in.dimNames[i].c_str() : "");
  }
  for (const runtime::ParamSpec &p : spec.params)
    result->paramDims.emplace_back(p.shape.size(), "");
  *model = result;
  return DLC_OK;
}

using RunFn = StatusOr<std::vector<NamedTensor>> (Model::*)(
    const std::map<std::string, Tensor> &);

dlc_status_t call(RunFn fn, dlc_model_t *model, const dlc_tensor_t *feeds,
                  size_t numFeeds, dlc_tensor_t **results, size_t *numResults) {
  if (!model || !results || !numResults || (numFeeds && !feeds))
    return fail(DLC_INVALID_ARGUMENT, "null argument to a run");
  *results = nullptr;
  *numResults = 0;
  std::map<std::string, Tensor> values;
  for (size_t i = 0; i < numFeeds; ++i) {
    if (!feeds[i].name)
      return fail(DLC_INVALID_ARGUMENT, "feed " + std::to_string(i) + " has no name");
    std::string name = feeds[i].name;
    auto tensor = toTensor(feeds[i], "feed '" + name + "'");
    if (!tensor.ok())
      return fail(DLC_INVALID_ARGUMENT, tensor.message());
    if (!values.emplace(name, std::move(*tensor)).second)
      return fail(DLC_INVALID_ARGUMENT, "'" + name + "' is fed twice");
  }
  if (Status s = ensureParams(model->model); !s.ok())
    return fail(s);
  auto out = (model->model.*fn)(values);
  if (!out.ok())
    return fail(out.status());
  return exportTensors(*out, results, numResults);
}

dlc_status_t describe(const std::string &name, runtime::DType dtype,
                      const std::vector<int64_t> &shape,
                      const std::vector<const char *> &dimNames,
                      dlc_value_info_t *info) {
  info->name = name.c_str();
  info->dtype = fromDType(dtype);
  info->rank = static_cast<int64_t>(shape.size());
  info->shape = shape.data();
  info->dim_names = dimNames.data();
  return DLC_OK;
}

} // namespace

//===----------------------------------------------------------------------===//
// Status, errors and versions
//===----------------------------------------------------------------------===//

const char *dlc_last_error(void) { return lastError.c_str(); }

const char *dlc_version(void) { return DLC_VERSION_STRING; }

//===----------------------------------------------------------------------===//
// Tensors
//===----------------------------------------------------------------------===//

int64_t dlc_tensor_num_elements(const dlc_tensor_t *tensor) {
  if (!tensor || tensor->rank < 0 || tensor->rank > kMaxRank ||
      (tensor->rank > 0 && !tensor->shape))
    return -1;
  return runtime::checkedNumElements(
      std::vector<int64_t>(tensor->shape, tensor->shape + tensor->rank));
}

void dlc_tensors_free(dlc_tensor_t *tensors, size_t count) {
  if (!tensors)
    return;
  for (size_t i = 0; i < count; ++i)
    freeTensor(tensors[i]);
  std::free(tensors);
}

//===----------------------------------------------------------------------===//
// Models
//===----------------------------------------------------------------------===//

void dlc_options_init(dlc_options_t *options) {
  if (!options)
    return;
  CompileOptions defaults;
  options->target = defaults.target == "cuda" ? DLC_TARGET_CUDA : DLC_TARGET_CPU;
  options->opt_level = defaults.optLevel;
  options->vectorize = defaults.vectorize;
  options->use_cache = defaults.useCache;
}

dlc_status_t dlc_model_from_file(const char *path, const dlc_options_t *options,
                                 dlc_model_t **model) {
  if (!model)
    return fail(DLC_INVALID_ARGUMENT, "null model pointer");
  *model = nullptr;
  if (!path)
    return fail(DLC_INVALID_ARGUMENT, "null model path");
  if (dlc_status_t s = checkOptions(options); s != DLC_OK)
    return s;
  return adopt(Model::fromFile(path, toOptions(options)), model);
}

dlc_status_t dlc_model_from_source(const char *source, const char *name,
                                   const dlc_options_t *options,
                                   dlc_model_t **model) {
  if (!model)
    return fail(DLC_INVALID_ARGUMENT, "null model pointer");
  *model = nullptr;
  if (!source)
    return fail(DLC_INVALID_ARGUMENT, "null model source");
  if (dlc_status_t s = checkOptions(options); s != DLC_OK)
    return s;
  return adopt(Model::fromSource(source, name ? name : "<source>",
                                 toOptions(options)),
               model);
}

void dlc_model_free(dlc_model_t *model) { delete model; }

const char *dlc_model_name(const dlc_model_t *model) {
  return model ? model->name.c_str() : "";
}

size_t dlc_model_num_inputs(const dlc_model_t *model) {
  return model ? model->model.spec().inputs.size() : 0;
}

dlc_status_t dlc_model_input_info(const dlc_model_t *model, size_t index,
                                  dlc_value_info_t *info) {
  if (!model || !info)
    return fail(DLC_INVALID_ARGUMENT, "null argument to dlc_model_input_info");
  const auto &inputs = model->model.spec().inputs;
  if (index >= inputs.size())
    return fail(DLC_INVALID_ARGUMENT,
                "input index " + std::to_string(index) + " out of range (" +
                    std::to_string(inputs.size()) + " inputs)");
  const runtime::InputSpec &in = inputs[index];
  return describe(in.name, in.dtype, in.shape, model->inputDims[index], info);
}

size_t dlc_model_num_params(const dlc_model_t *model) {
  return model ? model->model.spec().params.size() : 0;
}

dlc_status_t dlc_model_param_info(const dlc_model_t *model, size_t index,
                                  dlc_value_info_t *info) {
  if (!model || !info)
    return fail(DLC_INVALID_ARGUMENT, "null argument to dlc_model_param_info");
  const auto &params = model->model.spec().params;
  if (index >= params.size())
    return fail(DLC_INVALID_ARGUMENT,
                "param index " + std::to_string(index) + " out of range (" +
                    std::to_string(params.size()) + " params)");
  const runtime::ParamSpec &p = params[index];
  return describe(p.name, p.dtype, p.shape, model->paramDims[index], info);
}

dlc_status_t dlc_model_init_params(dlc_model_t *model, int64_t seed) {
  if (!model)
    return fail(DLC_INVALID_ARGUMENT, "null model");
  if (Status s = model->model.initParams(seed); !s.ok())
    return fail(s);
  return DLC_OK;
}

dlc_status_t dlc_model_set_param(dlc_model_t *model, const char *name,
                                 const dlc_tensor_t *value) {
  if (!model || !name || !value)
    return fail(DLC_INVALID_ARGUMENT, "null argument to dlc_model_set_param");
  auto tensor = toTensor(*value, std::string("param '") + name + "'");
  if (!tensor.ok())
    return fail(DLC_INVALID_ARGUMENT, tensor.message());
  if (Status s = ensureParams(model->model); !s.ok())
    return fail(s);
  if (Status s = model->model.setParam(name, std::move(*tensor)); !s.ok())
    return fail(s);
  return DLC_OK;
}

dlc_status_t dlc_model_get_param(dlc_model_t *model, const char *name,
                                 dlc_tensor_t **value) {
  if (!model || !name || !value)
    return fail(DLC_INVALID_ARGUMENT, "null argument to dlc_model_get_param");
  *value = nullptr;
  if (Status s = ensureParams(model->model); !s.ok())
    return fail(s);
  auto param = model->model.getParam(name);
  if (!param.ok())
    return fail(param.status());
  size_t count = 0;
  return exportTensors(
      {NamedTensor{contract::kRoleParam, name, std::move(*param)}}, value,
      &count);
}

dlc_status_t dlc_model_run(dlc_model_t *model, const dlc_tensor_t *feeds,
                           size_t num_feeds, dlc_tensor_t **results,
                           size_t *num_results) {
  return call(&Model::run, model, feeds, num_feeds, results, num_results);
}

dlc_status_t dlc_model_gradients(dlc_model_t *model, const dlc_tensor_t *feeds,
                                 size_t num_feeds, dlc_tensor_t **results,
                                 size_t *num_results) {
  return call(&Model::gradients, model, feeds, num_feeds, results, num_results);
}

dlc_status_t dlc_model_load_params(dlc_model_t *model, const char *path) {
  if (!model || !path)
    return fail(DLC_INVALID_ARGUMENT, "null argument to dlc_model_load_params");
  auto ckpt = runtime::readCheckpoint(path);
  if (!ckpt.ok())
    return fail(ckpt.status());
  std::map<std::string, Tensor> params;
  if (Status s = runtime::restoreParams(model->model.spec(), ckpt->tensors, path, params);
      !s.ok())
    return fail(s);
  if (Status s = ensureParams(model->model); !s.ok())
    return fail(s);
  for (auto &[name, value] : params)
    if (Status s = model->model.setParam(name, std::move(value)); !s.ok())
      return fail(s);
  return DLC_OK;
}

//===----------------------------------------------------------------------===//
// Training
//===----------------------------------------------------------------------===//

void dlc_train_options_init(dlc_train_options_t *options) {
  if (options)
    *options = dlc_train_options_t{nullptr, -1, -1, -1, -1, nullptr};
}

dlc_status_t dlc_trainer_new(dlc_model_t *model, const dlc_train_options_t *options,
                             dlc_trainer_t **trainer) {
  if (!trainer)
    return fail(DLC_INVALID_ARGUMENT, "null trainer pointer");
  *trainer = nullptr;
  if (!model)
    return fail(DLC_INVALID_ARGUMENT, "null model");
  dlc_train_options_t defaults;
  dlc_train_options_init(&defaults);
  const dlc_train_options_t &o = options ? *options : defaults;
  for (auto [value, name, min] : {std::tuple<int64_t, const char *, int64_t>{o.steps, "steps", 1},
                                  {o.batch, "batch", 1},
                                  {o.validation, "validation", 0},
                                  {o.seed, "seed", 0}})
    if (value != -1 && value < min)
      return fail(DLC_INVALID_ARGUMENT, std::string(name) + " " + std::to_string(value) +
                                            ": expected -1 (the model's) or at least " +
                                            std::to_string(min));
  if (Status s = ensureParams(model->model); !s.ok())
    return fail(s);
  auto exe = model->model.compileTraining();
  if (!exe.ok())
    return fail(exe.status());
  auto result = std::make_unique<dlc_trainer>();
  result->model = model;
  result->exe = *exe;
  result->params = model->model.params();
  result->trainer = std::make_unique<runtime::Trainer>(
      *exe, result->params,
      runtime::TrainOptions::fromFlags(o.data_dir ? o.data_dir : "", o.steps, o.batch,
                                       o.validation, o.seed, o.restore ? o.restore : ""));
  if (Status s = result->trainer->loadData(); !s.ok())
    return fail(s);
  if (Status s = result->trainer->restore(); !s.ok())
    return fail(s);
  *trainer = result.release();
  return DLC_OK;
}

void dlc_trainer_free(dlc_trainer_t *trainer) { delete trainer; }

dlc_status_t dlc_trainer_train(dlc_trainer_t *trainer, int64_t *step) {
  if (!trainer)
    return fail(DLC_INVALID_ARGUMENT, "null trainer");
  auto result = trainer->trainer->train([](const runtime::Progress &) {},
                                        [](const runtime::SetResult &) {});
  if (!result.ok())
    return fail(result.status());
  for (const auto &[name, value] : trainer->params)
    if (Status s = trainer->model->model.setParam(name, value); !s.ok())
      return fail(s);
  if (step)
    *step = result->steps;
  return DLC_OK;
}

dlc_status_t dlc_trainer_evaluate(dlc_trainer_t *trainer, const char *set,
                                  dlc_tensor_t **results, size_t *num_results) {
  if (!trainer || !set || !results || !num_results)
    return fail(DLC_INVALID_ARGUMENT, "null argument to dlc_trainer_evaluate");
  *results = nullptr;
  *num_results = 0;
  std::string name = set;
  if (name != "train" && name != "validation" && name != "test")
    return fail(DLC_INVALID_ARGUMENT,
                "unknown set '" + name + "': expected train, validation or test");
  if (Status s = trainer->trainer->requireSet(name); !s.ok())
    return fail(DLC_INVALID_ARGUMENT, s.message());
  auto r = trainer->trainer->evaluate(name);
  if (!r.ok())
    return fail(r.status());
  const runtime::EntrySpec *eval = trainer->exe->spec().findEntry(contract::kEvalEntry);
  std::vector<NamedTensor> values;
  for (const auto &[metric, value] : r->values) {
    std::string role = contract::kRoleMetric;
    if (eval)
      for (const runtime::ValueSpec &v : eval->results)
        if (v.name == metric)
          role = v.role;
    values.push_back(NamedTensor{role, metric, Tensor::scalar(static_cast<float>(value))});
  }
  return exportTensors(values, results, num_results);
}

dlc_status_t dlc_trainer_save(const dlc_trainer_t *trainer, const char *path) {
  if (!trainer || !path)
    return fail(DLC_INVALID_ARGUMENT, "null argument to dlc_trainer_save");
  if (!*path)
    return fail(DLC_INVALID_ARGUMENT, "empty checkpoint path");
  if (Status s = trainer->trainer->save(path); !s.ok())
    return fail(s);
  return DLC_OK;
}
