//===- Commands.h - the commands of the dlc tool ----------------*- C++ -*-===//
//
// One function per command; each returns the process exit status (0 or 1)
// and prints errors to stderr.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_COMPILER_TOOLS_DLC_COMMANDS_H
#define DLC_COMPILER_TOOLS_DLC_COMMANDS_H

#include "compiler/CompileOptions.h"
#include "runtime/Status.h"
#include "compiler/JIT.h"

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dlc::tool {

/// Every flag of every command, as parsed.
struct Flags {
  std::string file;
  CompileOptions options;
  // compile
  std::string emit, output;
  // run
  std::vector<std::string> feeds;
  std::string feedDir, outputsDir;
  // run, train, eval
  std::string restore;
  // train, eval
  std::string dataDir, report;
  // train
  int64_t steps = -1, batch = -1, threads = 0, seed = -1, validation = -1;
  std::string device = "cpu", logdir, save;
  // run, train, eval: --gpu-arch was given; --gpu-memory-limit
  bool gpuArchGiven = false, targetGiven = false;
  std::string gpuMemoryLimit;
  /// No progress (train): only the results.
  bool quiet = false;
};

/// Selects the device `flags.device` names (cpu, cuda, cuda:N): for a GPU,
/// the CUDA target for its architecture (unless --gpu-arch was given) and
/// the GPU memory limit. An error when there is no such device.
runtime::Status applyDevice(Flags &flags);

/// `dlc devices`: the CPU and every GPU the driver sees.
int devices();

/// The extension of a drawing's `-o` (`dlc plot`, `dlc graph`) when it is
/// one of `exts` (".svg"), else the error to print.
StatusOr<std::string> figureExtension(const std::string &command, const std::string &out,
                                      const std::vector<std::string> &exts);
/// Prints `dlc: note: MESSAGE` to stderr unless `message` is empty.
void note(const std::string &message);

/// Writes `text` to `path` whole or not at all: through "PATH.tmp.PID" in the
/// same folder (removed on any error and on SIGINT/SIGTERM), renamed into
/// place, so the previous file survives a failure; a device the user named
/// (`/dev/stdout`) is written directly, "-" is stdout. A write error (a full
/// disk) is an error naming the path.
runtime::Status writeTextFile(const std::string &path, llvm::StringRef text);

int compile(const Flags &flags);
int run(const Flags &flags);
int train(const Flags &flags);
int eval(const Flags &flags);
int importModel(const Flags &flags);
/// `dlc plot LOGDIR -o FILE`: flags.file is the folder.
int plot(const Flags &flags);
/// `dlc graph FILE -o model.dot|svg|png`.
int graph(const Flags &flags);

} // namespace dlc::tool

#endif // DLC_COMPILER_TOOLS_DLC_COMMANDS_H
