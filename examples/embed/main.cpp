//===- main.cpp - embedding dlc through its C++ API ------------------------===//
//
// Loads the linear model of examples/linear_model.dl from a string, runs it
// with fed inputs, changes its params and runs it again, takes gradients,
// and shows that errors come back as values. Exits 1 when a number differs
// from the value the lecture gives.
//
//===----------------------------------------------------------------------===//

#include "compiler/JIT.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace {

const char *kSource = R"(model linear_model

param W: f32[1] = [0.3]
param b: f32[1] = [-0.3]

input x: f32[N]
input y: f32[N]

linear_model = W * x + b
loss = sum(square(linear_model - y))

output linear_model
)";

bool failed = false;

/// Prints each result as `role name = value`.
void show(const std::vector<dlc::NamedTensor> &results) {
  for (const dlc::NamedTensor &r : results)
    std::printf("  %s %s = %s\n", r.role.c_str(), r.name.c_str(),
                r.value.format().c_str());
}

/// Checks result `name` against `want`.
void expect(const std::vector<dlc::NamedTensor> &results, const std::string &name,
            const std::vector<float> &want) {
  for (const dlc::NamedTensor &r : results) {
    if (r.name != name)
      continue;
    std::vector<float> got = r.value.toVector<float>();
    bool same = got.size() == want.size();
    for (size_t i = 0; same && i < got.size(); ++i)
      same = std::fabs(got[i] - want[i]) <= 1e-4f * (1 + std::fabs(want[i]));
    if (same)
      return;
  }
  std::printf("  error: unexpected %s\n", name.c_str());
  failed = true;
}

/// Formats an input type with its dimension symbols: "f32[N]".
std::string inputType(const dlc::runtime::InputSpec &in) {
  std::string text = dlc::runtime::dtypeName(in.dtype);
  text += "[";
  for (size_t i = 0; i < in.shape.size(); ++i) {
    if (i)
      text += ", ";
    text += in.shape[i] < 0 ? in.dimNames[i] : std::to_string(in.shape[i]);
  }
  return text + "]";
}

/// Prints the error of `status`, or nothing.
bool check(const dlc::Status &status, const char *what) {
  if (status.ok())
    return true;
  std::printf("error: %s: %s\n", what, status.message().c_str());
  failed = true;
  return false;
}

} // namespace

int main() {
  dlc::CompileOptions options;
  options.target = "cpu";
  auto model = dlc::Model::fromSource(kSource, "linear_model.dl", options);
  if (!check(model.status(), "load"))
    return 1;

  const dlc::runtime::ModelSpec &spec = model->spec();
  std::printf("model %s\n", spec.name.c_str());
  for (const dlc::runtime::InputSpec &in : spec.inputs)
    std::printf("  input %s: %s\n", in.name.c_str(), inputType(in).c_str());
  for (const dlc::runtime::ParamSpec &p : spec.params)
    std::printf("  param %s: %s\n", p.name.c_str(),
                dlc::runtime::formatType(p.dtype, p.shape).c_str());

  using dlc::Tensor;
  std::map<std::string, Tensor> feeds;
  feeds["x"] = Tensor::fromVector<float>({4}, {1, 2, 3, 4});
  feeds["y"] = Tensor::fromVector<float>({4}, {0, -1, -2, -3});

  std::printf("run with the declared params\n");
  auto results = model->run(feeds);
  if (!check(results.status(), "run"))
    return 1;
  show(*results);
  expect(*results, "linear_model", {0, 0.3f, 0.6f, 0.9f});
  expect(*results, "loss", {23.66f});

  std::printf("run with W = [-1], b = [1]\n");
  check(model->setParam("W", Tensor::fromVector<float>({1}, {-1})), "set W");
  check(model->setParam("b", Tensor::fromVector<float>({1}, {1})), "set b");
  results = model->run(feeds);
  if (!check(results.status(), "run"))
    return 1;
  show(*results);
  expect(*results, "linear_model", {0, -1, -2, -3});
  expect(*results, "loss", {0});
  auto w = model->getParam("W");
  if (check(w.status(), "get W"))
    std::printf("  param W = %s\n", w->format().c_str());

  // d loss / dW = 2 * sum((W x + b - y) x), d loss / db = 2 * sum(W x + b - y).
  std::printf("gradients at the declared params\n");
  check(model->initParams(0), "init");
  auto grads = model->gradients(feeds);
  if (!check(grads.status(), "gradients"))
    return 1;
  show(*grads);
  expect(*grads, "W", {52});
  expect(*grads, "b", {15.6f});

  // Errors are values: nothing is printed or thrown by the library.
  std::printf("errors\n");
  auto bad = dlc::Model::fromSource("model bad\ninput x: f32[2]\ny = x +\n",
                                    "bad.dl");
  std::printf("  load: %s\n", bad.ok() ? "ok" : bad.message().c_str());
  feeds["z"] = Tensor::scalar<float>(1);
  auto unknown = model->run(feeds);
  std::printf("  run: %s\n", unknown.ok() ? "ok" : unknown.message().c_str());
  dlc::Status wrongShape =
      model->setParam("W", Tensor::fromVector<float>({2}, {1, 2}));
  std::printf("  set: %s\n", wrongShape.ok() ? "ok" : wrongShape.message().c_str());
  if (bad.ok() || unknown.ok() || wrongShape.ok())
    failed = true;

  std::printf("%s\n", failed ? "FAILED" : "PASSED");
  return failed ? 1 : 0;
}
