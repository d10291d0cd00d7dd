//===- CompileOptions.h - the single options struct of the compiler -*- C++ -*-===//
//
// Everything that changes what the compiler produces. Libraries take this
// struct; only the tools bind command-line flags to it.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_COMPILER_COMPILEOPTIONS_H
#define DLC_COMPILER_COMPILEOPTIONS_H

#include <string>

namespace dlc {

enum class Target { CPU, CUDA };

struct CompileOptions {
  Target target = Target::CPU;
  /// LLVM optimization level for the generated code (0-3).
  unsigned optLevel = 3;
  /// Tile and vectorize matmul and convolution with the transform dialect.
  bool vectorize = true;
  /// Fail to compile when the CPU schedule cannot handle the module, instead
  /// of compiling it unscheduled (same results, slower). For tests: they
  /// assert that every shape they run gets the fast code.
  bool strictSchedule = false;
  /// Print the time spent in each pass.
  bool timePasses = false;
  /// Use and fill the on-disk compile cache ($XDG_CACHE_HOME/dlc).
  bool useCache = true;
};

} // namespace dlc

#endif // DLC_COMPILER_COMPILEOPTIONS_H
