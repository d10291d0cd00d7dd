//===- Train.cpp - dlc train and dlc eval -----------------------------------===//
//
// Compiles the training program through the embedding API and drives the
// runtime Trainer: progress lines, validation passes, the final evaluation
// of every set, the checkpoint and the JSON report.
//
//===----------------------------------------------------------------------===//

#include "compiler/tools/dlc/Commands.h"

#include "compiler/JIT.h"
#include "runtime/Outputs.h"
#include "runtime/Parallel.h"
#include "runtime/Report.h"
#include "runtime/Trainer.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <sys/ioctl.h>
#include <unistd.h>

using namespace dlc;

namespace dlc::tool {
int fail(const Status &status);
void printCompileReport(const Model &model, const CompileOptions &options);

namespace {

/// What `dlc train` shows while it works. On a terminal: one live line (a
/// bar, step/total, the mean loss and metrics since the last plain line,
/// examples/s, ETA), redrawn at most ten times a second, also while
/// compiling and evaluating, with plain lines written above it. Elsewhere:
/// the plain lines only. With --quiet: nothing.
class ProgressDisplay {
public:
  explicit ProgressDisplay(bool quiet)
      : quiet_(quiet), live_(!quiet && ::isatty(STDOUT_FILENO)) {}
  ~ProgressDisplay() { stopTimer(); }

  bool quiet() const { return quiet_; }

  /// A permanent line (above the live line on a terminal).
  void line(const std::string &text) {
    if (quiet_)
      return;
    clear();
    llvm::outs() << text << "\n";
    llvm::outs().flush();
  }

  /// Redraws the live line (at most every 0.1 s unless `now`).
  void live(const std::string &text, bool now = false) {
    if (!live_)
      return;
    auto t = std::chrono::steady_clock::now();
    if (!now && t - lastDraw_ < std::chrono::milliseconds(100))
      return;
    lastDraw_ = t;
    std::string shown = text;
    struct winsize ws;
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 &&
        shown.size() >= ws.ws_col)
      shown.resize(ws.ws_col - 1);
    std::lock_guard<std::mutex> lock(mutex_);
    llvm::outs() << "\r\x1b[K" << shown;
    llvm::outs().flush();
    drawn_ = true;
  }

  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!drawn_)
      return;
    llvm::outs() << "\r\x1b[K";
    llvm::outs().flush();
    drawn_ = false;
  }

  /// On a terminal, "WHAT  1.2 s" counting up until stopTimer().
  void startTimer(const std::string &what) {
    if (!live_)
      return;
    running_ = true;
    timer_ = std::thread([this, what] {
      auto start = std::chrono::steady_clock::now();
      std::unique_lock<std::mutex> lock(timerMutex_);
      while (running_) {
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        lock.unlock();
        std::string text;
        llvm::raw_string_ostream(text) << what << "  " << llvm::format("%.1f s", s);
        live(text, true);
        lock.lock();
        wake_.wait_for(lock, std::chrono::milliseconds(200), [this] { return !running_; });
      }
    });
  }
  void stopTimer() {
    if (!timer_.joinable())
      return;
    {
      std::lock_guard<std::mutex> lock(timerMutex_);
      running_ = false;
    }
    wake_.notify_all();
    timer_.join();
    clear();
  }

  /// `[#####-----]` for done of total.
  static std::string bar(double done, double total, int width = 20) {
    int filled = total > 0 ? static_cast<int>(width * std::min(done / total, 1.0)) : 0;
    return "[" + std::string(filled, '#') + std::string(width - filled, '-') + "]";
  }

private:
  bool quiet_, live_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point lastDraw_;
  std::mutex mutex_, timerMutex_;
  std::condition_variable wake_;
  bool running_ = false;
  std::thread timer_;
};

/// Loads the model and compiles its training program; shared by train/eval.
struct Session {
  std::optional<Model> model;
  std::shared_ptr<runtime::Executable> exe;
};

/// Reports `status`; in a job of several processes, ends them all (the
/// others may be waiting for this one in a collective).
int failAll(runtime::Communicator &comm, const Status &status) {
  int rc = fail(status);
  if (comm.size() > 1)
    comm.abort(rc);
  return rc;
}

/// Params start from the model's initializers drawn with `--seed` when
/// given (seed >= 0), else with the train block's seed. With several
/// processes, the data-parallel program is compiled for `training`, by
/// rank 0 first when the compile cache is on, so that the others load it
/// from the cache.
StatusOr<Session> openSession(const Flags &flags, int64_t seed,
                              runtime::Communicator &comm, bool training = true) {
  auto model = Model::fromFile(flags.file, flags.options);
  if (!model.ok())
    return model.status();
  Session s;
  s.model.emplace(std::move(*model));
  if (Status st = s.model->initParams(seed >= 0 ? seed : s.model->defaultSeed());
      !st.ok())
    return st;
  bool parallel = comm.size() > 1;
  bool rootFirst = parallel && flags.options.useCache;
  // Evaluation needs only @eval, which every training program has.
  parallel = parallel && training;
  if (rootFirst && !comm.isRoot())
    if (Status st = comm.barrier(); !st.ok())
      return st;
  auto exe = s.model->compileTraining(parallel);
  if (!exe.ok())
    return exe.status();
  if (rootFirst && comm.isRoot())
    if (Status st = comm.barrier(); !st.ok())
      return st;
  s.exe = *exe;
  return s;
}
} // namespace

int train(const Flags &flags) {
  if (flags.threads < 0)
    return fail(Status::error("--threads must not be negative"));
  // Several processes started by mpirun train data parallel (one allreduce
  // of the gradients per step); only rank 0 prints and writes.
  auto world = runtime::worldCommunicator();
  if (!world.ok())
    return fail(world.status());
  runtime::Communicator &comm = **world;
  bool root = comm.isRoot();
  // The compiled code's parallel loops run on the runtime's threads (all the
  // cores this process may use unless --threads says otherwise, shared
  // among the job's processes on this machine).
  runtime::setNumThreads(flags.threads == 0 && comm.size() > 1
                             ? runtime::defaultThreadsPerRank()
                             : static_cast<int>(flags.threads));
  if (flags.steps == 0 || flags.steps < -1)
    return failAll(comm, Status::error("--steps " + std::to_string(flags.steps) +
                              ": expected a positive number of steps"));
  if (flags.batch == 0 || flags.batch < -1)
    return failAll(comm, Status::error("--batch " + std::to_string(flags.batch) +
                              ": expected a positive batch size"));
  // Fail before training, not after it, when an output cannot be written.
  for (const std::string *out : {&flags.save, &flags.report})
    if (Status s = runtime::checkWritable(*out); !s.ok())
      return failAll(comm, s);
  if (Status s = runtime::checkOutputs(flags.file, {{"--save", flags.save},
                                                    {"--report", flags.report}});
      !s.ok())
    return failAll(comm, s);
  // Only rank 0 prints.
  ProgressDisplay display(flags.quiet || !root);
  display.startTimer("compiling " + flags.file);
  auto session = openSession(flags, flags.seed, comm);
  display.stopTimer();
  if (!session.ok())
    return failAll(comm, session.status());
  if (root)
    printCompileReport(*session->model, flags.options);

  runtime::TrainOptions options = runtime::TrainOptions::fromFlags(
      flags.dataDir, flags.steps, flags.batch, flags.validation, flags.seed, flags.restore);
  options.comm = &comm;
  // Only rank 0 writes the TensorBoard events and metrics.jsonl.
  options.logdir = root ? flags.logdir : "";
  // The trainer holds the only copy of the params (a 74M-param model's
  // 300 MB once, not twice).
  auto taken = session->model->takeParams();
  if (!taken.ok())
    return failAll(comm, taken.status());
  std::map<std::string, Tensor> params = std::move(*taken);
  runtime::Trainer trainer(session->exe, params, options);
  for (auto [flag, out] : {std::pair{"--save", &flags.save}, {"--report", &flags.report}})
    if (Status s = trainer.checkNotAnInput(flag, *out); !s.ok())
      return failAll(comm, s);
  if (Status s = trainer.loadData(); !s.ok())
    return failAll(comm, s);
  if (Status s = trainer.restore(); !s.ok())
    return failAll(comm, s);
  note(trainer.restoreNote());

  const runtime::ModelSpec &spec = session->exe->spec();
  {
    std::string text = "training " + spec.name + " (" + spec.file + ")";
    if (comm.size() > 1)
      text += " on " + std::to_string(comm.size()) + " processes (" + comm.name() +
              "), data parallel";
    display.line(text);
  }
  // The live line's loss and metrics: means since the last plain line.
  double lossSum = 0;
  std::vector<double> metricSums;
  int64_t since = 0;
  trainer.onStep([&](const runtime::Progress &p) {
    if (p.logged) {
      lossSum = 0, since = 0;
      std::fill(metricSums.begin(), metricSums.end(), 0.0);
      return;
    }
    lossSum += p.loss;
    metricSums.resize(p.metrics.size(), 0.0);
    std::vector<std::pair<std::string, double>> means = p.metrics;
    ++since;
    for (size_t i = 0; i < means.size(); ++i)
      means[i].second = (metricSums[i] += p.metrics[i].second) / since;
    std::string text;
    llvm::raw_string_ostream(text)
        << ProgressDisplay::bar(p.step, p.totalSteps) << " " << p.step << "/" << p.totalSteps
        << "  " << runtime::formatLoss(lossSum / since, means, p.step, since)
        << llvm::format("  %.0f ex/s  ", p.examplesPerSecond) << runtime::formatEta(p.etaSeconds);
    // The first step after a plain line draws at once: a fast run (the
    // softmax regression, tens of µs a step) could otherwise reach its next
    // plain line, or its end, inside the 0.1 s since the last redraw (the
    // compile timer's) and never show the live line.
    display.live(text, since == 1);
  });
  trainer.onEvalProgress([&](const std::string &set, int64_t done, int64_t total) {
    std::string text;
    llvm::raw_string_ostream(text) << "evaluating " << set << " "
                                   << ProgressDisplay::bar(done, total) << " " << done << "/"
                                   << total << " examples";
    display.live(text, done == total);
  });
  auto result = trainer.train(
      [&](const runtime::Progress &p) { display.line(runtime::formatProgress(p)); },
      [&](const runtime::SetResult &r) { display.line(runtime::formatSet(r)); });
  display.clear();
  if (!result.ok())
    return failAll(comm, result.status());
  if (!root)
    return 0;
  llvm::outs() << runtime::formatTrained(*result) << "\n";
  for (const runtime::SetResult &r : result->sets)
    llvm::outs() << runtime::formatSet(r) << "\n";
  if (!flags.save.empty()) {
    if (Status s = trainer.save(flags.save); !s.ok())
      return failAll(comm, s);
    llvm::outs() << "saved " << flags.save << "\n";
  }
  if (!flags.report.empty())
    if (Status s = runtime::writeReport(flags.report, spec, *result); !s.ok())
      return failAll(comm, s);
  return 0;
}

int eval(const Flags &flags) {
  if (flags.restore.empty())
    return fail(Status::error("dlc eval needs --restore CKPT"));
  if (Status s = runtime::checkWritable(flags.report); !s.ok())
    return fail(s);
  if (Status s = runtime::checkOutputs(flags.file, {{"--report", flags.report},
                                                    {"--restore", flags.restore, true}});
      !s.ok())
    return fail(s);
  // Several processes started by mpirun evaluate a shard each.
  auto world = runtime::worldCommunicator();
  if (!world.ok())
    return fail(world.status());
  runtime::Communicator &comm = **world;
  // Eval restores every param from the checkpoint; the seed is irrelevant.
  auto session = openSession(flags, 0, comm, /*training=*/false);
  if (!session.ok())
    return failAll(comm, session.status());
  runtime::TrainOptions options;
  options.dataDir = flags.dataDir;
  options.restore = flags.restore;
  options.comm = &comm;
  auto taken = session->model->takeParams();
  if (!taken.ok())
    return failAll(comm, taken.status());
  std::map<std::string, Tensor> params = std::move(*taken);
  runtime::Trainer trainer(session->exe, params, options);
  if (Status s = trainer.loadData(); !s.ok())
    return failAll(comm, s);
  if (Status s = trainer.requireSet("test"); !s.ok())
    return failAll(comm, s);
  if (Status s = trainer.restore(); !s.ok())
    return failAll(comm, s);
  note(trainer.restoreNote());
  auto result = trainer.evaluateTest();
  if (!result.ok())
    return failAll(comm, result.status());
  if (!comm.isRoot())
    return 0;
  for (const auto &[name, value] : result->sets[0].values)
    llvm::outs() << name << " = " << llvm::format("%g", value) << "\n";
  if (!flags.report.empty()) {
    if (Status s = runtime::writeReport(flags.report, session->exe->spec(), *result); !s.ok())
      return failAll(comm, s);
  }
  return 0;
}

} // namespace dlc::tool
