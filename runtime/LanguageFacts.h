//===- LanguageFacts.h - the ops, initializers and optimizers ---*- C++ -*-===//
//
// The callable names of the dl language (LANGUAGE.md) with their parameters
// and numeric defaults, and each optimizer's state slots: one table each.
// The frontend binds calls with them, the dl verifier and BuildTrainStep
// check and complete `dl.param`/`dl.train_config` with them, the runtime
// initializes params by them and a unit test holds LANGUAGE.md to them.
// Plain C++17: no MLIR, no LLVM.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_LANGUAGEFACTS_H
#define DLC_RUNTIME_LANGUAGEFACTS_H

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dlc::language {

/// One parameter of an op, initializer or optimizer.
/// The values a numeric parameter may take: an interval, each end open or
/// closed (unbounded by default).
struct Range {
  double low = -1e308, high = 1e308;
  bool lowOpen = false, highOpen = false;

  bool contains(double v) const {
    return (lowOpen ? v > low : v >= low) && (highOpen ? v < high : v <= high);
  }
  /// "positive", "non-negative" or "in [0, 1)", for "must be ...".
  std::string describe() const;
};

struct Parameter {
  /// The name a keyword argument gives (`stddev`).
  std::string_view name;
  /// The numeric default; none for a required parameter and for defaults
  /// that are not a number (`padding=same`, "every axis").
  std::optional<double> defaultValue;
  /// The values it may take.
  Range range = {};
};

/// A call signature: positional arguments fill `params` in order, keyword
/// arguments name them, and the first `required` must be given.
struct Signature {
  /// The name the language calls it by.
  std::string_view name;
  /// Every parameter, in positional order.
  std::vector<Parameter> params;
  /// How many leading parameters must be given.
  unsigned required = 0;

  /// Returns the parameter names, in order.
  std::vector<std::string_view> paramNames() const;
  /// Returns the default of every parameter, in order (0 where there is
  /// none; such a parameter is required).
  std::vector<double> defaults() const;
  /// Returns the index of parameter `param`, if there is one.
  std::optional<unsigned> indexOf(std::string_view param) const;
};

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

/// Every op of the language, in LANGUAGE.md's order.
const std::vector<Signature> &ops();
/// Returns the op called `name`, or null.
const Signature *findOp(std::string_view name);

//===----------------------------------------------------------------------===//
// Initializers
//===----------------------------------------------------------------------===//

/// What an initializer computes (see runtime/Random.h).
enum class InitializerKind {
  Zeros,
  Ones,
  Fill,
  Normal,
  TruncatedNormal,
  Uniform,
  GlorotUniform
};

/// A param initializer: `param W: f32[3] = NAME(ARGS)`.
struct Initializer {
  /// What it computes.
  InitializerKind kind;
  /// Its name and parameters; `dl.param`'s init_args hold one value per
  /// parameter.
  Signature signature;
};

/// Every initializer, in LANGUAGE.md's order.
const std::vector<Initializer> &initializers();
/// Returns the initializer called `name`, or null.
const Initializer *findInitializer(std::string_view name);
/// Returns the name of initializer `kind`.
std::string_view nameOf(InitializerKind kind);

/// The `init` of a param whose initializer is a literal tensor. Not callable
/// by the user; written by MLIRGen, read by the dl verifier and the runtime.
inline constexpr char kLiteralInitializer[] = "literal";

//===----------------------------------------------------------------------===//
// Optimizers
//===----------------------------------------------------------------------===//

/// The update an optimizer applies (LANGUAGE.md gives the formulas).
enum class OptimizerKind { SGD, Momentum, Adam };

/// An optimizer: `train { optimizer = NAME(ARGS) }`.
struct Optimizer {
  /// Which update it applies.
  OptimizerKind kind;
  /// Its name and hyperparameters, each with its default.
  Signature signature;
  /// How many leading hyperparameters diagnostics show (`adam(lr=...)`).
  unsigned shownParams;
  /// The state each trained param carries, in argument order
  /// (`opt.PARAM.SLOT`).
  std::vector<std::string_view> stateSlots;
};

/// Every optimizer, in LANGUAGE.md's order.
const std::vector<Optimizer> &optimizers();
/// Returns the optimizer called `name`, or null.
const Optimizer *findOptimizer(std::string_view name);

//===----------------------------------------------------------------------===//
// Data sources
//===----------------------------------------------------------------------===//

/// The file formats a data block reads, `idx("file", scale=S)` and
/// `npy("file.npy", scale=S)`: the path (a string) and the scale of f32 data.
const std::vector<Signature> &dataSources();
/// Returns the data source called `name`, or null.
const Signature *findDataSource(std::string_view name);

/// The optimizer of a model without one in its train block.
inline constexpr char kDefaultOptimizer[] = "sgd";
/// Returns the optimizer of a model without one in its train block.
const Optimizer &defaultOptimizer();

} // namespace dlc::language

#endif // DLC_RUNTIME_LANGUAGEFACTS_H
