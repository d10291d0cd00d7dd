//===- train_steps.cpp - dlc's side of bench/peers.py ----------------------===//
//
// Compiles a model's training program through the embedding API and trains
// it with the same runtime::Trainer that `dlc train` runs (its batching and
// reshuffling, the compiled train step, the loss read back every step), then
// prints one JSON line that bench/peers.py reads, in the same form as its
// peers' (bench/peer_step.py):
//
//   {"system": "dlc", "compile_s": ..., "loop_s": ..., "steps": N, ...}
//
// loop_s is the wall time of the training loop from the end of step W (the
// warm-up) to the end of step W+N; step_s_median the median of those N
// steps. peak_rss_mib is the process's resident high-water mark at the end
// of the timed steps (compilation and data loading included). foreign_cores
// is the CPU time that other processes took on the machine during the timed
// steps (/proc/stat's busy and steal time of every CPU less this process's
// own CPU time), in cores: bench/peers.py redoes a measurement where it is
// too high. The program ends at the last timed step: the trainer's final
// evaluation of every set is not measured.
//
//   dlc-bench-train MODEL.dl [--threads N] [--warmup W] [--steps N]
//                   [--data DIR] [--no-cache] [--compile-only]
//
// Not a test: bench/peers.py runs it.
//
//===----------------------------------------------------------------------===//

#include "compiler/JIT.h"
#include "runtime/Parallel.h"
#include "runtime/Trainer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

using namespace dlc;
using Clock = std::chrono::steady_clock;

namespace {

int fail(const std::string &message) {
  std::fprintf(stderr, "dlc-bench-train: %s\n", message.c_str());
  return 1;
}

/// The resident high-water mark of this process in MiB (VmHWM).
double peakRssMiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  return -1;
}

/// Seconds of CPU that every CPU of the machine spent busy (user, nice,
/// system, irq, softirq) or stolen by the hypervisor, from /proc/stat.
double machineBusySeconds() {
  std::ifstream stat("/proc/stat");
  std::string cpu;
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0,
                     softirq = 0, steal = 0;
  stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  return double(user + nice + system + irq + softirq + steal) / sysconf(_SC_CLK_TCK);
}

/// Seconds of CPU this process (all its threads) has used.
double selfCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

} // namespace

int main(int argc, char **argv) {
  std::string model, dataDir;
  int64_t threads = 1, warmup = 5, steps = 30;
  bool compileOnly = false;
  CompileOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto number = [&](int64_t &out) {
      if (i + 1 >= argc)
        return false;
      char *end = nullptr;
      out = std::strtoll(argv[++i], &end, 10);
      return *end == '\0' && out >= 0;
    };
    if (arg == "--threads" || arg == "--warmup" || arg == "--steps") {
      int64_t &out = arg == "--threads" ? threads : arg == "--warmup" ? warmup : steps;
      if (!number(out))
        return fail(arg + " needs a non-negative number");
    } else if (arg == "--data" && i + 1 < argc) {
      dataDir = argv[++i];
    } else if (arg == "--no-cache") {
      options.useCache = false;
    } else if (arg == "--compile-only") {
      compileOnly = true;
    } else if (!arg.empty() && arg[0] != '-' && model.empty()) {
      model = arg;
    } else {
      return fail("unexpected argument '" + arg + "'");
    }
  }
  if (model.empty())
    return fail("usage: dlc-bench-train MODEL.dl [--threads N] [--warmup W] [--steps N] "
                "[--data DIR] [--no-cache] [--compile-only]");
  if (warmup < 1 || steps < 1)
    return fail("--warmup and --steps must be at least 1");
  runtime::setNumThreads(static_cast<int>(threads));

  // Compilation: parsing, the passes and code generation (or the cache).
  auto compileStart = Clock::now();
  auto loaded = Model::fromFile(model, options);
  auto exe = loaded.ok() ? loaded->compileTraining()
                         : StatusOr<std::shared_ptr<runtime::Executable>>(loaded.status());
  if (!exe.ok())
    return fail(exe.status().message());
  double compileSeconds = secondsSince(compileStart);
  if (compileOnly) {
    std::printf("{\"system\": \"dlc\", \"compile_s\": %.6f, \"peak_rss_mib\": %.1f, "
                "\"cache\": %s}\n",
                compileSeconds, peakRssMiB(), options.useCache ? "true" : "false");
    return 0;
  }
  if (Status s = loaded->initParams(loaded->defaultSeed()); !s.ok())
    return fail(s.message());

  runtime::TrainOptions trainOptions;
  trainOptions.dataDir = dataDir;
  trainOptions.steps = warmup + steps;
  trainOptions.validation = 0;
  auto taken = loaded->takeParams();
  if (!taken.ok())
    return fail(taken.status().message());
  std::map<std::string, Tensor> params = std::move(*taken);
  runtime::Trainer trainer(*exe, params, trainOptions);
  if (Status s = trainer.loadData(); !s.ok())
    return fail(s.message());

  // The end of every step, from the end of the warm-up on.
  std::vector<Clock::time_point> ends;
  ends.reserve(steps + 1);
  double busy0 = 0, self0 = 0;
  trainer.onStep([&](const runtime::Progress &p) {
    if (p.step < warmup)
      return;
    ends.push_back(Clock::now());
    if (p.step == warmup) {
      busy0 = machineBusySeconds();
      self0 = selfCpuSeconds();
      return;
    }
    if (p.step < warmup + steps)
      return;
    double foreign = (machineBusySeconds() - busy0) - (selfCpuSeconds() - self0);
    double loop = std::chrono::duration<double>(ends.back() - ends.front()).count();
    std::vector<double> each;
    for (size_t i = 1; i < ends.size(); ++i)
      each.push_back(std::chrono::duration<double>(ends[i] - ends[i - 1]).count());
    std::sort(each.begin(), each.end());
    std::printf("{\"system\": \"dlc\", \"threads\": %d, \"warmup\": %lld, \"steps\": %lld, "
                "\"compile_s\": %.6f, \"loop_s\": %.6f, \"step_s_median\": %.6f, "
                "\"peak_rss_mib\": %.1f, \"foreign_cores\": %.4f, \"loss\": %.6g}\n",
                runtime::numThreads(), static_cast<long long>(warmup),
                static_cast<long long>(steps), compileSeconds, loop,
                each[each.size() / 2], peakRssMiB(), foreign / std::max(loop, 1e-9),
                p.loss);
    std::fflush(stdout);
    // The measurement is complete; the trainer's final evaluation is not
    // part of it.
    std::_Exit(0);
  });
  auto result = trainer.train([](const runtime::Progress &) {},
                              [](const runtime::SetResult &) {});
  if (!result.ok())
    return fail(result.status().message());
  return fail("training ended before the timed steps did");
}
