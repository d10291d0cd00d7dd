//===- JIT.h - the embeddable dlc compiler ----------------------*- C++ -*-===//
//
// The public C++ API: load a model (file or string), compile it for a target,
// feed tensors, run its outputs, read and write params, and get the compiled
// training program. No MLIR or LLVM type appears here (the implementation is
// behind a pimpl); errors are returned as values and nothing is printed.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_COMPILER_JIT_H
#define DLC_COMPILER_JIT_H

#include "compiler/CompileOptions.h"
#include "compiler/Stage.h"
#include "runtime/Executable.h"
#include "runtime/ModelSpec.h"
#include "runtime/Status.h"
#include "runtime/Tensor.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace dlc {

using runtime::Status;
using runtime::StatusOr;
using runtime::Tensor;

/// A named result of a run.
struct NamedTensor {
  std::string role; ///< "loss", "metric" or "output"
  std::string name;
  Tensor value;
};

/// Parses a model file and dumps its syntax tree with source positions
/// (`dlc compile --emit=ast`); only syntax errors are reported.
StatusOr<std::string> dumpAST(const std::string &path);

class Model {
public:
  ~Model();
  Model(Model &&) noexcept;
  Model &operator=(Model &&) noexcept;

  /// Parses and checks a model file. Errors carry file:line:col, the source
  /// line and a caret, as clang prints them. `options.target` must name a
  /// target built into this dlc.
  static StatusOr<Model> fromFile(const std::string &path,
                                  const CompileOptions &options = {});
  /// Same, from source text; `name` stands for the file name in messages.
  static StatusOr<Model> fromSource(const std::string &source,
                                    const std::string &name,
                                    const CompileOptions &options = {});

  /// Inputs, params, data sources and training configuration.
  const runtime::ModelSpec &spec() const;

  /// Writes one stage of compilation (for `dlc compile --emit=`): the
  /// pipeline runs up to `stage` and stops. Object files and shared modules
  /// go to `path`; text goes to `text`.
  Status emit(Stage stage, std::string &text, const std::string &path = "") const;

  /// The model in the model language: a model file's own text; for an
  /// imported ONNX model, its graph written one line per op (params start
  /// from zeros(): their values are params(), for a checkpoint beside it).
  StatusOr<std::string> languageSource() const;

  /// The graph of the model's computation after fusion (as `dlc graph`
  /// draws it and TensorBoard's graph view shows it).
  StatusOr<std::vector<runtime::GraphNode>> graph() const;

  /// Sets every param from its initializer, drawing from a generator seeded
  /// with `seed`. Params not initialized when first used (by getParam,
  /// setParam, run or gradients) are initialized with defaultSeed().
  Status initParams(int64_t seed);
  /// The `seed` of the train block (0 without one).
  int64_t defaultSeed() const;
  StatusOr<Tensor> getParam(const std::string &name) const;
  Status setParam(const std::string &name, Tensor value);
  const std::map<std::string, Tensor> &params() const;
  /// Moves the params out (initializing them first if they are not): a
  /// trainer that owns them then holds the only copy. The model has no
  /// params left (a later use initializes them again, as above).
  StatusOr<std::map<std::string, Tensor>> takeParams();

  /// Evaluates the outputs, and the loss and metrics whose inputs are fed.
  /// Compiles (and caches) one entry point per set of fed inputs.
  StatusOr<std::vector<NamedTensor>> run(const std::map<std::string, Tensor> &feeds);

  /// The gradient of the loss with respect to every trained param (and the
  /// loss and metrics), for the inputs in `feeds` (all inputs must be fed).
  /// Dropout is the identity here.
  StatusOr<std::vector<NamedTensor>> gradients(const std::map<std::string, Tensor> &feeds);

  /// Compiles the training program: entry points `train_step` and `eval`
  /// (docs/ABI.md).
  /// With `dataParallel`, the entry points are `grad`, `apply` and `eval`:
  /// the halves of a step that data-parallel training calls around its
  /// allreduce (runtime/Communicator.h).
  StatusOr<std::shared_ptr<runtime::Executable>>
  compileTraining(bool dataParallel = false);

  /// The remarks of every compilation so far (CompileOptions::remarks), as
  /// clang prints them: file:line:col: remark: ..., the line and a caret.
  const std::string &remarks() const;

  /// Seconds spent compiling so far, by phase (frontend, passes, codegen).
  const std::map<std::string, double> &compileTimes() const;

private:
  friend StatusOr<std::string> dumpAST(const std::string &path);
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

} // namespace dlc

#endif // DLC_COMPILER_JIT_H
