//===- dlc.cpp - the dlc command line -------------------------------------===//
//
// `dlc compile|run|train|eval FILE ...` as LANGUAGE.md describes. Flags are
// bound here and nowhere else; the work is done by the embedding API
// (compiler/JIT.h) and the runtime. Exit status is 0 or 1.
//
//===----------------------------------------------------------------------===//

#include "compiler/JIT.h"
#include "compiler/tools/dlc/Commands.h"
#include "runtime/Memory.h"
#include "runtime/Parallel.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <csignal>
#include <tuple>

using namespace llvm;

namespace {
cl::OptionCategory dlcCategory("dlc options");
cl::SubCommand compileCmd("compile", "Compile a model and show one stage");
cl::SubCommand runCmd("run", "Evaluate the outputs (and the loss and metrics whose inputs are fed)");
cl::SubCommand trainCmd("train", "Train a model, evaluate it and save it");
cl::SubCommand evalCmd("eval", "Evaluate the loss and metrics on the test set");
cl::SubCommand devicesCmd("devices", "List the CPU and the GPUs there are");
cl::SubCommand importCmd("import", "Write an ONNX model as a model file and its params "
                                   "as a checkpoint");
cl::SubCommand graphCmd("graph", "Draw the model's graph after fusion (dot, svg, png)");
cl::SubCommand plotCmd("plot", "Draw the learning curves of a --logdir folder (svg, png, pdf)");

cl::opt<std::string> inputFile(cl::Positional,
                               cl::desc("<model.dl or model.onnx> (plot: <logdir>)"),
                               cl::Required, cl::sub(compileCmd), cl::sub(runCmd),
                               cl::sub(trainCmd), cl::sub(evalCmd), cl::sub(importCmd),
                               cl::sub(plotCmd), cl::sub(graphCmd), cl::cat(dlcCategory));

const std::string emitHelp = "Stage to show: " + dlc::stageList();
cl::opt<std::string> emit("emit", cl::desc(emitHelp),
                          cl::init("dl"), cl::sub(compileCmd), cl::cat(dlcCategory));
cl::opt<std::string> target("target", cl::desc("Target: cpu or cuda (cuda-emulated: the "
                                               "CUDA target's loops on the host, for tests)"),
                            cl::init("cpu"), cl::sub(compileCmd), cl::sub(runCmd),
                            cl::sub(trainCmd), cl::sub(evalCmd), cl::cat(dlcCategory));
cl::opt<std::string> gpuArch("gpu-arch",
                             cl::desc("GPU architecture of the CUDA target (sm_80, sm_90; "
                                      "default: the --device's, else sm_80)"),
                             cl::value_desc("sm_NN"), cl::sub(compileCmd), cl::sub(runCmd),
                             cl::sub(trainCmd), cl::sub(evalCmd), cl::cat(dlcCategory));
cl::opt<std::string> mcpu("mcpu",
                          cl::desc("CPU the host code is compiled for (x86-64-v3, znver4; "
                                   "default: this machine's)"),
                          cl::value_desc("cpu"), cl::sub(compileCmd), cl::cat(dlcCategory));
cl::opt<std::string> mattr("mattr",
                           cl::desc("CPU features to add or remove over --mcpu's or this "
                                    "machine's (+avx2,-avx512f)"),
                           cl::value_desc("features"), cl::sub(compileCmd), cl::cat(dlcCategory));
cl::opt<std::string> gpuMemoryLimit(
    "gpu-memory-limit",
    cl::desc("GPU memory the run may use: bytes (2G) or a fraction of the GPU's (0.4)"),
    cl::value_desc("size"), cl::sub(runCmd), cl::sub(trainCmd), cl::sub(evalCmd),
    cl::cat(dlcCategory));
cl::opt<bool> dataParallel("data-parallel",
                           cl::desc("Also compile the entry points of data-parallel "
                                    "training (mpirun dlc-rt MODEL.so train)"),
                           cl::sub(compileCmd), cl::cat(dlcCategory));
cl::opt<std::string> outputFile("o", cl::desc("Output file (default: stdout; "
                                              "required for obj, module, plot and graph)"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::sub(compileCmd), cl::sub(importCmd), cl::sub(plotCmd),
                                cl::sub(graphCmd), cl::cat(dlcCategory));

cl::list<std::string> feeds("feed", cl::desc("NAME=VALUE: feed an input or "
                                             "override a param"),
                            cl::value_desc("NAME=VALUE"), cl::sub(runCmd), cl::cat(dlcCategory));

cl::opt<std::string> feedDir("feed-dir", cl::desc("Feed input N from DIR/input_N.pb "
                                                 "(ONNX TensorProto files)"),
                             cl::value_desc("dir"), cl::sub(runCmd), cl::cat(dlcCategory));
cl::opt<std::string> outputsDir("outputs-dir", cl::desc("Write output N to DIR/output_N.pb "
                                                        "(ONNX TensorProto files)"),
                                cl::value_desc("dir"), cl::sub(runCmd), cl::cat(dlcCategory));
cl::opt<std::string> restore("restore", cl::desc("Checkpoint to start from"),
                             cl::value_desc("file"), cl::sub(runCmd),
                             cl::sub(trainCmd), cl::sub(evalCmd), cl::cat(dlcCategory));
cl::opt<std::string> dataDir("data", cl::desc("Folder that relative data paths "
                                              "resolve against"),
                             cl::value_desc("dir"), cl::sub(trainCmd),
                             cl::sub(evalCmd), cl::cat(dlcCategory));
cl::opt<std::string> report("report", cl::desc("Write a JSON report"),
                            cl::value_desc("file.json"), cl::sub(trainCmd),
                            cl::sub(evalCmd), cl::cat(dlcCategory));
cl::opt<int64_t> steps("steps", cl::desc("Training steps (overrides the model)"),
                       cl::init(-1), cl::sub(trainCmd), cl::cat(dlcCategory));
cl::opt<int64_t> batch("batch", cl::desc("Batch size (overrides the model)"),
                       cl::init(-1), cl::sub(trainCmd), cl::cat(dlcCategory));
cl::opt<int64_t> validation("validation",
                            cl::desc("Training examples held out for validation "
                                     "(overrides the model; 0: none)"),
                            cl::init(-1), cl::sub(trainCmd), cl::cat(dlcCategory));
cl::opt<std::string> device("device", cl::desc("Where the compiled code runs: cpu, cuda "
                                               "or cuda:N"),
                            cl::init("cpu"), cl::sub(runCmd), cl::sub(trainCmd),
                            cl::sub(evalCmd), cl::cat(dlcCategory));
cl::opt<int64_t> threads("threads",
                         cl::desc("Worker threads (0: all cores); dlc compile: the threads "
                                  "that generate machine code"),
                         cl::init(0), cl::sub(trainCmd), cl::sub(compileCmd), cl::cat(dlcCategory));
cl::opt<int64_t> compileThreads("compile-threads",
                                cl::desc("Threads that generate machine code (0: --threads "
                                         "or all cores); the code is the same for any number"),
                                cl::init(0), cl::sub(compileCmd), cl::sub(runCmd),
                                cl::sub(trainCmd), cl::sub(evalCmd), cl::cat(dlcCategory));
cl::opt<int64_t> seed("seed", cl::desc("Seed of the random generator "
                                       "(overrides the model)"),
                      cl::init(-1), cl::sub(trainCmd), cl::cat(dlcCategory));
cl::opt<std::string> logdir("logdir", cl::desc("TensorBoard event folder"),
                            cl::value_desc("dir"), cl::sub(trainCmd), cl::cat(dlcCategory));
cl::opt<bool> quiet("quiet", cl::desc("Show no progress (for scripts): only the results"),
                    cl::sub(trainCmd), cl::cat(dlcCategory));
cl::opt<std::string> save("save", cl::desc("Checkpoint to write after training"),
                          cl::value_desc("file"), cl::sub(trainCmd), cl::cat(dlcCategory));

cl::opt<bool> timePasses("time-passes", cl::desc("Report compile time per phase"),
                         cl::sub(compileCmd), cl::sub(runCmd), cl::sub(trainCmd),
                         cl::sub(evalCmd), cl::cat(dlcCategory));
cl::opt<bool> noFusion("no-fusion",
                       cl::desc("Do not fuse convolution, bias, activation and pooling"),
                       cl::sub(compileCmd), cl::sub(runCmd), cl::sub(trainCmd),
                       cl::sub(evalCmd), cl::sub(graphCmd), cl::cat(dlcCategory));
cl::opt<bool> noFastGlue("no-fast-glue",
                         cl::desc("Optimize a deep model's entry-point glue like the rest "
                                  "(slower to compile, the same arithmetic)"),
                         cl::sub(compileCmd), cl::sub(runCmd), cl::sub(trainCmd),
                         cl::sub(evalCmd), cl::cat(dlcCategory));
cl::opt<std::string> remarks("remarks",
                             cl::desc("Report the decisions of a pass family: fusion "
                                      "(what fused into what, and why the rest did not), "
                                      "placement (where each op runs); comma-separated"),
                             cl::value_desc("fusion,placement"), cl::sub(compileCmd), cl::sub(runCmd),
                             cl::sub(trainCmd), cl::sub(evalCmd), cl::cat(dlcCategory));
cl::opt<std::string> memoryLimit("memory-limit",
                                 cl::desc("Memory the model may use: bytes (2G, 512M) or a "
                                          "fraction of the machine's (0.4); default: all"),
                                 cl::value_desc("size"), cl::sub(runCmd), cl::sub(trainCmd),
                                 cl::sub(evalCmd), cl::cat(dlcCategory));
cl::opt<bool> logPlacement("log-placement",
                           cl::desc("Say where each op runs (remarks at the model's lines)"),
                           cl::sub(compileCmd), cl::sub(runCmd), cl::sub(trainCmd),
                           cl::sub(evalCmd), cl::cat(dlcCategory));
cl::opt<bool> softPlacement("soft-placement",
                            cl::desc("Run ops pinned to another device (device blocks) on "
                                     "the step's device, with a note, instead of failing"),
                            cl::sub(compileCmd), cl::sub(runCmd), cl::sub(trainCmd),
                            cl::sub(evalCmd), cl::cat(dlcCategory));
cl::opt<bool> checkNumerics("check-numerics",
                            cl::desc("Stop at the first op that makes a NaN or an "
                                     "infinity, naming it and its line (slower)"),
                            cl::sub(compileCmd), cl::sub(runCmd), cl::sub(trainCmd),
                            cl::sub(evalCmd), cl::cat(dlcCategory));
cl::opt<bool> noCache("no-cache", cl::desc("Do not use the compile cache"),
                      cl::sub(compileCmd), cl::sub(runCmd), cl::sub(trainCmd),
                      cl::sub(evalCmd), cl::cat(dlcCategory));
} // namespace

int main(int argc, char **argv) {
  InitLLVM y(argc, argv);
  // A file grown past RLIMIT_FSIZE is a write error (EFBIG) that dlc reports
  // with the path and cleans up after, like a full disk, not a signal that
  // kills it (InitLLVM's handler would print a stack dump).
  std::signal(SIGXFSZ, SIG_IGN);
  // dlc's own version first, then the LLVM it was built with.
  cl::SetVersionPrinter([](raw_ostream &os) {
    os << "dlc version " DLC_VERSION_STRING;
    if (*DLC_GIT_REVISION)
      os << " (git " DLC_GIT_REVISION ")";
    os << "\n  built with LLVM " LLVM_VERSION_STRING " and MLIR\n";
  });
  for (cl::SubCommand *sub : {&cl::SubCommand::getTopLevel(), &compileCmd, &runCmd,
                              &trainCmd, &evalCmd, &devicesCmd, &importCmd, &plotCmd,
                              &graphCmd})
    cl::HideUnrelatedOptions(dlcCategory, *sub);
  cl::ParseCommandLineOptions(
      argc, argv,
      "dlc: compile and train neural networks written in the dl language\n\n"
      "  dlc compile FILE [--emit=ast|dl|fused|grad|linalg|loops|llvm|ptx|obj|module] "
      "[--target=cpu|cuda] [--threads N] [-o OUT]\n"
      "  dlc run FILE [--feed NAME=VALUE]... [--feed-dir DIR] [--outputs-dir DIR] "
      "[--restore CKPT]\n"
      "  dlc train FILE [--data DIR] [--steps N] [--batch N] [--validation N] [--device "
      "cpu|cuda|cuda:N] [--threads N] [--seed N] [--logdir DIR] [--save CKPT] "
      "[--restore CKPT] [--report FILE.json] [--quiet]\n"
      "  dlc eval FILE --restore CKPT [--data DIR] [--report FILE.json]\n"
      "  dlc import MODEL.onnx -o MODEL.dl (also writes MODEL.safetensors)\n"
      "  dlc devices\n"
      "  dlc plot LOGDIR -o curves.svg|png|pdf\n"
      "  dlc graph FILE -o model.dot|svg|png\n");
  if (devicesCmd)
    return dlc::tool::devices();
  // A path or value given as an empty string is a mistake (an unset shell
  // variable), not a request for the default.
  for (auto [opt, name] : {std::pair<cl::opt<std::string> *, const char *>{&outputFile, "-o"},
                           {&restore, "--restore"}, {&dataDir, "--data"},
                           {&report, "--report"}, {&logdir, "--logdir"}, {&save, "--save"},
                           {&feedDir, "--feed-dir"}, {&outputsDir, "--outputs-dir"},
                           {&device, "--device"}, {&mcpu, "--mcpu"},
                           {&gpuMemoryLimit, "--gpu-memory-limit"}, {&target, "--target"},
                           {&gpuArch, "--gpu-arch"}})
    if (opt->getNumOccurrences() && opt->empty()) {
      errs() << "dlc: error: " << name << ": expected a value, got an empty string\n";
      return 1;
    }

  // (train checks its --threads itself.)
  for (auto [opt, name] : {std::pair<cl::opt<int64_t> *, const char *>{&threads, "--threads"},
                           {&compileThreads, "--compile-threads"}})
    if ((opt != &threads || compileCmd) && (*opt < 0 || *opt > dlc::runtime::kMaxThreads)) {
      errs() << "dlc: error: " << name << " " << *opt << ": expected 0 to "
             << dlc::runtime::kMaxThreads << " threads\n";
      return 1;
    }

  dlc::tool::Flags flags;
  flags.file = inputFile;
  flags.options.timePasses = timePasses;
  // Code generation runs on --compile-threads threads, else on --threads
  // (which for train also sets the runtime's threads, whose number the
  // compiler takes by default).
  flags.options.compileThreads =
      static_cast<unsigned>(compileThreads ? compileThreads : compileCmd ? threads : 0);
  flags.options.useCache = !noCache;
  flags.options.fusion = !noFusion;
  flags.options.fastGlue = !noFastGlue;
  flags.options.checkNumerics = checkNumerics;
  if (memoryLimit.getNumOccurrences()) {
    auto bytes = dlc::runtime::parseMemorySize(memoryLimit);
    if (!bytes.ok()) {
      errs() << "dlc: error: --memory-limit " << bytes.status().message() << "\n";
      return 1;
    }
    dlc::runtime::setMemoryLimit(*bytes);
  }
  {
    SmallVector<StringRef> families;
    StringRef(remarks).split(families, ',', -1, false);
    for (StringRef family : families)
      if (family != "fusion" && family != "placement") {
        errs() << "dlc: error: --remarks=" << remarks << ": expected fusion or placement\n";
        return 1;
      }
  }
  flags.options.remarks = remarks;
  auto addRemarks = [&](const char *family) {
    if (!flags.options.wantsRemarks(family))
      flags.options.remarks += (flags.options.remarks.empty() ? "" : ",") + std::string(family);
  };
  if (logPlacement)
    addRemarks("placement");
  if (softPlacement) {
    flags.options.softPlacement = true;
    // Its notes are remarks of dl-place.
    addRemarks("soft-placement");
  }
  if (gpuArch.getNumOccurrences()) {
    StringRef arch = gpuArch;
    if (!arch.consume_front("sm_") || arch.size() < 2 || arch.size() > 4 ||
        !std::all_of(arch.begin(), arch.end() - (arch.ends_with("a") ? 1 : 0),
                     [](char c) { return c >= '0' && c <= '9'; })) {
      errs() << "dlc: error: --gpu-arch " << gpuArch << ": expected sm_NN (sm_80, sm_90, sm_90a)\n";
      return 1;
    }
    flags.options.gpuArch = gpuArch;
    flags.gpuArchGiven = true;
  }
  flags.options.target = target;
  flags.targetGiven = target.getNumOccurrences() > 0;
  if (graphCmd) {
    flags.output = outputFile;
    return dlc::tool::graph(flags);
  }
  if (plotCmd) {
    flags.output = outputFile;
    return dlc::tool::plot(flags);
  }
  if (compileCmd) {
    flags.emit = emit;
    flags.options.mcpu = mcpu;
    flags.options.mattr = mattr;
    flags.options.dataParallel = dataParallel;
    flags.output = outputFile;
    return dlc::tool::compile(flags);
  }
  if (importCmd) {
    flags.output = outputFile;
    return dlc::tool::importModel(flags);
  }
  flags.restore = restore;
  flags.device = device;
  flags.gpuMemoryLimit = gpuMemoryLimit;
  if (dlc::runtime::Status st = dlc::tool::applyDevice(flags); !st.ok()) {
    errs() << "dlc: error: " << st.message() << "\n";
    return 1;
  }
  if (runCmd) {
    flags.feeds.assign(feeds.begin(), feeds.end());
    flags.feedDir = feedDir;
    flags.outputsDir = outputsDir;
    return dlc::tool::run(flags);
  }
  flags.dataDir = dataDir;
  flags.report = report;
  if (evalCmd)
    return dlc::tool::eval(flags);
  if (trainCmd) {
    for (auto [opt, name, min, what] :
         {std::tuple<cl::opt<int64_t> *, const char *, int64_t, const char *>{
              &steps, "--steps", 1, "a positive number of steps"},
          {&batch, "--batch", 1, "a positive batch size"},
          {&validation, "--validation", 0, "a non-negative number of examples"},
          {&seed, "--seed", 0, "a non-negative seed"},
          {&threads, "--threads", 0, "a non-negative number of threads"}})
      if (opt->getNumOccurrences() && *opt < min) {
        errs() << "dlc: error: " << name << " " << *opt << ": expected " << what << "\n";
        return 1;
      }
    if (threads > dlc::runtime::kMaxThreads) {
      errs() << "dlc: error: --threads " << threads << ": expected at most "
             << dlc::runtime::kMaxThreads << " threads\n";
      return 1;
    }
    flags.steps = steps;
    flags.batch = batch;
    flags.validation = validation;
    flags.threads = threads;
    flags.seed = seed;
    flags.logdir = logdir;
    flags.save = save;
    flags.quiet = quiet;
    return dlc::tool::train(flags);
  }
  errs() << "dlc: error: expected a command: compile, run, train, eval, import, devices, "
            "plot or graph (see "
            "dlc --help)\n";
  return 1;
}
