//===- OpsTest.cpp - Numerics of every op and its gradient ----------------===//
//
// Runs every op of the dl language through the public embedding API
// (dlc::Model) and compares the compiled results with the double-precision
// reference of Reference.h: forward values at many shapes (odd sizes,
// broadcasting, every axis, strides, asymmetric `same` padding, a symbolic
// batch bound to several sizes by one compiled model), hand-worked cases
// with exact values, and, for every differentiable op, the compiled
// gradient against central finite differences of the reference.
//
//===----------------------------------------------------------------------===//

#include "Reference.h"

#include "compiler/JIT.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using dlc::Model;
using dlc::NamedTensor;
using dlc::runtime::DType;
using dlc::runtime::Tensor;
namespace ref = dlc::ref;
using ref::Array;
using Shape = std::vector<int64_t>;

namespace {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// A small deterministic generator (splitmix64).
class Rng {
public:
  explicit Rng(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(next() >> 11) * 0x1.0p-53;
  }
  int64_t below(int64_t n) { return static_cast<int64_t>(next() % n); }

private:
  uint64_t state;
};

/// Random values in [lo, hi), rounded to float so that the reference sees
/// exactly what the compiled code sees. With `gap` > 0, values are kept at
/// least `gap` away from 0 (away from the kinks of relu, abs, ...).
Array randomArray(Shape shape, Rng &rng, double lo = -1, double hi = 1,
                  double gap = 0) {
  Array a = Array::zeros(std::move(shape));
  for (double &v : a.data) {
    do
      v = static_cast<float>(rng.uniform(lo, hi));
    while (std::fabs(v) < gap);
  }
  return a;
}

/// Values in [-1, 1) that are pairwise at least 1/size apart (no ties for
/// max, max_pool and argmax).
Array distinctArray(Shape shape, Rng &rng) {
  Array a = Array::zeros(std::move(shape));
  int64_t n = a.size();
  std::vector<int64_t> perm(n);
  for (int64_t i = 0; i < n; ++i)
    perm[i] = i;
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(perm[i], perm[rng.below(i + 1)]);
  for (int64_t i = 0; i < n; ++i)
    a.data[i] = static_cast<float>(-1.0 + 2.0 * (perm[i] + 0.25 + 0.5 * rng.uniform(0, 1)) / n);
  return a;
}

/// Whole numbers in [lo, hi] (for comparisons, casts and labels).
Array randomInts(Shape shape, Rng &rng, int64_t lo, int64_t hi) {
  Array a = Array::zeros(std::move(shape));
  for (double &v : a.data)
    v = static_cast<double>(lo + rng.below(hi - lo + 1));
  return a;
}

/// Rows of probabilities: each row of the last axis sums to 1.
Array randomProbs(Shape shape, Rng &rng) {
  Array a = randomArray(shape, rng, 0.05, 1.0);
  int64_t c = shape.back();
  for (int64_t r = 0; r < a.size() / c; ++r) {
    double s = 0;
    for (int64_t j = 0; j < c; ++j)
      s += a.data[r * c + j];
    for (int64_t j = 0; j < c; ++j)
      a.data[r * c + j] = static_cast<float>(a.data[r * c + j] / s);
  }
  return a;
}

Tensor toF32(const Array &a) {
  std::vector<float> v(a.data.begin(), a.data.end());
  return Tensor::fromVector<float>(a.shape, v);
}

Tensor toI32(const Array &a) {
  std::vector<int32_t> v;
  for (double d : a.data)
    v.push_back(static_cast<int32_t>(d));
  return Tensor::fromVector<int32_t>(a.shape, v);
}

Array fromTensor(const Tensor &t) {
  Array a = Array::zeros(t.shape());
  for (int64_t i = 0; i < t.numElements(); ++i)
    a.data[i] = t.dtype() == DType::F32 ? t.data<float>()[i] : t.data<int32_t>()[i];
  return a;
}

std::string shapeText(const Shape &s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i)
    os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

/// Compiled models, one per source text, kept for the whole test program so
/// that every case with the same source reuses one compilation.
Model *getModel(const std::string &source) {
  // Never destroyed: models outliving the LLVM statics torn down at exit
  // would crash in their destructors.
  static auto &cache = *new std::map<std::string, std::unique_ptr<Model>>();
  auto it = cache.find(source);
  if (it != cache.end())
    return it->second.get();
  // Outputs may not reuse the name of an op (`output relu = relu(x)` is an
  // error), so every output is declared as o_NAME and read back as NAME.
  std::string text = source;
  for (size_t pos = 0; (pos = text.find("output ", pos)) != std::string::npos;) {
    if (pos == 0 || text[pos - 1] == '\n')
      text.insert(pos + 7, "o_");
    pos += 7;
  }
  // Strict: every model here must get the CPU schedule's code, not the
  // unscheduled fallback (which computes the same values, slower).
  dlc::CompileOptions options;
  options.strictSchedule = true;
  auto m = Model::fromSource(text, "ops_test.dl", options);
  if (!m.ok()) {
    ADD_FAILURE() << "cannot load the model:\n" << source << "\n" << m.message();
    return nullptr;
  }
  if (auto s = m->initParams(0); !s.ok()) {
    ADD_FAILURE() << s.message();
    return nullptr;
  }
  auto owned = std::make_unique<Model>(std::move(*m));
  Model *raw = owned.get();
  cache.emplace(source, std::move(owned));
  return raw;
}

/// Runs `model` and returns its results by name (empty on failure).
std::map<std::string, Tensor> runModel(Model &model,
                                       const std::map<std::string, Tensor> &feeds,
                                       const std::string &source) {
  std::map<std::string, Tensor> out;
  auto r = model.run(feeds);
  if (!r.ok()) {
    ADD_FAILURE() << "run failed: " << r.message() << "\n" << source;
    return out;
  }
  for (NamedTensor &nt : *r)
    out.emplace(nt.name.rfind("o_", 0) == 0 ? nt.name.substr(2) : nt.name,
                std::move(nt.value));
  return out;
}

/// Checks that `got` has the shape of `want` and values within
/// atol + rtol * |want|.
void expectClose(const Tensor &got, const Array &want, const std::string &what,
                 double rtol = 1e-4, double atol = 1e-4) {
  if (got.shape() != want.shape) {
    ADD_FAILURE() << what << ": shape " << shapeText(got.shape()) << ", expected "
                  << shapeText(want.shape);
    return;
  }
  Array g = fromTensor(got);
  int bad = 0;
  std::ostringstream os;
  for (int64_t i = 0; i < want.size(); ++i) {
    double w = want.data[i], v = g.data[i];
    bool ok = std::isnan(w) ? std::isnan(v) : std::fabs(v - w) <= atol + rtol * std::fabs(w);
    if (!ok && bad++ < 6)
      os << "\n  [" << i << "] got " << v << ", expected " << w;
  }
  if (bad)
    ADD_FAILURE() << what << ": " << bad << " of " << want.size()
                  << " elements differ" << os.str();
}

/// Runs `source` with `feeds` and checks each named output against `want`.
void checkRun(const std::string &source, const std::map<std::string, Tensor> &feeds,
              const std::map<std::string, Array> &want, const std::string &context,
              double rtol = 1e-4, double atol = 1e-4) {
  Model *model = getModel(source);
  if (!model)
    return;
  std::map<std::string, Tensor> got = runModel(*model, feeds, source);
  if (got.empty())
    return;
  for (const auto &[name, value] : want) {
    auto it = got.find(name);
    if (it == got.end()) {
      ADD_FAILURE() << context << ": no result '" << name << "'";
      continue;
    }
    expectClose(it->second, value, context + ": " + name, rtol, atol);
  }
}

//===----------------------------------------------------------------------===//
// Gradient checking
//===----------------------------------------------------------------------===//

using ValueMap = std::map<std::string, Array>;

/// One gradient check: a model whose loss is a function of its params (and
/// of constant inputs), the param values, the input feeds, and the
/// double-precision reference of the loss.
struct GradCase {
  std::string source;
  ValueMap params;
  ValueMap inputs;                 ///< f32 inputs (constant in the loss)
  ValueMap intInputs;              ///< i32 inputs
  std::function<double(const ValueMap &)> loss; ///< sees params and inputs
  double rtol = 2e-3, atol = 1e-4;
  double eps = 1e-4;
};

/// Compares the compiled loss and the gradient of every param with the
/// reference loss and its central finite differences.
void checkGradients(const GradCase &c, const std::string &context) {
  Model *model = getModel(c.source);
  if (!model)
    return;
  for (const auto &[name, value] : c.params)
    if (auto s = model->setParam(name, toF32(value)); !s.ok()) {
      ADD_FAILURE() << context << ": " << s.message();
      return;
    }
  std::map<std::string, Tensor> feeds;
  for (const auto &[name, value] : c.inputs)
    feeds.emplace(name, toF32(value));
  for (const auto &[name, value] : c.intInputs)
    feeds.emplace(name, toI32(value));
  auto r = model->gradients(feeds);
  if (!r.ok()) {
    ADD_FAILURE() << context << ": gradients failed: " << r.message() << "\n"
                  << c.source;
    return;
  }
  ValueMap values = c.params;
  for (const auto &[name, value] : c.inputs)
    values[name] = value;
  for (const auto &[name, value] : c.intInputs)
    values[name] = value;
  double loss0 = c.loss(values);
  bool sawLoss = false;
  std::map<std::string, const Tensor *> grads;
  for (const NamedTensor &nt : *r) {
    if (nt.role == "loss") {
      sawLoss = true;
      expectClose(nt.value, Array::scalar(loss0), context + ": loss", 1e-4, 1e-4);
    } else if (nt.role == "grad") {
      grads[nt.name] = &nt.value;
    }
  }
  EXPECT_TRUE(sawLoss) << context << ": no loss result";
  for (const auto &[name, value] : c.params) {
    auto it = grads.find(name);
    if (it == grads.end()) {
      ADD_FAILURE() << context << ": no gradient for '" << name << "'";
      continue;
    }
    Array fd = Array::zeros(value.shape);
    for (int64_t i = 0; i < value.size(); ++i) {
      ValueMap v = values;
      v[name].data[i] = value.data[i] + c.eps;
      double up = c.loss(v);
      v[name].data[i] = value.data[i] - c.eps;
      double down = c.loss(v);
      fd.data[i] = (up - down) / (2 * c.eps);
    }
    expectClose(*it->second, fd, context + ": d loss / d " + name, c.rtol, c.atol);
  }
}

/// `sum(a * r)` in double precision.
double dot(const Array &a, const Array &r) { return ref::sum(ref::mul(a, r)).data[0]; }

/// Type text `f32[d0, d1]`.
std::string f32(const Shape &s) { return "f32" + shapeText(s); }

//===----------------------------------------------------------------------===//
// Forward: elementwise
//===----------------------------------------------------------------------===//

const char *kBinarySource = R"(
input a: f32[%A]
input b: f32[%B]
output add = a + b
output sub = a - b
output mul = a * b
output div = a / b
output maximum = maximum(a, b)
output minimum = minimum(a, b)
output eq = a == b
output ne = a != b
output lt = a < b
output le = a <= b
output gt = a > b
output ge = a >= b
)";

/// Replaces %A and %B in `text`.
std::string subst(std::string text, const std::map<std::string, std::string> &vars) {
  for (const auto &[k, v] : vars) {
    std::string key = "%" + k;
    for (size_t pos; (pos = text.find(key)) != std::string::npos;)
      text.replace(pos, key.size(), v);
  }
  return text;
}

struct BinaryShapes {
  std::string typeA, typeB; // symbolic dims of the declarations
  std::vector<std::pair<Shape, Shape>> runs;
};

TEST(Forward, BinaryBroadcast) {
  std::vector<BinaryShapes> cases = {
      {"P, Q", "P, Q", {{{1, 1}, {1, 1}}, {{3, 5}, {3, 5}}, {{7, 13}, {7, 13}}}},
      {"P, 1", "1, Q", {{{3, 1}, {1, 4}}, {{1, 1}, {1, 9}}, {{6, 1}, {1, 1}}}},
      {"Q", "P, Q", {{{5}, {2, 5}}, {{1}, {4, 1}}, {{7}, {3, 7}}}},
      {"P, Q", "Q", {{{2, 5}, {5}}, {{4, 3}, {3}}}},
      {"", "P, Q, R", {{{}, {2, 3, 4}}, {{}, {1, 5, 3}}}},
      {"P, Q, R", "", {{{2, 3, 4}, {}}}},
      {"P, 1, R", "Q, 1", {{{2, 1, 4}, {3, 1}}, {{3, 1, 1}, {5, 1}}}},
      {"", "", {{{}, {}}}},
  };
  Rng rng(1);
  for (const BinaryShapes &bc : cases) {
    std::string src = subst(kBinarySource, {{"A", bc.typeA}, {"B", bc.typeB}});
    for (const auto &[sa, sb] : bc.runs) {
      // Small whole numbers make == and != meaningful; the nonzero b keeps
      // the quotient finite. A second run with real values follows.
      for (int kind = 0; kind < 2; ++kind) {
        Array a = kind ? randomArray(sa, rng) : randomInts(sa, rng, -2, 2);
        Array b = kind ? randomArray(sb, rng, -2, 2, 0.25) : randomInts(sb, rng, 1, 2);
        if (!kind)
          for (double &v : b.data)
            v = rng.below(2) ? v : -v;
        std::string ctx = "a" + shapeText(sa) + " b" + shapeText(sb);
        checkRun(src, {{"a", toF32(a)}, {"b", toF32(b)}},
                 {{"add", ref::add(a, b)},
                  {"sub", ref::sub(a, b)},
                  {"mul", ref::mul(a, b)},
                  {"div", ref::div(a, b)},
                  {"maximum", ref::maximum(a, b)},
                  {"minimum", ref::minimum(a, b)},
                  {"eq", ref::compare(a, b, "==")},
                  {"ne", ref::compare(a, b, "!=")},
                  {"lt", ref::compare(a, b, "<")},
                  {"le", ref::compare(a, b, "<=")},
                  {"gt", ref::compare(a, b, ">")},
                  {"ge", ref::compare(a, b, ">=")}},
                 ctx);
      }
    }
  }
}

TEST(Forward, ScalarLiteralsAndPow) {
  std::string src = R"(
input x: f32[P, Q]
input p: f32[P, Q]
output plus = x + 2.5
output rminus = 2.0 - x
output times = 3 * x
output over = x / 4.0
output rover = 1.0 / p
output neg = -x
output sq = x ** 2
output cube = x ** 3.0
output root = p ** 0.5
output invpow = p ** -1.5
output mixed = 2 * x ** 2 - x / 2 + 1
output maxlit = maximum(x, 0.25)
output minlit = minimum(0.25, x)
output cmp = x > 0.0
)";
  Rng rng(2);
  for (Shape s : {Shape{1, 1}, Shape{3, 5}, Shape{6, 7}}) {
    Array x = randomArray(s, rng, -2, 2);
    Array p = randomArray(s, rng, 0.2, 3);
    Array two = Array::scalar(2), quarter = Array::scalar(0.25);
    checkRun(src, {{"x", toF32(x)}, {"p", toF32(p)}},
             {{"plus", ref::add(x, Array::scalar(2.5))},
              {"rminus", ref::sub(two, x)},
              {"times", ref::mul(Array::scalar(3), x)},
              {"over", ref::div(x, Array::scalar(4))},
              {"rover", ref::div(Array::scalar(1), p)},
              {"neg", ref::neg(x)},
              {"sq", ref::pow(x, 2)},
              {"cube", ref::pow(x, 3)},
              {"root", ref::pow(p, 0.5)},
              {"invpow", ref::pow(p, -1.5)},
              {"mixed", ref::add(ref::sub(ref::mul(two, ref::pow(x, 2)),
                                          ref::div(x, two)),
                                 Array::scalar(1))},
              {"maxlit", ref::maximum(x, quarter)},
              {"minlit", ref::minimum(quarter, x)},
              {"cmp", ref::compare(x, Array::scalar(0), ">")}},
             "x" + shapeText(s));
  }
}

TEST(Forward, Activations) {
  std::string src = R"(
input x: f32[%S]
input p: f32[%S]
output relu = relu(x)
output sigmoid = sigmoid(x)
output tanh = tanh(x)
output exp = exp(x)
output log = log(p)
output sqrt = sqrt(p)
output square = square(x)
output abs = abs(x)
output leaky = leaky_relu(x)
output leaky1 = leaky_relu(x, alpha=0.1)
output elu = elu(x)
output elu2 = elu(x, alpha=0.5)
output dropout = dropout(x, rate=0.5)
)";
  struct Case {
    std::string decl;
    std::vector<Shape> shapes;
  };
  std::vector<Case> cases = {{"P, Q", {{1, 1}, {3, 5}, {9, 17}}},
                             {"N", {{1}, {11}}},
                             {"", {{}}},
                             {"B, 3, 4, 2", {{1, 3, 4, 2}, {2, 3, 4, 2}}}};
  Rng rng(3);
  for (const Case &c : cases) {
    std::string s = subst(src, {{"S", c.decl}});
    for (const Shape &shape : c.shapes) {
      Array x = randomArray(shape, rng, -4, 4);
      Array p = randomArray(shape, rng, 0.01, 5);
      checkRun(s, {{"x", toF32(x)}, {"p", toF32(p)}},
               {{"relu", ref::relu(x)},
                {"sigmoid", ref::sigmoid(x)},
                {"tanh", ref::tanh(x)},
                {"exp", ref::exp(x)},
                {"log", ref::log(p)},
                {"sqrt", ref::sqrt(p)},
                {"square", ref::square(x)},
                {"abs", ref::abs(x)},
                {"leaky", ref::leakyRelu(x, 0.2)},
                {"leaky1", ref::leakyRelu(x, 0.1)},
                {"elu", ref::elu(x, 1.0)},
                {"elu2", ref::elu(x, 0.5)},
                {"dropout", ref::dropoutInference(x)}},
               "x" + shapeText(shape));
    }
  }
}

TEST(Forward, ActivationsLargeMagnitude) {
  // Saturation: no overflow to NaN for large |x|.
  std::string src = "input x: f32[N]\noutput s = sigmoid(x)\noutput t = tanh(x)\n"
                    "output e = elu(x)\noutput sm = softmax(x)\noutput lsm = log_softmax(x)\n";
  Array x({6}, {-100, -30, -1, 0, 30, 100});
  checkRun(src, {{"x", toF32(x)}},
           {{"s", ref::sigmoid(x)},
            {"t", ref::tanh(x)},
            {"e", ref::elu(x)},
            {"sm", ref::softmax(x)},
            {"lsm", ref::logSoftmax(x)}},
           "large", 1e-4, 1e-6);
}

//===----------------------------------------------------------------------===//
// Forward: softmax, reductions, argmax
//===----------------------------------------------------------------------===//

TEST(Forward, SoftmaxEveryAxis) {
  std::string src = R"(
input x: f32[P, Q, R]
output d = softmax(x)
output a0 = softmax(x, axis=0)
output a1 = softmax(x, axis=1)
output a2 = softmax(x, axis=2)
output m1 = softmax(x, axis=-1)
output m2 = softmax(x, axis=-2)
output m3 = softmax(x, axis=-3)
output ld = log_softmax(x)
output l0 = log_softmax(x, axis=0)
output l1 = log_softmax(x, axis=1)
output lm1 = log_softmax(x, axis=-1)
output lm3 = log_softmax(x, axis=-3)
)";
  Rng rng(4);
  for (Shape s : {Shape{1, 1, 1}, Shape{2, 3, 5}, Shape{4, 1, 7}, Shape{3, 6, 2}}) {
    Array x = randomArray(s, rng, -5, 5);
    // A large common offset checks the max subtraction.
    if (s[0] == 3)
      x = ref::add(x, Array::scalar(80));
    checkRun(src, {{"x", toF32(x)}},
             {{"d", ref::softmax(x, -1)},
              {"a0", ref::softmax(x, 0)},
              {"a1", ref::softmax(x, 1)},
              {"a2", ref::softmax(x, 2)},
              {"m1", ref::softmax(x, -1)},
              {"m2", ref::softmax(x, -2)},
              {"m3", ref::softmax(x, -3)},
              {"ld", ref::logSoftmax(x, -1)},
              {"l0", ref::logSoftmax(x, 0)},
              {"l1", ref::logSoftmax(x, 1)},
              {"lm1", ref::logSoftmax(x, -1)},
              {"lm3", ref::logSoftmax(x, -3)}},
             "x" + shapeText(s));
  }
  // Rank 1 and rank 2.
  std::string src2 = "input v: f32[N]\ninput m: f32[P, Q]\noutput sv = softmax(v)\n"
                     "output lv = log_softmax(v, axis=0)\noutput s0 = softmax(m, axis=0)\n"
                     "output l1 = log_softmax(m, axis=1)\n";
  for (int64_t n : {1, 5, 13}) {
    Array v = randomArray({n}, rng, -3, 3), m = randomArray({n, 3}, rng, -3, 3);
    checkRun(src2, {{"v", toF32(v)}, {"m", toF32(m)}},
             {{"sv", ref::softmax(v)},
              {"lv", ref::logSoftmax(v, 0)},
              {"s0", ref::softmax(m, 0)},
              {"l1", ref::logSoftmax(m, 1)}},
             "n=" + std::to_string(n));
  }
}

TEST(Forward, Reductions) {
  std::string src = R"(
input x: f32[P, Q, R]
output s = sum(x)
output s0 = sum(x, axis=0)
output s1 = sum(x, axis=1)
output s2 = sum(x, axis=2)
output sm1 = sum(x, axis=-1)
output s02 = sum(x, axis=[0, 2])
output sm13 = sum(x, axis=[-1, -3])
output s012 = sum(x, axis=[0, 1, 2])
output sk = sum(x, keepdims=true)
output s1k = sum(x, axis=1, keepdims=true)
output s02k = sum(x, axis=[0, 2], keepdims=true)
output m = mean(x)
output m0 = mean(x, axis=0)
output mm2 = mean(x, axis=-2)
output m12 = mean(x, axis=[1, 2])
output m2k = mean(x, axis=2, keepdims=true)
output mk = mean(x, keepdims=true)
output x_ = max(x)
output x0 = max(x, axis=0)
output x1 = max(x, axis=1)
output xm1 = max(x, axis=-1)
output x01 = max(x, axis=[0, 1])
output x1k = max(x, axis=1, keepdims=true)
output a = argmax(x)
output a0 = argmax(x, axis=0)
output a1 = argmax(x, axis=1)
output am2 = argmax(x, axis=-2)
)";
  Rng rng(5);
  for (Shape s : {Shape{1, 1, 1}, Shape{2, 3, 4}, Shape{5, 1, 3}, Shape{3, 7, 9}}) {
    Array x = distinctArray(s, rng);
    x = ref::sub(x, Array::scalar(3)); // all negative: max must not start at 0
    checkRun(src, {{"x", toF32(x)}},
             {{"s", ref::sum(x)},
              {"s0", ref::sum(x, {0})},
              {"s1", ref::sum(x, {1})},
              {"s2", ref::sum(x, {2})},
              {"sm1", ref::sum(x, {-1})},
              {"s02", ref::sum(x, {0, 2})},
              {"sm13", ref::sum(x, {-1, -3})},
              {"s012", ref::sum(x, {0, 1, 2})},
              {"sk", ref::sum(x, {}, true)},
              {"s1k", ref::sum(x, {1}, true)},
              {"s02k", ref::sum(x, {0, 2}, true)},
              {"m", ref::mean(x)},
              {"m0", ref::mean(x, {0})},
              {"mm2", ref::mean(x, {-2})},
              {"m12", ref::mean(x, {1, 2})},
              {"m2k", ref::mean(x, {2}, true)},
              {"mk", ref::mean(x, {}, true)},
              {"x_", ref::max(x)},
              {"x0", ref::max(x, {0})},
              {"x1", ref::max(x, {1})},
              {"xm1", ref::max(x, {-1})},
              {"x01", ref::max(x, {0, 1})},
              {"x1k", ref::max(x, {1}, true)},
              {"a", ref::argmax(x, -1)},
              {"a0", ref::argmax(x, 0)},
              {"a1", ref::argmax(x, 1)},
              {"am2", ref::argmax(x, -2)}},
             "x" + shapeText(s));
  }
}

TEST(Forward, ReductionsRank1And2) {
  std::string src = "input v: f32[N]\ninput m: f32[P, Q]\noutput sv = sum(v)\n"
                    "output mv = mean(v, axis=0)\noutput xv = max(v, axis=-1)\n"
                    "output av = argmax(v)\noutput sm = sum(m, axis=1)\n"
                    "output xm = max(m, axis=0, keepdims=true)\noutput am = argmax(m, axis=0)\n"
                    "output mm = mean(m, axis=[0, 1])\n";
  Rng rng(6);
  for (int64_t n : {1, 4, 17}) {
    Array v = distinctArray({n}, rng), m = distinctArray({n, n + 2}, rng);
    checkRun(src, {{"v", toF32(v)}, {"m", toF32(m)}},
             {{"sv", ref::sum(v)},
              {"mv", ref::mean(v, {0})},
              {"xv", ref::max(v, {-1})},
              {"av", ref::argmax(v)},
              {"sm", ref::sum(m, {1})},
              {"xm", ref::max(m, {0}, true)},
              {"am", ref::argmax(m, 0)},
              {"mm", ref::mean(m, {0, 1})}},
             "n=" + std::to_string(n));
  }
}

//===----------------------------------------------------------------------===//
// Forward: shapes, one_hot, casts
//===----------------------------------------------------------------------===//

TEST(Forward, ReshapeFlattenTranspose) {
  std::string src = R"(
input x: f32[B, 3, 4]
input y: f32[B, 2, 3, 5]
output r1 = reshape(x, [-1, 12])
output r2 = reshape(x, [B, 2, 6])
output r3 = reshape(x, [B, 12, 1])
output r4 = reshape(x, [-1])
output f1 = flatten(x)
output f2 = flatten(y)
output t0 = transpose(x)
output t1 = transpose(x, perm=[0, 2, 1])
output t2 = transpose(x, perm=[1, 0, 2])
output t3 = transpose(x, perm=[2, 0, 1])
output t4 = transpose(y, perm=[0, 3, 1, 2])
output t5 = transpose(y)
)";
  Rng rng(7);
  for (int64_t b : {1, 2, 5}) {
    Array x = randomArray({b, 3, 4}, rng), y = randomArray({b, 2, 3, 5}, rng);
    checkRun(src, {{"x", toF32(x)}, {"y", toF32(y)}},
             {{"r1", ref::reshape(x, {-1, 12})},
              {"r2", ref::reshape(x, {b, 2, 6})},
              {"r3", ref::reshape(x, {b, 12, 1})},
              {"r4", ref::reshape(x, {-1})},
              {"f1", ref::flatten(x)},
              {"f2", ref::flatten(y)},
              {"t0", ref::transpose(x)},
              {"t1", ref::transpose(x, {0, 2, 1})},
              {"t2", ref::transpose(x, {1, 0, 2})},
              {"t3", ref::transpose(x, {2, 0, 1})},
              {"t4", ref::transpose(y, {0, 3, 1, 2})},
              {"t5", ref::transpose(y)}},
             "B=" + std::to_string(b));
  }
  // Static 2-D transpose and reshape to and from a scalar-like shape.
  std::string src2 = "input m: f32[3, 5]\ninput s: f32[1]\noutput t = transpose(m)\n"
                     "output r = reshape(m, [5, 3])\noutput rs = reshape(s, [])\n";
  Array m = randomArray({3, 5}, rng), s = randomArray({1}, rng);
  checkRun(src2, {{"m", toF32(m)}, {"s", toF32(s)}},
           {{"t", ref::transpose(m)}, {"r", ref::reshape(m, {5, 3})},
            {"rs", ref::reshape(s, {})}},
           "static");
}

TEST(Forward, OneHotAndCasts) {
  std::string src = R"(
input y: i32[N]
input x: f32[N]
output oh = one_hot(y, 5)
output oh1 = one_hot(y, 7)
output fy = f32(y)
output ix = i32(x)
output fx = f32(x)
output round = f32(i32(x)) * 2.0
output arg = argmax(one_hot(y, 5), axis=1)
output same = argmax(one_hot(y, 5), axis=1) == y
output differ = argmax(one_hot(y, 5), axis=1) != y
)";
  Rng rng(8);
  for (int64_t n : {1, 6, 13}) {
    Array y = randomInts({n}, rng, 0, 4);
    Array x = randomArray({n}, rng, -5, 5);
    x.data[0] = n == 6 ? -2.75 : x.data[0];
    checkRun(src, {{"y", toI32(y)}, {"x", toF32(x)}},
             {{"oh", ref::oneHot(y, 5)},
              {"oh1", ref::oneHot(y, 7)},
              {"fy", ref::castF32(y)},
              {"ix", ref::castI32(x)},
              {"fx", ref::castF32(x)},
              {"round", ref::mul(ref::castI32(x), Array::scalar(2))},
              {"arg", y},
              {"same", ref::unary(y, [](double) { return 1.0; })},
              {"differ", ref::unary(y, [](double) { return 0.0; })}},
             "n=" + std::to_string(n), 0, 1e-6);
  }
}

TEST(Forward, DuplicateResults) {
  // Equal results share one buffer after CSE; each must come back as its
  // own tensor (this used to free the buffer twice).
  std::string src = "input x: f32[N]\noutput a = x * 2\noutput b = x * 2.0\n"
                    "output c = x\noutput d = softmax(x)\noutput e = softmax(x, axis=0)\n";
  Array x({3}, {1, 2, 3});
  for (int i = 0; i < 3; ++i)
    checkRun(src, {{"x", toF32(x)}},
             {{"a", ref::mul(x, Array::scalar(2))},
              {"b", ref::mul(x, Array::scalar(2))},
              {"c", x},
              {"d", ref::softmax(x)},
              {"e", ref::softmax(x)}},
             "duplicates");
}

TEST(Forward, ResultTypes) {
  // argmax and i32() give i32 tensors; comparisons and one_hot give f32.
  Model *m = getModel("input x: f32[2, 3]\ninput y: i32[2]\noutput a = argmax(x)\n"
                      "output i = i32(x)\noutput c = x > 0.0\noutput o = one_hot(y, 3)\n");
  ASSERT_TRUE(m);
  auto got = runModel(*m, {{"x", toF32(Array({2, 3}, {1, 2, 3, 4, 5, 6}))},
                           {"y", toI32(Array({2}, {0, 2}))}},
                      "types");
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got.at("a").dtype(), DType::I32);
  EXPECT_EQ(got.at("i").dtype(), DType::I32);
  EXPECT_EQ(got.at("c").dtype(), DType::F32);
  EXPECT_EQ(got.at("o").dtype(), DType::F32);
}

//===----------------------------------------------------------------------===//
// Forward: matmul, conv2d, pooling
//===----------------------------------------------------------------------===//

TEST(Forward, Matmul) {
  std::string src = "input a: f32[M, K]\ninput b: f32[K, N]\noutput c = matmul(a, b)\n"
                    "input p: f32[Z, M, K]\ninput q: f32[Z, K, N]\n"
                    "output r = matmul(p, q)\n";
  Rng rng(9);
  struct Dims {
    int64_t z, m, k, n;
  };
  for (Dims d : {Dims{1, 1, 1, 1}, Dims{2, 3, 4, 5}, Dims{3, 7, 1, 2}, Dims{1, 17, 33, 9},
                 Dims{4, 1, 8, 1}}) {
    Array a = randomArray({d.m, d.k}, rng), b = randomArray({d.k, d.n}, rng);
    Array p = randomArray({d.z, d.m, d.k}, rng), q = randomArray({d.z, d.k, d.n}, rng);
    checkRun(src, {{"a", toF32(a)}, {"b", toF32(b)}, {"p", toF32(p)}, {"q", toF32(q)}},
             {{"c", ref::matmul(a, b)}, {"r", ref::matmul(p, q)}},
             "z,m,k,n=" + std::to_string(d.z) + "," + std::to_string(d.m) + "," +
                 std::to_string(d.k) + "," + std::to_string(d.n));
  }
  // A static dense layer with a param and a broadcast bias, symbolic batch.
  std::string dense = "input x: f32[B, 6]\nparam w: f32[6, 3] = zeros()\n"
                      "param b: f32[3] = zeros()\noutput y = matmul(x, w) + b\n";
  Model *m = getModel(dense);
  ASSERT_TRUE(m);
  Array w = randomArray({6, 3}, rng), bias = randomArray({3}, rng);
  ASSERT_TRUE(m->setParam("w", toF32(w)).ok());
  ASSERT_TRUE(m->setParam("b", toF32(bias)).ok());
  for (int64_t b : {1, 4, 9}) {
    Array x = randomArray({b, 6}, rng);
    checkRun(dense, {{"x", toF32(x)}}, {{"y", ref::add(ref::matmul(x, w), bias)}},
             "dense B=" + std::to_string(b));
  }
}

// The shapes that the CPU schedule (compiler/targets/cpu/CPUSchedule.mlir) tiles and
// vectorizes: static N and K with a symbolic batch, so full 8x32 tiles,
// peeled remainder rows, partial column tiles, transposed operands, the
// dot form (B transposed), the panel form of a large B (a partial k block;
// batches ending in rows left over of 1, 2, 2+1... 4+2+1; a static M of 23
// = 16 + 4 + 2 + 1), a weight gradient over a long symbolic K (37 x batch)
// with rows left over (25), and the vectorized elementwise ops (rows of 32
// channels with a broadcast bias; 1024 columns, 64 at a time).
TEST(Forward, ScheduledMatmulForms) {
  std::string src =
      "input a: f32[B, 70]\ninput w: f32[70, 72]\noutput c = matmul(a, w)\n"
      "input x: f32[B, 24]\ninput g: f32[B, 40]\noutput gw = matmul(transpose(x), g)\n"
      "input x2: f32[P, 25]\ninput g2: f32[P, 32]\noutput gw2 = matmul(transpose(x2), g2)\n"
      "input h: f32[B, 50]\ninput v: f32[36, 50]\noutput gx = matmul(h, transpose(v))\n"
      "input big: f32[B, 1030]\ninput wb: f32[1030, 256]\noutput cb = matmul(big, wb)\n"
      "input bs: f32[23, 1030]\noutput cs = matmul(bs, wb)\n"
      "input e4: f32[B, 3, 5, 32]\ninput eb: f32[32]\noutput er = relu(e4 + eb)\n"
      "input e2: f32[B, 1024]\ninput ew: f32[1024]\noutput es = e2 * ew - e2\n"
      "input im: f32[B, 9, 9, 5]\ninput f: f32[3, 3, 5, 40]\n"
      "output y = conv2d(im, f, stride=1, padding=same)\n"
      "input im2: f32[B, 16, 16, 3]\ninput f2: f32[3, 3, 3, 32]\n"
      "output y2 = conv2d(im2, f2, stride=2, padding=valid)\n";
  Rng rng(31);
  Array w = randomArray({70, 72}, rng), v = randomArray({36, 50}, rng);
  Array wb = randomArray({1030, 256}, rng), f = randomArray({3, 3, 5, 40}, rng);
  Array f2 = randomArray({3, 3, 3, 32}, rng), bs = randomArray({23, 1030}, rng);
  Array eb = randomArray({32}, rng), ew = randomArray({1024}, rng);
  for (int64_t b : {1, 3, 8, 10, 13, 15, 21}) {
    Array a = randomArray({b, 70}, rng), x = randomArray({b, 24}, rng);
    Array g = randomArray({b, 40}, rng), h = randomArray({b, 50}, rng);
    Array big = randomArray({b, 1030}, rng), im = randomArray({b, 9, 9, 5}, rng);
    Array im2 = randomArray({b, 16, 16, 3}, rng);
    Array x2 = randomArray({b * 37, 25}, rng), g2 = randomArray({b * 37, 32}, rng);
    Array e4 = randomArray({b, 3, 5, 32}, rng), e2 = randomArray({b, 1024}, rng);
    checkRun(src,
             {{"a", toF32(a)}, {"w", toF32(w)}, {"x", toF32(x)}, {"g", toF32(g)},
              {"h", toF32(h)}, {"v", toF32(v)}, {"big", toF32(big)}, {"wb", toF32(wb)},
              {"im", toF32(im)}, {"f", toF32(f)}, {"im2", toF32(im2)}, {"f2", toF32(f2)},
              {"x2", toF32(x2)}, {"g2", toF32(g2)}, {"bs", toF32(bs)},
              {"e4", toF32(e4)}, {"eb", toF32(eb)}, {"e2", toF32(e2)}, {"ew", toF32(ew)}},
             {{"c", ref::matmul(a, w)},
              {"gw", ref::matmul(ref::transpose(x), g)},
              {"gx", ref::matmul(h, ref::transpose(v))},
              {"gw2", ref::matmul(ref::transpose(x2), g2)},
              {"cb", ref::matmul(big, wb)},
              {"cs", ref::matmul(bs, wb)},
              {"er", ref::relu(ref::add(e4, eb))},
              {"es", ref::sub(ref::mul(e2, ew), e2)},
              {"y", ref::conv2d(im, f, 1, 1, true)},
              {"y2", ref::conv2d(im2, f2, 2, 2, false)}},
             "B=" + std::to_string(b));
  }
}

/// One conv2d or pooling configuration.
struct WindowCase {
  int64_t h, w, c;  ///< input height, width, channels
  int64_t kh, kw;   ///< window
  int64_t f;        ///< filters (conv2d)
  int64_t sh, sw;   ///< strides
  bool same;
  bool pairStride;  ///< write the stride as a pair
  bool pairWindow;  ///< write the window as a pair (pooling)
  bool omitStride;  ///< leave the stride out (pooling: stride = window)

  std::string strideText() const {
    return pairStride ? "[" + std::to_string(sh) + ", " + std::to_string(sw) + "]"
                      : std::to_string(sh);
  }
  std::string windowText() const {
    return pairWindow ? "[" + std::to_string(kh) + ", " + std::to_string(kw) + "]"
                      : std::to_string(kh);
  }
  std::string paddingText() const { return same ? "same" : "valid"; }
  std::string describe() const {
    std::ostringstream os;
    os << "H=" << h << " W=" << w << " C=" << c << " K=" << kh << "x" << kw << " F=" << f
       << " s=" << sh << "x" << sw << " " << paddingText();
    return os.str();
  }
};

std::vector<WindowCase> convCases() {
  return {
      // h  w  c kh kw f sh sw same  pairS  pairW  omitS
      {7, 7, 3, 3, 3, 4, 1, 1, true, false, false, false},
      {7, 7, 3, 4, 4, 2, 2, 2, true, false, false, false}, // pads 1 before, 2 after
      {7, 7, 2, 3, 3, 3, 2, 2, true, false, false, false},
      {8, 8, 2, 3, 3, 3, 2, 2, true, false, false, false}, // pads 0 before, 1 after
      {7, 6, 2, 3, 2, 3, 2, 1, true, true, false, false},
      {8, 8, 3, 3, 3, 2, 2, 2, false, false, false, false},
      {5, 9, 2, 2, 3, 3, 1, 2, false, true, false, false},
      {6, 6, 1, 5, 5, 2, 3, 3, true, false, false, false},
      {4, 4, 2, 5, 5, 1, 1, 1, true, false, false, false}, // window larger than input
      {5, 5, 4, 1, 1, 3, 1, 1, true, false, false, false},
      {9, 7, 3, 3, 3, 5, 3, 2, false, true, false, false},
      {1, 1, 2, 3, 3, 2, 1, 1, true, false, false, false},
  };
}

TEST(Forward, Conv2D) {
  Rng rng(10);
  for (const WindowCase &k : convCases()) {
    std::ostringstream src;
    src << "input x: f32[B, " << k.h << ", " << k.w << ", " << k.c << "]\n"
        << "param w: f32[" << k.kh << ", " << k.kw << ", " << k.c << ", " << k.f
        << "] = normal(stddev=0.5)\n"
        << "output y = conv2d(x, w, stride=" << k.strideText()
        << ", padding=" << k.paddingText() << ")\n";
    Model *m = getModel(src.str());
    if (!m)
      continue;
    Array w = randomArray({k.kh, k.kw, k.c, k.f}, rng);
    ASSERT_TRUE(m->setParam("w", toF32(w)).ok());
    for (int64_t b : {1, 3}) {
      Array x = randomArray({b, k.h, k.w, k.c}, rng);
      checkRun(src.str(), {{"x", toF32(x)}},
               {{"y", ref::conv2d(x, w, k.sh, k.sw, k.same)}},
               k.describe() + " B=" + std::to_string(b));
    }
  }
  // Defaults: stride 1, padding same.
  std::string def = "input x: f32[2, 5, 5, 2]\nparam w: f32[3, 3, 2, 2] = zeros()\n"
                    "output y = conv2d(x, w)\n";
  Model *m = getModel(def);
  ASSERT_TRUE(m);
  Array w = randomArray({3, 3, 2, 2}, rng), x = randomArray({2, 5, 5, 2}, rng);
  ASSERT_TRUE(m->setParam("w", toF32(w)).ok());
  checkRun(def, {{"x", toF32(x)}}, {{"y", ref::conv2d(x, w, 1, 1, true)}}, "defaults");
}

std::vector<WindowCase> poolCases() {
  return {
      // h  w  c kh kw f sh sw same  pairS  pairW  omitS
      {4, 4, 2, 2, 2, 0, 2, 2, false, false, false, true},  // window=2 defaults
      {7, 7, 2, 2, 2, 0, 2, 2, false, false, false, true},  // drops the last row
      {7, 7, 2, 2, 2, 0, 2, 2, true, false, false, false},  // pads 0 before, 1 after
      {7, 7, 3, 3, 3, 0, 2, 2, true, false, false, false},  // pads 1 and 1
      {7, 7, 1, 4, 4, 0, 2, 2, true, false, false, false},  // pads 1 before, 2 after
      {5, 6, 2, 3, 2, 0, 1, 2, true, true, true, false},
      {5, 6, 2, 3, 2, 0, 1, 2, false, true, true, false},
      {6, 5, 3, 3, 3, 0, 1, 1, true, false, false, false},
      {8, 8, 2, 3, 3, 0, 3, 3, false, false, false, false},
      {6, 6, 2, 2, 3, 0, 2, 3, false, false, true, true},   // stride = window pair
  };
}

TEST(Forward, Pooling) {
  Rng rng(11);
  for (const WindowCase &k : poolCases()) {
    std::ostringstream src;
    std::string args = "window=" + k.windowText();
    if (!k.omitStride)
      args += ", stride=" + k.strideText();
    if (k.same || k.h % 3 == 0) // valid is the default; sometimes write it
      args += ", padding=" + k.paddingText();
    src << "input x: f32[B, " << k.h << ", " << k.w << ", " << k.c << "]\n"
        << "output mx = max_pool(x, " << args << ")\n"
        << "output av = avg_pool(x, " << args << ")\n";
    for (int64_t b : {1, 2}) {
      Array x = distinctArray({b, k.h, k.w, k.c}, rng);
      x = ref::sub(x, Array::scalar(2)); // negative: padding must not win the max
      checkRun(src.str(), {{"x", toF32(x)}},
               {{"mx", ref::maxPool(x, k.kh, k.kw, k.sh, k.sw, k.same)},
                {"av", ref::avgPool(x, k.kh, k.kw, k.sh, k.sw, k.same)}},
               k.describe() + " B=" + std::to_string(b));
    }
  }
}

TEST(Forward, ConvBlock) {
  // conv2d + bias, relu, max_pool: the pattern a fusing compiler rewrites.
  Rng rng(13);
  struct Block {
    int64_t stride, window;
    bool same;
  };
  for (Block k : {Block{1, 2, true}, Block{2, 2, false}, Block{1, 3, true}}) {
    std::ostringstream src;
    src << "input x: f32[B, 9, 9, 3]\nparam w: f32[3, 3, 3, 4] = zeros()\n"
        << "param b: f32[4] = zeros()\n"
        << "output y = max_pool(relu(conv2d(x, w, stride=" << k.stride
        << ", padding=same) + b), window=" << k.window
        << ", padding=" << (k.same ? "same" : "valid") << ")\n"
        << "output z = avg_pool(relu(conv2d(x, w, stride=" << k.stride
        << ", padding=same) + b), window=" << k.window << ")\n";
    Model *m = getModel(src.str());
    if (!m)
      continue;
    Array w = randomArray({3, 3, 3, 4}, rng), b = randomArray({4}, rng, -0.3, 0.3);
    ASSERT_TRUE(m->setParam("w", toF32(w)).ok());
    ASSERT_TRUE(m->setParam("b", toF32(b)).ok());
    for (int64_t n : {1, 2}) {
      Array x = randomArray({n, 9, 9, 3}, rng);
      Array h = ref::relu(ref::add(ref::conv2d(x, w, k.stride, k.stride, true), b));
      checkRun(src.str(), {{"x", toF32(x)}},
               {{"y", ref::maxPool(h, k.window, k.window, k.window, k.window, k.same)},
                {"z", ref::avgPool(h, k.window, k.window, k.window, k.window, false)}},
               "stride=" + std::to_string(k.stride) + " window=" + std::to_string(k.window) +
                   " B=" + std::to_string(n));
    }
  }
}

//===----------------------------------------------------------------------===//
// Forward: losses
//===----------------------------------------------------------------------===//

TEST(Forward, Losses) {
  std::string src = R"(
input logits: f32[B, C]
input y: i32[B]
input t: f32[B, C]
input p: f32[B, C]
output ce = softmax_cross_entropy(logits, y)
output cef = softmax_cross_entropy(logits, t)
output mse = mse(logits, p)
output l2 = l2(logits)
output meance = mean(softmax_cross_entropy(logits, y))
)";
  Rng rng(12);
  for (Shape s : {Shape{1, 1}, Shape{1, 3}, Shape{4, 5}, Shape{9, 10}}) {
    Array logits = randomArray(s, rng, -4, 4);
    if (s[0] == 9)
      logits = ref::add(logits, Array::scalar(60)); // stability
    Array y = randomInts({s[0]}, rng, 0, s[1] - 1);
    Array t = randomProbs(s, rng), p = randomArray(s, rng);
    checkRun(src, {{"logits", toF32(logits)}, {"y", toI32(y)}, {"t", toF32(t)}, {"p", toF32(p)}},
             {{"ce", ref::softmaxCrossEntropyIds(logits, y)},
              {"cef", ref::softmaxCrossEntropyProbs(logits, t)},
              {"mse", ref::mse(logits, p)},
              {"l2", ref::l2(logits)},
              {"meance", ref::mean(ref::softmaxCrossEntropyIds(logits, y))}},
             "logits" + shapeText(s), 1e-4, s[0] == 9 ? 2e-4 : 1e-4);
  }
  // mse and l2 of other ranks.
  std::string src2 = "input a: f32[P, Q, R]\ninput b: f32[P, Q, R]\ninput v: f32[N]\n"
                     "output m = mse(a, b)\noutput l = l2(a)\noutput lv = l2(v)\n"
                     "output mv = mse(v, v * 0.5)\n";
  for (Shape s : {Shape{1, 1, 1}, Shape{2, 3, 4}}) {
    Array a = randomArray(s, rng), b = randomArray(s, rng), v = randomArray({s[2]}, rng);
    checkRun(src2, {{"a", toF32(a)}, {"b", toF32(b)}, {"v", toF32(v)}},
             {{"m", ref::mse(a, b)},
              {"l", ref::l2(a)},
              {"lv", ref::l2(v)},
              {"mv", ref::mse(v, ref::mul(v, Array::scalar(0.5)))}},
             "a" + shapeText(s));
  }
}

//===----------------------------------------------------------------------===//
// Forward: hand-worked cases with exact values
//===----------------------------------------------------------------------===//

/// Runs a model with no inputs and checks output `y` exactly (up to float
/// rounding).
void checkExact(const std::string &expr, const Array &want,
                const std::string &decls = "", double tol = 1e-6) {
  checkRun(decls + "output y = " + expr + "\n", {}, {{"y", want}}, expr, tol, tol);
}

TEST(Exact, Arithmetic) {
  checkExact("[1, 2, 3] * 2 + 1", Array({3}, {3, 5, 7}));
  checkExact("[[1], [2]] + [10, 20, 30]", Array({2, 3}, {11, 21, 31, 12, 22, 32}));
  checkExact("[8, 9] / [2, 3] - 1", Array({2}, {3, 2}));
  checkExact("[2, 3] ** 2", Array({2}, {4, 9}));
  checkExact("[4, 9] ** 0.5", Array({2}, {2, 3}));
  checkExact("-[1, -2]", Array({2}, {-1, 2}));
  checkExact("maximum([1, 5, 3], [4, 2, 3])", Array({3}, {4, 5, 3}));
  checkExact("minimum([1, 5, 3], 2)", Array({3}, {1, 2, 2}));
  checkExact("[1, 2, 3] == [1, 0, 3]", Array({3}, {1, 0, 1}));
  checkExact("[1, 2, 3] != [1, 0, 3]", Array({3}, {0, 1, 0}));
  checkExact("[1, 2, 3] < 2", Array({3}, {1, 0, 0}));
  checkExact("[1, 2, 3] <= 2", Array({3}, {1, 1, 0}));
  checkExact("[1, 2, 3] > 2", Array({3}, {0, 0, 1}));
  checkExact("[1, 2, 3] >= 2", Array({3}, {0, 1, 1}));
  checkExact("1 + 2 * 3 - 4 / 2", Array::scalar(5));
  checkExact("2 * [1, 2] ** 2", Array({2}, {2, 8}));
}

TEST(Exact, Activations) {
  checkExact("relu([-1, 0, 2])", Array({3}, {0, 0, 2}));
  checkExact("leaky_relu([-1, 2])", Array({2}, {-0.2, 2}));
  checkExact("leaky_relu([-1, 2], alpha=0.1)", Array({2}, {-0.1, 2}));
  checkExact("elu([-1, 3], alpha=2.0)", Array({2}, {2 * (std::exp(-1.0) - 1), 3}));
  checkExact("elu([-2, 0.5])", Array({2}, {std::exp(-2.0) - 1, 0.5}));
  checkExact("sigmoid([0])", Array({1}, {0.5}));
  checkExact("tanh([0])", Array({1}, {0}));
  checkExact("exp([0, 1])", Array({2}, {1, std::exp(1.0)}));
  checkExact("log([1, 4])", Array({2}, {0, std::log(4.0)}));
  checkExact("sqrt([4, 2.25])", Array({2}, {2, 1.5}));
  checkExact("square([-3, 0.5])", Array({2}, {9, 0.25}));
  checkExact("abs([-3, 0, 2])", Array({3}, {3, 0, 2}));
  checkExact("softmax([0, 1.0986123])", Array({2}, {0.25, 0.75}));
  checkExact("log_softmax([0, 0])", Array({2}, {-std::log(2.0), -std::log(2.0)}));
  checkExact("softmax([[1, 1], [2, 2]], axis=0)", Array({2, 2}, {1 / (1 + std::exp(1.0)),
                                                               1 / (1 + std::exp(1.0)),
                                                               1 / (1 + std::exp(-1.0)),
                                                               1 / (1 + std::exp(-1.0))}));
}

TEST(Exact, ReductionsAndShapes) {
  checkExact("sum([[1, 2], [3, 4]])", Array::scalar(10));
  checkExact("sum([[1, 2], [3, 4]], axis=0)", Array({2}, {4, 6}));
  checkExact("sum([[1, 2], [3, 4]], axis=-1, keepdims=true)", Array({2, 1}, {3, 7}));
  checkExact("mean([[1, 2], [3, 4]], axis=1)", Array({2}, {1.5, 3.5}));
  checkExact("mean([[1, 2], [3, 4]], axis=[0, 1], keepdims=true)", Array({1, 1}, {2.5}));
  checkExact("max([[1, 5], [3, 4]], axis=0)", Array({2}, {3, 5}));
  checkExact("max([[-1, -5], [-3, -4]])", Array::scalar(-1));
  checkExact("argmax([[1, 3, 2], [5, 4, 0]])", Array({2}, {1, 0}));
  checkExact("argmax([[1, 3, 2], [5, 4, 0]], axis=0)", Array({3}, {1, 1, 0}));
  checkExact("argmax([2, 7, 7, 1])", Array::scalar(1)); // ties: the first, as NumPy
  checkExact("transpose([[1, 2, 3], [4, 5, 6]])", Array({3, 2}, {1, 4, 2, 5, 3, 6}));
  checkExact("reshape([[1, 2, 3], [4, 5, 6]], [3, -1])", Array({3, 2}, {1, 2, 3, 4, 5, 6}));
  checkExact("flatten([[[1, 2], [3, 4]], [[5, 6], [7, 8]]])",
             Array({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8}));
  checkExact("one_hot(y, 3)", Array({2, 3}, {0, 0, 1, 1, 0, 0}), "y = i32([2, 0])\n");
  checkExact("i32([-2.7, -0.5, 0.5, 2.7, 3.0])", Array({5}, {-2, 0, 0, 2, 3}));
  checkExact("f32(i32([1.9, -1.9])) + 0.5", Array({2}, {1.5, -0.5}));
  checkExact("matmul([[1, 2], [3, 4]], [[5, 6], [7, 8]])", Array({2, 2}, {19, 22, 43, 50}));
  checkExact("matmul([[[1, 0], [0, 1]], [[2, 0], [0, 2]]], [[[1, 2], [3, 4]], [[1, 2], [3, 4]]])",
             Array({2, 2, 2}, {1, 2, 3, 4, 2, 4, 6, 8}));
}

TEST(Exact, ConvPoolLosses) {
  std::string x16 = "x = reshape([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], "
                    "[1, 4, 4, 1])\n";
  std::string x9 = "x = reshape([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1])\n";
  std::string ones22 = "w = reshape([1, 1, 1, 1], [2, 2, 1, 1])\n";
  std::string ones33 = "w = reshape([1, 1, 1, 1, 1, 1, 1, 1, 1], [3, 3, 1, 1])\n";
  checkExact("conv2d(x, w, stride=2, padding=valid)",
             Array({1, 2, 2, 1}, {14, 22, 46, 54}), x16 + ones22);
  // same, stride 1, 3x3 of ones over 1..9: sums of the in-bounds neighbours.
  checkExact("conv2d(x, w, stride=1, padding=same)",
             Array({1, 3, 3, 1}, {12, 21, 16, 27, 45, 33, 24, 39, 28}), x9 + ones33);
  // same, stride 2, 2x2: total padding 1, all after: windows [1,2,4,5] [3,6] [7,8] [9].
  checkExact("conv2d(x, w, stride=2, padding=same)", Array({1, 2, 2, 1}, {12, 9, 15, 9}),
             x9 + ones22);
  // An HWIO filter mixing two input channels into two outputs.
  checkExact("conv2d(reshape([1, 2, 3, 4], [1, 1, 2, 2]), reshape([1, 10, 100, 1000], [1, 1, 2, 2]))",
             Array({1, 1, 2, 2}, {201, 2010, 403, 4030}));
  checkExact("max_pool(x, window=2)", Array({1, 2, 2, 1}, {6, 8, 14, 16}), x16);
  checkExact("avg_pool(x, window=2)", Array({1, 2, 2, 1}, {3.5, 5.5, 11.5, 13.5}), x16);
  checkExact("max_pool(x, window=2, stride=2, padding=same)",
             Array({1, 2, 2, 1}, {5, 6, 8, 9}), x9);
  checkExact("avg_pool(x, window=2, stride=2, padding=same)",
             Array({1, 2, 2, 1}, {3, 4.5, 7.5, 9}), x9);
  // 3x3 window, stride 1, same: padding 1 on each side, averages over 4, 6 or 9 cells.
  checkExact("avg_pool(x, window=3, stride=1, padding=same)",
             Array({1, 3, 3, 1}, {3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7}), x9);
  checkExact("max_pool(-x, window=3, stride=1, padding=same)",
             Array({1, 3, 3, 1}, {-1, -1, -2, -1, -1, -2, -4, -4, -5}), x9);
  double ln4 = std::log(4.0);
  checkExact("softmax_cross_entropy([[0, 1.0986123], [0, 0]], i32([0, 1]))",
             Array({2}, {ln4, std::log(2.0)}));
  checkExact("softmax_cross_entropy([[0, 1.0986123]], [[0.5, 0.5]])",
             Array({1}, {0.5 * ln4 + 0.5 * (ln4 - std::log(3.0))}));
  checkExact("mse([1, 2, 3], [1, 0, 0])", Array::scalar(13.0 / 3));
  checkExact("l2([1, 2, -2])", Array::scalar(9));
  checkExact("l2([[1, 2], [3, 4]])", Array::scalar(30));
}

TEST(Exact, ParamsInitAndFeedOverride) {
  // A literal initializer and a param fed as an override, as `--feed W=...`.
  std::string src = "param w: f32[2] = [3, 4]\noutput y = w * 2\n";
  Model *m = getModel(src);
  ASSERT_TRUE(m);
  checkRun(src, {}, {{"y", Array({2}, {6, 8})}}, "init");
  checkRun(src, {{"w", toF32(Array({2}, {-1, 1}))}}, {{"y", Array({2}, {-2, 2})}}, "fed");
  ASSERT_TRUE(m->setParam("w", toF32(Array({2}, {5, 6}))).ok());
  checkRun(src, {}, {{"y", Array({2}, {10, 12})}}, "set");
}

//===----------------------------------------------------------------------===//
// Gradients
//===----------------------------------------------------------------------===//

TEST(Gradient, BinaryBroadcast) {
  std::vector<std::pair<Shape, Shape>> shapes = {
      {{3, 1}, {1, 4}}, {{5}, {2, 5}}, {{}, {2, 3}}, {{2, 3}, {2, 3}},
      {{4, 3}, {3}},    {{2, 1, 3}, {4, 1}}, {{2, 3}, {}}};
  const char *ops[] = {"add", "sub", "mul", "div", "maximum", "minimum"};
  Rng rng(20);
  for (const auto &[sa, sb] : shapes) {
    Shape out = ref::broadcastShapes(sa, sb);
    std::ostringstream src;
    src << "input r: " << f32(out) << "\n";
    GradCase c;
    std::vector<std::string> terms;
    for (const char *op : ops) {
      std::string a = std::string("a_") + op, b = std::string("b_") + op;
      src << "param " << a << ": " << f32(sa) << " = zeros()\n"
          << "param " << b << ": " << f32(sb) << " = zeros()\n";
      std::string expr;
      std::string o = op;
      if (o == "add")
        expr = a + " + " + b;
      else if (o == "sub")
        expr = a + " - " + b;
      else if (o == "mul")
        expr = a + " * " + b;
      else if (o == "div")
        expr = a + " / " + b;
      else
        expr = o + "(" + a + ", " + b + ")";
      terms.push_back("sum((" + expr + ") * r)");
      c.params[a] = randomArray(sa, rng);
      c.params[b] = o == "div" ? randomArray(sb, rng, -2, 2, 0.5) : randomArray(sb, rng);
    }
    src << "loss = ";
    for (size_t i = 0; i < terms.size(); ++i)
      src << (i ? " + " : "") << terms[i];
    src << "\n";
    c.source = src.str();
    c.inputs["r"] = randomArray(out, rng);
    c.loss = [](const ValueMap &v) {
      const Array &r = v.at("r");
      return dot(ref::add(v.at("a_add"), v.at("b_add")), r) +
             dot(ref::sub(v.at("a_sub"), v.at("b_sub")), r) +
             dot(ref::mul(v.at("a_mul"), v.at("b_mul")), r) +
             dot(ref::div(v.at("a_div"), v.at("b_div")), r) +
             dot(ref::maximum(v.at("a_maximum"), v.at("b_maximum")), r) +
             dot(ref::minimum(v.at("a_minimum"), v.at("b_minimum")), r);
    };
    checkGradients(c, "a" + shapeText(sa) + " b" + shapeText(sb));
  }
}

TEST(Gradient, ScalarOperandsAndPow) {
  Rng rng(21);
  for (Shape s : {Shape{}, Shape{3}, Shape{2, 5}}) {
    GradCase c;
    c.source = "input r: " + f32(s) + "\n" +
               "param a: " + f32(s) + " = zeros()\nparam p: " + f32(s) + " = zeros()\n" +
               "param q: " + f32(s) + " = zeros()\nparam n: " + f32(s) + " = zeros()\n" +
               "loss = sum((2.5 * a - a / 4 + 3 - 1.5 / p) * r) + sum((q ** 3 + q ** 2.0) * r)"
               " + sum((p ** 0.5 + p ** -1.5) * r) + sum(-n * r)"
               " + sum((maximum(m, 0.1) + minimum(-0.2, m)) * r)\n";
    c.source = "param m: " + f32(s) + " = zeros()\n" + c.source;
    c.params["a"] = randomArray(s, rng);
    c.params["p"] = randomArray(s, rng, 0.5, 2);
    c.params["q"] = randomArray(s, rng);
    c.params["n"] = randomArray(s, rng);
    c.params["m"] = randomArray(s, rng);
    c.inputs["r"] = randomArray(s, rng);
    c.loss = [](const ValueMap &v) {
      const Array &a = v.at("a"), &p = v.at("p"), &q = v.at("q"), &r = v.at("r");
      Array t1 = ref::sub(ref::add(ref::sub(ref::mul(Array::scalar(2.5), a),
                                            ref::div(a, Array::scalar(4))),
                                   Array::scalar(3)),
                          ref::div(Array::scalar(1.5), p));
      return dot(t1, r) + dot(ref::add(ref::pow(q, 3), ref::pow(q, 2)), r) +
             dot(ref::add(ref::pow(p, 0.5), ref::pow(p, -1.5)), r) +
             dot(ref::neg(v.at("n")), r) +
             dot(ref::add(ref::maximum(v.at("m"), Array::scalar(0.1)),
                          ref::minimum(Array::scalar(-0.2), v.at("m"))),
                 r);
    };
    checkGradients(c, "shape" + shapeText(s));
  }
}

TEST(Gradient, Activations) {
  struct Act {
    const char *name, *expr; // expr in terms of X
    std::function<Array(const Array &)> fn;
    bool positive;
  };
  std::vector<Act> acts = {
      {"relu", "relu(X)", [](const Array &x) { return ref::relu(x); }, false},
      {"sigmoid", "sigmoid(X)", [](const Array &x) { return ref::sigmoid(x); }, false},
      {"tanh", "tanh(X)", [](const Array &x) { return ref::tanh(x); }, false},
      {"exp", "exp(X)", [](const Array &x) { return ref::exp(x); }, false},
      {"log", "log(X)", [](const Array &x) { return ref::log(x); }, true},
      {"sqrt", "sqrt(X)", [](const Array &x) { return ref::sqrt(x); }, true},
      {"square", "square(X)", [](const Array &x) { return ref::square(x); }, false},
      {"abs", "abs(X)", [](const Array &x) { return ref::abs(x); }, false},
      {"leaky", "leaky_relu(X)", [](const Array &x) { return ref::leakyRelu(x, 0.2); }, false},
      {"leaky1", "leaky_relu(X, alpha=0.1)",
       [](const Array &x) { return ref::leakyRelu(x, 0.1); }, false},
      {"elu", "elu(X)", [](const Array &x) { return ref::elu(x, 1.0); }, false},
      {"elu2", "elu(X, alpha=0.5)", [](const Array &x) { return ref::elu(x, 0.5); }, false},
      {"castf", "f32(X)", [](const Array &x) { return ref::castF32(x); }, false},
      {"gate", "(X > 0.0) * X",
       [](const Array &x) { return ref::mul(ref::compare(x, Array::scalar(0), ">"), x); },
       false},
  };
  Rng rng(22);
  for (Shape s : {Shape{}, Shape{7}, Shape{3, 5}, Shape{2, 3, 4}}) {
    GradCase c;
    std::ostringstream src;
    src << "input r: " << f32(s) << "\nloss = 0.0";
    for (const Act &a : acts) {
      std::string p = std::string("x_") + a.name;
      std::string e = a.expr;
      for (size_t pos; (pos = e.find('X')) != std::string::npos;)
        e.replace(pos, 1, p);
      src << " + sum(" << e << " * r)";
      c.params[p] = a.positive ? randomArray(s, rng, 0.3, 3) : randomArray(s, rng, -2, 2, 0.05);
    }
    std::string decls;
    for (const Act &a : acts)
      decls += "param x_" + std::string(a.name) + ": " + f32(s) + " = zeros()\n";
    c.source = decls + src.str() + "\n";
    c.inputs["r"] = randomArray(s, rng);
    c.loss = [acts](const ValueMap &v) {
      double l = 0;
      for (const Act &a : acts)
        l += dot(a.fn(v.at(std::string("x_") + a.name)), v.at("r"));
      return l;
    };
    checkGradients(c, "shape" + shapeText(s));
  }
}

TEST(Gradient, Softmax) {
  Rng rng(23);
  struct Case {
    Shape s;
    int64_t axis;
  };
  for (Case k : {Case{{3, 5}, -1}, Case{{3, 5}, 0}, Case{{2, 3, 4}, 1}, Case{{2, 3, 4}, -3},
                 Case{{6}, 0}}) {
    std::string ax = std::to_string(k.axis);
    GradCase c;
    c.source = "input r: " + f32(k.s) + "\nparam a: " + f32(k.s) + " = zeros()\nparam b: " +
               f32(k.s) + " = zeros()\nloss = sum(softmax(a, axis=" + ax +
               ") * r) + sum(log_softmax(b, axis=" + ax + ") * r)\n";
    c.params["a"] = randomArray(k.s, rng, -2, 2);
    c.params["b"] = randomArray(k.s, rng, -2, 2);
    c.inputs["r"] = randomArray(k.s, rng);
    int64_t axis = k.axis;
    c.loss = [axis](const ValueMap &v) {
      return dot(ref::softmax(v.at("a"), axis), v.at("r")) +
             dot(ref::logSoftmax(v.at("b"), axis), v.at("r"));
    };
    checkGradients(c, "x" + shapeText(k.s) + " axis=" + ax);
  }
}

TEST(Gradient, Reductions) {
  Rng rng(24);
  struct Red {
    std::string op; // sum, mean or max
    std::vector<int64_t> axes;
    bool keepdims;
  };
  std::vector<Red> reds = {
      {"sum", {}, false},     {"sum", {1}, false},  {"sum", {0, 2}, true},
      {"sum", {-1}, true},    {"mean", {}, false},  {"mean", {-1}, false},
      {"mean", {0, 1}, true}, {"max", {}, false},   {"max", {1}, false},
      {"max", {0, 2}, false}, {"max", {-1}, true},
  };
  Shape s = {3, 4, 5};
  GradCase c;
  std::ostringstream decls, loss;
  loss << "loss = 0.0";
  for (size_t i = 0; i < reds.size(); ++i) {
    const Red &rd = reds[i];
    std::string p = "x" + std::to_string(i), r = "r" + std::to_string(i);
    Array result = rd.op == "sum" ? ref::sum(Array::zeros(s), rd.axes, rd.keepdims)
                                  : ref::mean(Array::zeros(s), rd.axes, rd.keepdims);
    std::string args = p;
    if (!rd.axes.empty()) {
      args += ", axis=[";
      for (size_t j = 0; j < rd.axes.size(); ++j)
        args += (j ? ", " : "") + std::to_string(rd.axes[j]);
      args += "]";
    }
    if (rd.keepdims)
      args += ", keepdims=true";
    decls << "param " << p << ": " << f32(s) << " = zeros()\n"
          << "input " << r << ": " << f32(result.shape) << "\n";
    loss << " + sum(" << rd.op << "(" << args << ") * " << r << ")";
    c.params[p] = rd.op == "max" ? distinctArray(s, rng) : randomArray(s, rng);
    c.inputs[r] = randomArray(result.shape, rng);
  }
  c.source = decls.str() + loss.str() + "\n";
  c.loss = [reds](const ValueMap &v) {
    double l = 0;
    for (size_t i = 0; i < reds.size(); ++i) {
      const Red &rd = reds[i];
      const Array &x = v.at("x" + std::to_string(i));
      Array y = rd.op == "sum"    ? ref::sum(x, rd.axes, rd.keepdims)
                : rd.op == "mean" ? ref::mean(x, rd.axes, rd.keepdims)
                                  : ref::max(x, rd.axes, rd.keepdims);
      l += dot(y, v.at("r" + std::to_string(i)));
    }
    return l;
  };
  checkGradients(c, "reductions of [3, 4, 5]");
}

TEST(Gradient, Shapes) {
  Rng rng(25);
  Shape s = {2, 3, 4};
  GradCase c;
  c.source = R"(
param a: f32[2, 3, 4] = zeros()
param b: f32[2, 3, 4] = zeros()
param c: f32[2, 3, 4] = zeros()
param d: f32[2, 3, 4] = zeros()
param e: f32[2, 3, 4] = zeros()
param f: f32[2, 3, 4] = zeros()
input r1: f32[4, 6]
input r2: f32[2, 12]
input r3: f32[4, 3, 2]
input r4: f32[3, 2, 4]
input r5: f32[4, 2, 3]
input r6: f32[24]
loss = sum(reshape(a, [4, -1]) * r1) + sum(flatten(b) * r2) + sum(transpose(c) * r3) + sum(transpose(d, perm=[1, 0, 2]) * r4) + sum(transpose(e, perm=[2, 0, 1]) * r5) + sum(reshape(f, [-1]) * r6)
)";
  for (const char *p : {"a", "b", "c", "d", "e", "f"})
    c.params[p] = randomArray(s, rng);
  c.inputs["r1"] = randomArray({4, 6}, rng);
  c.inputs["r2"] = randomArray({2, 12}, rng);
  c.inputs["r3"] = randomArray({4, 3, 2}, rng);
  c.inputs["r4"] = randomArray({3, 2, 4}, rng);
  c.inputs["r5"] = randomArray({4, 2, 3}, rng);
  c.inputs["r6"] = randomArray({24}, rng);
  c.loss = [](const ValueMap &v) {
    return dot(ref::reshape(v.at("a"), {4, -1}), v.at("r1")) +
           dot(ref::flatten(v.at("b")), v.at("r2")) +
           dot(ref::transpose(v.at("c")), v.at("r3")) +
           dot(ref::transpose(v.at("d"), {1, 0, 2}), v.at("r4")) +
           dot(ref::transpose(v.at("e"), {2, 0, 1}), v.at("r5")) +
           dot(ref::reshape(v.at("f"), {-1}), v.at("r6"));
  };
  checkGradients(c, "reshape/flatten/transpose");
}

TEST(Gradient, Matmul) {
  Rng rng(26);
  struct Case {
    Shape a, b;
  };
  for (Case k : {Case{{3, 4}, {4, 5}}, Case{{1, 3}, {3, 1}}, Case{{5, 1}, {1, 2}},
                 Case{{2, 3, 4}, {2, 4, 2}}, Case{{3, 1, 5}, {3, 5, 3}}}) {
    Array a = randomArray(k.a, rng), b = randomArray(k.b, rng);
    Array out = ref::matmul(a, b);
    GradCase c;
    c.source = "input r: " + f32(out.shape) + "\nparam a: " + f32(k.a) +
               " = zeros()\nparam b: " + f32(k.b) + " = zeros()\nloss = sum(matmul(a, b) * r)\n";
    c.params["a"] = a;
    c.params["b"] = b;
    c.inputs["r"] = randomArray(out.shape, rng);
    c.loss = [](const ValueMap &v) { return dot(ref::matmul(v.at("a"), v.at("b")), v.at("r")); };
    checkGradients(c, "a" + shapeText(k.a) + " b" + shapeText(k.b));
  }
}

TEST(Gradient, Conv2D) {
  Rng rng(27);
  std::vector<WindowCase> cases = {
      // h  w  c kh kw f sh sw same  pairS  pairW  omitS
      {5, 5, 2, 3, 3, 3, 1, 1, true, false, false, false},
      {7, 7, 2, 4, 4, 2, 2, 2, true, false, false, false}, // pads 1 before, 2 after
      {6, 6, 2, 3, 3, 2, 2, 2, true, false, false, false}, // pads 0 before, 1 after
      {6, 5, 2, 3, 2, 3, 2, 1, false, true, false, false},
      {7, 7, 1, 3, 3, 2, 2, 2, false, false, false, false},
      {4, 5, 3, 1, 1, 2, 1, 1, true, false, false, false},
      {5, 7, 2, 2, 3, 2, 1, 2, true, true, false, false},
      // Shapes the CPU schedule vectorizes: forward tiles of 8 pixels x 16
      // channels, input-gradient tiles of 8 x 8, filter-gradient tiles of 8
      // input x 16 output channels; then strided filter gradients in tiles
      // of 3 window columns x 8 channels (3 input channels) and of 8 x 32.
      {8, 8, 8, 3, 3, 16, 1, 1, true, false, false, false},
      {9, 9, 3, 3, 3, 24, 2, 2, true, false, false, false},
      {10, 10, 16, 4, 4, 32, 2, 2, false, false, false, false},
  };
  for (const WindowCase &k : cases) {
    Shape xs = {2, k.h, k.w, k.c}, ws = {k.kh, k.kw, k.c, k.f};
    Array x = randomArray(xs, rng), w = randomArray(ws, rng);
    Array out = ref::conv2d(x, w, k.sh, k.sw, k.same);
    GradCase c;
    c.source = "input r: " + f32(out.shape) + "\nparam x: " + f32(xs) + " = zeros()\nparam w: " +
               f32(ws) + " = zeros()\nloss = sum(conv2d(x, w, stride=" + k.strideText() +
               ", padding=" + k.paddingText() + ") * r)\n";
    c.params["x"] = x;
    c.params["w"] = w;
    c.inputs["r"] = randomArray(out.shape, rng);
    WindowCase kk = k;
    c.loss = [kk](const ValueMap &v) {
      return dot(ref::conv2d(v.at("x"), v.at("w"), kk.sh, kk.sw, kk.same), v.at("r"));
    };
    checkGradients(c, k.describe());
  }
}

TEST(Gradient, Pooling) {
  Rng rng(28);
  std::vector<WindowCase> cases = {
      // h  w  c kh kw f sh sw same  pairS  pairW  omitS
      {4, 4, 2, 2, 2, 0, 2, 2, false, false, false, true},
      {7, 7, 2, 3, 3, 0, 2, 2, true, false, false, false},
      {7, 7, 1, 4, 4, 0, 2, 2, true, false, false, false},
      {5, 6, 2, 3, 2, 0, 1, 2, true, true, true, false},
      {7, 7, 2, 2, 2, 0, 2, 2, true, false, false, false},
      {6, 5, 1, 3, 3, 0, 1, 1, true, false, false, false}, // overlapping windows
      {7, 5, 1, 3, 2, 0, 2, 1, false, true, true, false},
  };
  for (const WindowCase &k : cases) {
    Shape xs = {2, k.h, k.w, k.c};
    std::string args = "window=" + k.windowText();
    if (!k.omitStride)
      args += ", stride=" + k.strideText();
    args += ", padding=" + k.paddingText();
    Array out = ref::maxPool(Array::zeros(xs), k.kh, k.kw, k.sh, k.sw, k.same);
    GradCase c;
    c.source = "input r: " + f32(out.shape) + "\ninput q: " + f32(out.shape) + "\nparam a: " +
               f32(xs) + " = zeros()\nparam b: " + f32(xs) +
               " = zeros()\nloss = sum(max_pool(a, " + args + ") * r) + sum(avg_pool(b, " + args +
               ") * q)\n";
    c.params["a"] = distinctArray(xs, rng);
    c.params["b"] = randomArray(xs, rng);
    c.inputs["r"] = randomArray(out.shape, rng);
    c.inputs["q"] = randomArray(out.shape, rng);
    WindowCase kk = k;
    c.loss = [kk](const ValueMap &v) {
      return dot(ref::maxPool(v.at("a"), kk.kh, kk.kw, kk.sh, kk.sw, kk.same), v.at("r")) +
             dot(ref::avgPool(v.at("b"), kk.kh, kk.kw, kk.sh, kk.sw, kk.same), v.at("q"));
    };
    checkGradients(c, k.describe());
  }
}

TEST(Gradient, Losses) {
  Rng rng(29);
  for (Shape s : {Shape{1, 3}, Shape{4, 5}, Shape{3, 1}}) {
    GradCase c;
    c.source = "input y: i32[" + std::to_string(s[0]) + "]\ninput t: " + f32(s) +
               "\ninput r: f32[" + std::to_string(s[0]) + "]\n" +
               "param a: " + f32(s) + " = zeros()\nparam b: " + f32(s) + " = zeros()\n" +
               "param p: " + f32(s) + " = zeros()\nparam q: " + f32(s) + " = zeros()\n" +
               "param w: " + f32(s) + " = zeros()\nparam m: " + f32(s) + " = zeros()\n" +
               "loss = sum(softmax_cross_entropy(a, y) * r) + sum(softmax_cross_entropy(b, t) * r)"
               " + 3.0 * mse(p, q) + 0.5 * l2(w) + mean(softmax_cross_entropy(m, y))\n";
    for (const char *p : {"a", "b", "p", "q", "w", "m"})
      c.params[p] = randomArray(s, rng, -2, 2);
    c.intInputs["y"] = randomInts({s[0]}, rng, 0, s[1] - 1);
    c.inputs["t"] = randomProbs(s, rng);
    c.inputs["r"] = randomArray({s[0]}, rng);
    c.loss = [](const ValueMap &v) {
      return dot(ref::softmaxCrossEntropyIds(v.at("a"), v.at("y")), v.at("r")) +
             dot(ref::softmaxCrossEntropyProbs(v.at("b"), v.at("t")), v.at("r")) +
             3.0 * ref::mse(v.at("p"), v.at("q")).data[0] + 0.5 * ref::l2(v.at("w")).data[0] +
             ref::mean(ref::softmaxCrossEntropyIds(v.at("m"), v.at("y"))).data[0];
    };
    checkGradients(c, "logits" + shapeText(s));
  }
}

TEST(Gradient, SoftmaxCrossEntropyProbLabels) {
  // The f32 labels are differentiable too (TensorFlow's v2 cross entropy).
  Rng rng(30);
  GradCase c;
  c.source = "input r: f32[3]\nparam z: f32[3, 4] = zeros()\nparam t: f32[3, 4] = zeros()\n"
             "loss = sum(softmax_cross_entropy(z, t) * r)\n";
  c.params["z"] = randomArray({3, 4}, rng, -2, 2);
  c.params["t"] = randomProbs({3, 4}, rng);
  c.inputs["r"] = randomArray({3}, rng);
  c.loss = [](const ValueMap &v) {
    return dot(ref::softmaxCrossEntropyProbs(v.at("z"), v.at("t")), v.at("r"));
  };
  checkGradients(c, "prob labels");
}

TEST(Gradient, CastsAndIntInputs) {
  Rng rng(31);
  GradCase c;
  c.source = "input y: i32[4]\ninput r: f32[4, 3]\nparam a: f32[4, 3] = zeros()\n"
             "param b: f32[4] = zeros()\n"
             "loss = sum(f32(a) * one_hot(y, 3) * r) + sum(b * f32(y)) + sum(f32(argmax(a, axis=1)) * b)\n";
  c.params["a"] = distinctArray({4, 3}, rng);
  c.params["b"] = randomArray({4}, rng);
  c.intInputs["y"] = Array({4}, {2, 0, 1, 2});
  c.inputs["r"] = randomArray({4, 3}, rng);
  c.loss = [](const ValueMap &v) {
    return dot(ref::mul(ref::oneHot(v.at("y"), 3), v.at("a")), v.at("r")) +
           dot(v.at("b"), v.at("y")) + dot(ref::argmax(v.at("a"), 1), v.at("b"));
  };
  checkGradients(c, "casts");
}

TEST(Gradient, DropoutIsIdentity) {
  Rng rng(32);
  GradCase c;
  c.source = "input r: f32[5, 6]\nparam a: f32[5, 6] = zeros()\n"
             "loss = sum(dropout(a, rate=0.5) * r) + sum(dropout(square(a), rate=0.9))\n";
  c.params["a"] = randomArray({5, 6}, rng);
  c.inputs["r"] = randomArray({5, 6}, rng);
  c.loss = [](const ValueMap &v) {
    return dot(v.at("a"), v.at("r")) + ref::l2(v.at("a")).data[0];
  };
  checkGradients(c, "dropout");
}

TEST(Gradient, SymbolicBatch) {
  // One compiled gradient program for several batch sizes: a dense softmax
  // classifier whose bias gradient sums over the batch.
  std::string src = R"(
input x: f32[B, 4]
input y: i32[B]
param w: f32[4, 3] = zeros()
param b: f32[3] = zeros()
param v: f32[4] = zeros()
h = matmul(x, w) + b
loss = mean(softmax_cross_entropy(h, y)) + mse(sum(x * v, axis=1), f32(y))
metric acc = mean(argmax(h, axis=1) == y)
)";
  Rng rng(33);
  Array w = randomArray({4, 3}, rng), b = randomArray({3}, rng), v = randomArray({4}, rng);
  for (int64_t n : {1, 3, 8}) {
    GradCase c;
    c.source = src;
    c.params["w"] = w;
    c.params["b"] = b;
    c.params["v"] = v;
    c.inputs["x"] = randomArray({n, 4}, rng);
    c.intInputs["y"] = randomInts({n}, rng, 0, 2);
    c.loss = [](const ValueMap &vm) {
      Array h = ref::add(ref::matmul(vm.at("x"), vm.at("w")), vm.at("b"));
      Array s = ref::sum(ref::mul(vm.at("x"), vm.at("v")), {1});
      return ref::mean(ref::softmaxCrossEntropyIds(h, vm.at("y"))).data[0] +
             ref::mse(s, vm.at("y")).data[0];
    };
    checkGradients(c, "B=" + std::to_string(n));
    // The forward program of the same model: loss and metric.
    Array h = ref::add(ref::matmul(c.inputs["x"], w), b);
    Array acc = ref::mean(ref::compare(ref::argmax(h, 1), c.intInputs["y"], "=="));
    checkRun(src, {{"x", toF32(c.inputs["x"])}, {"y", toI32(c.intInputs["y"])}},
             {{"loss", Array::scalar(c.loss(ValueMap{{"x", c.inputs["x"]},
                                                     {"y", c.intInputs["y"]},
                                                     {"w", w}, {"b", b}, {"v", v}}))},
              {"acc", acc}},
             "run B=" + std::to_string(n));
  }
}

TEST(Gradient, SymbolicDimsKeepdims) {
  // Two symbolic dims: keepdims reductions and the unbroadcast of param
  // gradients must keep each dim's own size.
  std::string src = R"(
input x: f32[P, Q, 4]
input r: f32[P, 1, 4]
param s: f32[] = zeros()
param c: f32[4] = zeros()
param d: f32[4] = zeros()
loss = sum(sum(x * s + c, axis=1, keepdims=true) * r) + sum(max(x * d, axis=1, keepdims=true) * r) + sum(mean(x * s, axis=[0, 2], keepdims=true))
)";
  Rng rng(34);
  for (Shape sh : {Shape{2, 3, 4}, Shape{3, 5, 4}, Shape{1, 1, 4}}) {
    GradCase c;
    c.source = src;
    c.params["s"] = Array::scalar(0.75);
    c.params["c"] = randomArray({sh[2]}, rng);
    c.params["d"] = randomArray({sh[2]}, rng, 0.5, 1.5);
    c.inputs["x"] = distinctArray(sh, rng);
    c.inputs["r"] = randomArray({sh[0], 1, sh[2]}, rng);
    c.loss = [](const ValueMap &v) {
      const Array &x = v.at("x"), &r = v.at("r");
      Array xs = ref::mul(x, v.at("s"));
      return dot(ref::sum(ref::add(xs, v.at("c")), {1}, true), r) +
             dot(ref::max(ref::mul(x, v.at("d")), {1}, true), r) +
             ref::sum(ref::mean(xs, {0, 2}, true)).data[0];
    };
    checkGradients(c, "x" + shapeText(sh));
  }
}

TEST(Gradient, SmallCNNSymbolicBatch) {
  // The MNIST block (conv2d + bias, relu, max_pool) and a dense softmax
  // layer: one gradient program for several batch sizes, so the filter and
  // bias gradients sum over a symbolic batch.
  std::string src = R"(
input x: f32[B, 7, 7, 2]
input y: i32[B]
param w1: f32[3, 3, 2, 3] = zeros()
param b1: f32[3] = zeros()
param w2: f32[48, 4] = zeros()
param b2: f32[4] = zeros()
def block(h, W, b) = max_pool(relu(conv2d(h, W, stride=1, padding=same) + b), window=2, padding=same)
logits = matmul(flatten(block(x, w1, b1)), w2) + b2
loss = mean(softmax_cross_entropy(logits, y)) + 0.01 * l2(w1)
)";
  Rng rng(35);
  Array w1 = randomArray({3, 3, 2, 3}, rng), b1 = randomArray({3}, rng, -0.2, 0.2);
  Array w2 = randomArray({48, 4}, rng), b2 = randomArray({4}, rng);
  for (int64_t n : {1, 3}) {
    GradCase c;
    c.source = src;
    c.params = {{"w1", w1}, {"b1", b1}, {"w2", w2}, {"b2", b2}};
    c.inputs["x"] = randomArray({n, 7, 7, 2}, rng);
    c.intInputs["y"] = randomInts({n}, rng, 0, 3);
    c.loss = [](const ValueMap &v) {
      Array h = ref::relu(ref::add(ref::conv2d(v.at("x"), v.at("w1"), 1, 1, true), v.at("b1")));
      Array p = ref::maxPool(h, 2, 2, 2, 2, true);
      Array logits = ref::add(ref::matmul(ref::flatten(p), v.at("w2")), v.at("b2"));
      return ref::mean(ref::softmaxCrossEntropyIds(logits, v.at("y"))).data[0] +
             0.01 * ref::l2(v.at("w1")).data[0];
    };
    c.eps = 1e-5; // relu kinks: keep the steps small
    checkGradients(c, "B=" + std::to_string(n));
  }
}

} // namespace

TEST(Gradient, FusedConvBlocks) {
  // conv2d + bias + activation + pool chains, which dl-fuse-conv-relu-pool
  // turns into one dl.fused_conv2d whose gradient uses only what its forward
  // saved (the pooled result and a max pool's arg-max): every activation
  // with a 2x2/2 max pool, and every pool kind (overlapping, padded, average,
  // none) with relu. The input is a param, so its gradient is checked too.
  struct Block {
    const char *act;  ///< the activation call, %s for its argument
    const char *pool; ///< the pool call, %s for its argument
    std::function<Array(const Array &)> refAct, refPool;
  };
  auto maxPool = [](int64_t k, int64_t s, bool same) {
    return [=](const Array &h) { return ref::maxPool(h, k, k, s, s, same); };
  };
  auto id = [](const Array &h) { return h; };
  auto relu = [](const Array &h) { return ref::relu(h); };
  std::vector<Block> blocks = {
      {"relu(%s)", "max_pool(%s, window=2)", relu, maxPool(2, 2, false)},
      {"sigmoid(%s)", "max_pool(%s, window=2)", [](const Array &h) { return ref::sigmoid(h); },
       maxPool(2, 2, false)},
      {"tanh(%s)", "max_pool(%s, window=2)", [](const Array &h) { return ref::tanh(h); },
       maxPool(2, 2, false)},
      {"leaky_relu(%s, alpha=0.1)", "max_pool(%s, window=2)",
       [](const Array &h) { return ref::leakyRelu(h, 0.1); }, maxPool(2, 2, false)},
      {"elu(%s, alpha=0.7)", "max_pool(%s, window=2)",
       [](const Array &h) { return ref::elu(h, 0.7); }, maxPool(2, 2, false)},
      {"%s", "max_pool(%s, window=2)", id, maxPool(2, 2, false)},
      {"relu(%s)", "max_pool(%s, window=3, stride=2)", relu, maxPool(3, 2, false)},
      {"relu(%s)", "max_pool(%s, window=2, padding=same)", relu, maxPool(2, 2, true)},
      {"%s", "avg_pool(%s, window=2)", id,
       [](const Array &h) { return ref::avgPool(h, 2, 2, 2, 2, false); }},
      {"relu(%s)", "%s", relu, id},
  };
  auto fill = [](std::string text, const std::string &arg) {
    return text.replace(text.find("%s"), 2, arg);
  };
  Rng rng(47);
  for (const Block &k : blocks) {
    std::string block =
        fill(k.pool, fill(k.act, "conv2d(x, w, stride=1, padding=same) + b"));
    Array out = k.refPool(Array::zeros({2, 7, 7, 3}));
    GradCase c;
    c.source = "input r: " + f32(out.shape) +
               "\nparam x: f32[2, 7, 7, 2] = zeros()\nparam w: f32[3, 3, 2, 3] = "
               "zeros()\nparam b: f32[3] = zeros()\nloss = sum(" +
               block + " * r)\n";
    c.params["x"] = randomArray({2, 7, 7, 2}, rng);
    c.params["w"] = randomArray({3, 3, 2, 3}, rng);
    c.params["b"] = randomArray({3}, rng, -0.3, 0.3);
    c.inputs["r"] = randomArray(out.shape, rng);
    Block kk = k;
    c.loss = [kk](const ValueMap &v) {
      Array h = ref::add(ref::conv2d(v.at("x"), v.at("w"), 1, 1, true), v.at("b"));
      return dot(kk.refPool(kk.refAct(h)), v.at("r"));
    };
    checkGradients(c, block);
  }
}
