//===- dlc-rt.cpp - run and train AOT-compiled models without LLVM ---------===//
//
// The runtime's own tool: loads a module written by
// `dlc compile FILE --emit=module -o MODEL.so` and runs its outputs or trains
// it. It links only the runtime library (no MLIR, no LLVM), which is how
// compiled models travel to other machines.
//
//   dlc-rt MODEL.so run [--feed NAME=VALUE]... [--restore CKPT] [--threads N]
//   dlc-rt MODEL.so train [--data DIR] [--steps N] [--batch N] [--seed N]
//                         [--save CKPT] [--restore CKPT] [--threads N] [--logdir DIR]
//
// Started by mpirun, `train` runs data parallel (runtime/Communicator.h) on a
// module compiled with `dlc compile --data-parallel`.
//
//===----------------------------------------------------------------------===//

#include "runtime/Checkpoint.h"
#include "runtime/Communicator.h"
#include "runtime/Contracts.h"
#include "runtime/Executable.h"
#include "runtime/Parallel.h"
#include "runtime/Trainer.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace dlc::runtime;
namespace contract = dlc::contract;

namespace {
/// Prints `dlc-rt: note: MESSAGE` unless `message` is empty.
void note(const std::string &message) {
  if (!message.empty())
    std::fprintf(stderr, "dlc-rt: note: %s\n", message.c_str());
}

int fail(const Status &s) {
  std::fprintf(stderr, "dlc-rt: error: %s\n", s.message().c_str());
  return 1;
}

int usage() {
  std::fprintf(stderr,
               "usage: dlc-rt MODEL.so run [--feed NAME=VALUE]... [--restore CKPT] "
               "[--threads N]\n"
               "       dlc-rt MODEL.so train [--data DIR] [--steps N] [--batch N] "
               "[--seed N] [--save CKPT] [--restore CKPT] [--threads N] [--logdir DIR]\n");
  return 1;
}

bool parseInt(const char *text, int64_t &out) {
  char *end = nullptr;
  long long v = std::strtoll(text, &end, 10);
  if (!*text || *end || v <= 0)
    return false;
  out = v;
  return true;
}

} // namespace

int main(int argc, char **argv) {
  // A file grown past RLIMIT_FSIZE is a write error that is reported (and
  // cleaned up after), not a signal that kills the process.
  std::signal(SIGXFSZ, SIG_IGN);
  if (argc < 3)
    return usage();
  std::string modulePath = argv[1], command = argv[2];
  if (command != "run" && command != "train")
    return usage();
  std::vector<std::string> feeds;
  std::string restore, save;
  TrainOptions options;
  bool threadsGiven = false;
  for (int i = 3; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "dlc-rt: error: %s expects a value\n", flag.c_str());
      return 1;
    }
    const char *value = argv[++i];
    int64_t n = 0;
    if (flag == "--feed" && command == "run") {
      feeds.push_back(value);
    } else if (flag == "--restore") {
      restore = value;
    } else if (flag == "--save" && command == "train") {
      save = value;
    } else if (flag == "--data" && command == "train") {
      options.dataDir = value;
    } else if (flag == "--logdir" && command == "train") {
      options.logdir = value;
    } else if (flag == "--threads") {
      if (!parseInt(value, n) && std::string(value) != "0") {
        std::fprintf(stderr, "dlc-rt: error: --threads expects a non-negative integer, got '%s'\n",
                     value);
        return 1;
      }
      setNumThreads(static_cast<int>(n));
      threadsGiven = true;
    } else if ((flag == "--steps" || flag == "--batch" || flag == "--seed") &&
               command == "train") {
      if (!parseInt(value, n)) {
        std::fprintf(stderr, "dlc-rt: error: %s expects a positive integer, got '%s'\n",
                     flag.c_str(), value);
        return 1;
      }
      (flag == "--steps" ? options.steps : flag == "--batch" ? options.batch : options.seed) = n;
    } else {
      std::fprintf(stderr, "dlc-rt: error: unknown option '%s' for %s\n", flag.c_str(),
                   command.c_str());
      return 1;
    }
  }

  auto loaded = Executable::loadShared(modulePath);
  if (!loaded.ok())
    return fail(loaded.status());
  std::shared_ptr<Executable> exe(std::move(*loaded));
  const ModelSpec &spec = exe->spec();
  int64_t seed = options.seed.value_or(spec.train ? spec.train->seed : 0);
  auto params = initializeParams(spec, seed);
  if (!params.ok())
    return fail(params.status());

  if (command == "train") {
    if (!exe->hasEntry(contract::kTrainStepEntry))
      return fail(makeError(modulePath, ": the model has no loss to train"));
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
    if (comm.size() > 1 && !threadsGiven)
      setNumThreads(defaultThreadsPerRank());
    if (comm.size() > 1 && !exe->hasEntry(contract::kGradEntry))
      return failAll(makeError(modulePath, ": the module cannot train data parallel: "
                                           "compile it with `dlc compile --data-parallel`"));
    options.restore = restore;
    options.comm = &comm;
    Trainer trainer(exe, *params, options);
    if (Status s = trainer.checkNotAnInput("--save", save); !s.ok())
      return failAll(s);
    if (Status s = trainer.loadData(); !s.ok())
      return failAll(s);
    if (Status s = trainer.restore(); !s.ok())
      return failAll(s);
    note(trainer.restoreNote());
    auto result = trainer.train(
        [](const Progress &p) {
          std::printf("step %6lld/%lld  loss %.6g\n", (long long)p.step,
                      (long long)p.totalSteps, p.loss);
          std::fflush(stdout);
        },
        [](const SetResult &) {});
    if (!result.ok())
      return failAll(result.status());
    if (!comm.isRoot())
      return 0;
    for (const SetResult &r : result->sets) {
      std::printf("%s:", r.set.c_str());
      for (const auto &[name, value] : r.values)
        std::printf(" %s %g", name.c_str(), value);
      std::printf("\n");
    }
    if (!save.empty())
      if (Status s = trainer.save(save); !s.ok())
        return fail(s);
    return 0;
  }

  if (!restore.empty()) {
    std::string ignored;
    if (Status s = [&] {
          auto ckpt = readCheckpoint(restore);
          return ckpt.ok() ? restoreParams(spec, ckpt->tensors, restore, *params, &ignored)
                           : ckpt.status();
        }();
        !s.ok())
      return fail(s);
    note(ignored);
  }
  // `run` is compiled with every input fed.
  std::map<std::string, Tensor> fed;
  for (const std::string &feed : feeds) {
    size_t eq = feed.find('=');
    std::string name = feed.substr(0, eq == std::string::npos ? 0 : eq);
    const InputSpec *in = spec.findInput(name);
    const ParamSpec *p = spec.findParam(name);
    if (eq == std::string::npos || (!in && !p))
      return fail(makeError("--feed ", feed, ": expected NAME=VALUE naming an input or param"));
    auto value = parseTensorLiteral(feed.substr(eq + 1), in ? in->dtype : p->dtype);
    if (!value.ok())
      return fail(value.status().withPrefix("--feed " + name + ": "));
    if (p)
      (*params)[name] = std::move(*value);
    else
      fed[name] = std::move(*value);
  }
  const EntrySpec *entry = spec.findEntry(contract::kRunEntry);
  if (!entry)
    return fail(makeError(modulePath, ": the module has no run entry point"));
  std::vector<ArgValue> args;
  for (const ValueSpec &a : entry->args) {
    if (a.role == contract::kRoleInput) {
      auto it = fed.find(a.name);
      if (it == fed.end())
        return fail(makeError("input '", a.name, "' is not fed (use --feed ", a.name,
                              "=VALUE)"));
      args.push_back(ArgValue::of(it->second));
    } else {
      args.push_back(ArgValue::of(params->at(a.name)));
    }
  }
  auto results = exe->call(contract::kRunEntry, args);
  if (!results.ok())
    return fail(results.status());
  for (const char *role :
       {contract::kRoleOutput, contract::kRoleLoss, contract::kRoleMetric})
    for (size_t i = 0; i < entry->results.size(); ++i)
      if (entry->results[i].role == role)
        std::printf("%s = %s\n", entry->results[i].name.c_str(),
                    (*results)[i].format().c_str());
  return 0;
}
