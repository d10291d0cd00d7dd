//===- Executable.h - calling compiled entry points ------------*- C++ -*-===//
//
// An Executable is a compiled model: its ModelSpec plus the address of each
// entry point (`void dlc_NAME(void **args)`, see docs/ABI.md). It comes from
// the JIT (the compiler hands over the addresses) or from an AOT shared
// module loaded with dlopen; calling it needs no MLIR or LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_EXECUTABLE_H
#define DLC_RUNTIME_EXECUTABLE_H

#include "runtime/ModelSpec.h"

#include <functional>
#include <map>
#include <memory>

namespace dlc::runtime {

/// The packed calling convention of every entry point.
using PackedFunction = void (*)(void **);

/// Runtime functions that compiled code calls, by name and address, for a
/// JIT to resolve (an AOT module finds them in the process that loads it).
struct SymbolTable {
  const std::pair<const char *, void *> *entries = nullptr;
  size_t count = 0;
};

/// One argument of a call: a tensor, or (for the i64 seed and batch offset) a
/// scalar.
struct ArgValue {
  const Tensor *tensor = nullptr;
  int64_t i64 = 0;
  /// A param or state argument that an in-place entry (EntrySpec::inPlace)
  /// may update: the call moves the tensor into its result. Without it the
  /// call updates a copy, and the argument keeps its value.
  Tensor *updated = nullptr;
  static ArgValue of(const Tensor &t) { return ArgValue{&t, 0}; }
  static ArgValue scalarI64(int64_t v) { return ArgValue{nullptr, v}; }
  static ArgValue update(Tensor &t) { return ArgValue{&t, 0, &t}; }
};

/// Checks that `path` is a 64-bit ELF shared object whose headers, segments
/// and sections all lie within the file, so that a module cut short (a full
/// disk, a killed copy) is an error here instead of a SIGBUS when dlopen's
/// mapping is touched.
Status checkSharedObject(const std::string &path);

class Executable {
public:
  /// `keepAlive` owns whatever holds the code (a JIT or a dlopen handle).
  Executable(ModelSpec spec, std::map<std::string, PackedFunction> functions,
             std::shared_ptr<void> keepAlive);

  /// Loads an AOT module written by `dlc compile --emit=module`, after
  /// checkSharedObject().
  static StatusOr<std::unique_ptr<Executable>> loadShared(const std::string &path);

  const ModelSpec &spec() const { return spec_; }
  bool hasEntry(const std::string &name) const { return functions_.count(name); }

  /// Calls entry `name`. Each argument is checked against the entry's spec
  /// (dtype, rank, static dims; inputs sharing a dimension symbol must
  /// agree). Returns the results, which the caller owns. A result that an
  /// in-place entry wrote into an argument passed with ArgValue::update is
  /// that argument's tensor, moved out of it (on success only; after a
  /// failed call the argument holds its tensor, whatever the compiled code
  /// wrote into it).
  StatusOr<std::vector<Tensor>> call(const std::string &name,
                                     const std::vector<ArgValue> &args) const;

private:
  /// With --check-numerics: an error at the line of the first op whose
  /// result held a NaN or an infinity, when `results` (of `entry`) say one
  /// did.
  Status checkNumerics(const EntrySpec &entry, const std::vector<Tensor> &results) const;

  ModelSpec spec_;
  std::map<std::string, PackedFunction> functions_;
  std::shared_ptr<void> keepAlive_;
};

} // namespace dlc::runtime

#endif // DLC_RUNTIME_EXECUTABLE_H
