//===- GradNormTest.cpp - the global gradient norm a step returns ---------===//
//
// Trains the lecture's linear regression (lab 4) with `--logdir` and reads
// the `grad_norm` scalars back from the TensorBoard event file and
// metrics.jsonl. The expected norms come from a double-precision replay of
// the same gradient descent with the gradient in closed form:
//   loss = sum((W x + b - y)^2), dW = 2 sum(r x), db = 2 sum(r),
//   norm = sqrt(dW^2 + db^2), before the step's update.
//
//===----------------------------------------------------------------------===//

#include "compiler/JIT.h"
#include "runtime/EventWriter.h"
#include "runtime/Events.pb.h"
#include "runtime/Trainer.h"

#include "gtest/gtest.h"

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace dlc;
namespace fs = std::filesystem;

namespace {

constexpr char kLinear[] = R"(model linear
param W: f32[1] = [0.3]
param b: f32[1] = [-0.3]
input x: f32[N]
input y: f32[N]
loss = sum(square(W * x + b - y))
data train { x = [1, 2, 3, 4]; y = [0, -1, -2, -3] }
train { optimizer = sgd(lr=0.01); steps = 1000; log_every = 100 }
)";

/// The global gradient norm before each step's update, steps 1..steps.
std::vector<double> replayNorms(int steps) {
  const double x[] = {1, 2, 3, 4}, y[] = {0, -1, -2, -3};
  double w = 0.3, b = -0.3;
  std::vector<double> norms;
  for (int s = 0; s < steps; ++s) {
    double dw = 0, db = 0;
    for (int i = 0; i < 4; ++i) {
      double r = w * x[i] + b - y[i];
      dw += 2 * r * x[i];
      db += 2 * r;
    }
    norms.push_back(std::sqrt(dw * dw + db * db));
    w -= 0.01 * dw;
    b -= 0.01 * db;
  }
  return norms;
}

TEST(GradNormTest, LoggedNormIsTheGlobalNormOfTheStepsGradients) {
  auto model = Model::fromSource(kLinear, "linear.dl");
  ASSERT_TRUE(model.ok()) << model.message();
  ASSERT_TRUE(model->initParams(0).ok());
  auto exe = model->compileTraining();
  ASSERT_TRUE(exe.ok()) << exe.message();

  fs::path dir = fs::temp_directory_path() /
                 ("dlc-gradnorm-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  std::map<std::string, Tensor> params = model->params();
  runtime::TrainOptions options;
  options.steps = 200;
  options.logdir = dir.string();
  std::vector<std::pair<int64_t, double>> seen;
  {
    runtime::Trainer trainer(*exe, params, options);
    ASSERT_TRUE(trainer.loadData().ok());
    auto result = trainer.train(
        [&](const runtime::Progress &p) {
          ASSERT_TRUE(p.gradNorm.has_value());
          seen.emplace_back(p.step, *p.gradNorm);
        },
        [](const runtime::SetResult &) {});
    ASSERT_TRUE(result.ok()) << result.message();
  }
  std::vector<double> expected = replayNorms(200);
  // Step 1's norm by hand: r = [0, 1.3, 2.6, 3.9], dW = 52, db = 15.6.
  EXPECT_NEAR(expected[0], std::sqrt(52.0 * 52.0 + 15.6 * 15.6), 1e-9);

  // The progress callback, at steps 1, 100 and 200.
  ASSERT_EQ(seen.size(), 3u);
  for (auto [step, norm] : seen)
    EXPECT_NEAR(norm, expected[step - 1], 1e-4 * expected[step - 1]) << "step " << step;

  // The event file: one grad_norm scalar per logged step.
  std::vector<std::string> files;
  for (const auto &entry : fs::directory_iterator(dir / "train"))
    files.push_back(entry.path().string());
  ASSERT_EQ(files.size(), 1u);
  auto records = runtime::readRecords(files[0]);
  ASSERT_TRUE(records.ok()) << records.message();
  std::vector<std::pair<int64_t, double>> logged;
  for (const std::string &r : *records) {
    events::Event e;
    ASSERT_TRUE(e.ParseFromString(r));
    for (const auto &v : e.summary().value())
      if (v.tag() == "grad_norm")
        logged.emplace_back(e.step(), v.simple_value());
  }
  ASSERT_EQ(logged.size(), 3u);
  EXPECT_EQ(logged[0].first, 1);
  EXPECT_EQ(logged[1].first, 100);
  EXPECT_EQ(logged[2].first, 200);
  for (auto [step, norm] : logged)
    EXPECT_NEAR(norm, expected[step - 1], 1e-4 * expected[step - 1]) << "step " << step;

  // metrics.jsonl: the same values on the train lines.
  std::ifstream jsonl(dir / "metrics.jsonl");
  std::string line;
  int withNorm = 0;
  while (std::getline(jsonl, line)) {
    size_t at = line.find("\"grad_norm\":");
    if (at == std::string::npos)
      continue;
    double norm = std::strtod(line.c_str() + at + 12, nullptr);
    EXPECT_NEAR(norm, logged[withNorm].second, 1e-6 * logged[withNorm].second);
    ++withNorm;
  }
  EXPECT_EQ(withNorm, 3);
  fs::remove_all(dir);
}

} // namespace
