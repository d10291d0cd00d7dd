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


using namespace dlc;

namespace dlc::tool {
int fail(const Status &status);
void printCompileReport(const Model &model, const CompileOptions &options);

namespace {

/// Loads the model and compiles its training program; shared by train/eval.
struct Session {
  std::optional<Model> model;
  std::shared_ptr<runtime::Executable> exe;
};

/// Params start from the model's initializers drawn with `--seed` when
/// given (seed >= 0), else with the train block's seed.
StatusOr<Session> openSession(const Flags &flags, int64_t seed) {
  auto model = Model::fromFile(flags.file, flags.options);
  if (!model.ok())
    return model.status();
  Session s;
  s.model.emplace(std::move(*model));
  if (Status st = s.model->initParams(seed >= 0 ? seed : s.model->defaultSeed());
      !st.ok())
    return st;
  auto exe = s.model->compileTraining();
  if (!exe.ok())
    return exe.status();
  s.exe = *exe;
  return s;
}
} // namespace

int train(const Flags &flags) {
  if (flags.device != "cpu")
    return fail(Status::error("--device " + flags.device +
                              ": the cuda target is not built yet; use --device cpu"));
  if (!flags.logdir.empty())
    return fail(Status::error("--logdir (TensorBoard events) is not built yet"));
  if (flags.threads < 0)
    return fail(Status::error("--threads must not be negative"));
  // The compiled code's parallel loops run on the runtime's threads (all the
  // cores this process may use unless --threads says otherwise).
  runtime::setNumThreads(static_cast<int>(flags.threads));
  if (flags.steps == 0 || flags.steps < -1)
    return fail(Status::error("--steps " + std::to_string(flags.steps) +
                              ": expected a positive number of steps"));
  if (flags.batch == 0 || flags.batch < -1)
    return fail(Status::error("--batch " + std::to_string(flags.batch) +
                              ": expected a positive batch size"));
  // Fail before training, not after it, when an output cannot be written.
  for (const std::string *out : {&flags.save, &flags.report})
    if (Status s = runtime::checkWritable(*out); !s.ok())
      return fail(s);
  if (Status s = runtime::checkOutputs(flags.file, {{"--save", flags.save},
                                                    {"--report", flags.report}});
      !s.ok())
    return fail(s);
  auto session = openSession(flags, flags.seed);
  if (!session.ok())
    return fail(session.status());
  printCompileReport(*session->model, flags.options);

  runtime::TrainOptions options = runtime::TrainOptions::fromFlags(
      flags.dataDir, flags.steps, flags.batch, flags.validation, flags.seed, flags.restore);
  std::map<std::string, Tensor> params = session->model->params();
  runtime::Trainer trainer(session->exe, params, options);
  if (Status s = trainer.loadData(); !s.ok())
    return fail(s);
  if (Status s = trainer.restore(); !s.ok())
    return fail(s);

  const runtime::ModelSpec &spec = session->exe->spec();
  llvm::outs() << "training " << spec.name << " (" << spec.file << ")\n";
  llvm::outs().flush();
  auto result = trainer.train(
      [](const runtime::Progress &p) {
        llvm::outs() << runtime::formatProgress(p) << "\n";
        llvm::outs().flush();
      },
      [](const runtime::SetResult &r) {
        llvm::outs() << runtime::formatSet(r) << "\n";
        llvm::outs().flush();
      });
  if (!result.ok())
    return fail(result.status());
  llvm::outs() << runtime::formatTrained(*result) << "\n";
  for (const runtime::SetResult &r : result->sets)
    llvm::outs() << runtime::formatSet(r) << "\n";
  if (!flags.save.empty()) {
    if (Status s = trainer.save(flags.save); !s.ok())
      return fail(s);
    llvm::outs() << "saved " << flags.save << "\n";
  }
  if (!flags.report.empty())
    if (Status s = runtime::writeReport(flags.report, spec, *result); !s.ok())
      return fail(s);
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
  // Eval restores every param from the checkpoint; the seed is irrelevant.
  auto session = openSession(flags, 0);
  if (!session.ok())
    return fail(session.status());
  runtime::TrainOptions options;
  options.dataDir = flags.dataDir;
  options.restore = flags.restore;
  std::map<std::string, Tensor> params = session->model->params();
  runtime::Trainer trainer(session->exe, params, options);
  if (Status s = trainer.loadData(); !s.ok())
    return fail(s);
  if (Status s = trainer.requireSet("test"); !s.ok())
    return fail(s);
  if (Status s = trainer.restore(); !s.ok())
    return fail(s);
  auto result = trainer.evaluateTest();
  if (!result.ok())
    return fail(result.status());
  for (const auto &[name, value] : result->sets[0].values)
    llvm::outs() << name << " = " << llvm::format("%g", value) << "\n";
  if (!flags.report.empty()) {
    if (Status s = runtime::writeReport(flags.report, session->exe->spec(), *result); !s.ok())
      return fail(s);
  }
  return 0;
}

} // namespace dlc::tool
