//===- InPlaceUpdateTest.cpp - a train step updates its arguments ----------===//
//
// The CPU target's train step writes the new params and Adam state into the
// buffers of its arguments (docs/ABI.md). Calls the compiled @train_step of
// a small softmax regression twice per step: with the params and state
// passed for update (ArgValue::update: each result must be the argument's
// own buffer, moved out of it) and passed read-only (the call updates a
// copy; the arguments keep their values). Both must give the same bits, and
// two steps must match Adam computed here from @graph_grad's gradients,
// a separate entry point that returns fresh buffers, and the step's
// gradient norm their norm. The second model's 64x1024 weights are large
// enough that the CPU schedule computes their update in the loop over 8-row
// blocks of their gradient (dl-cpu-schedule's fuseUpdates), which is never
// stored whole.
//
//===----------------------------------------------------------------------===//

#include "compiler/JIT.h"
#include "runtime/Contracts.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <string>

using namespace dlc;
using runtime::ArgValue;

namespace {

/// A softmax regression of `features` inputs and `classes` classes,
/// trained with Adam.
std::string denseModel(int64_t features, int64_t classes) {
  std::string f = std::to_string(features), c = std::to_string(classes);
  return "model inplace\ninput x: f32[B, " + f + "]\ninput y: i32[B]\n"
         "param W: f32[" + f + ", " + c + "] = truncated_normal(stddev=0.5)\n"
         "param b: f32[" + c + "] = fill(0.1)\n"
         "logits = matmul(x, W) + b\n"
         "loss = mean(softmax_cross_entropy(logits, y))\n"
         "train { optimizer = adam(lr=0.01, beta1=0.8, beta2=0.9, eps=0.001) }\n";
}

bool sameBits(const Tensor &a, const Tensor &b) {
  return a.shape() == b.shape() && a.byteSize() == b.byteSize() &&
         std::memcmp(a.rawData(), b.rawData(), a.byteSize()) == 0;
}

struct Fixture {
  explicit Fixture(int64_t features) : x(Tensor::zeros({4, features})) {}
  Tensor x;
  Tensor y = Tensor(runtime::DType::I32, {4});
  Tensor step = Tensor::scalar<float>(1.0f);
};

void checkInPlaceSteps(int64_t features, int64_t classes) {
  auto model = Model::fromSource(denseModel(features, classes), "inplace.dl");
  ASSERT_TRUE(model.ok()) << model.message();
  ASSERT_TRUE(model->initParams(7).ok());
  auto exe = model->compileTraining();
  ASSERT_TRUE(exe.ok()) << exe.message();
  const runtime::EntrySpec *entry = (*exe)->spec().findEntry(contract::kTrainStepEntry);
  ASSERT_NE(entry, nullptr);
  EXPECT_TRUE(entry->inPlace);

  Fixture f(features);
  for (int64_t i = 0; i < f.x.numElements(); ++i)
    f.x.data<float>()[i] = std::sin(0.7f * static_cast<float>(i));
  for (int64_t i = 0; i < 4; ++i)
    f.y.data<int32_t>()[i] = static_cast<int32_t>(13 * i % classes);

  // The params and state both calls start from (state: zeros).
  std::map<std::string, Tensor> start;
  for (const runtime::ValueSpec &a : entry->args)
    if (a.role == contract::kRoleParam)
      start[a.name] = model->params().at(a.name);
    else if (a.role == contract::kRoleState)
      start[a.name] = Tensor::zeros(a.shape);
  auto argsOf = [&](std::map<std::string, Tensor> &values, bool update) {
    std::vector<ArgValue> args;
    for (const runtime::ValueSpec &a : entry->args) {
      if (a.role == contract::kRoleInput)
        args.push_back(ArgValue::of(a.name == "x" ? f.x : f.y));
      else if (a.role == contract::kRoleStep)
        args.push_back(ArgValue::of(f.step));
      else if (a.role == contract::kRoleSeed)
        args.push_back(ArgValue::scalarI64(0));
      else
        args.push_back(update ? ArgValue::update(values.at(a.name))
                              : ArgValue::of(values.at(a.name)));
    }
    return args;
  };

  // Reference: Adam on @graph_grad's gradients, two steps.
  const double lr = 0.01, beta1 = 0.8, beta2 = 0.9, eps = 0.001;
  std::map<std::string, std::vector<double>> p, m, v;
  for (const char *name : {"W", "b"}) {
    const Tensor &t = start.at(name);
    p[name].assign(t.data<float>(), t.data<float>() + t.numElements());
    m[name].assign(t.numElements(), 0.0);
    v[name].assign(t.numElements(), 0.0);
  }

  std::map<std::string, Tensor> updated = start, readOnly = start;
  for (int s = 1; s <= 2; ++s) {
    f.step = Tensor::scalar<float>(static_cast<float>(s));
    auto grads = model->gradients({{"x", f.x}, {"y", f.y}});
    ASSERT_TRUE(grads.ok()) << grads.message();
    double lrT = lr * std::sqrt(1 - std::pow(beta2, s)) / (1 - std::pow(beta1, s));
    double squares = 0;
    for (const NamedTensor &g : *grads) {
      if (g.role != contract::kRoleGrad)
        continue;
      for (int64_t i = 0; i < g.value.numElements(); ++i) {
        double gi = g.value.data<float>()[i];
        squares += gi * gi;
        m[g.name][i] = beta1 * m[g.name][i] + (1 - beta1) * gi;
        v[g.name][i] = beta2 * v[g.name][i] + (1 - beta2) * gi * gi;
        p[g.name][i] -= lrT * m[g.name][i] / (std::sqrt(v[g.name][i]) + eps);
      }
    }

    // Read-only: the arguments keep their values.
    std::map<std::string, Tensor> before = readOnly;
    auto copied = (*exe)->call(contract::kTrainStepEntry, argsOf(readOnly, false));
    ASSERT_TRUE(copied.ok()) << copied.message();
    for (const auto &[name, t] : before)
      EXPECT_TRUE(sameBits(readOnly.at(name), t)) << name << " changed at step " << s;

    // For update: each result is its argument's buffer.
    std::map<std::string, const void *> buffers;
    for (auto &[name, t] : updated)
      buffers[name] = t.rawData();
    auto inPlace = (*exe)->call(contract::kTrainStepEntry, argsOf(updated, true));
    ASSERT_TRUE(inPlace.ok()) << inPlace.message();
    for (size_t r = 0; r < entry->results.size(); ++r) {
      const runtime::ValueSpec &res = entry->results[r];
      if (res.role == contract::kRoleGradNorm) {
        double norm = std::sqrt(squares);
        EXPECT_NEAR((*inPlace)[r].data<float>()[0], norm, 1e-5 * norm) << "grad_norm at step " << s;
        EXPECT_TRUE(sameBits((*inPlace)[r], (*copied)[r])) << "grad_norm at step " << s;
      }
      if (res.role != contract::kRoleParam && res.role != contract::kRoleState)
        continue;
      EXPECT_EQ((*inPlace)[r].rawData(), buffers.at(res.name)) << res.name << " was not updated in place";
      EXPECT_EQ(updated.at(res.name).rawData(), nullptr) << res.name << " was not moved into its result";
      EXPECT_TRUE(sameBits((*inPlace)[r], (*copied)[r])) << res.name << " at step " << s;
      updated[res.name] = std::move((*inPlace)[r]);
      readOnly[res.name] = std::move((*copied)[r]);
    }
    for (const char *name : {"W", "b"}) {
      const Tensor &t = updated.at(name);
      ASSERT_TRUE(model->setParam(name, t).ok());
      for (int64_t i = 0; i < t.numElements(); ++i)
        ASSERT_NEAR(t.data<float>()[i], p[name][i], 1e-5) << name << "[" << i << "] at step " << s;
    }
  }
}

TEST(InPlaceUpdateTest, TrainStepWritesParamsAndStateIntoItsArguments) {
  checkInPlaceSteps(8, 64);
}

TEST(InPlaceUpdateTest, UpdateFusedIntoTheWeightGradientsRowBlocks) {
  checkInPlaceSteps(64, 1024);
}

} // namespace
