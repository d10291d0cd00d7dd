//===- kernels.cpp - GFLOP/s of the CNN's heaviest layers -------------------===//
//
// Compiles one-op models through the embedding API and times them on one
// core: the fully connected layer of the MNIST CNN (50x3136 by 3136x1024)
// forward and its two gradients, the second convolution (5x5, 32 to 64
// channels, 14x14, batch 50) forward and with each of its gradients, and a
// matmul whose operands stay in cache (the ceiling of the register kernel). Prints the fastest of the repetitions, in
// ms and GFLOP/s, with the CPU
// schedule and without it (CompileOptions::vectorize = false: plain loops,
// LLVM's vectorizer), then the FMA peak of the core (16 independent chains of
// 16-lane FMAs, AVX-512 only) that the figures compare with. Not a test: run
// it by hand, on an otherwise idle machine.
//
//   build/bin/dlc-bench-kernels [repetitions]
//   build/bin/dlc-bench-kernels --fma-peak [threads]
//
// --fma-peak prints only the FP32 FMA peak, of as many cores as threads
// (each thread runs the chains; the sum of their GFLOP/s), as one line
// `fma_peak_gflops=... threads=... isa=avx512` (AVX-512 only): bench/peers.py compares
// each system's CNN step with it.
//
//===----------------------------------------------------------------------===//

#include "compiler/JIT.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

using namespace dlc;

static Tensor randomTensor(std::vector<int64_t> shape, unsigned seed) {
  Tensor t(runtime::DType::F32, std::move(shape));
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (int64_t i = 0; i < t.numElements(); ++i)
    t.data<float>()[i] = dist(gen);
  return t;
}

#if defined(__x86_64__)
/// GFLOP/s of 16 independent chains of 16-lane f32 FMAs: the most one core
/// can compute (AVX-512 only). Sixteen named accumulators, so that the
/// compiler keeps every chain in a register.
__attribute__((target("avx512f"))) static double fmaPeakAVX512() {
  const __m512 b = _mm512_set1_ps(1.0000001f), c = _mm512_set1_ps(1e-7f);
#define DLC_CHAINS(X)                                                          \
  X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13)  \
      X(14) X(15)
#define DLC_INIT(i) __m512 acc##i = _mm512_set1_ps(float(i));
#define DLC_FMA(i) acc##i = _mm512_fmadd_ps(acc##i, b, c);
#define DLC_SUM(i)                                                             \
  _mm512_storeu_ps(lanes, acc##i);                                             \
  sink += lanes[0];
  DLC_CHAINS(DLC_INIT)
  constexpr long kIters = 10'000'000;
  double best = 1e30;
  for (int rep = 0; rep < 5; ++rep) {
    auto start = std::chrono::steady_clock::now();
    for (long it = 0; it < kIters; ++it) {
      DLC_CHAINS(DLC_FMA)
    }
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  float sink = 0, lanes[16];
  DLC_CHAINS(DLC_SUM)
#undef DLC_CHAINS
#undef DLC_INIT
#undef DLC_FMA
#undef DLC_SUM
  volatile float keep = sink;
  (void)keep;
  return kIters * 16 * 16 * 2 / best / 1e9;
}

/// `--fma-peak [threads]`: the FMA peak of `threads` cores, each thread
/// running the chains at once; the sum of their GFLOP/s.
static int printFmaPeak(int threads) {
  if (!__builtin_cpu_supports("avx512f")) {
    std::fprintf(stderr, "dlc-bench-kernels: --fma-peak needs AVX-512\n");
    return 1;
  }
  std::vector<double> gflops(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] { gflops[t] = fmaPeakAVX512(); });
  for (std::thread &w : workers)
    w.join();
  double sum = 0;
  for (double g : gflops)
    sum += g;
  std::printf("fma_peak_gflops=%.1f threads=%d isa=avx512\n", sum, threads);
  return 0;
}
#endif

struct Case {
  const char *name;
  const char *source;
  std::vector<std::pair<std::string, std::vector<int64_t>>> feeds;
  double flops;
  /// Time Model::gradients (the forward op and the gradient of a param)
  /// instead of Model::run.
  bool gradients = false;
};

int main(int argc, char **argv) {
  if (argc > 1 && std::strcmp(argv[1], "--fma-peak") == 0) {
    int threads = argc > 2 ? std::atoi(argv[2]) : 1;
    if (threads < 1) {
      std::fprintf(stderr, "dlc-bench-kernels: --fma-peak needs a positive thread count\n");
      return 1;
    }
#if defined(__x86_64__)
    return printFmaPeak(threads);
#else
    std::fprintf(stderr, "dlc-bench-kernels: --fma-peak is for x86-64 only\n");
    return 1;
#endif
  }
  int reps = argc > 1 ? std::atoi(argv[1]) : 20;
  if (reps < 1 || argc > 2) {
    bool help = argc > 1 && std::strcmp(argv[1], "--help") == 0;
    std::fprintf(help ? stdout : stderr, "usage: dlc-bench-kernels [repetitions >= 1]\n"
                                         "       dlc-bench-kernels --fma-peak [threads]\n");
    return help ? 0 : 1;
  }
  std::vector<Case> cases = {
      {"fc forward    50x3136 * 3136x1024",
       "input a: f32[B, 3136]\ninput w: f32[3136, 1024]\noutput c = matmul(a, w)\n",
       {{"a", {50, 3136}}, {"w", {3136, 1024}}}, 2.0 * 50 * 3136 * 1024},
      {"fc grad W     (50x3136)^T * 50x1024",
       "input a: f32[B, 3136]\ninput g: f32[B, 1024]\noutput c = matmul(transpose(a), g)\n",
       {{"a", {50, 3136}}, {"g", {50, 1024}}}, 2.0 * 50 * 3136 * 1024},
      {"fc grad x     50x1024 * (3136x1024)^T",
       "input g: f32[B, 1024]\ninput w: f32[3136, 1024]\noutput c = matmul(g, transpose(w))\n",
       {{"g", {50, 1024}}, {"w", {3136, 1024}}}, 2.0 * 50 * 3136 * 1024},
      {"conv2 forward 50x14x14x32 * 5x5x32x64",
       "input x: f32[B, 14, 14, 32]\ninput w: f32[5, 5, 32, 64]\n"
       "output y = conv2d(x, w, stride=1, padding=same)\n",
       {{"x", {50, 14, 14, 32}}, {"w", {5, 5, 32, 64}}},
       2.0 * 50 * 14 * 14 * 64 * 5 * 5 * 32},
  };
  // The convolution's gradients, each timed with the forward convolution
  // that the loss needs (twice the forward's FLOPs): the weight gradient
  // (the param is the filter) and the input gradient (the param is the
  // input; the filter is fed).
  const double conv2 = 2.0 * 50 * 14 * 14 * 64 * 5 * 5 * 32;
  cases.push_back({"conv2 forward + weight grad",
                   "input x: f32[B, 14, 14, 32]\ninput r: f32[B, 14, 14, 64]\n"
                   "param w: f32[5, 5, 32, 64] = truncated_normal(stddev=0.1)\n"
                   "loss = sum(conv2d(x, w, stride=1, padding=same) * r)\n",
                   {{"x", {50, 14, 14, 32}}, {"r", {50, 14, 14, 64}}}, 2 * conv2, true});
  cases.push_back({"conv2 forward + input grad",
                   "input w: f32[5, 5, 32, 64]\ninput r: f32[50, 14, 14, 64]\n"
                   "param x: f32[50, 14, 14, 32] = truncated_normal(stddev=0.1)\n"
                   "loss = sum(conv2d(x, w, stride=1, padding=same) * r)\n",
                   {{"w", {5, 5, 32, 64}}, {"r", {50, 14, 14, 64}}}, 2 * conv2, true});
  // The register kernel with everything in cache: the ceiling for the rest.
  cases.push_back({"in-cache     2048x256 * 256x64 ",
                   "input a: f32[B, 256]\ninput w: f32[256, 64]\noutput c = matmul(a, w)\n",
                   {{"a", {2048, 256}}, {"w", {256, 64}}}, 2.0 * 2048 * 256 * 64});
  std::printf("%-40s %22s %22s\n", "", "schedule", "no schedule");
  for (const Case &c : cases) {
    std::printf("%-40s", c.name);
    for (bool vectorize : {true, false}) {
      CompileOptions options;
      options.vectorize = vectorize;
      auto model = Model::fromSource(c.source, "bench.dl", options);
      if (!model.ok()) {
        std::fprintf(stderr, "%s\n", model.message().c_str());
        return 1;
      }
      std::map<std::string, Tensor> feeds;
      unsigned seed = 1;
      for (const auto &[name, shape] : c.feeds)
        feeds.emplace(name, randomTensor(shape, seed++));
      if (auto s = model->initParams(0); !s.ok()) {
        std::fprintf(stderr, "%s\n", s.message().c_str());
        return 1;
      }
      auto once = [&] {
        return c.gradients ? model->gradients(feeds).status() : model->run(feeds).status();
      };
      if (auto warm = once(); !warm.ok()) { // compiles
        std::fprintf(stderr, "%s\n", warm.message().c_str());
        return 1;
      }
      // The fastest of the repetitions: the machine's noise only adds time.
      // Unscheduled gradients take seconds: once is enough.
      int n = vectorize ? reps : c.gradients ? 1 : std::max(1, reps / 4);
      double sec = 1e30;
      for (int i = 0; i < n; ++i) {
        auto start = std::chrono::steady_clock::now();
        (void)once();
        sec = std::min(sec, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
      std::printf(" %8.3f ms %7.1f GF/s", sec * 1e3, c.flops / sec / 1e9);
      std::fflush(stdout);
    }
    std::printf("\n");
  }
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f"))
    std::printf("%-40s %22.1f GF/s\n", "FMA peak of one core", fmaPeakAVX512());
#endif
  return 0;
}
