//===- Trainer.h - training and evaluating a compiled model -----*- C++ -*-===//
//
// The training loop of `dlc train`: loads the data sets of the model's data
// blocks, holds out validation examples, batches and reshuffles with the
// seeded generator, calls the compiled `train_step`, logs progress,
// evaluates with the compiled `eval`, and saves checkpoints. No MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_TRAINER_H
#define DLC_RUNTIME_TRAINER_H

#include "runtime/Checkpoint.h"
#include "runtime/Communicator.h"
#include "runtime/Dataset.h"
#include "runtime/Executable.h"
#include "runtime/Random.h"
#include "runtime/TrainingLog.h"

#include <functional>
#include <map>
#include <optional>

namespace dlc::runtime {

struct TrainOptions {
  /// Folder that relative data paths resolve against ("" = the model's).
  std::string dataDir;
  std::optional<int64_t> steps, batch, seed;
  /// Training examples to hold out for validation (overrides `validation`).
  std::optional<int64_t> validation;
  /// Checkpoint to resume from (same model) or to start from (transfer).
  std::string restore;
  /// The processes training together (null: this one alone). With more than
  /// one, training is data parallel: each takes its shard of every global
  /// batch, calls the compiled `grad`, sums the gradients with one bucketed
  /// allreduce, and calls `apply` (Model::compileTraining(true)); evaluation
  /// is sharded and its sums reduced. It must outlive the Trainer.
  Communicator *comm = nullptr;
  /// Folder for TensorBoard event files and metrics.jsonl ("" = none;
  /// runtime/TrainingLog.h).
  std::string logdir;

  /// The options of the tools' flags, where -1 means "not given" (the
  /// model's value then holds).
  static TrainOptions fromFlags(std::string dataDir, int64_t steps, int64_t batch,
                                int64_t validation, int64_t seed, std::string restore) {
    TrainOptions options;
    options.dataDir = std::move(dataDir);
    if (steps > 0)
      options.steps = steps;
    if (batch > 0)
      options.batch = batch;
    if (validation >= 0)
      options.validation = validation;
    if (seed >= 0)
      options.seed = seed;
    options.restore = std::move(restore);
    return options;
  }
};

/// The example-weighted means of the loss and every metric over one set.
struct SetResult {
  std::string set;
  int64_t examples = 0;
  std::vector<std::pair<std::string, double>> values;
};

/// One progress report. At a logged step (every log_every steps, the first
/// and the last) the loss and metrics are the means over the `averaged`
/// steps since the previous log; at other steps they are the step's own.
struct Progress {
  int64_t step = 0, totalSteps = 0;
  double loss = 0;
  std::vector<std::pair<std::string, double>> metrics;
  /// examplesPerSecond and etaSeconds leave the first step out (it pays for
  /// warming up: page faults, caches), except at the first step itself;
  /// etaSeconds is -1 while only the first step has been timed.
  double examplesPerSecond = 0, etaSeconds = 0;
  bool logged = false;
  int64_t averaged = 1;
  /// The global norm of this step's gradients (`tf.linalg.global_norm`,
  /// before the update; of the summed gradients when data parallel): the
  /// step's own, never averaged. Absent when the module does not return it.
  std::optional<double> gradNorm;
};

struct TrainResult {
  /// The step reached, and the step training started from (0 unless resumed).
  int64_t steps = 0, firstStep = 0;
  double wallSeconds = 0, examplesPerSecond = 0;
  /// Data parallel: the processes, and the seconds of the steps spent in
  /// the gradients' allreduce (with the packing around it).
  int ranks = 1;
  double allreduceSeconds = 0;
  std::vector<SetResult> sets;
};

class Trainer {
public:
  /// `params` holds the initialized (or restored) value of every param; it
  /// is updated in place as training proceeds.
  Trainer(std::shared_ptr<const Executable> exe, std::map<std::string, Tensor> &params,
          TrainOptions options);

  /// Counts what the model needs (params, optimizer state, then each data
  /// set before it is converted) against the memory limit, allocates the
  /// optimizer state and loads the train, validation and test sets of the
  /// model's data blocks. Call it before restore(), train() and evaluate().
  Status loadData();
  /// Refuses an output (`flag` names it in the message) that is one of the
  /// data files this run reads (same device and inode).
  Status checkNotAnInput(const std::string &flag, const std::string &output) const;
  /// Restores params, optimizer state and the step from options.restore.
  Status restore();
  /// After restore(): which tensors of the checkpoint the model does not
  /// have and were ignored ("" when none).
  const std::string &restoreNote() const { return restoreNote_; }

  /// Trains; calls `onLog` every log_every steps and `onEval` after each
  /// validation pass (on rank 0 only when data parallel).
  StatusOr<TrainResult> train(const std::function<void(const Progress &)> &onLog,
                              const std::function<void(const SetResult &)> &onEval);

  /// Evaluates loss and metrics on a loaded set (train, validation, test).
  StatusOr<SetResult> evaluate(const std::string &set);

  /// Called after every training step (for a live progress line), before
  /// onLog at logged steps.
  void onStep(std::function<void(const Progress &)> f) { onStep_ = std::move(f); }
  /// Called after every batch of an evaluation: the set, examples done and
  /// the set's size.
  void onEvalProgress(std::function<void(const std::string &, int64_t, int64_t)> f) {
    onEvalProgress_ = std::move(f);
  }
  bool hasSet(const std::string &set) const { return sets_.count(set); }
  /// An error naming the model file when `set` was not loaded.
  Status requireSet(const std::string &set) const;
  /// Evaluates the test set (`dlc eval`): the result holds that set, the
  /// step reached (a restored checkpoint's) and, as wall_s and
  /// examples_per_s, the evaluation's time and speed.
  StatusOr<TrainResult> evaluateTest();

  /// Writes params, optimizer state and the step (atomically); only rank 0
  /// writes when data parallel (the others return success).
  Status save(const std::string &path) const;

  int64_t step() const { return step_; }

private:
  std::shared_ptr<const Executable> exe_;
  const ModelSpec &spec_;
  std::map<std::string, Tensor> &params_;
  std::map<std::string, Tensor> state_;
  TrainOptions options_;
  /// What params, optimizer state and data take (loadData()); train() and
  /// evaluate() add their step's batch and activations to a copy.
  MemoryPlan plan_;
  /// Adds the batch buffers and the activations of `entry` at `batch`
  /// examples to a copy of plan_ (`training`: their gradients too); a
  /// located error when they pass the limit.
  Status planStep(const std::string &entry, int64_t batch, bool training) const;
  std::string restoreNote_;
  /// Where a file data source is read from (relative to the model's folder,
  /// or to TrainOptions::dataDir).
  std::string dataPath(const DataSourceSpec &source) const;
  std::map<std::string, Dataset> sets_;
  std::unique_ptr<TrainingLog> log_;
  std::function<void(const Progress &)> onStep_;
  std::function<void(const std::string &, int64_t, int64_t)> onEvalProgress_;
  int64_t step_ = 0;
  /// True when the restored checkpoint came from this model (resume).
  bool resumed_ = false;

  std::unique_ptr<Communicator> local_;
  Communicator &comm_;
  /// The allreduce buffer of the gradients, kept between steps.
  std::vector<float> bucket_;

  /// A failed call of the current step's entry points: with
  /// --check-numerics, `s` with a note naming the step.
  Status atStep(const Status &s) const;
  /// Logs a set's values at the current step when --logdir is given.
  Status logSet(const SetResult &r);
  StatusOr<Tensor> loadSource(const DataSourceSpec &source, const InputSpec &input);
  /// The arguments of `entry`; gradients (@apply) come from `grads`, the
  /// batch offset (@grad) is `offset`. Params and state go for update
  /// (ArgValue::update): an in-place entry writes the new values into them.
  std::vector<ArgValue> argsFor(const EntrySpec &entry,
                                const std::vector<Tensor> &batch,
                                const Tensor *stepTensor, int64_t seed,
                                const std::map<std::string, Tensor> *grads = nullptr,
                                int64_t offset = 0);
  /// One data-parallel step on this rank's shard of `batch`: @grad, the
  /// allreduce of the gradients, loss and metrics (weighted by the shard's
  /// share of the batch), then @apply. Fills `progress`' loss and metrics.
  Status dataParallelStep(const std::vector<Tensor> &batch, const Tensor &stepTensor,
                          int64_t seed, Progress &progress, double &commSeconds);
  /// Stores the params and state among `out` (results of `entry`) and the
  /// loss and metrics in `progress`.
  void absorb(const EntrySpec &entry, std::vector<Tensor> &out, Progress &progress);
};

} // namespace dlc::runtime

#endif // DLC_RUNTIME_TRAINER_H
