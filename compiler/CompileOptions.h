//===- CompileOptions.h - the single options struct of the compiler -*- C++ -*-===//
//
// Everything that changes what the compiler produces. Libraries take this
// struct; only the tools bind command-line flags to it. The options that
// change the compiled module are listed once, in DLC_MODULE_OPTIONS: the
// struct's fields and the compile cache's key are both generated from that
// list, so a new option cannot be left out of the key.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_COMPILER_COMPILEOPTIONS_H
#define DLC_COMPILER_COMPILEOPTIONS_H

#include <sstream>
#include <string>

/// X(type, name, default, description) for every option that changes the
/// compiled module.
#define DLC_MODULE_OPTIONS(X)                                                  \
  X(std::string, target, "cpu",                                                \
    "the target that generates the code (compiler/targets/NAME)")              \
  X(unsigned, optLevel, 3, "LLVM optimization level of the generated code")    \
  X(bool, fusion, true,                                                        \
    "fuse convolution, bias, activation and pooling (dl-fuse-conv-relu-pool)") \
  X(bool, vectorize, true,                                                     \
    "tile and vectorize with the target's schedule (the CPU's transform "      \
    "dialect schedule)")                                                       \
  X(std::string, device, "",                                                   \
    "the device the step runs on (cpu, cuda:N; empty: the target's), which "   \
    "ops pinned by device blocks are checked against (dl-place)")              \
  X(bool, softPlacement, false,                                                \
    "run ops pinned to another device on the step's device, with a note")     \
  X(std::string, mcpu, "",                                                     \
    "the x86-64 CPU the host code is for (x86-64-v3, znver4; empty: this "     \
    "host, with its features)")                                                \
  X(std::string, mattr, "",                                                    \
    "CPU features to add or remove, comma-separated (+avx2,-avx512f), over "   \
    "those of mcpu or this host")                                              \
  X(std::string, gpuArch, "sm_80",                                             \
    "the GPU architecture the CUDA target generates PTX and cubins for")       \
  X(bool, dataParallel, false,                                                 \
    "also compile the entry points grad and apply of data-parallel training "  \
    "into AOT modules (mpirun dlc-rt MODEL.so train)")                         \
  X(bool, checkNumerics, false,                                                \
    "make every entry point say which op first yielded a NaN or an infinity " \
    "(dl-check-numerics); the runtime stops there with the op's line")       \
  X(bool, fastGlue, true,                                                      \
    "compile the glue of a deep model's entry points (at least "               \
    "cpu::kGlueInstructions instructions outside loops: kernel calls, "        \
    "allocations) without optimizing it, its loops moved out and optimized "   \
    "(cpu target)")                                                            \
  X(bool, strictSchedule, false,                                               \
    "fail to compile when the schedule cannot handle the module, instead of "  \
    "compiling it unscheduled (same results, slower); the tests use it to "    \
    "assert that every shape they run gets the fast code")

namespace dlc {

struct CompileOptions {
#define DLC_OPTION_FIELD(type, name, init, doc) type name = init;
  DLC_MODULE_OPTIONS(DLC_OPTION_FIELD)
#undef DLC_OPTION_FIELD

  // Options that do not change the compiled module (not in the cache key).

  /// Print the time spent in each pass.
  bool timePasses = false;
  /// Threads that generate machine code (0: the runtime's threads, which
  /// --threads sets, else the cores). Each function's code is the same
  /// whatever the number.
  unsigned compileThreads = 0;
  /// Use and fill the on-disk compile cache ($XDG_CACHE_HOME/dlc).
  bool useCache = true;
  /// Report the decisions of a pass family as remarks ("fusion": what fused
  /// into what, and why each candidate did not). Remarks come from the
  /// passes, so with remarks the compile cache is not used.
  std::string remarks;

  /// Whether `remarks` (a comma-separated list) asks for `family`.
  bool wantsRemarks(const std::string &family) const {
    std::string list = "," + remarks + ",";
    return list.find("," + family + ",") != std::string::npos;
  }

  /// The device the step runs on: `device`, else the target's (the host
  /// emulation of the CUDA target places ops as for a GPU).
  std::string runDevice() const {
    if (!device.empty())
      return device;
    return target == "cuda" || target == "cuda-emulated" ? "cuda:0" : "cpu";
  }

  /// `name=value` for every option of DLC_MODULE_OPTIONS, one per line: the
  /// options' part of the compile cache's key.
  std::string moduleOptionsText() const {
    std::ostringstream os;
#define DLC_OPTION_TEXT(type, name, init, doc) os << #name "=" << name << "\n";
    DLC_MODULE_OPTIONS(DLC_OPTION_TEXT)
#undef DLC_OPTION_TEXT
    return os.str();
  }
};

} // namespace dlc

#endif // DLC_COMPILER_COMPILEOPTIONS_H
