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
#include "runtime/Dataset.h"
#include "runtime/Executable.h"
#include "runtime/Random.h"

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

/// One progress report.
struct Progress {
  int64_t step = 0, totalSteps = 0;
  double loss = 0;
  std::vector<std::pair<std::string, double>> metrics;
  double examplesPerSecond = 0, etaSeconds = 0;
};

struct TrainResult {
  /// The step reached, and the step training started from (0 unless resumed).
  int64_t steps = 0, firstStep = 0;
  double wallSeconds = 0, examplesPerSecond = 0;
  std::vector<SetResult> sets;
};

class Trainer {
public:
  /// `params` holds the initialized (or restored) value of every param; it
  /// is updated in place as training proceeds.
  Trainer(std::shared_ptr<const Executable> exe, std::map<std::string, Tensor> &params,
          TrainOptions options);

  /// Loads the train, validation and test sets of the model's data blocks.
  Status loadData();
  /// Restores params, optimizer state and the step from options.restore.
  Status restore();

  /// Trains; calls `onLog` every log_every steps and `onEval` after each
  /// validation pass.
  StatusOr<TrainResult> train(const std::function<void(const Progress &)> &onLog,
                              const std::function<void(const SetResult &)> &onEval);

  /// Evaluates loss and metrics on a loaded set (train, validation, test).
  StatusOr<SetResult> evaluate(const std::string &set);
  bool hasSet(const std::string &set) const { return sets_.count(set); }
  /// An error naming the model file when `set` was not loaded.
  Status requireSet(const std::string &set) const;
  /// Evaluates the test set (`dlc eval`): the result holds that set, the
  /// step reached (a restored checkpoint's) and, as wall_s and
  /// examples_per_s, the evaluation's time and speed.
  StatusOr<TrainResult> evaluateTest();

  /// Writes params, optimizer state and the step (atomically).
  Status save(const std::string &path) const;

  int64_t step() const { return step_; }

private:
  std::shared_ptr<const Executable> exe_;
  const ModelSpec &spec_;
  std::map<std::string, Tensor> &params_;
  std::map<std::string, Tensor> state_;
  TrainOptions options_;
  std::map<std::string, Dataset> sets_;
  int64_t step_ = 0;
  /// True when the restored checkpoint came from this model (resume).
  bool resumed_ = false;

  StatusOr<Tensor> loadSource(const DataSourceSpec &source, const InputSpec &input);
  std::vector<ArgValue> argsFor(const EntrySpec &entry,
                                const std::vector<Tensor> &batch,
                                const Tensor *stepTensor, int64_t seed) const;
};

} // namespace dlc::runtime

#endif // DLC_RUNTIME_TRAINER_H
