//===- Report.cpp - what a training command reports -------------------------===//
//
// Compiled with -fexceptions (nlohmann-json); no exception escapes.
//
//===----------------------------------------------------------------------===//

#include "runtime/Report.h"

#include "runtime/Outputs.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

namespace dlc::runtime {

namespace {
/// printf into a std::string.
template <class... Args> std::string format(const char *fmt, Args... args) {
  char buffer[256];
  int n = std::snprintf(buffer, sizeof buffer, fmt, args...);
  return n < 0 ? std::string() : std::string(buffer, std::min<size_t>(n, sizeof buffer - 1));
}
} // namespace

std::string formatDuration(double seconds) {
  long s = static_cast<long>(seconds + 0.5);
  if (s < 60)
    return std::to_string(s) + "s";
  if (s < 3600)
    return format("%ldm%02lds", s / 60, s % 60);
  return format("%ldh%02ldm", s / 3600, s / 60 % 60);
}

std::string formatLoss(double loss, const std::vector<std::pair<std::string, double>> &metrics,
                       int64_t step, int64_t averaged) {
  std::string text = format("loss %.6g", loss);
  if (averaged > 1)
    text += format(" (mean of steps %lld-%lld)", (long long)(step - averaged + 1), (long long)step);
  else
    text += format(" (step %lld)", (long long)step);
  for (const auto &[name, value] : metrics)
    text += "  " + name + " " + format("%.4g", value);
  return text;
}

std::string formatEta(double seconds) {
  return seconds < 0 ? "ETA --" : "ETA " + formatDuration(seconds);
}

std::string formatProgress(const Progress &p) {
  return format("step %6lld/%lld  ", (long long)p.step, (long long)p.totalSteps) +
         formatLoss(p.loss, p.metrics, p.step, p.averaged) +
         format("  %.0f ex/s  ", p.examplesPerSecond) + formatEta(p.etaSeconds);
}

std::string formatSet(const SetResult &r) {
  std::string line = format("%-11s", (r.set + ":").c_str());
  for (const auto &[name, value] : r.values)
    line += " " + name + " " + format("%.6g", value);
  return line + "  (" + std::to_string(r.examples) + " examples)";
}

std::string formatTrained(const TrainResult &r) {
  std::string line = "trained " + std::to_string(r.steps - r.firstStep) + " steps";
  if (r.firstStep > 0 && r.steps > r.firstStep)
    line += " (steps " + std::to_string(r.firstStep + 1) + " to " +
            std::to_string(r.steps) + ", resumed)";
  else if (r.firstStep > 0)
    line += " (the checkpoint is already at step " + std::to_string(r.steps) + ")";
  return line + format(" in %.1f s (%.0f examples/s)", r.wallSeconds, r.examplesPerSecond);
}

Status writeReport(const std::string &path, const ModelSpec &spec,
                   const TrainResult &result) {
  std::string text;
  try {
    nlohmann::json sets = nlohmann::json::object();
    for (const SetResult &r : result.sets) {
      nlohmann::json values = nlohmann::json::object();
      for (const auto &[name, value] : r.values)
        values[name] = value;
      sets[r.set] = std::move(values);
    }
    nlohmann::json report = {{"model", spec.name},
                             {"steps", result.steps},
                             {"wall_s", result.wallSeconds},
                             {"examples_per_s", result.examplesPerSecond},
                             {"sets", std::move(sets)}};
    // Data parallel: the processes and the seconds the gradients' allreduce
    // took (all steps together).
    if (result.ranks > 1) {
      report["processes"] = result.ranks;
      report["allreduce_s"] = result.allreduceSeconds;
    }
    // Invalid UTF-8 in a name is replaced rather than thrown on.
    text = report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  } catch (const nlohmann::json::exception &e) {
    return makeError(path, ": cannot encode the report: ", e.what());
  }
  return writeFileAtomically(path, {{text.data(), text.size()}}, "report");
}

} // namespace dlc::runtime
