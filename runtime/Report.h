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

#include <string>

namespace dlc::runtime {

/// "42s", "3m07s", "1h05m".
std::string formatDuration(double seconds);

/// "step     100/2000  loss 0.31  accuracy 0.91  2974 ex/s  ETA 34s".
std::string formatProgress(const Progress &progress);

/// "validation: loss 0.1 accuracy 0.97  (1000 examples)".
std::string formatSet(const SetResult &result);

/// "trained 2000 steps in 35.0 s (2975 examples/s)", saying when the run
/// resumed from a checkpoint.
std::string formatTrained(const TrainResult &result);

/// Writes the JSON report of LANGUAGE.md (model, steps, wall_s,
/// examples_per_s and the loss and metrics of every set) atomically.
Status writeReport(const std::string &path, const ModelSpec &spec,
                   const TrainResult &result);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_REPORT_H
