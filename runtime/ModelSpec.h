//===- ModelSpec.h - what the runtime knows about a compiled model -*- C++ -*-===//
//
// A plain description of a compiled model: its inputs, params (with their
// initializers), data sources, training configuration and compiled entry
// points with their argument and result lists. The compiler fills it from
// the dl module; AOT modules carry it as JSON (symbol dlc_model_spec), so
// the runtime needs no MLIR to run them.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_MODELSPEC_H
#define DLC_RUNTIME_MODELSPEC_H

#include "runtime/LanguageFacts.h"
#include "runtime/Memory.h"
#include "runtime/Status.h"
#include "runtime/Tensor.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dlc::runtime {

/// A source position in the model file, for runtime error messages.
struct SourceLoc {
  std::string file;
  unsigned line = 0, col = 0;
  /// `file:line:col: ` or "" when unknown.
  std::string prefix() const;
  /// A clang-style diagnostic: `file:line:col: error: MESSAGE`, then the
  /// source line and a caret under the column. Just MESSAGE when the
  /// location is unknown; no source line when the file cannot be read.
  std::string diagnostic(const std::string &message) const;
};

/// An error Status whose message is `loc.diagnostic()` of the concatenated
/// `parts`.
template <class... Parts>
Status errorAt(const SourceLoc &loc, const Parts &...parts) {
  return Status::error(loc.diagnostic(makeError(parts...).message()));
}

struct InputSpec {
  std::string name;
  DType dtype = DType::F32;
  /// -1 for a symbolic dimension.
  std::vector<int64_t> shape;
  /// The symbol of each dimension ("" for static ones).
  std::vector<std::string> dimNames;
  SourceLoc loc;
  /// For i32 inputs that are class ids (labels of softmax_cross_entropy or
  /// one_hot): the number of classes every fed value must be below; 0 when
  /// the input is not one.
  int64_t classes = 0;
};

struct ParamSpec {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  /// An initializer of LanguageFacts.h or language::kLiteralInitializer.
  std::string init;
  std::vector<double> initArgs;
  /// The value of a literal initializer, as doubles in row-major order.
  std::vector<double> literal;
  SourceLoc loc;
};

struct DataSourceSpec {
  std::string set, input;
  /// "idx", "npy" (language::dataSources()) or "literal".
  std::string kind;
  std::string path;
  double scale = 1.0;
  std::vector<double> literal;
  std::vector<int64_t> literalShape;
  SourceLoc loc;
};

struct TrainSpec {
  std::string optimizer = language::kDefaultOptimizer;
  std::vector<double> optimizerArgs =
      language::defaultOptimizer().signature.defaults();
  std::optional<int64_t> batch, steps, epochs, evalEvery;
  std::optional<bool> shuffle;
  int64_t validation = 0, logEvery = 100, seed = 0;
  std::vector<std::string> freeze;
  SourceLoc loc;
};

/// One argument or result of an entry point.
struct ValueSpec {
  /// Arguments: input, param, state, step, seed. Results: loss, metric,
  /// output, param, state.
  std::string role;
  std::string name;
  DType dtype = DType::F32;
  /// -1 for dynamic dims.
  std::vector<int64_t> shape;
};

/// One node of the model's graph: @graph after fusion, as TensorBoard's
/// graph view and `dlc graph` draw it. Inputs, params and results are nodes
/// too (op "input", "param", and the result's role).
struct GraphNode {
  /// Unique; an input's or param's own name, else OP_N.
  std::string name;
  /// "input", "param", the dl op ("dl.matmul", "dl.fused_conv2d"), or a
  /// result's role ("loss", "metric", "output").
  std::string op;
  /// "NODE" or "NODE:K" for a node's K-th result.
  std::vector<std::string> inputs;
  /// The type of each result ("?x14x14x32xf32", as MLIR prints a tensor's
  /// shape and element type) and its shape (-1 for a dynamic dimension).
  std::vector<std::string> types;
  std::vector<std::vector<int64_t>> shapes;
  /// The op's attributes, printed ("activation" -> "relu").
  std::vector<std::pair<std::string, std::string>> attrs;
  /// A fused op (several of the model's ops in one); a frozen param.
  bool fused = false, frozen = false;
  SourceLoc loc;
};

/// What one check of an entry's `numerics` result watches (--check-numerics):
/// an op's results ("dl.log"), or an argument ("input x", "param W").
struct NumericsCheck {
  std::string op;
  /// Which part of the step the op belongs to: "" (the model's own ops),
  /// "gradient" (the gradient of the op at `loc`), "optimizer",
  /// "gradient norm".
  std::string part;
  SourceLoc loc;
};

/// A compiled function, callable as `void dlc_<name>(void **args)`.
struct EntrySpec {
  std::string name;
  std::vector<ValueSpec> args, results;
  /// With --check-numerics: the checks of its `numerics` result, in order.
  std::vector<NumericsCheck> checks;
  /// The entry writes each result of role `param` or `state` into the
  /// argument of the same role and name, and returns that argument's
  /// buffer (docs/ABI.md): Executable::call hands the argument's tensor back
  /// as the result.
  bool inPlace = false;

  /// The argument that result `r` is written into (inPlace), or -1.
  int inPlaceArg(size_t r) const;
};

struct ModelSpec {
  std::string name;
  std::string file;
  /// Where the compiled code runs: "cpu", or "cuda" (its buffers must be in
  /// memory the GPU can address; runtime/Cuda.h).
  std::string device = "cpu";
  /// How many shares per thread its parallel regions may be cut into
  /// (runtime::callCompiled): more than 1 only for code with no barrier in
  /// a region (the CPU target's, contract::kRegionSharesPerThread).
  int regionShares = 1;
  std::vector<InputSpec> inputs;
  std::vector<ParamSpec> params;
  std::vector<DataSourceSpec> data;
  std::optional<TrainSpec> train;
  std::vector<EntrySpec> entries;
  /// The graph of the model's computation (empty when not described).
  std::vector<GraphNode> graph;

  const InputSpec *findInput(const std::string &n) const;
  const ParamSpec *findParam(const std::string &n) const;
  const EntrySpec *findEntry(const std::string &n) const;

  /// JSON (de)serialization, used to embed the spec in AOT modules.
  std::string toJSON() const;
  static StatusOr<ModelSpec> fromJSON(const std::string &text);
};

/// Counts the params of `spec` in `plan`; the error is located at the param
/// that passes the limit.
Status countParams(const ModelSpec &spec, MemoryPlan &plan);

/// Counts in `plan` every value of `spec`'s graph at batch size `batch` (a
/// dynamic dimension is the batch), twice when `training` (its gradient):
/// what the compiled step's buffers hold at most, as far as the shapes
/// tell. The error is located at the value that passes the limit and
/// starts with `what` ("the training step at batch 8").
Status countGraphValues(const ModelSpec &spec, MemoryPlan &plan, int64_t batch, bool training,
                        const std::string &what);

/// Counts what a run of `spec`'s compiled `run` entry needs before it runs
/// (the params, every value of its graph at the batch size `feeds` give):
/// a run that cannot fit the memory limit is an error located at the value
/// that passes it, not a failed allocation in the compiled code.
Status planRun(const ModelSpec &spec, const std::map<std::string, Tensor> &feeds);

/// Every param of `spec` set from its initializer (literal values as given,
/// random ones drawn in declaration order from a generator seeded with
/// `seed`).
StatusOr<std::map<std::string, Tensor>> initializeParams(const ModelSpec &spec,
                                                         int64_t seed);

/// Sets every param of `spec` from `tensors` (a checkpoint's contents read
/// from `path`): each must be there, with its declared dtype and shape.
/// Tensors the model does not have (neither a param nor a param's optimizer
/// state `opt.PARAM.SLOT`) are ignored; `note`, if given, says which
/// ("" when none).
Status restoreParams(const ModelSpec &spec, const std::map<std::string, Tensor> &tensors,
                     const std::string &path, std::map<std::string, Tensor> &params,
                     std::string *note = nullptr);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_MODELSPEC_H
