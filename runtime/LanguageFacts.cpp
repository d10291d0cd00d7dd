//===- LanguageFacts.cpp - the ops, initializers and optimizers -----------===//
//
// The three tables of LanguageFacts.h. Adding an op, initializer or optimizer
// starts here; the docs check (test/unittests/LanguageDocsTest.cpp) then
// asks for its line in LANGUAGE.md.
//
//===----------------------------------------------------------------------===//

#include "runtime/LanguageFacts.h"

#include <cstdio>

#include <algorithm>
#include <cassert>

using namespace dlc::language;

std::vector<std::string_view> Signature::paramNames() const {
  std::vector<std::string_view> names;
  for (const Parameter &p : params)
    names.push_back(p.name);
  return names;
}

std::vector<double> Signature::defaults() const {
  std::vector<double> values;
  for (const Parameter &p : params)
    values.push_back(p.defaultValue.value_or(0.0));
  return values;
}

std::optional<unsigned> Signature::indexOf(std::string_view param) const {
  for (unsigned i = 0; i < params.size(); ++i)
    if (params[i].name == param)
      return i;
  return std::nullopt;
}

namespace {
/// Returns the entry of `table` whose signature is called `name`, or null.
template <class T, class GetSignature>
const T *findIn(const std::vector<T> &table, std::string_view name,
                GetSignature signatureOf) {
  auto it = std::find_if(table.begin(), table.end(), [&](const T &entry) {
    return signatureOf(entry).name == name;
  });
  return it == table.end() ? nullptr : &*it;
}

/// A required parameter (no default).
Parameter required(std::string_view name) { return {name, std::nullopt}; }
/// An optional parameter with a numeric default.
Parameter optional(std::string_view name, double value) {
  return {name, value};
}
/// An optional parameter whose default is not a number.
Parameter optional(std::string_view name) { return {name, std::nullopt}; }
/// An optional parameter with a default and the values it may take.
Parameter optional(std::string_view name, double value, Range range) {
  return {name, value, range};
}

/// (0, inf): learning rates, epsilons.
constexpr Range kPositive = {0, 1e308, true, false};
/// [0, 1): momentum and the moments' decay rates.
constexpr Range kFraction = {0, 1, false, true};
} // namespace

std::string dlc::language::Range::describe() const {
  auto number = [](double v) {
    char text[32];
    std::snprintf(text, sizeof(text), "%g", v);
    return std::string(text);
  };
  if (low == 0 && high >= 1e308)
    return lowOpen ? "positive" : "non-negative";
  return std::string("in ") + (lowOpen ? "(" : "[") + number(low) + ", " + number(high) +
         (highOpen ? ")" : "]");
}

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

const std::vector<Signature> &dlc::language::ops() {
  static const std::vector<Signature> table = {
      {"matmul", {required("a"), required("b")}, 2},
      {"conv2d",
       {required("x"), required("w"), optional("stride"), optional("padding")},
       2},
      {"max_pool",
       {required("x"), optional("window"), optional("stride"),
        optional("padding")},
       1},
      {"avg_pool",
       {required("x"), optional("window"), optional("stride"),
        optional("padding")},
       1},
      {"relu", {required("x")}, 1},
      {"sigmoid", {required("x")}, 1},
      {"tanh", {required("x")}, 1},
      {"exp", {required("x")}, 1},
      {"log", {required("x")}, 1},
      {"sqrt", {required("x")}, 1},
      {"square", {required("x")}, 1},
      {"abs", {required("x")}, 1},
      {"leaky_relu", {required("x"), optional("alpha", 0.2)}, 1},
      {"elu", {required("x"), optional("alpha", 1.0)}, 1},
      {"maximum", {required("a"), required("b")}, 2},
      {"minimum", {required("a"), required("b")}, 2},
      {"softmax", {required("x"), optional("axis", -1)}, 1},
      {"log_softmax", {required("x"), optional("axis", -1)}, 1},
      {"sum", {required("x"), optional("axis"), optional("keepdims")}, 1},
      {"mean", {required("x"), optional("axis"), optional("keepdims")}, 1},
      {"max", {required("x"), optional("axis"), optional("keepdims")}, 1},
      {"argmax", {required("x"), optional("axis", -1)}, 1},
      {"reshape", {required("x"), required("shape")}, 2},
      {"flatten", {required("x")}, 1},
      {"transpose", {required("x"), optional("perm")}, 1},
      {"one_hot", {required("labels"), required("depth")}, 2},
      {"f32", {required("x")}, 1},
      {"i32", {required("x")}, 1},
      {"dropout", {required("x"), optional("rate", 0.5)}, 1},
      {"softmax_cross_entropy", {required("logits"), required("labels")}, 2},
      {"mse", {required("pred"), required("target")}, 2},
      {"l2", {required("x")}, 1},
  };
  return table;
}

const Signature *dlc::language::findOp(std::string_view name) {
  return findIn(ops(), name,
                [](const Signature &s) -> const Signature & { return s; });
}

//===----------------------------------------------------------------------===//
// Initializers
//===----------------------------------------------------------------------===//

const std::vector<Initializer> &dlc::language::initializers() {
  using K = InitializerKind;
  static const std::vector<Initializer> table = {
      {K::Zeros, {"zeros", {}, 0}},
      {K::Ones, {"ones", {}, 0}},
      {K::Fill, {"fill", {required("value")}, 1}},
      {K::Normal,
       {"normal", {optional("mean", 0.0), optional("stddev", 1.0)}, 0}},
      {K::TruncatedNormal,
       {"truncated_normal",
        {optional("mean", 0.0), optional("stddev", 1.0)},
        0}},
      {K::Uniform,
       {"uniform", {optional("low", -1.0), optional("high", 1.0)}, 0}},
      {K::GlorotUniform, {"glorot_uniform", {}, 0}},
  };
  return table;
}

const Initializer *dlc::language::findInitializer(std::string_view name) {
  return findIn(
      initializers(), name,
      [](const Initializer &i) -> const Signature & { return i.signature; });
}

std::string_view dlc::language::nameOf(InitializerKind kind) {
  for (const Initializer &i : initializers())
    if (i.kind == kind)
      return i.signature.name;
  assert(false && "every initializer kind has a table entry");
  return {};
}

//===----------------------------------------------------------------------===//
// Optimizers
//===----------------------------------------------------------------------===//

const std::vector<Optimizer> &dlc::language::optimizers() {
  using K = OptimizerKind;
  static const std::vector<Optimizer> table = {
      {K::SGD, {"sgd", {optional("lr", 0.01, kPositive)}, 0}, 1, {}},
      {K::Momentum,
       {"momentum",
        {optional("lr", 0.01, kPositive), optional("nu", 0.9, kFraction)},
        0},
       2,
       {"d"}},
      {K::Adam,
       {"adam",
        {optional("lr", 0.001, kPositive), optional("beta1", 0.9, kFraction),
         optional("beta2", 0.999, kFraction), optional("eps", 1e-8, kPositive)},
        0},
       1,
       {"m", "v"}},
  };
  return table;
}

const Optimizer *dlc::language::findOptimizer(std::string_view name) {
  return findIn(
      optimizers(), name,
      [](const Optimizer &o) -> const Signature & { return o.signature; });
}

const Optimizer &dlc::language::defaultOptimizer() {
  const Optimizer *sgd = findOptimizer(kDefaultOptimizer);
  assert(sgd && "the default optimizer is in the table");
  return *sgd;
}

//===----------------------------------------------------------------------===//
// Data sources
//===----------------------------------------------------------------------===//

const std::vector<Signature> &dlc::language::dataSources() {
  // The path is a string, so it has no numeric default; scale's is 1.
  static const std::vector<Signature> table = {
      {"idx", {required("path"), optional("scale", 1.0)}, 1},
      {"npy", {required("path"), optional("scale", 1.0)}, 1},
  };
  return table;
}

const Signature *dlc::language::findDataSource(std::string_view name) {
  return findIn(dataSources(), name, [](const Signature &s) -> const Signature & { return s; });
}
