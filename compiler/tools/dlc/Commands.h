//===- Commands.h - the commands of the dlc tool ----------------*- C++ -*-===//
//
// One function per command; each returns the process exit status (0 or 1)
// and prints errors to stderr.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_COMPILER_TOOLS_DLC_COMMANDS_H
#define DLC_COMPILER_TOOLS_DLC_COMMANDS_H

#include "compiler/CompileOptions.h"

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
  // run, train, eval
  std::string restore;
  // train, eval
  std::string dataDir, report;
  // train
  int64_t steps = -1, batch = -1, threads = 0, seed = -1, validation = -1;
  std::string device, logdir, save;
};

int compile(const Flags &flags);
int run(const Flags &flags);
int train(const Flags &flags);
int eval(const Flags &flags);

} // namespace dlc::tool

#endif // DLC_COMPILER_TOOLS_DLC_COMMANDS_H
