//===- Trainer.cpp - training and evaluating a compiled model ---------------===//
//
// Defaults where the model is silent (documented in docs/CHOICES.md):
// batch 32 for file data and the whole set for literal data; one epoch when
// neither steps nor epochs is given; shuffling on except for literal data;
// validation passes every eval_every (default log_every) steps.
//
//===----------------------------------------------------------------------===//

#include "runtime/Trainer.h"

#include "runtime/Contracts.h"
#include "runtime/Idx.h"
#include "runtime/Npy.h"

#include <chrono>
#include <sstream>
#ifdef __GLIBC__
#include <malloc.h>
#include <sys/stat.h>
#endif
#include <cmath>

using namespace dlc::runtime;
namespace contract = dlc::contract;

namespace {
std::string dirName(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

bool isAbsolute(const std::string &p) { return !p.empty() && p[0] == '/'; }

bool isLossOrMetric(const ValueSpec &v) {
  return v.role == contract::kRoleLoss || v.role == contract::kRoleMetric;
}

double scalarOf(const Tensor &t) {
  return t.dtype() == DType::F32 ? t.data<float>()[0] : t.data<int32_t>()[0];
}

/// Labels (one integer per example) that feed an f32 [B, C] input are class
/// ids to be one-hot encoded: turns them into i32 for prepareInput.
Status labelsToClassIds(Tensor &raw, const InputSpec &input, double scale) {
  if (input.dtype != DType::F32 || input.shape.size() != 2 ||
      raw.rank() != 1 || scale != 1.0)
    return Status::success();
  for (int64_t i = 0; i < raw.numElements(); ++i) {
    float v = raw.data<float>()[i];
    if (v != std::floor(v) || std::fabs(v) >= 2147483648.0f)
      return Status::success();
  }
  auto ids = Tensor::allocate(DType::I32, raw.shape());
  if (!ids.ok())
    return ids.status();
  for (int64_t i = 0; i < raw.numElements(); ++i)
    ids->data<int32_t>()[i] = static_cast<int32_t>(raw.data<float>()[i]);
  raw = std::move(*ids);
  return Status::success();
}

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}
} // namespace

Trainer::Trainer(std::shared_ptr<const Executable> exe,
                 std::map<std::string, Tensor> &params, TrainOptions options)
    : exe_(std::move(exe)), spec_(exe_->spec()), params_(params),
      options_(std::move(options)),
      local_(options_.comm ? nullptr : localCommunicator()),
      comm_(options_.comm ? *options_.comm : *local_) {}

StatusOr<Tensor> Trainer::loadSource(const DataSourceSpec &source,
                                     const InputSpec &input) {
  std::vector<int64_t> example(input.shape.begin() + (input.shape.empty() ? 0 : 1),
                               input.shape.end());
  if (source.kind == "literal") {
    if (checkedNumElements(source.literalShape) != static_cast<int64_t>(source.literal.size()))
      return errorAt(source.loc, "literal data for input '", input.name, "' of shape ",
                     formatShape(source.literalShape), " holds ", source.literal.size(),
                     " values");
    auto allocated = Tensor::allocate(input.dtype, source.literalShape);
    if (!allocated.ok())
      return errorAt(source.loc, allocated.status().message());
    Tensor raw = std::move(*allocated);
    for (int64_t i = 0; i < raw.numElements(); ++i) {
      if (input.dtype == DType::F32)
        raw.data<float>()[i] = static_cast<float>(source.literal[i]);
      else
        raw.data<int32_t>()[i] = static_cast<int32_t>(source.literal[i]);
    }
    if (raw.rank() == 0)
      return errorAt(source.loc, "literal data for input '", input.name,
                     "' must be a list of examples, not a scalar");
    auto prepared = prepareInput(raw, example, input.dtype, input.name, "literal data", &plan_,
                                 input.classes);
    if (!prepared.ok())
      return errorAt(source.loc, prepared.status().message());
    return prepared;
  }
  std::string path = dataPath(source);
  auto raw = source.kind == "npy" ? readNpy(path, input.dtype, source.scale)
                                  : readIdx(path, input.dtype, source.scale);
  if (!raw.ok())
    return errorAt(source.loc, raw.status().message());
  if (Status s = plan_.add("data " + path + " of type " + raw->typeString(), raw->byteSize());
      !s.ok())
    return errorAt(source.loc, s.message());
  if (Status s = labelsToClassIds(*raw, input, source.scale); !s.ok())
    return errorAt(source.loc, s.withPrefix(path + ": ").message());
  auto prepared = prepareInput(*raw, example, input.dtype, input.name, path, &plan_,
                                 input.classes);
  if (!prepared.ok())
    return errorAt(source.loc, prepared.status().message());
  plan_.release(raw->byteSize()); // freed when this returns
  return prepared;
}

std::string Trainer::dataPath(const DataSourceSpec &source) const {
  std::string path = source.path;
  if (!isAbsolute(path)) {
    std::string dir = options_.dataDir.empty() ? dirName(spec_.file) : options_.dataDir;
    if (dir != ".")
      path = dir + "/" + path;
  }
  return path;
}

Status Trainer::checkNotAnInput(const std::string &flag, const std::string &output) const {
  struct stat out;
  if (output.empty() || ::stat(output.c_str(), &out) != 0)
    return Status::success();
  for (const DataSourceSpec &source : spec_.data) {
    if (source.path.empty())
      continue;
    std::string path = dataPath(source);
    struct stat in;
    if (::stat(path.c_str(), &in) == 0 && in.st_dev == out.st_dev && in.st_ino == out.st_ino)
      return makeError(flag, " ", output, ": is the data file ", path,
                       " that this run reads; refusing to overwrite it");
  }
  return Status::success();
}

Status Trainer::loadData() {
  plan_ = MemoryPlan();
  if (Status s = countParams(spec_, plan_); !s.ok())
    return s;
  // Optimizer state starts at zero, counted before it is allocated.
  const EntrySpec *step = spec_.findEntry(contract::kTrainStepEntry);
  if (!step)
    step = spec_.findEntry(contract::kApplyEntry);
  std::vector<const ValueSpec *> stateSpecs;
  plan_.kind("optimizer state");
  if (step)
    for (const ValueSpec &a : step->args) {
      if (a.role != contract::kRoleState)
        continue;
      if (Status s = plan_.add("optimizer state '" + a.name + "' of type " +
                                   formatType(a.dtype, a.shape),
                               tensorBytes(a.shape, dtypeSize(a.dtype)));
          !s.ok())
        return errorAt(spec_.train ? spec_.train->loc : SourceLoc(), s.message());
      stateSpecs.push_back(&a);
    }
  state_.clear();
  for (const ValueSpec *a : stateSpecs) {
    auto zeros = Tensor::allocate(a->dtype, a->shape);
    if (!zeros.ok())
      return zeros.status().withPrefix("optimizer state '" + a->name + "': ");
    state_.emplace(a->name, std::move(*zeros));
  }
  plan_.kind("data");
  for (const char *set : {"train", "validation", "test"}) {
    Dataset data;
    bool any = false;
    for (const InputSpec &input : spec_.inputs) {
      const DataSourceSpec *source = nullptr;
      for (const DataSourceSpec &d : spec_.data)
        if (d.set == set && d.input == input.name)
          source = &d;
      if (!source)
        continue;
      any = true;
      auto t = loadSource(*source, input);
      if (!t.ok())
        return t.status();
      if (Status s = data.add(input.name, std::move(*t)); !s.ok())
        return errorAt(source->loc, "data ", set, ": ", s.message());
    }
    if (!any)
      continue;
    for (const InputSpec &input : spec_.inputs)
      if (!data.find(input.name)) {
        SourceLoc loc;
        for (const DataSourceSpec &d : spec_.data)
          if (d.set == set && loc.file.empty())
            loc = d.loc;
        return errorAt(loc, "data ", set, " does not bind input '",
                       input.name, "'; every input needs a source");
      }
    sets_[set] = std::move(data);
  }
  int64_t holdout =
      options_.validation.value_or(spec_.train ? spec_.train->validation : 0);
  if (holdout > 0 && !sets_.count("validation")) {
    auto train = sets_.find("train");
    SourceLoc loc = spec_.train ? spec_.train->loc : SourceLoc();
    if (train == sets_.end())
      return errorAt(loc,
                     "'validation' holds out training examples, but there is "
                     "no train data");
    if (holdout >= train->second.size()) {
      if (options_.validation)
        return Status::error("--validation " + std::to_string(holdout) +
                             " leaves no training examples: expected fewer than the " +
                             std::to_string(train->second.size()) + " training examples");
      return errorAt(loc, "'validation = ", holdout,
                     "' leaves no training examples: expected fewer than the ",
                     train->second.size(), " training examples");
    }
    auto split = train->second.split(holdout);
    if (!split.ok())
      return split.status();
    sets_["train"] = std::move(split->first);
    sets_["validation"] = std::move(split->second);
  }
  return Status::success();
}

Status Trainer::planStep(const std::string &entry, int64_t batch, bool training) const {
  MemoryPlan plan = plan_;
  auto located = [&](const SourceLoc &loc, const Status &s) {
    return errorAt(loc, "the ", entry, " step at batch ", batch, ": ", s.message());
  };
  plan.kind("batch");
  for (const auto &[name, data] : sets_) {
    (void)name;
    for (const Tensor &t : data.tensors()) {
      std::vector<int64_t> shape = t.shape();
      shape[0] = std::min(batch, shape[0]);
      if (Status s = plan.add("a batch of type " + formatType(t.dtype(), shape),
                              tensorBytes(shape, dtypeSize(t.dtype())));
          !s.ok())
        return located(spec_.train ? spec_.train->loc : SourceLoc(), s);
    }
    break; // One set's batch buffers are live at a time.
  }
  return countGraphValues(spec_, plan, batch, training,
                          "the " + entry + " step at batch " + std::to_string(batch));
  return Status::success();
}

Status Trainer::restore() {
  if (options_.restore.empty())
    return Status::success();
  auto ckpt = readCheckpoint(options_.restore);
  if (!ckpt.ok())
    return ckpt.status();
  if (Status s = restoreParams(spec_, ckpt->tensors, options_.restore, params_,
                               &restoreNote_);
      !s.ok())
    return s;
  // The step is checked whether it is used (resuming) or not (transfer
  // learning): a bad one says the file is not what it claims.
  int64_t step = -1;
  if (auto it = ckpt->metadata.find("step"); it != ckpt->metadata.end()) {
    // Resuming replays the generator step by step: a step count is a
    // decimal number of at most a billion steps, nothing else.
    const std::string &text = it->second;
    constexpr int64_t kMaxStep = 1000000000;
    bool digits = !text.empty() && text.size() <= 10 &&
                  text.find_first_not_of("0123456789") == std::string::npos;
    step = digits ? std::strtoll(text.c_str(), nullptr, 10) : -1;
    if (step < 0 || step > kMaxStep)
      return makeError(options_.restore, ": the step in the metadata, '", text,
                       "', is not a step count from 0 to ", kMaxStep);
  }
  auto model = ckpt->metadata.find("model");
  resumed_ = model != ckpt->metadata.end() && model->second == spec_.name;
  if (!resumed_)
    return Status::success(); // Transfer learning: fresh optimizer and step.
  for (auto &[name, value] : state_) {
    auto it = ckpt->tensors.find(name);
    if (it == ckpt->tensors.end())
      continue; // No optimizer state in the file: start it fresh.
    if (it->second.shape() != value.shape())
      return makeError(options_.restore, ": optimizer state '", name,
                       "' has the wrong shape ", it->second.typeString());
    value = it->second;
  }
  if (step >= 0)
    step_ = step;
  return Status::success();
}

std::vector<ArgValue> Trainer::argsFor(const EntrySpec &entry,
                                       const std::vector<Tensor> &batch,
                                       const Tensor *stepTensor, int64_t seed,
                                       const std::map<std::string, Tensor> *grads,
                                       int64_t offset) {
  std::vector<ArgValue> args;
  for (const ValueSpec &a : entry.args) {
    if (a.role == contract::kRoleInput) {
      size_t i = 0;
      while (spec_.inputs[i].name != a.name)
        ++i;
      args.push_back(ArgValue::of(batch[i]));
    } else if (a.role == contract::kRoleParam) {
      args.push_back(ArgValue::update(params_.at(a.name)));
    } else if (a.role == contract::kRoleState) {
      args.push_back(ArgValue::update(state_.at(a.name)));
    } else if (a.role == contract::kRoleStep) {
      args.push_back(ArgValue::of(*stepTensor));
    } else if (a.role == contract::kRoleGradArg) {
      args.push_back(ArgValue::of(grads->at(a.name)));
    } else if (a.role == contract::kRoleBatchOffset) {
      args.push_back(ArgValue::scalarI64(offset));
    } else {
      args.push_back(ArgValue::scalarI64(seed));
    }
  }
  return args;
}

Status Trainer::requireSet(const std::string &set) const {
  if (hasSet(set))
    return Status::success();
  return makeError(spec_.file, ": the model has no ", set, " data (add a data ", set,
                   " { ... } block)");
}

StatusOr<TrainResult> Trainer::evaluateTest() {
  if (Status s = requireSet("test"); !s.ok())
    return s;
  auto start = std::chrono::steady_clock::now();
  auto r = evaluate("test");
  if (!r.ok())
    return r.status();
  TrainResult result;
  result.steps = result.firstStep = step_;
  result.wallSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.examplesPerSecond = r->examples / std::max(result.wallSeconds, 1e-9);
  result.sets.push_back(std::move(*r));
  return result;
}

StatusOr<SetResult> Trainer::evaluate(const std::string &set) {
  auto it = sets_.find(set);
  if (it == sets_.end())
    return makeError("there is no ", set, " data");
  const EntrySpec *entry = spec_.findEntry(contract::kEvalEntry);
  SetResult result;
  result.set = set;
  // The example-weighted sums of each result, then the example count.
  std::vector<double> sums(entry->results.size() + 1, 0.0);
  // Data parallel: each rank evaluates its share of the set, and the sums
  // are added up across ranks.
  int64_t size = it->second.size(), ranks = comm_.size(), rank = comm_.rank();
  Dataset shard;
  if (ranks > 1) {
    auto part = it->second.slice(size * rank / ranks, size * (rank + 1) / ranks);
    if (!part.ok())
      return part.status().withPrefix(set + " data: ");
    shard = std::move(*part);
  }
  const Dataset &data = ranks > 1 ? shard : it->second;
  if (data.size() > 0) {
    // Batches of 100 bound the memory of the intermediates (activations
    // grow with the batch) at little cost in speed.
    int64_t batch = std::min<int64_t>(data.size(), 100);
    if (Status s = planStep("evaluation", batch, /*training=*/false); !s.ok())
      return s;
    auto iter = BatchIterator::create(data, batch, false, false, nullptr);
    if (!iter.ok())
      return iter.status();
    iter->startEpoch();
    while (iter->next()) {
      auto out = exe_->call(contract::kEvalEntry,
                            argsFor(*entry, iter->batch(), nullptr, 0));
      if (!out.ok())
        return out.status();
      for (size_t i = 0; i < out->size(); ++i)
        if (isLossOrMetric(entry->results[i]))
          sums[i] += scalarOf((*out)[i]) * iter->rows();
      sums.back() += iter->rows();
      // This process's share (all of the set without MPI).
      if (onEvalProgress_ && comm_.isRoot())
        onEvalProgress_(set, static_cast<int64_t>(sums.back()), data.size());
    }
  }
  if (Status s = comm_.allreduceSum(sums.data(), sums.size()); !s.ok())
    return s;
  result.examples = static_cast<int64_t>(sums.back());
  for (size_t i = 0; i < entry->results.size(); ++i)
    if (isLossOrMetric(entry->results[i]))
      result.values.emplace_back(entry->results[i].name,
                                 sums[i] / std::max<int64_t>(result.examples, 1));
  return result;
}

StatusOr<TrainResult>
Trainer::train(const std::function<void(const Progress &)> &onLog,
               const std::function<void(const SetResult &)> &onEval) {
#ifdef __GLIBC__
  // Every step allocates its intermediates (and, on a GPU or from a module
  // compiled before in-place updates, its params and optimizer state)
  // afresh. Keep freed memory in the heap instead of returning it to the
  // kernel, so a step reuses the last step's pages rather than faulting in
  // zeroed ones: no buffer is mmap'd, whatever its size (glibc caps
  // M_MMAP_THRESHOLD at 32 MiB, and a 8192x8192 weight gradient mmap'd
  // afresh each step spent a third of the step in page faults).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 256 << 20);
#endif
  auto trainSet = sets_.find("train");
  if (trainSet == sets_.end())
    return makeError(spec_.file, ": the model has no train data (add a data "
                                 "train { ... } block)");
  const TrainSpec train = spec_.train.value_or(TrainSpec{});
  const Dataset &data = trainSet->second;
  bool literal = true;
  for (const DataSourceSpec &d : spec_.data)
    if (d.set == "train" && d.kind != "literal")
      literal = false;
  int64_t batch = options_.batch.value_or(
      train.batch.value_or(literal ? data.size() : std::min<int64_t>(32, data.size())));
  if (batch > data.size()) {
    if (options_.batch)
      return makeError("--batch ", batch, " is larger than the ", data.size(),
                       " training examples");
    return errorAt(train.loc, "batch ", batch, " is larger than the ",
                   data.size(), " training examples");
  }
  if (Status s = planStep("training", batch, /*training=*/true); !s.ok())
    return s;
  bool shuffle = train.shuffle.value_or(!literal);
  int64_t seed = options_.seed.value_or(train.seed);
  Generator generator(static_cast<uint64_t>(seed) ^ 0x5eedULL);
  auto iter = BatchIterator::create(data, batch, shuffle, /*dropLast=*/true, &generator);
  if (!iter.ok())
    return iter.status();
  int64_t perEpoch = std::max<int64_t>(data.size() / batch, 1);
  int64_t total = options_.steps.value_or(
      train.steps.value_or(train.epochs.value_or(1) * perEpoch));
  int64_t logEvery = train.logEvery;
  int64_t evalEvery = train.evalEvery.value_or(logEvery);

  // Resuming replays the generator's draws of the steps already taken, so
  // the run continues exactly as if it had never stopped.
  for (int64_t s = 0; s < step_; ++s) {
    iter->nextCyclic();
    generator.nextU64();
  }

  // Only the first process writes the log (the others train the same model).
  if (!options_.logdir.empty() && comm_.isRoot()) {
    auto log = TrainingLog::open(options_.logdir, spec_);
    if (!log.ok())
      return log.status();
    log_ = std::move(*log);
  }

  const EntrySpec *entry = spec_.findEntry(contract::kTrainStepEntry);
  bool parallel = comm_.size() > 1;
  if (parallel && batch < comm_.size())
    return makeError("the batch of ", batch, " examples cannot be shared among ",
                     comm_.size(), " processes: each needs at least one example");
  if (parallel && !(spec_.findEntry(contract::kGradEntry) &&
                    spec_.findEntry(contract::kApplyEntry)))
    return makeError("data-parallel training needs the compiled entry points "
                     "'grad' and 'apply' (Model::compileTraining(true))");
  if (!parallel && !entry)
    return makeError("the compiled module has no entry point 'train_step'");
  TrainResult result;
  result.ranks = comm_.size();
  auto start = Clock::now();
  double trainSeconds = 0, firstStepSeconds = 0;
  int64_t firstStep = step_;
  double lossSum = 0, lastLoss = 0;
  std::vector<double> metricSums;
  int64_t logged = 0;
  while (step_ < total) {
    iter->nextCyclic();
    ++step_;
    Tensor stepTensor = Tensor::scalar<float>(static_cast<float>(step_));
    int64_t stepSeed = static_cast<int64_t>(generator.nextU64());
    auto t0 = Clock::now();
    Progress progress;
    if (parallel) {
      if (Status s = dataParallelStep(iter->batch(), stepTensor, stepSeed,
                                      progress, result.allreduceSeconds);
          !s.ok())
        return s;
    } else {
      auto out =
          exe_->call(contract::kTrainStepEntry,
                     argsFor(*entry, iter->batch(), &stepTensor, stepSeed));
      if (!out.ok())
        return atStep(out.status());
      absorb(*entry, *out, progress);
    }
    double stepSeconds = secondsSince(t0);
    trainSeconds += stepSeconds;
    if (step_ == firstStep + 1)
      firstStepSeconds = stepSeconds;
    if (!std::isfinite(progress.loss)) {
      // The curve in --logdir ends where training broke (null in
      // metrics.jsonl); the error is what the user sees either way.
      if (log_)
        (void)log_->scalars("train", step_, {{"loss", progress.loss}});
      std::ostringstream before;
      if (step_ > firstStep + 1)
        before << " (step " << step_ - 1 << ": " << lastLoss << ")";
      return makeError("training stopped: the loss became ", progress.loss, " at step ",
                       step_, before.str(),
                       "; lower the learning rate");
    }
    lastLoss = progress.loss;
    lossSum += progress.loss;
    metricSums.resize(progress.metrics.size(), 0.0);
    for (size_t i = 0; i < progress.metrics.size(); ++i)
      metricSums[i] += progress.metrics[i].second;
    ++logged;
    progress.step = step_;
    progress.totalSteps = total;
    // The rate of the steps after the first, which warms up (page faults,
    // caches) and took 4 times as long as the others in the CNN.
    int64_t done = step_ - firstStep;
    double rateSeconds = done > 1 ? trainSeconds - firstStepSeconds : trainSeconds;
    int64_t rateSteps = done > 1 ? done - 1 : 1;
    progress.examplesPerSecond =
        static_cast<double>(rateSteps) * batch / std::max(rateSeconds, 1e-9);
    progress.etaSeconds =
        done > 1 ? (total - step_) * rateSeconds / rateSteps : (step_ == total ? 0 : -1);
    progress.logged = step_ % logEvery == 0 || step_ == total || step_ == firstStep + 1;
    if (progress.logged) {
      progress.averaged = logged;
      progress.loss = lossSum / logged;
      for (size_t i = 0; i < progress.metrics.size(); ++i)
        progress.metrics[i].second = metricSums[i] / logged;
    }
    if (onStep_ && comm_.isRoot())
      onStep_(progress);
    if (progress.logged) {
      if (comm_.isRoot())
        onLog(progress);
      if (log_) {
        std::vector<std::pair<std::string, double>> values = {{"loss", progress.loss}};
        values.insert(values.end(), progress.metrics.begin(), progress.metrics.end());
        // The optimizer's learning rate is its first argument (sgd, momentum
        // and adam alike).
        values.emplace_back("learning_rate", train.optimizerArgs.at(0));
        values.emplace_back("examples_per_s", progress.examplesPerSecond);
        if (progress.gradNorm)
          values.emplace_back(contract::kRoleGradNorm, *progress.gradNorm);
        if (Status s = log_->scalars("train", step_, values); !s.ok())
          return s;
        if (Status s = log_->params(step_, params_); !s.ok())
          return s;
      }
      lossSum = 0;
      std::fill(metricSums.begin(), metricSums.end(), 0.0);
      logged = 0;
    }
    if (sets_.count("validation") && step_ % evalEvery == 0 && step_ != total) {
      auto v = evaluate("validation");
      if (!v.ok())
        return v.status();
      if (Status s = logSet(*v); !s.ok())
        return s;
      if (comm_.isRoot())
        onEval(*v);
    }
  }
  result.steps = step_;
  result.firstStep = firstStep;
  result.wallSeconds = secondsSince(start);
  result.examplesPerSecond =
      (step_ - firstStep) * batch / std::max(trainSeconds, 1e-9);
  for (const char *set : {"train", "validation", "test"}) {
    if (!sets_.count(set))
      continue;
    auto r = evaluate(set);
    if (!r.ok())
      return r.status();
    // The final evaluation of the whole training set is not a point of the
    // training curve (which is the mean over the batches since the last log).
    if (r->set != "train")
      if (Status s = logSet(*r); !s.ok())
        return s;
    result.sets.push_back(std::move(*r));
  }
  return result;
}

void Trainer::absorb(const EntrySpec &entry, std::vector<Tensor> &out,
                     Progress &progress) {
  for (size_t i = 0; i < entry.results.size(); ++i) {
    const ValueSpec &r = entry.results[i];
    Tensor &value = out[i];
    if (r.role == contract::kRoleParam)
      params_[r.name] = std::move(value);
    else if (r.role == contract::kRoleState)
      state_[r.name] = std::move(value);
    else if (r.role == contract::kRoleLoss)
      progress.loss = scalarOf(value);
    else if (r.role == contract::kRoleMetric)
      progress.metrics.emplace_back(r.name, scalarOf(value));
    else if (r.role == contract::kRoleGradNorm)
      progress.gradNorm = scalarOf(value);
  }
}

Status Trainer::dataParallelStep(const std::vector<Tensor> &batch,
                                 const Tensor &stepTensor, int64_t seed,
                                 Progress &progress, double &commSeconds) {
  // This rank's rows of the global batch: shares differ by at most one row
  // when the batch does not divide.
  int64_t rows = batch.front().dim(0), ranks = comm_.size(), rank = comm_.rank();
  int64_t begin = rows * rank / ranks, end = rows * (rank + 1) / ranks;
  std::vector<Tensor> shard;
  for (const Tensor &t : batch) {
    auto rows = t.rows(begin, end);
    if (!rows.ok())
      return rows.status().withPrefix("this process's share of the batch: ");
    shard.push_back(std::move(*rows));
  }
  const EntrySpec &gradEntry = *spec_.findEntry(contract::kGradEntry);
  auto out = exe_->call(contract::kGradEntry,
                        argsFor(gradEntry, shard, nullptr, seed, nullptr, begin));
  if (!out.ok())
    return atStep(out.status());

  // One buffer: every gradient, then the loss and the metrics, each scaled
  // by this shard's share of the batch, so the sum over ranks is the mean
  // over the global batch (the loss is a mean over its examples).
  auto t0 = Clock::now();
  float share = static_cast<float>(end - begin) / static_cast<float>(rows);
  size_t total = 0;
  for (size_t i = 0; i < gradEntry.results.size(); ++i)
    total += gradEntry.results[i].role == contract::kRoleGrad
                 ? static_cast<size_t>((*out)[i].numElements())
                 : 1;
  bucket_.resize(total);
  size_t at = 0;
  for (size_t i = 0; i < gradEntry.results.size(); ++i) {
    const Tensor &t = (*out)[i];
    if (gradEntry.results[i].role == contract::kRoleGrad) {
      const float *p = t.data<float>();
      for (int64_t k = 0; k < t.numElements(); ++k)
        bucket_[at++] = p[k] * share;
    } else {
      bucket_[at++] = static_cast<float>(scalarOf(t)) * share;
    }
  }
  // Few large messages: buckets of up to 16 MiB.
  constexpr size_t kBucketFloats = size_t(4) << 20;
  for (size_t b = 0; b < total; b += kBucketFloats)
    if (Status s = comm_.allreduceSum(bucket_.data() + b,
                                      std::min(kBucketFloats, total - b));
        !s.ok())
      return s;
  std::map<std::string, Tensor> grads;
  at = 0;
  for (size_t i = 0; i < gradEntry.results.size(); ++i) {
    const ValueSpec &r = gradEntry.results[i];
    Tensor &t = (*out)[i];
    if (r.role == contract::kRoleGrad) {
      std::copy(bucket_.begin() + at, bucket_.begin() + at + t.numElements(),
                t.data<float>());
      at += t.numElements();
      grads[r.name] = std::move(t);
    } else {
      float v = bucket_[at++];
      if (r.role == contract::kRoleLoss)
        progress.loss = v;
      else if (r.role == contract::kRoleMetric)
        progress.metrics.emplace_back(r.name, v);
    }
  }
  commSeconds += secondsSince(t0);

  const EntrySpec &applyEntry = *spec_.findEntry(contract::kApplyEntry);
  auto applied = exe_->call(contract::kApplyEntry,
                            argsFor(applyEntry, {}, &stepTensor, 0, &grads));
  if (!applied.ok())
    return atStep(applied.status());
  absorb(applyEntry, *applied, progress);
  return Status::success();
}

Status Trainer::atStep(const Status &s) const {
  // --check-numerics names the op; the note says when.
  bool checked = false;
  for (const EntrySpec &e : spec_.entries)
    checked |= !e.checks.empty();
  if (!checked)
    return s;
  return Status::error(s.message() + "\nnote: at training step " + std::to_string(step_));
}

Status Trainer::logSet(const SetResult &r) {
  return log_ ? log_->scalars(r.set, step_, r.values) : Status::success();
}

Status Trainer::save(const std::string &path) const {
  if (!comm_.isRoot())
    return Status::success();
  std::vector<NamedTensorRef> refs;
  for (const ParamSpec &p : spec_.params)
    refs.push_back({p.name, &params_.at(p.name)});
  for (const auto &[name, value] : state_)
    refs.push_back({name, &value});
  return writeCheckpoint(path, refs,
                         {{"step", std::to_string(step_)}, {"model", spec_.name}});
}
