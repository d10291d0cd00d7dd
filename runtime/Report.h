//===- Report.h - what a training command reports ---------------*- C++ -*-===//
//
// The lines `dlc train` and `dlc-rt train` print (progress, the sets'
// final values, the summary) and the JSON report of `--report`, in one
// place so that both tools say the same thing the same way.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_REPORT_H
#define DLC_RUNTIME_REPORT_H

#include "runtime/Trainer.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dlc::runtime {

/// "42s", "3m07s", "1h05m".
std::string formatDuration(double seconds);

/// "loss 0.123 (mean of steps 2-100)  accuracy 0.97": what a logged line or
/// a live line says of the loss and metrics (the mean of `averaged` steps
/// ending at `step`).
std::string formatLoss(double loss, const std::vector<std::pair<std::string, double>> &metrics,
                       int64_t step, int64_t averaged);

/// "ETA 34s", or "ETA --" while unknown (negative).
std::string formatEta(double seconds);

/// "step     100/2000  loss 0.31 (mean of steps 2-100)  accuracy 0.91  2974 ex/s  ETA 34s".
std::string formatProgress(const Progress &progress);

/// "validation: loss 0.1 accuracy 0.97  (1000 examples)".
std::string formatSet(const SetResult &result);

/// "trained 2000 steps in 35.0 s (2975 examples/s)", saying when the run
/// resumed from a checkpoint.
std::string formatTrained(const TrainResult &result);

/// Writes the JSON report of LANGUAGE.md (model, steps, wall_s,
/// examples_per_s and the loss and metrics of every set; data parallel, the
/// processes and allreduce_s) atomically.
Status writeReport(const std::string &path, const ModelSpec &spec,
                   const TrainResult &result);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_REPORT_H
