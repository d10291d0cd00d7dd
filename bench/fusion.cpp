//===- fusion.cpp - the MNIST CNN's train step with and without fusion -----===//
//
// Compiles the lecture's CNN (examples/mnist_cnn.dl, batch 50, Adam, dropout)
// through the embedding API with fusion on or off (--no-fusion) and runs its
// train step on random digits, feeding each step's params and optimizer
// state to the next, as the trainer does. Prints one line:
//
//   fusion=on steps=50 ms_per_step=... bytes_per_step=... allocs_per_step=...
//   peak_rss_mib=... step_peak_mib=...
//
// ms_per_step is the median over the steps after two warm-up steps. The
// compiled code allocates its buffers with aligned_alloc (and its small
// fixed-size ones on the stack): this program defines aligned_alloc, which
// the JIT-compiled code resolves to, and counts what it is asked for, so
// bytes_per_step is every byte the train step allocates on the heap.
// peak_rss_mib is the process's peak resident memory while stepping (the
// high-water mark is reset after compiling), step_peak_mib what that peak
// adds to the memory resident before the first step. bench/fusion.sh runs
// both settings in fresh processes, interleaved, and summarises them.
//
//   build/bin/dlc-bench-fusion [--no-fusion] [--steps N] [MODEL.dl]
//
//===----------------------------------------------------------------------===//

#include "compiler/JIT.h"
#include "runtime/Contracts.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <malloc.h>
#include <random>
#include <string>

using namespace dlc;
namespace contract = dlc::contract;

static std::atomic<uint64_t> allocatedBytes{0}, allocations{0};

/// The compiled code's heap allocations come here (the JIT resolves
/// aligned_alloc to this executable's definition, which it exports).
extern "C" void *aligned_alloc(size_t alignment, size_t size) {
  allocatedBytes += size;
  ++allocations;
  return memalign(alignment, size);
}

/// A field of /proc/self/status in MiB (VmRSS, VmHWM).
static double statusMiB(const char *field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  size_t n = std::strlen(field);
  while (std::getline(status, line))
    if (line.compare(0, n, field) == 0 && line[n] == ':')
      return std::strtod(line.c_str() + n + 1, nullptr) / 1024.0;
  return -1;
}

static Tensor randomTensor(runtime::DType dtype, std::vector<int64_t> shape,
                           std::mt19937 &gen) {
  Tensor t(dtype, std::move(shape));
  if (dtype == runtime::DType::I32) {
    std::uniform_int_distribution<int32_t> dist(0, 9);
    for (int64_t i = 0; i < t.numElements(); ++i)
      t.data<int32_t>()[i] = dist(gen);
  } else {
    std::uniform_real_distribution<float> dist(0, 1);
    for (int64_t i = 0; i < t.numElements(); ++i)
      t.data<float>()[i] = dist(gen);
  }
  return t;
}

static int fail(const std::string &message) {
  std::fprintf(stderr, "dlc-bench-fusion: %s\n", message.c_str());
  return 1;
}

int main(int argc, char **argv) {
  CompileOptions options;
  options.useCache = false;
  int steps = 50;
  std::string model = DLC_SOURCE_DIR "/examples/mnist_cnn.dl";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--no-fusion")
      options.fusion = false;
    else if (arg == "--steps" && i + 1 < argc)
      steps = std::max(1, std::atoi(argv[++i]));
    else
      model = arg;
  }
  auto loaded = Model::fromFile(model, options);
  if (!loaded.ok())
    return fail(loaded.status().message());
  auto exe = loaded->compileTraining();
  if (!exe.ok())
    return fail(exe.status().message());
  const runtime::ModelSpec &spec = (*exe)->spec();
  const runtime::EntrySpec *entry = spec.findEntry(contract::kTrainStepEntry);
  auto params = runtime::initializeParams(spec, 1);
  if (!params.ok())
    return fail(params.status().message());

  // Random digits of the batch the model trains with, and zero state.
  std::mt19937 gen(7);
  int64_t batch = spec.train && spec.train->batch ? *spec.train->batch : 50;
  std::map<std::string, Tensor> values = std::move(*params);
  for (const runtime::ValueSpec &a : entry->args) {
    std::vector<int64_t> shape = a.shape;
    for (int64_t &d : shape)
      if (d < 0)
        d = batch;
    if (a.role == contract::kRoleInput)
      values[a.name] = randomTensor(a.dtype, shape, gen);
    else if (a.role == contract::kRoleState)
      values[a.name] = Tensor(a.dtype, shape);
  }
  Tensor stepTensor(runtime::DType::F32, {});

  auto runStep = [&](int64_t step) -> bool {
    stepTensor.data<float>()[0] = static_cast<float>(step);
    std::vector<runtime::ArgValue> args;
    for (const runtime::ValueSpec &a : entry->args) {
      if (a.role == contract::kRoleStep)
        args.push_back(runtime::ArgValue::of(stepTensor));
      else if (a.role == contract::kRoleSeed)
        args.push_back(runtime::ArgValue::scalarI64(step));
      else
        args.push_back(runtime::ArgValue::of(values.at(a.name)));
    }
    auto out = (*exe)->call(contract::kTrainStepEntry, args);
    if (!out.ok()) {
      fail(out.status().message());
      return false;
    }
    for (size_t i = 0; i < entry->results.size(); ++i) {
      const runtime::ValueSpec &r = entry->results[i];
      if (r.role == contract::kRoleParam || r.role == contract::kRoleState)
        values[r.name] = std::move((*out)[i]);
    }
    return true;
  };

  for (int64_t step = 1; step <= 2; ++step)
    if (!runStep(step))
      return 1;
  double residentMiB = statusMiB("VmRSS");
  // Reset the peak resident memory to what is resident now.
  std::ofstream("/proc/self/clear_refs") << "5";
  uint64_t bytes0 = allocatedBytes, allocs0 = allocations;
  std::vector<double> ms;
  for (int64_t step = 3; step < 3 + steps; ++step) {
    auto start = std::chrono::steady_clock::now();
    if (!runStep(step))
      return 1;
    ms.push_back(std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  double peakMiB = statusMiB("VmHWM");
  std::printf("fusion=%s steps=%d ms_per_step=%.3f bytes_per_step=%.0f "
              "allocs_per_step=%.1f peak_rss_mib=%.1f step_peak_mib=%.1f\n",
              options.fusion ? "on" : "off", steps, ms[ms.size() / 2],
              double(allocatedBytes - bytes0) / steps,
              double(allocations - allocs0) / steps, peakMiB,
              peakMiB - residentMiB);
  return 0;
}
