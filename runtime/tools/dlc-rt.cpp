//===- dlc-rt.cpp - run, train and evaluate AOT-compiled models -------------===//
//
// The runtime's own tool: loads a module written by
// `dlc compile FILE --emit=module -o MODEL.so` and runs its outputs, trains
// it or evaluates it, as `dlc run|train|eval` do for a model file. It links
// only the runtime library (no MLIR, no LLVM), which is how compiled models
// travel to other machines; its command line is parsed with CLI11
// (header-only). Exit status: 0 on success (and for --help and --version,
// which print to standard output), 1 for any error.
//
//   dlc-rt MODEL.so run [--feed NAME=VALUE]... [--restore CKPT]
//   dlc-rt MODEL.so train [--data DIR] [--steps N] [--batch N] [--validation N]
//                         [--seed N] [--save CKPT] [--restore CKPT] [--report FILE.json]
//                         [--logdir DIR]
//   dlc-rt MODEL.so eval --restore CKPT [--data DIR] [--report FILE.json]
//   (every command also takes --threads N and --memory-limit SIZE)
//
// Started by mpirun, `train` runs data parallel (runtime/Communicator.h) on a
// module compiled with `dlc compile --data-parallel`.
//
//===----------------------------------------------------------------------===//

#include "runtime/Checkpoint.h"
#include "runtime/Dataset.h"
#include "runtime/Communicator.h"
#include "runtime/Contracts.h"
#include "runtime/Executable.h"
#include "runtime/Memory.h"
#include "runtime/Outputs.h"
#include "runtime/Parallel.h"
#include "runtime/Report.h"
#include "runtime/Trainer.h"

#include <CLI/CLI.hpp>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>

using namespace dlc::runtime;
namespace contract = dlc::contract;

namespace {
/// Prints `dlc-rt: note: MESSAGE` unless `message` is empty.
void note(const std::string &message) {
  if (!message.empty())
    std::fprintf(stderr, "dlc-rt: note: %s\n", message.c_str());
}

int fail(const Status &s) {
  // Located diagnostics already carry "file:line:col: error:".
  if (s.message().find(": error: ") != std::string::npos)
    std::fprintf(stderr, "%s\n", s.message().c_str());
  else
    std::fprintf(stderr, "dlc-rt: error: %s\n", s.message().c_str());
  return 1;
}

/// Every flag of every command, as parsed. Integers are -1 when not given.
struct Flags {
  std::string module, restore, save, report, dataDir, memoryLimit, logdir;
  std::vector<std::string> feeds;
  int64_t steps = -1, batch = -1, validation = -1, seed = -1, threads = 0;
  /// --threads was given (else, under mpirun, the cores are shared among
  /// the job's processes on this machine).
  bool threadsGiven = false;
};

/// Accepts a decimal integer of at least `min` (no sign tricks, no
/// overflow); the message names what the flag expects.
CLI::Validator integerAtLeast(int64_t min, const std::string &what) {
  return CLI::Validator(
      [min, what](std::string &text) -> std::string {
        errno = 0;
        char *end = nullptr;
        long long v = std::strtoll(text.c_str(), &end, 10);
        if (text.empty() || std::isspace(static_cast<unsigned char>(text[0])) || *end ||
            errno == ERANGE || v < min)
          return "expected " + what + ", got '" + text + "'";
        return "";
      },
      min > 0 ? "N>0" : "N>=0");
}

/// Sets the runtime's threads and memory limit, shared by every command.
Status applyMachineFlags(const Flags &flags) {
  setNumThreads(static_cast<int>(flags.threads));
  if (flags.memoryLimit.empty())
    return Status::success();
  auto bytes = parseMemorySize(flags.memoryLimit);
  if (!bytes.ok())
    return bytes.status().withPrefix("--memory-limit ");
  setMemoryLimit(*bytes);
  return Status::success();
}

/// Loads the module and draws its params (--seed, else the train block's).
struct Session {
  std::shared_ptr<Executable> exe;
  std::map<std::string, Tensor> params;
};

StatusOr<Session> openSession(const Flags &flags) {
  if (Status s = applyMachineFlags(flags); !s.ok())
    return s;
  auto loaded = Executable::loadShared(flags.module);
  if (!loaded.ok())
    return loaded.status();
  Session session;
  session.exe = std::move(*loaded);
  const ModelSpec &spec = session.exe->spec();
  int64_t seed = flags.seed >= 0 ? flags.seed : spec.train ? spec.train->seed : 0;
  auto params = initializeParams(spec, seed);
  if (!params.ok())
    return params.status();
  session.params = std::move(*params);
  return session;
}

/// Checks before any work that the outputs can be written and destroy
/// nothing; the checkpoint read (--restore, marked text) must not be one.
Status checkFiles(const Flags &flags, const std::vector<Output> &outputs) {
  for (const Output &out : outputs)
    if (!out.text)
      if (Status s = checkWritable(out.path); !s.ok())
        return s;
  return checkOutputs(flags.module, outputs);
}

int train(const Flags &flags) {
  // Several processes started by mpirun train data parallel; only rank 0
  // prints and saves, and an error on one ends them all.
  auto world = worldCommunicator();
  if (!world.ok())
    return fail(world.status());
  Communicator &comm = **world;
  auto failAll = [&](const Status &s) {
    int rc = fail(s);
    if (comm.size() > 1)
      comm.abort(rc);
    return rc;
  };
  if (Status s = checkFiles(flags, {{"--save", flags.save},
                                    {"--report", flags.report},
                                    {"--restore", flags.restore, true}});
      !s.ok())
    return failAll(s);
  auto session = openSession(flags);
  if (!session.ok())
    return failAll(session.status());
  if (comm.size() > 1 && !flags.threadsGiven)
    setNumThreads(defaultThreadsPerRank());
  const ModelSpec &spec = session->exe->spec();
  if (!session->exe->hasEntry(contract::kTrainStepEntry))
    return failAll(makeError(flags.module, ": the model has no loss to train"));
  if (comm.size() > 1 && !session->exe->hasEntry(contract::kGradEntry))
    return failAll(makeError(flags.module, ": the module cannot train data parallel: "
                                           "compile it with `dlc compile --data-parallel`"));
  TrainOptions options = TrainOptions::fromFlags(flags.dataDir, flags.steps, flags.batch,
                                                 flags.validation, flags.seed, flags.restore);
  options.comm = &comm;
  // Only rank 0 writes the TensorBoard events and metrics.jsonl.
  options.logdir = comm.isRoot() ? flags.logdir : "";
  Trainer trainer(session->exe, session->params, options);
  for (auto [flag, out] : {std::pair{"--save", &flags.save}, {"--report", &flags.report}})
    if (Status s = trainer.checkNotAnInput(flag, *out); !s.ok())
      return failAll(s);
  if (Status s = trainer.loadData(); !s.ok())
    return failAll(s);
  if (Status s = trainer.restore(); !s.ok())
    return failAll(s);
  note(trainer.restoreNote());
  bool root = comm.isRoot();
  if (root) {
    std::printf("training %s (%s)\n", spec.name.c_str(), flags.module.c_str());
    std::fflush(stdout);
  }
  auto result = trainer.train(
      [root](const Progress &p) {
        if (!root)
          return;
        std::printf("%s\n", formatProgress(p).c_str());
        std::fflush(stdout);
      },
      [root](const SetResult &r) {
        if (!root)
          return;
        std::printf("%s\n", formatSet(r).c_str());
        std::fflush(stdout);
      });
  if (!result.ok())
    return failAll(result.status());
  if (!root)
    return 0;
  std::printf("%s\n", formatTrained(*result).c_str());
  for (const SetResult &r : result->sets)
    std::printf("%s\n", formatSet(r).c_str());
  std::fflush(stdout);
  if (!flags.save.empty()) {
    if (Status s = trainer.save(flags.save); !s.ok())
      return fail(s);
    std::printf("saved %s\n", flags.save.c_str());
  }
  if (!flags.report.empty()) {
    if (Status s = writeReport(flags.report, spec, *result); !s.ok())
      return fail(s);
    std::printf("wrote %s\n", flags.report.c_str());
  }
  return 0;
}

int eval(const Flags &flags) {
  if (Status s = checkFiles(flags, {{"--report", flags.report},
                                    {"--restore", flags.restore, true}});
      !s.ok())
    return fail(s);
  auto session = openSession(flags);
  if (!session.ok())
    return fail(session.status());
  TrainOptions options;
  options.dataDir = flags.dataDir;
  options.restore = flags.restore;
  Trainer trainer(session->exe, session->params, options);
  if (Status s = trainer.loadData(); !s.ok())
    return fail(s);
  if (Status s = trainer.requireSet("test"); !s.ok())
    return fail(s);
  if (Status s = trainer.restore(); !s.ok())
    return fail(s);
  note(trainer.restoreNote());
  auto result = trainer.evaluateTest();
  if (!result.ok())
    return fail(result.status());
  for (const auto &[name, value] : result->sets[0].values)
    std::printf("%s = %g\n", name.c_str(), value);
  if (!flags.report.empty()) {
    if (Status s = writeReport(flags.report, session->exe->spec(), *result); !s.ok())
      return fail(s);
    std::printf("wrote %s\n", flags.report.c_str());
  }
  return 0;
}

int run(const Flags &flags) {
  auto session = openSession(flags);
  if (!session.ok())
    return fail(session.status());
  const ModelSpec &spec = session->exe->spec();
  std::map<std::string, Tensor> &params = session->params;
  if (!flags.restore.empty()) {
    std::string ignored;
    if (Status s = [&] {
          auto ckpt = readCheckpoint(flags.restore);
          return ckpt.ok() ? restoreParams(spec, ckpt->tensors, flags.restore, params, &ignored)
                           : ckpt.status();
        }();
        !s.ok())
      return fail(s);
    note(ignored);
  }
  // `run` is compiled with every input fed.
  std::map<std::string, Tensor> fed;
  for (const std::string &feed : flags.feeds) {
    size_t eq = feed.find('=');
    std::string name = feed.substr(0, eq == std::string::npos ? 0 : eq);
    const InputSpec *in = spec.findInput(name);
    const ParamSpec *p = spec.findParam(name);
    if (eq == std::string::npos || (!in && !p))
      return fail(makeError("--feed ", feed, ": expected NAME=VALUE naming an input or param"));
    auto value = parseTensorLiteral(feed.substr(eq + 1), in ? in->dtype : p->dtype);
    if (!value.ok())
      return fail(value.status().withPrefix("--feed " + name + ": "));
    if (p) {
      params[name] = std::move(*value);
      continue;
    }
    if (Status s = checkClassIds(*value, in->classes, name, "--feed " + name); !s.ok())
      return fail(s);
    fed[name] = std::move(*value);
  }
  const EntrySpec *entry = spec.findEntry(contract::kRunEntry);
  if (!entry)
    return fail(makeError(flags.module, ": the module has no run entry point"));
  std::vector<ArgValue> args;
  for (const ValueSpec &a : entry->args) {
    if (a.role == contract::kRoleInput) {
      auto it = fed.find(a.name);
      if (it == fed.end())
        return fail(makeError("input '", a.name, "' is not fed (use --feed ", a.name,
                              "=VALUE)"));
      args.push_back(ArgValue::of(it->second));
    } else {
      args.push_back(ArgValue::of(params.at(a.name)));
    }
  }
  if (Status s = planRun(spec, fed); !s.ok())
    return fail(s);
  auto results = session->exe->call(contract::kRunEntry, args);
  if (!results.ok())
    return fail(results.status());
  for (const char *role : {contract::kRoleOutput, contract::kRoleLoss, contract::kRoleMetric})
    for (size_t i = 0; i < entry->results.size(); ++i)
      if (entry->results[i].role == role)
        std::printf("%s = %s\n", entry->results[i].name.c_str(),
                    (*results)[i].format().c_str());
  return 0;
}

/// CLI11's help, with the module in a command's usage line.
class Formatter : public CLI::Formatter {
public:
  std::string make_usage(const CLI::App *app, std::string name) const override {
    (void)name;
    return "Usage: dlc-rt MODEL.so " +
           (app->get_parent() ? app->get_name() : std::string("run|train|eval")) +
           " [OPTIONS]\n";
  }
};

} // namespace

int main(int argc, char **argv) {
  // A file grown past RLIMIT_FSIZE is a write error that is reported (and
  // cleaned up after), not a signal that kills the process.
  std::signal(SIGXFSZ, SIG_IGN);
  Flags flags;
  CLI::App app("dlc-rt: run, train and evaluate a model compiled ahead of time with\n"
               "`dlc compile FILE --emit=module -o MODEL.so` (no LLVM needed)",
               "dlc-rt");
  app.set_version_flag("--version",
                       std::string("dlc-rt version " DLC_VERSION_STRING) +
                           (*DLC_GIT_REVISION ? " (git " DLC_GIT_REVISION ")" : ""),
                       "Print dlc-rt's version and exit");
  app.formatter(std::make_shared<Formatter>());
  app.add_option("MODEL.so", flags.module, "The compiled module (a path; a bare name is "
                                           "looked up in the current folder)")
      ->required();
  app.require_subcommand(0, 1);
  app.footer("Run `dlc-rt MODEL.so COMMAND --help` for a command's options.");

  CLI::App *runCmd = app.add_subcommand("run", "Compute the model's outputs, loss and "
                                               "metrics for fed values");
  CLI::App *trainCmd = app.add_subcommand("train", "Train the model on its data, evaluate "
                                                   "it and save a checkpoint");
  CLI::App *evalCmd = app.add_subcommand("eval", "Evaluate the loss and metrics on the "
                                                 "test set");
  for (CLI::App *cmd : {runCmd, trainCmd, evalCmd}) {
    cmd->add_option("--threads", flags.threads, "Worker threads (0: every core this "
                                                "process may use)")
        ->check(integerAtLeast(0, "a non-negative number of threads"))
        ->check(CLI::Validator(
            [](std::string &text) -> std::string {
              return std::strtoll(text.c_str(), nullptr, 10) > kMaxThreads
                         ? "expected at most " + std::to_string(kMaxThreads) +
                               " threads, got '" + text + "'"
                         : "";
            },
            "N<=" + std::to_string(kMaxThreads)));
    cmd->add_option("--memory-limit", flags.memoryLimit,
                    "The memory the model may use: 2G, 512M or a fraction of the "
                    "physical memory such as 0.4");
  }
  runCmd->add_option("--feed", flags.feeds, "An input or param value: NAME=VALUE "
                                            "(a number or a nested list)")
      ->allow_extra_args(false);
  runCmd->add_option("--restore", flags.restore, "Take the params from a checkpoint");
  trainCmd->add_option("--restore", flags.restore,
                       "Resume from a checkpoint of this model, or start from the "
                       "params of another (transfer)");
  evalCmd->add_option("--restore", flags.restore, "The checkpoint to evaluate")
      ->required();
  for (CLI::App *cmd : {trainCmd, evalCmd}) {
    cmd->add_option("--data", flags.dataDir,
                    "The folder relative data paths resolve against (default: the "
                    "model file's)");
    cmd->add_option("--report", flags.report,
                    "Write the final loss and metrics as JSON");
  }
  trainCmd->add_option("--steps", flags.steps, "Training steps (overrides the model)")
      ->check(integerAtLeast(1, "a positive number of steps"));
  trainCmd->add_option("--batch", flags.batch, "Batch size (overrides the model)")
      ->check(integerAtLeast(1, "a positive batch size"));
  trainCmd->add_option("--validation", flags.validation,
                       "Training examples held out for validation (overrides the model)")
      ->check(integerAtLeast(0, "a non-negative number of examples"));
  trainCmd->add_option("--seed", flags.seed,
                       "Seed for initializers, shuffling and dropout (overrides the model)")
      ->check(integerAtLeast(0, "a non-negative seed"));
  trainCmd->add_option("--save", flags.save, "Write a checkpoint after training");
  trainCmd->add_option("--logdir", flags.logdir,
                       "Write TensorBoard event files and metrics.jsonl into this folder");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success))
      return app.exit(e, std::cout, std::cerr); // --help, --version: stdout, 0
    std::string message = e.what();
    // CLI11 starts its messages with a capital letter; dlc's do not.
    if (message.size() > 1 && std::isupper(static_cast<unsigned char>(message[0])) &&
        std::islower(static_cast<unsigned char>(message[1])))
      message[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(message[0])));
    std::fprintf(stderr, "dlc-rt: error: %s\n", message.c_str());
    return 1;
  }
  // A value given as an empty string is a mistake (an unset shell
  // variable), not a request for the default.
  for (CLI::App *cmd : {&app, runCmd, trainCmd, evalCmd})
    for (const CLI::Option *option : cmd->get_options())
      for (const std::string &value : option->results())
        if (option->get_type_size_min() > 0 && value.empty()) {
          std::fprintf(stderr, "dlc-rt: error: %s: expected a value, got an empty string\n",
                       option->get_name().c_str());
          return 1;
        }
  flags.threadsGiven = (*trainCmd && trainCmd->count("--threads") > 0);
  if (*trainCmd)
    return train(flags);
  if (*evalCmd)
    return eval(flags);
  if (*runCmd)
    return run(flags);
  std::fprintf(stderr, "dlc-rt: error: expected a command after %s: run, train or eval "
                       "(see dlc-rt --help)\n",
               flags.module.c_str());
  return 1;
}
