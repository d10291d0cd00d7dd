//===- RuntimeTest.cpp - Unit tests for the dlc runtime -------------------===//
//
// Tests runtime/: tensor printing and literal parsing, the seeded generator
// and initializers, IDX reading (plain, gzipped and every corruption we
// detect), safetensors checkpoints, data sets and batching. Files are written
// to a fresh temporary folder per test. DLC_TEST_DATA_DIR names the bundled
// mnist-10k folder.
//
//===----------------------------------------------------------------------===//

#include "runtime/Checkpoint.h"
#include "runtime/Communicator.h"
#include "runtime/Dataset.h"
#include "runtime/Idx.h"
#include "runtime/Memory.h"
#include "runtime/ModelSpec.h"
#include "runtime/Parallel.h"
#include "runtime/Random.h"
#include "runtime/Status.h"
#include "runtime/Tensor.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef DLC_TEST_DATA_DIR
#error "DLC_TEST_DATA_DIR must name the mnist-10k folder"
#endif

using namespace dlc::runtime;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<uint8_t>;

/// A temporary folder removed at the end of the test.
class TempDir {
public:
  TempDir() {
    char pattern[] = "/tmp/dlc-runtime-test-XXXXXX";
    char *made = ::mkdtemp(pattern);
    EXPECT_NE(made, nullptr);
    path_ = made ? made : "/tmp";
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string &name) const { return path_ + "/" + name; }
  const std::string &path() const { return path_; }
  std::vector<std::string> list() const {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto &entry : fs::directory_iterator(path_, ec))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

private:
  std::string path_;
};

void writeFile(const std::string &path, const Bytes &bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
}

Bytes readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in),
               std::istreambuf_iterator<char>());
}

void writeGz(const std::string &path, const Bytes &bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  if (!bytes.empty()) {
    ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
  }
  ASSERT_EQ(gzclose(f), Z_OK);
}

void appendBigEndian(Bytes &out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i)
    out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

/// Builds an IDX file: magic, big-endian dims, then `payload` as given.
Bytes makeIdx(uint8_t type, const std::vector<uint32_t> &dims,
              const Bytes &payload) {
  Bytes out{0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims)
    appendBigEndian(out, d, 4);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

bool contains(const std::string &haystack, const std::string &needle) {
  return haystack.find(needle) != std::string::npos;
}

#define EXPECT_ERROR_CONTAINS(expr, needle)                                    \
  do {                                                                         \
    auto &&result_ = (expr);                                                   \
    ASSERT_FALSE(result_.ok()) << "expected an error containing: " << needle;  \
    EXPECT_TRUE(contains(result_.message(), needle))                           \
        << "message: " << result_.message() << "\nexpected: " << needle;     \
  } while (0)

} // namespace

//===----------------------------------------------------------------------===//
// Status
//===----------------------------------------------------------------------===//

TEST(StatusTest, OkAndErrors) {
  Status ok;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.message(), "");
  Status err = makeError("expected ", 3, " dims, got ", 2);
  EXPECT_FALSE(err.ok());
  EXPECT_EQ(err.message(), "expected 3 dims, got 2");
  EXPECT_EQ(err.withPrefix("a.dl: ").message(), "a.dl: expected 3 dims, got 2");
  StatusOr<int> value(5);
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, 5);
  StatusOr<int> failed(Status::error("boom"));
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(failed.message(), "boom");
}

//===----------------------------------------------------------------------===//
// Tensor
//===----------------------------------------------------------------------===//

TEST(TensorTest, FormatMatchesLanguage) {
  EXPECT_EQ(Tensor::scalar(7.0f).format(), "7");
  EXPECT_EQ(Tensor::scalar(4.5f).format(), "4.5");
  EXPECT_EQ(Tensor::scalar<int32_t>(-3).format(), "-3");
  EXPECT_EQ(Tensor::fromVector<float>({2}, {3, 7}).format(), "[3, 7]");
  EXPECT_EQ(Tensor::fromVector<float>({2, 2}, {1, 2, 3, 4}).format(),
            "[[1, 2], [3, 4]]");
  EXPECT_EQ(Tensor::fromVector<float>({3}, {0.1f, 1e-5f, -2.5e7f}).format(),
            "[0.1, 1e-05, -2.5e+07]");
  EXPECT_EQ(Tensor::fromVector<int32_t>({1, 3}, {1234567, 0, -1}).format(),
            "[[1234567, 0, -1]]");
  EXPECT_EQ(Tensor::fromVector<float>({1}, {-1}).format(), "[-1]");
  EXPECT_EQ(Tensor::zeros({0}).format(), "[]");
  EXPECT_EQ(Tensor::zeros({2, 0}).format(), "[[], []]");
  EXPECT_EQ(Tensor::zeros({2, 1, 2}, DType::I32).format(),
            "[[[0, 0]], [[0, 0]]]");
}

TEST(TensorTest, BasicsAlignmentAndCopy) {
  Tensor t = Tensor::zeros({3, 5});
  EXPECT_EQ(t.numElements(), 15);
  EXPECT_EQ(t.byteSize(), 60u);
  EXPECT_EQ(t.rank(), 2);
  EXPECT_EQ(t.typeString(), "f32[3, 5]");
  for (int64_t n : {1, 3, 17, 1000}) {
    Tensor u = Tensor::zeros({n}, DType::I32);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(u.rawData()) % 64, 0u);
    for (int64_t i = 0; i < n; ++i)
      EXPECT_EQ(u.data<int32_t>()[i], 0);
  }
  t.data<float>()[4] = 2.5f;
  Tensor c = t.copy();
  c.data<float>()[4] = 1.0f;
  EXPECT_EQ(t.data<float>()[4], 2.5f);
  EXPECT_NE(c.rawData(), t.rawData());
  Tensor assigned;
  assigned = t;
  EXPECT_EQ(assigned.shape(), t.shape());
  EXPECT_EQ(assigned.data<float>()[4], 2.5f);

  ASSERT_TRUE(t.reshape({15}).ok());
  EXPECT_EQ(t.shape(), std::vector<int64_t>{15});
  EXPECT_ERROR_CONTAINS(t.reshape({4, 4}),
                        "cannot reshape f32[15] to [4, 4]");
  StatusOr<Tensor> r = t.reshaped({5, 3});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->data<float>()[4], 2.5f);

  EXPECT_ERROR_CONTAINS(Tensor::allocate(DType::F32, {2, -1}),
                        "invalid tensor shape [2, -1]");
  EXPECT_ERROR_CONTAINS(
      Tensor::allocate(DType::F32, {1LL << 40, 1LL << 40}), "invalid");
  EXPECT_EQ(checkedNumElements({}), 1);
  EXPECT_EQ(checkedNumElements({4, 0, 3}), 0);
  EXPECT_EQ(checkedNumElements({1LL << 62, 4}), -1);
}

TEST(MemoryTest, SizesAreCheckedAndPlannedBeforeAllocating) {
  EXPECT_EQ(tensorBytes({2, 3}), 24u);
  EXPECT_EQ(tensorBytes({}, 4, 2), 8u);
  EXPECT_EQ(tensorBytes({2, -1}), UINT64_MAX);
  EXPECT_EQ(tensorBytes({1LL << 40, 1LL << 22}), UINT64_MAX); // 2^64 bytes
  EXPECT_EQ(tensorBytes({1LL << 31, 1LL << 30}, 4, 2), UINT64_MAX);

  MemoryPlan plan(100);
  plan.kind("params");
  ASSERT_TRUE(plan.add("param 'a'", 60).ok());
  plan.kind("data");
  EXPECT_ERROR_CONTAINS(plan.add("data x", 50),
                        "data x needs 50 bytes, more than the 40 bytes left of the 100 "
                        "bytes dlc may use (--memory-limit) beside the 60 bytes counted "
                        "before it (params 60)");
  EXPECT_EQ(plan.total(), 60u); // a refused add counts nothing
  EXPECT_ERROR_CONTAINS(plan.add("w", UINT64_MAX), "w needs more than 2^64 bytes");
  ASSERT_TRUE(plan.add("data y", 40).ok());
  plan.release(40);
  EXPECT_EQ(plan.total(), 60u);

  // A size malloc cannot give is an error from allocate(), not a null buffer.
  EXPECT_ERROR_CONTAINS(Tensor::allocate(DType::F32, {1LL << 40, 1LL << 20}),
                        "cannot allocate 4611686018427387904 bytes for f32[");
  Tensor t = Tensor::fromVector<float>({2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(t.rows(1, 2)->toVector<float>(), (std::vector<float>{3, 4}));
}

TEST(TensorTest, ParseLiterals) {
  struct Case {
    const char *text;
    std::vector<int64_t> shape;
    std::vector<float> values;
  };
  std::vector<Case> cases = {
      {"3", {}, {3}},
      {"4.5", {}, {4.5f}},
      {"-0.25", {}, {-0.25f}},
      {"[1,2,3]", {3}, {1, 2, 3}},
      {"[[1,2],[3,4]]", {2, 2}, {1, 2, 3, 4}},
      {"[-1]", {1}, {-1}},
      {"  [ 1 , 2e-1 ,+3 ]  ", {3}, {1, 0.2f, 3}},
      {"[1e-4, .5, 6.]", {3}, {1e-4f, 0.5f, 6}},
      {"[]", {0}, {}},
      {"[[[1],[2]]]", {1, 2, 1}, {1, 2}},
  };
  for (const Case &c : cases) {
    StatusOr<Tensor> t = parseTensorLiteral(c.text);
    ASSERT_TRUE(t.ok()) << c.text << ": " << t.message();
    EXPECT_EQ(t->dtype(), DType::F32);
    EXPECT_EQ(t->shape(), c.shape) << c.text;
    EXPECT_EQ(t->toVector<float>(), c.values) << c.text;
  }
  StatusOr<Tensor> ints = parseTensorLiteral("[[0, -1], [2, 2147483647]]",
                                             DType::I32);
  ASSERT_TRUE(ints.ok()) << ints.message();
  EXPECT_EQ(ints->toVector<int32_t>(),
            (std::vector<int32_t>{0, -1, 2, 2147483647}));
  EXPECT_EQ(ints->format(), "[[0, -1], [2, 2147483647]]");
  // Round trip through format().
  StatusOr<Tensor> again = parseTensorLiteral(
      Tensor::fromVector<float>({2, 2}, {1, 2.5f, -3, 1e-5f}).format());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->toVector<float>(),
            (std::vector<float>{1, 2.5f, -3, 1e-5f}));
}

TEST(TensorTest, ParseErrorsNameTheColumn) {
  auto err = [](const char *text, DType dtype = DType::F32) {
    StatusOr<Tensor> t = parseTensorLiteral(text, dtype);
    EXPECT_FALSE(t.ok()) << text;
    return t.ok() ? std::string() : t.message();
  };
  EXPECT_EQ(err(""), "column 1: expected a number or '[', got the end of the "
                     "input");
  EXPECT_EQ(err("[1,2"), "column 5: expected ',' or ']', got the end of the "
                         "input");
  EXPECT_EQ(err("[1,,2]"), "column 4: expected a number or '[', got ','");
  EXPECT_EQ(err("abc"), "column 1: expected a number or '[', got 'a'");
  EXPECT_EQ(err("[1] x"), "column 5: unexpected 'x' after the tensor literal");
  EXPECT_EQ(err("[1.2.3]"), "column 2: invalid number '1.2.3'");
  EXPECT_EQ(err("[1 2]"), "column 4: expected ',' or ']', got '2'");
  EXPECT_EQ(err("[[1,2],[3]]"),
            "column 8: ragged tensor literal: element has shape [1] but the "
            "first has [2]");
  EXPECT_EQ(err("[1,[2]]"),
            "column 4: ragged tensor literal: element has shape [1] but the "
            "first has []");
  EXPECT_EQ(err("[1.5]", DType::I32),
            "column 2: expected an integer for an i32 tensor, got '1.5'");
  EXPECT_EQ(err("3000000000", DType::I32),
            "column 1: integer '3000000000' does not fit in i32");
  EXPECT_EQ(err("1e999"), "column 1: number '1e999' is out of range");
  EXPECT_TRUE(contains(err(std::string(100, '[').c_str()), "nested deeper"));
}

TEST(TensorTest, MemRefDescriptor) {
  Tensor t = Tensor::zeros({2, 3, 4});
  std::vector<int64_t> words{99};
  appendMemRefDescriptor(t, words);
  ASSERT_EQ(words.size(), 1 + memRefDescriptorWords(3));
  int64_t p = reinterpret_cast<intptr_t>(t.rawData());
  EXPECT_EQ(words, (std::vector<int64_t>{99, p, p, 0, 2, 3, 4, 12, 4, 1}));

  Tensor s = Tensor::scalar(1.0f);
  std::vector<int64_t> scalarWords;
  appendMemRefDescriptor(s, scalarWords);
  int64_t q = reinterpret_cast<intptr_t>(s.rawData());
  EXPECT_EQ(scalarWords, (std::vector<int64_t>{q, q, 0}));
}

//===----------------------------------------------------------------------===//
// Random
//===----------------------------------------------------------------------===//

TEST(TensorTest, RowsCopyAShard) {
  Tensor t = Tensor::fromVector<float>({3, 2}, {1, 2, 3, 4, 5, 6});
  Tensor mid = *t.rows(1, 3);
  EXPECT_EQ(mid.shape(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(mid.toVector<float>(), (std::vector<float>{3, 4, 5, 6}));
  EXPECT_EQ(t.rows(2, 2)->numElements(), 0);
  mid.data<float>()[0] = 9; // a copy, not a view
  EXPECT_EQ(t.data<float>()[2], 3);
}

/// Sets an environment variable for the scope of one test.
class ScopedEnv {
public:
  ScopedEnv(const char *name, const char *value) : name(name) {
    if (const char *old = std::getenv(name))
      saved = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (saved)
      ::setenv(name, saved->c_str(), 1);
    else
      ::unsetenv(name);
  }

private:
  const char *name;
  std::optional<std::string> saved;
};

TEST(CommunicatorTest, LocalCollectivesLeaveDataAlone) {
  auto comm = localCommunicator();
  EXPECT_EQ(comm->rank(), 0);
  EXPECT_EQ(comm->size(), 1);
  EXPECT_TRUE(comm->isRoot());
  std::vector<float> f = {1.5f, -2};
  std::vector<double> d = {3};
  EXPECT_TRUE(comm->allreduceSum(f.data(), f.size()).ok());
  EXPECT_TRUE(comm->allreduceSum(d.data(), d.size()).ok());
  EXPECT_TRUE(comm->broadcast(f.data(), sizeof(float) * f.size(), 0).ok());
  EXPECT_TRUE(comm->barrier().ok());
  EXPECT_EQ(f, (std::vector<float>{1.5f, -2}));
  EXPECT_EQ(d, (std::vector<double>{3}));
}

TEST(CommunicatorTest, LauncherEnvironment) {
  ScopedEnv size("OMPI_COMM_WORLD_SIZE", nullptr), pmi("PMI_SIZE", nullptr),
      pmix("PMIX_SIZE", nullptr), local("OMPI_COMM_WORLD_LOCAL_SIZE", nullptr),
      hydra("MPI_LOCALNRANKS", nullptr), slurm("SLURM_NTASKS_PER_NODE", nullptr);
  // No launcher: one process, on its own, with every core.
  EXPECT_EQ(launchedWorldSize(), 0);
  EXPECT_EQ(launchedLocalSize(), 1);
  EXPECT_EQ(defaultThreadsPerRank(), availableCores());
  auto world = worldCommunicator();
  ASSERT_TRUE(world.ok());
  EXPECT_EQ((*world)->name(), "local");
  {
    // mpirun -np 1: still this process alone.
    ScopedEnv one("OMPI_COMM_WORLD_SIZE", "1");
    EXPECT_EQ(launchedWorldSize(), 1);
    auto w = worldCommunicator();
    ASSERT_TRUE(w.ok());
    EXPECT_EQ((*w)->size(), 1);
  }
  {
    // The cores are shared among the job's processes on this machine.
    ScopedEnv pmiSize("PMI_SIZE", "8");
    ScopedEnv localSize("OMPI_COMM_WORLD_LOCAL_SIZE", "4");
    EXPECT_EQ(launchedWorldSize(), 8);
    EXPECT_EQ(launchedLocalSize(), 4);
    // The machine's cores are shared; a mask narrower than the machine is
    // the launcher's binding, this process's own.
    if (availableCores() == sysconf(_SC_NPROCESSORS_ONLN))
      EXPECT_EQ(defaultThreadsPerRank(), std::max(1, availableCores() / 4));
    else
      EXPECT_EQ(defaultThreadsPerRank(), availableCores());
  }
  {
    ScopedEnv bad("OMPI_COMM_WORLD_SIZE", "two");
    EXPECT_EQ(launchedWorldSize(), 0);
  }
}

TEST(RandomTest, KnownFirstValues) {
  // xoshiro256** seeded by splitmix64, checked against an independent
  // implementation.
  Generator g(0);
  EXPECT_EQ(g.nextU64(), 0x99ec5f36cb75f2b4ULL);
  EXPECT_EQ(g.nextU64(), 0xbf6e1f784956452aULL);
  EXPECT_EQ(g.nextU64(), 0x1a5f849d4933e6e0ULL);
  Generator h(42);
  EXPECT_EQ(h.nextU64(), 0x15780b2e0c2ec716ULL);
  EXPECT_EQ(h.nextU64(), 0x6104d9866d113a7eULL);
  Generator d(0);
  EXPECT_DOUBLE_EQ(d.nextDouble(), 0.6012629994179048);
  EXPECT_DOUBLE_EQ(d.nextDouble(), 0.7477740925472398);
}

TEST(RandomTest, DeterminismAndState) {
  Generator a(7), b(7), c(8);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    double x = a.nextNormal();
    EXPECT_EQ(x, b.nextNormal());
    differs |= x != c.nextNormal();
  }
  EXPECT_TRUE(differs);
  Generator::State s = a.state();
  std::vector<uint64_t> first;
  for (int i = 0; i < 5; ++i)
    first.push_back(a.nextU64());
  a.setState(s);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(a.nextU64(), first[i]);
  a.seed(7);
  b.seed(7);
  EXPECT_EQ(a.nextU64(), b.nextU64());
}

TEST(RandomTest, BoundedAndNormalMoments) {
  Generator g(1);
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 70000; ++i) {
    uint64_t v = g.nextBelow(7);
    ASSERT_LT(v, 7u);
    ++counts[v];
  }
  for (int c : counts)
    EXPECT_NEAR(c, 10000, 400);
  double sum = 0, sumSq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    double x = g.nextNormal();
    sum += x;
    sumSq += x * x;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sumSq / n, 1.0, 0.015);
}

namespace {
void moments(const Tensor &t, double &mean, double &stddev, float &lo,
             float &hi) {
  const float *p = t.data<float>();
  double sum = 0, sumSq = 0;
  lo = hi = p[0];
  for (int64_t i = 0; i < t.numElements(); ++i) {
    sum += p[i];
    sumSq += double(p[i]) * p[i];
    lo = std::min(lo, p[i]);
    hi = std::max(hi, p[i]);
  }
  mean = sum / t.numElements();
  stddev = std::sqrt(sumSq / t.numElements() - mean * mean);
}
} // namespace

TEST(RandomTest, Initializers) {
  Generator g(0);
  double mean, stddev;
  float lo, hi;

  Tensor t = Tensor::zeros({100000});
  ASSERT_TRUE(initialize(t, InitSpec::normal(2, 3), g).ok());
  moments(t, mean, stddev, lo, hi);
  EXPECT_NEAR(mean, 2.0, 0.05);
  EXPECT_NEAR(stddev, 3.0, 0.05);
  EXPECT_LT(lo, 2 - 3 * 3.5); // a plain normal reaches past 3.5 stddev

  ASSERT_TRUE(initialize(t, InitSpec::truncatedNormal(1, 0.1), g).ok());
  moments(t, mean, stddev, lo, hi);
  EXPECT_GE(lo, 0.8f - 1e-6f);
  EXPECT_LE(hi, 1.2f + 1e-6f);
  EXPECT_LT(lo, 0.81f);
  EXPECT_GT(hi, 1.19f);
  EXPECT_NEAR(mean, 1.0, 0.002);
  // A normal truncated at +-2 stddev keeps 0.8796 of its stddev.
  EXPECT_NEAR(stddev, 0.08796, 0.002);

  ASSERT_TRUE(initialize(t, InitSpec::uniform(-2, 5), g).ok());
  moments(t, mean, stddev, lo, hi);
  EXPECT_GE(lo, -2.0f);
  EXPECT_LE(hi, 5.0f);
  EXPECT_NEAR(mean, 1.5, 0.05);
  EXPECT_NEAR(stddev, 7 / std::sqrt(12.0), 0.03);

  Tensor f = Tensor::zeros({2, 2});
  ASSERT_TRUE(initialize(f, InitSpec::fill(0.1), g).ok());
  EXPECT_EQ(f.toVector<float>(), std::vector<float>(4, 0.1f));
  ASSERT_TRUE(initialize(f, InitSpec::ones(), g).ok());
  EXPECT_EQ(f.toVector<float>(), std::vector<float>(4, 1.0f));
  ASSERT_TRUE(initialize(f, InitSpec::zeros(), g).ok());
  EXPECT_EQ(f.toVector<float>(), std::vector<float>(4, 0.0f));
  Tensor i = Tensor::zeros({3}, DType::I32);
  ASSERT_TRUE(initialize(i, InitSpec::fill(4), g).ok());
  EXPECT_EQ(i.toVector<int32_t>(), std::vector<int32_t>(3, 4));

  EXPECT_ERROR_CONTAINS(initialize(i, InitSpec::fill(2.5), g),
                        "fill(2.5) needs an integer value for an i32 tensor");
  EXPECT_ERROR_CONTAINS(initialize(i, InitSpec::normal(), g),
                        "normal() needs an f32 tensor, got i32[3]");
  EXPECT_ERROR_CONTAINS(initialize(f, InitSpec{"gaussian", 0, 1}, g),
                        "unknown initializer 'gaussian'");
  EXPECT_ERROR_CONTAINS(initialize(f, InitSpec::truncatedNormal(0, -1), g),
                        "truncated_normal() needs stddev >= 0, got -1");
  EXPECT_ERROR_CONTAINS(initialize(f, InitSpec::uniform(1, 0), g),
                        "uniform() needs low <= high");
}

TEST(RandomTest, GlorotUsesKerasFans) {
  double in, out;
  computeFans({}, in, out);
  EXPECT_EQ(in, 1);
  EXPECT_EQ(out, 1);
  computeFans({7}, in, out);
  EXPECT_EQ(in, 7);
  EXPECT_EQ(out, 7);
  computeFans({784, 10}, in, out);
  EXPECT_EQ(in, 784);
  EXPECT_EQ(out, 10);
  computeFans({5, 5, 1, 32}, in, out);
  EXPECT_EQ(in, 25);
  EXPECT_EQ(out, 800);

  Generator g(3);
  struct Case {
    std::vector<int64_t> shape;
    double limit;
  };
  for (const Case &c : {Case{{784, 10}, std::sqrt(6.0 / 794)},
                        Case{{5, 5, 1, 32}, std::sqrt(6.0 / 825)}}) {
    Tensor t = Tensor::zeros(c.shape);
    ASSERT_TRUE(initialize(t, InitSpec::glorotUniform(), g).ok());
    double mean, stddev;
    float lo, hi;
    moments(t, mean, stddev, lo, hi);
    EXPECT_GE(lo, -c.limit - 1e-6);
    EXPECT_LE(hi, c.limit + 1e-6);
    EXPECT_LT(lo, -0.95 * c.limit);
    EXPECT_GT(hi, 0.95 * c.limit);
    EXPECT_NEAR(mean, 0.0, 0.05 * c.limit);
  }
}

TEST(RandomTest, InitializationIsReproducible) {
  Tensor a = Tensor::zeros({5, 5, 1, 32}), b = Tensor::zeros({5, 5, 1, 32});
  Generator ga(11), gb(11);
  ASSERT_TRUE(initialize(a, InitSpec::truncatedNormal(0, 0.1), ga).ok());
  ASSERT_TRUE(initialize(b, InitSpec::truncatedNormal(0, 0.1), gb).ok());
  EXPECT_EQ(std::memcmp(a.rawData(), b.rawData(), a.byteSize()), 0);
  ASSERT_TRUE(initialize(a, InitSpec::glorotUniform(), ga).ok());
  ASSERT_TRUE(initialize(b, InitSpec::glorotUniform(), gb).ok());
  EXPECT_EQ(std::memcmp(a.rawData(), b.rawData(), a.byteSize()), 0);
}

TEST(RandomTest, Permutation) {
  Generator g(5), h(5);
  std::vector<int64_t> p = permutation(100, g);
  EXPECT_EQ(p, permutation(100, h));
  std::vector<int64_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 100; ++i)
    EXPECT_EQ(sorted[i], i);
  int fixedPoints = 0;
  for (int64_t i = 0; i < 100; ++i)
    fixedPoints += p[i] == i;
  EXPECT_LT(fixedPoints, 10);
  EXPECT_NE(p, permutation(100, g)); // the next epoch differs
  EXPECT_TRUE(permutation(0, g).empty());
  EXPECT_EQ(permutation(1, g), std::vector<int64_t>{0});
}

//===----------------------------------------------------------------------===//
// IDX
//===----------------------------------------------------------------------===//

TEST(IdxTest, ReadsPlainAndGzippedUBytes) {
  TempDir dir;
  Bytes payload;
  for (int i = 0; i < 12; ++i)
    payload.push_back(static_cast<uint8_t>(i * 20));
  Bytes file = makeIdx(0x08, {3, 2, 2}, payload);
  writeFile(dir.file("a.idx"), file);
  writeGz(dir.file("a.idx.gz"), file);
  for (const char *name : {"a.idx", "a.idx.gz"}) {
    StatusOr<Tensor> t = readIdx(dir.file(name), DType::F32, 0.5);
    ASSERT_TRUE(t.ok()) << t.message();
    EXPECT_EQ(t->shape(), (std::vector<int64_t>{3, 2, 2}));
    for (int i = 0; i < 12; ++i)
      EXPECT_EQ(t->data<float>()[i], i * 10.0f);
    StatusOr<Tensor> labels = readIdx(dir.file(name), DType::I32);
    ASSERT_TRUE(labels.ok()) << labels.message();
    EXPECT_EQ(labels->data<int32_t>()[11], 220);
  }
  StatusOr<Tensor> scaled = readIdx(dir.file("a.idx"), DType::F32, 1.0 / 255);
  ASSERT_TRUE(scaled.ok());
  EXPECT_FLOAT_EQ(scaled->data<float>()[11], 220.0f / 255.0f);
}

TEST(IdxTest, ReadsEveryElementType) {
  TempDir dir;
  auto roundTrip = [&](uint8_t type, const Bytes &payload, DType as) {
    std::string path = dir.file("t" + std::to_string(type));
    writeGz(path, makeIdx(type, {2}, payload));
    return readIdx(path, as);
  };
  Bytes sbyte{0xfb, 0x07}; // -5, 7
  Bytes shorts;
  appendBigEndian(shorts, static_cast<uint16_t>(-300), 2);
  appendBigEndian(shorts, 300, 2);
  Bytes ints;
  appendBigEndian(ints, 70000, 4);
  appendBigEndian(ints, static_cast<uint32_t>(-2), 4);
  auto floatBits = [](float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
  };
  Bytes floats;
  appendBigEndian(floats, floatBits(1.5f), 4);
  appendBigEndian(floats, floatBits(3.0f), 4);
  Bytes doubles;
  double dv[2] = {-2.25, 8.0};
  for (double v : dv) {
    uint64_t u;
    std::memcpy(&u, &v, 8);
    appendBigEndian(doubles, u, 8);
  }
  struct Case {
    uint8_t type;
    Bytes payload;
    std::vector<float> values;
  };
  for (const Case &c : {Case{0x09, sbyte, {-5, 7}},
                        Case{0x0B, shorts, {-300, 300}},
                        Case{0x0C, ints, {70000, -2}},
                        Case{0x0D, floats, {1.5f, 3}},
                        Case{0x0E, doubles, {-2.25f, 8}}}) {
    StatusOr<Tensor> t = roundTrip(c.type, c.payload, DType::F32);
    ASSERT_TRUE(t.ok()) << t.message();
    EXPECT_EQ(t->toVector<float>(), c.values) << int(c.type);
  }
  StatusOr<Tensor> i = roundTrip(0x0C, ints, DType::I32);
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i->toVector<int32_t>(), (std::vector<int32_t>{70000, -2}));
  EXPECT_ERROR_CONTAINS(roundTrip(0x0D, floats, DType::I32),
                        "element 0 is 1.5, not an integer");
  EXPECT_ERROR_CONTAINS(roundTrip(0x0E, doubles, DType::I32),
                        "element 0 is -2.25, not an integer");
}

TEST(IdxTest, RejectsCorruptFiles) {
  TempDir dir;
  Bytes payload(12, 1);
  auto check = [&](const std::string &name, const Bytes &bytes,
                   const std::string &expected, bool gzip = false) {
    std::string path = dir.file(name);
    if (gzip)
      writeGz(path, bytes);
    else
      writeFile(path, bytes);
    StatusOr<Tensor> t = readIdx(path, DType::F32);
    ASSERT_FALSE(t.ok()) << name;
    EXPECT_EQ(t.message(), path + ": " + expected) << name;
  };

  for (bool gz : {false, true}) {
    std::string suffix = gz ? ".gz" : "";
    check("empty" + suffix, {},
          "truncated IDX header: expected 4 bytes, got 0", gz);
    check("short" + suffix, {0, 0},
          "truncated IDX header: expected 4 bytes, got 2", gz);
    Bytes badMagic = makeIdx(0x08, {3, 4}, payload);
    badMagic[0] = 1;
    check("magic" + suffix, badMagic,
          "bad IDX magic 0x01000802: expected two zero bytes, a type code and "
          "a rank",
          gz);
    check("type" + suffix, makeIdx(0x07, {3, 4}, payload),
          "unknown IDX type code 0x07: expected 0x08, 0x09, 0x0b, 0x0c, 0x0d "
          "or 0x0e",
          gz);
    check("rank0" + suffix, makeIdx(0x08, {}, {}),
          "IDX rank is 0: expected at least one dimension", gz);
    Bytes dims = makeIdx(0x08, {3, 4}, {});
    dims.resize(9);
    check("dims" + suffix, dims,
          "truncated IDX header: expected 2 dimensions, got 1", gz);
    check("data" + suffix, makeIdx(0x08, {3, 4}, Bytes(10, 1)),
          "truncated IDX data: expected 12 bytes, got 10", gz);
    check("shorts" + suffix, makeIdx(0x0B, {3, 4}, Bytes(12, 1)),
          "truncated IDX data: expected 24 bytes, got 12", gz);
    check("trailing" + suffix, makeIdx(0x08, {3, 4}, Bytes(15, 1)),
          "trailing garbage: 3 bytes after the IDX data of shape [3, 4]", gz);
  }
  // A header claiming 10^12 bytes must fail before allocating them.
  check("huge", makeIdx(0x08, {100000, 100000, 100}, payload),
        "truncated IDX data: expected 1000000000000 bytes, got 12");
  writeGz(dir.file("huge.gz"), makeIdx(0x08, {100000, 100000, 100}, payload));
  EXPECT_ERROR_CONTAINS(readIdx(dir.file("huge.gz")),
                        "IDX header claims 1000000000000 bytes of ubyte data "
                        "for shape [100000, 100000, 100], more than a gzip "
                        "file of");
  check("overflow", makeIdx(0x0E, {0xffffffff, 0xffffffff, 0xffffffff}, {}),
        "IDX shape [4294967295, 4294967295, 4294967295] is too large");

  // A damaged gzip stream: cut short, or with its compressed bytes changed.
  Bytes big = makeIdx(0x08, {100, 100}, Bytes(10000, 0));
  for (size_t i = 0; i < 10000; ++i)
    big[12 + i] = static_cast<uint8_t>((i * 7919) >> 3);
  writeGz(dir.file("good.gz"), big);
  ASSERT_TRUE(readIdx(dir.file("good.gz")).ok());
  Bytes gz = readFile(dir.file("good.gz"));
  Bytes cut(gz.begin(), gz.begin() + gz.size() / 2);
  writeFile(dir.file("cut.gz"), cut);
  EXPECT_ERROR_CONTAINS(readIdx(dir.file("cut.gz")), "truncated IDX data");
  Bytes noTrailer(gz.begin(), gz.end() - 4);
  writeFile(dir.file("notrailer.gz"), noTrailer);
  EXPECT_ERROR_CONTAINS(readIdx(dir.file("notrailer.gz")),
                        "truncated gzip stream");
  Bytes flipped = gz;
  for (size_t i = gz.size() / 3; i < gz.size() / 3 + 8; ++i)
    flipped[i] ^= 0x5a;
  writeFile(dir.file("flipped.gz"), flipped);
  StatusOr<Tensor> f = readIdx(dir.file("flipped.gz"));
  ASSERT_FALSE(f.ok());
  EXPECT_TRUE(contains(f.message(), "corrupt gzip data") ||
              contains(f.message(), "truncated"))
      << f.message();

  // Bytes after the gzip data are garbage (zlib's gz* API skipped them); a
  // second gzip member is more data.
  Bytes junk = gz;
  junk.insert(junk.end(), {'j', 'u', 'n', 'k'});
  writeFile(dir.file("junk.gz"), junk);
  EXPECT_EQ(readIdx(dir.file("junk.gz")).message(),
            dir.file("junk.gz") + ": trailing garbage: 4 bytes after the gzip data");
  writeGz(dir.file("head.gz"), Bytes(big.begin(), big.begin() + 5000));
  writeGz(dir.file("tail.gz"), Bytes(big.begin() + 5000, big.end()));
  Bytes members = readFile(dir.file("head.gz"));
  Bytes second = readFile(dir.file("tail.gz"));
  members.insert(members.end(), second.begin(), second.end());
  writeFile(dir.file("members.gz"), members);
  StatusOr<Tensor> joined = readIdx(dir.file("members.gz"));
  ASSERT_TRUE(joined.ok()) << joined.message();
  EXPECT_EQ(joined->data<float>()[9999],
            static_cast<float>(big[12 + 9999]));

  EXPECT_ERROR_CONTAINS(readIdx(dir.file("missing.gz")),
                        "missing.gz: cannot open: No such file or directory");
  EXPECT_ERROR_CONTAINS(readIdx(dir.path()), "not a regular file");
  writeFile(dir.file("ok"), makeIdx(0x08, {3, 4}, payload));
  EXPECT_ERROR_CONTAINS(readIdx(dir.file("ok"), DType::I32, 0.5),
                        "scale=0.5 needs f32 data, not i32 labels");
}

// The module description dlc-rt reads is input too: integers must be JSON
// integers in range (fuzz-model-spec found -2.2e28 cast to int64_t, undefined
// behavior, in a shape).
TEST(ModelSpecTest, RejectsNonIntegersWhereIntegersBelong) {
  auto spec = [](const std::string &shape) {
    return dlc::runtime::ModelSpec::fromJSON(
        R"({"name":"m","inputs":[{"name":"x","dtype":"f32","dims":[""],"loc":["m.dl",1,1],"shape":)" +
        shape + "}]}");
  };
  ASSERT_TRUE(spec("[3]").ok()) << spec("[3]").message();
  EXPECT_EQ(spec("[3]")->inputs[0].shape, std::vector<int64_t>{3});
  EXPECT_ERROR_CONTAINS(spec("[-22222222222222222222222222221]"), "expected an integer, got number");
  EXPECT_ERROR_CONTAINS(spec("[1.5]"), "expected an integer");
  EXPECT_ERROR_CONTAINS(spec("[18446744073709551615]"), "out of range");
  EXPECT_ERROR_CONTAINS(spec("7"), "expected a list of integers");
  EXPECT_ERROR_CONTAINS(
      dlc::runtime::ModelSpec::fromJSON(
          R"({"name":"m","inputs":[{"name":"x","dtype":"f32","dims":[""],"loc":["m.dl",-1,1],"shape":[1]}]})"),
      "out of range");
}

TEST(IdxTest, ReadsBundledMnistDigits) {
  std::string dirPath = DLC_TEST_DATA_DIR;
  StatusOr<Tensor> labels =
      readIdx(dirPath + "/train-labels-idx1-ubyte.gz", DType::I32);
  ASSERT_TRUE(labels.ok()) << labels.message();
  ASSERT_EQ(labels->shape(), std::vector<int64_t>{8000});
  std::vector<int32_t> first(labels->data<int32_t>(),
                             labels->data<int32_t>() + 16);
  std::printf("first train labels:");
  for (int32_t v : first)
    std::printf(" %d", v);
  std::printf("\n");
  EXPECT_EQ(first, (std::vector<int32_t>{8, 4, 8, 6, 7, 0, 5, 5, 4, 7, 1, 9,
                                         8, 7, 8, 6}));
  std::vector<int> perClass(10, 0);
  for (int32_t v : labels->toVector<int32_t>()) {
    ASSERT_GE(v, 0);
    ASSERT_LT(v, 10);
    ++perClass[v];
  }
  EXPECT_EQ(perClass, (std::vector<int>{807, 880, 811, 834, 775, 674, 802, 873,
                                        751, 793}));

  StatusOr<Tensor> images = readIdx(
      dirPath + "/t10k-images-idx3-ubyte.gz", DType::F32, 1.0 / 255);
  ASSERT_TRUE(images.ok()) << images.message();
  EXPECT_EQ(images->shape(), (std::vector<int64_t>{2000, 28, 28}));
  float lo = 1, hi = 0;
  for (float v : images->toVector<float>()) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_EQ(lo, 0.0f);
  EXPECT_EQ(hi, 1.0f);
}

//===----------------------------------------------------------------------===//
// Checkpoint
//===----------------------------------------------------------------------===//

namespace {
/// Builds a safetensors file from a header text and data bytes.
Bytes makeSafetensors(const std::string &header, const Bytes &data,
                      uint64_t length = UINT64_MAX) {
  Bytes out;
  if (length == UINT64_MAX)
    length = header.size();
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<uint8_t>(length >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Checkpoint sampleCheckpoint() {
  Checkpoint c;
  c.tensors.emplace(
      "W1", Tensor::fromVector<float>({2, 3}, {1, -2, 3.5f, 4, 5, 6e-7f}));
  c.tensors.emplace("b1", Tensor::fromVector<float>({3}, {0.1f, 0.2f, 0.3f}));
  c.tensors.emplace("opt.t", Tensor::scalar<int32_t>(17));
  c.tensors.emplace("opt.m/\"W1\"", Tensor::zeros({0, 4}));
  c.tensors.emplace("ids", Tensor::fromVector<int32_t>({2}, {-1, 9}));
  c.metadata["step"] = "123";
  c.metadata["model"] = "mnist_cnn";
  return c;
}
} // namespace

TEST(CheckpointTest, RoundTrip) {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  Checkpoint c = sampleCheckpoint();
  Status s = writeCheckpoint(path, c);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(dir.list(), std::vector<std::string>{"model.safetensors"});

  Bytes bytes = readFile(path);
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i)
    length = (length << 8) | bytes[i];
  EXPECT_EQ(length % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + length + (6 + 3 + 1 + 2) * 4);
  std::string header(bytes.begin() + 8, bytes.begin() + 8 + length);
  EXPECT_TRUE(contains(header, "\"__metadata__\":{\"model\":\"mnist_cnn\","
                               "\"step\":\"123\"}"))
      << header;
  EXPECT_TRUE(contains(header, "\"W1\":{\"data_offsets\":[0,24],\"dtype\":"
                               "\"F32\",\"shape\":[2,3]}"))
      << header;

  StatusOr<Checkpoint> r = readCheckpoint(path);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->metadata, c.metadata);
  ASSERT_EQ(r->tensors.size(), c.tensors.size());
  for (const auto &[name, tensor] : c.tensors) {
    auto it = r->tensors.find(name);
    ASSERT_NE(it, r->tensors.end()) << name;
    EXPECT_EQ(it->second.dtype(), tensor.dtype()) << name;
    EXPECT_EQ(it->second.shape(), tensor.shape()) << name;
    EXPECT_EQ(it->second.format(), tensor.format()) << name;
    if (tensor.byteSize()) {
      EXPECT_EQ(std::memcmp(it->second.rawData(), tensor.rawData(),
                            tensor.byteSize()),
                0);
    }
  }

  // Overwriting keeps one file; borrowed tensors write in the given order.
  Tensor w = Tensor::fromVector<float>({1}, {42});
  ASSERT_TRUE(writeCheckpoint(path, {{"w", &w}}, {}).ok());
  StatusOr<Checkpoint> again = readCheckpoint(path);
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_TRUE(again->metadata.empty());
  EXPECT_EQ(again->tensors.at("w").format(), "[42]");
  EXPECT_EQ(dir.list(), std::vector<std::string>{"model.safetensors"});
}

TEST(CheckpointTest, ReadsHandWrittenSafetensors) {
  TempDir dir;
  std::string path = dir.file("x.safetensors");
  Bytes data(16, 0);
  float v[2] = {1.5f, -2};
  int32_t k[2] = {3, 4};
  std::memcpy(data.data(), k, 8); // "b" first in the data, "a" second
  std::memcpy(data.data() + 8, v, 8);
  writeFile(path, makeSafetensors(
                      "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], "
                      "\"data_offsets\": [8, 16]},\n \"b\": {\"dtype\": "
                      "\"I32\", \"shape\": [1, 2], \"data_offsets\": [0, 8]}} ",
                      data));
  StatusOr<Checkpoint> r = readCheckpoint(path);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->tensors.at("a").format(), "[1.5, -2]");
  EXPECT_EQ(r->tensors.at("b").format(), "[[3, 4]]");
}

TEST(CheckpointTest, RejectsCorruptFiles) {
  TempDir dir;
  std::string path = dir.file("bad.safetensors");
  auto expectError = [&](const Bytes &bytes, const std::string &expected) {
    writeFile(path, bytes);
    StatusOr<Checkpoint> r = readCheckpoint(path);
    ASSERT_FALSE(r.ok()) << expected;
    EXPECT_EQ(r.message(), path + ": " + expected);
  };
  auto entry = [](const std::string &name, const std::string &dtype,
                  const std::string &shape, const std::string &offsets) {
    return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
           ",\"data_offsets\":" + offsets + "}";
  };
  Bytes eight(8, 0);

  expectError({1, 2, 3}, "file of 3 bytes is too short for a safetensors "
                         "header");
  expectError(makeSafetensors("{}", {}, 1000),
              "header length 1000 exceeds the 2 bytes after the length field");
  expectError(makeSafetensors("{}", {}, UINT64_MAX - 1),
              "header length 18446744073709551614 exceeds the 2 bytes after "
              "the length field");
  expectError(makeSafetensors("", {}), "header of 0 bytes is too short for a "
                                       "JSON object");
  writeFile(path, makeSafetensors("{\"a\":", {}));
  EXPECT_ERROR_CONTAINS(readCheckpoint(path), "invalid JSON header: parse "
                                              "error");
  expectError(makeSafetensors("[1, 2]", {}), "header is not a JSON object");
  expectError(makeSafetensors("{" + entry("a", "F32", "[1]", "[0,4]") + "," +
                                  entry("a", "F32", "[1]", "[4,8]") + "}",
                              eight),
              "tensor 'a' appears twice in the header");
  expectError(makeSafetensors("{" + entry("a", "F16", "[4]", "[0,8]") + "}",
                              eight),
              "tensor 'a': unsupported dtype 'F16': expected F32 or I32");
  expectError(makeSafetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}",
                              eight),
              "tensor 'a': expected keys 'dtype', 'shape' and "
              "'data_offsets'");
  expectError(makeSafetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                              "\"data_offsets\":[0,8],\"extra\":1}}",
                              eight),
              "tensor 'a': unexpected key 'extra'");
  expectError(makeSafetensors("{\"a\":[1]}", eight),
              "tensor 'a': entry is not a JSON object");
  expectError(makeSafetensors("{" + entry("a", "F32", "[-2]", "[0,8]") + "}",
                              eight),
              "tensor 'a': shape [-2] has an entry that is not a non-negative "
              "integer");
  expectError(makeSafetensors("{" + entry("a", "F32", "[2.5]", "[0,8]") + "}",
                              eight),
              "tensor 'a': shape [2.5] has an entry that is not a non-negative "
              "integer");
  expectError(makeSafetensors("{" + entry("a", "F32", "[3]", "[0,8]") + "}",
                              eight),
              "tensor 'a': data_offsets [0, 8] span 8 bytes but f32[3] needs "
              "12");
  expectError(makeSafetensors("{" + entry("a", "F32", "[4]", "[0,16]") + "}",
                              eight),
              "tensor 'a': data_offsets [0, 16] are outside the 8 data bytes");
  expectError(makeSafetensors("{" + entry("a", "F32", "[1]", "[4,0]") + "}",
                              eight),
              "tensor 'a': data_offsets [4, 0] are outside the 8 data bytes");
  expectError(makeSafetensors("{" + entry("a", "F32", "[1]", "[0]") + "}",
                              eight),
              "tensor 'a': data_offsets is not a pair of non-negative "
              "integers");
  expectError(
      makeSafetensors("{" + entry("a", "F32", "[1000000000000]", "[0,8]") + "}",
                      eight),
      "tensor 'a': data_offsets [0, 8] span 8 bytes but f32[1000000000000] "
      "needs 4000000000000");
  expectError(
      makeSafetensors("{" +
                          entry("a", "F32", "[4294967296, 4294967296]",
                                "[0,8]") +
                          "}",
                      eight),
      "tensor 'a': shape [4294967296, 4294967296] is too large");
  expectError(makeSafetensors("{" + entry("a", "F32", "[2]", "[0,8]") + "," +
                                  entry("b", "I32", "[1]", "[4,8]") + "}",
                              eight),
              "tensors 'a' and 'b' overlap in the data");
  expectError(makeSafetensors("{" + entry("a", "F32", "[1]", "[4,8]") + "}",
                              eight),
              "data bytes [0, 4) belong to no tensor");
  expectError(makeSafetensors("{" + entry("a", "F32", "[1]", "[0,4]") + "}",
                              eight),
              "data bytes [4, 8) belong to no tensor");
  expectError(makeSafetensors("{\"__metadata__\":{\"step\":12}}", {}),
              "metadata 'step' is not a string");
  expectError(makeSafetensors("{\"__metadata__\":[]}", {}),
              "'__metadata__' is not a JSON object");

  std::string missing = dir.file("missing.safetensors");
  EXPECT_ERROR_CONTAINS(readCheckpoint(missing),
                        missing + ": cannot open: No such file or directory");
}

TEST(CheckpointTest, NeverCrashesOnDamage) {
  TempDir dir;
  std::string good = dir.file("good.safetensors");
  ASSERT_TRUE(writeCheckpoint(good, sampleCheckpoint()).ok());
  Bytes bytes = readFile(good);
  std::string path = dir.file("damaged.safetensors");
  // Every truncation is an error.
  for (size_t n = 0; n < bytes.size(); ++n) {
    writeFile(path, Bytes(bytes.begin(), bytes.begin() + n));
    EXPECT_FALSE(readCheckpoint(path).ok()) << "truncated to " << n;
  }
  // Random byte changes give an error or a valid checkpoint, never a crash.
  Generator g(9);
  for (int i = 0; i < 500; ++i) {
    Bytes damaged = bytes;
    size_t at = g.nextBelow(damaged.size());
    damaged[at] = static_cast<uint8_t>(g.nextU64());
    writeFile(path, damaged);
    StatusOr<Checkpoint> r = readCheckpoint(path);
    if (!r.ok()) {
      EXPECT_FALSE(r.message().empty());
    }
  }
}

TEST(CheckpointTest, ASaveKilledBySignalLeavesNoTemporaryFile) {
  // A child saves a 16 MiB checkpoint over and over; once its temporary
  // file is there (a save is under way), SIGINT or SIGTERM ends it by that
  // signal, and only the last complete checkpoint is left.
  // (A process that ignores SIGINT, as a background job does, keeps
  // ignoring it, and its saves go on: then only SIGTERM is tried.)
  struct sigaction interrupt {};
  ::sigaction(SIGINT, nullptr, &interrupt);
  bool ignoresInt = !(interrupt.sa_flags & SA_SIGINFO) && interrupt.sa_handler == SIG_IGN;
  for (int sig : {SIGTERM, SIGINT}) {
    if (sig == SIGINT && ignoresInt)
      continue;
    TempDir dir;
    std::string path = dir.file("model.safetensors");
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      Tensor big = Tensor::zeros({4 << 20});
      while (true)
        if (!writeCheckpoint(path, {{"w", &big}}, {}).ok())
          _exit(2);
    }
    std::string tmp = path + ".tmp." + std::to_string(child);
    bool seen = false;
    for (int i = 0; i < 20000 && !seen; ++i) {
      seen = fs::exists(tmp);
      if (!seen)
        ::usleep(500);
    }
    ::kill(child, sig);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    EXPECT_TRUE(seen) << "the child never wrote " << tmp;
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << "status " << status;
    for (const std::string &name : dir.list())
      EXPECT_EQ(name, "model.safetensors");
  }
}

TEST(CheckpointTest, FailedWritesLeaveNothing) {
  TempDir dir;
  Checkpoint c = sampleCheckpoint();
  std::string nowhere = dir.file("no-such-dir/model.safetensors");
  Status s = writeCheckpoint(nowhere, c);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(contains(s.message(), nowhere + ": cannot create"))
      << s.message();
  EXPECT_TRUE(contains(s.message(), "No such file or directory"));
  EXPECT_TRUE(dir.list().empty());

  // The rename fails when the target is a non-empty folder: the temporary
  // file must be gone afterwards.
  std::string folder = dir.file("taken");
  fs::create_directory(folder);
  writeFile(folder + "/keep", {1});
  s = writeCheckpoint(folder, c);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(contains(s.message(), "cannot rename")) << s.message();
  EXPECT_EQ(dir.list(), std::vector<std::string>{"taken"});

  Tensor t = Tensor::scalar(1.0f);
  std::string path = dir.file("x.safetensors");
  EXPECT_ERROR_CONTAINS(writeCheckpoint(path, {{"a", &t}, {"a", &t}}, {}),
                        "tensor 'a' appears twice");
  EXPECT_ERROR_CONTAINS(writeCheckpoint(path, {{"__metadata__", &t}}, {}),
                        "'__metadata__' cannot name a tensor");
  EXPECT_ERROR_CONTAINS(writeCheckpoint(path, {{"", &t}}, {}),
                        "a tensor has an empty name");
  EXPECT_EQ(dir.list(), std::vector<std::string>{"taken"});
}

//===----------------------------------------------------------------------===//
// Dataset
//===----------------------------------------------------------------------===//

namespace {
/// x[i] = [10 i, 10 i + 1, 10 i + 2], y[i] = i.
Dataset rows(int64_t n) {
  Tensor x = Tensor::zeros({n, 3});
  Tensor y = Tensor::zeros({n}, DType::I32);
  for (int64_t i = 0; i < n; ++i) {
    for (int j = 0; j < 3; ++j)
      x.data<float>()[i * 3 + j] = float(10 * i + j);
    y.data<int32_t>()[i] = int32_t(i);
  }
  Dataset d;
  EXPECT_TRUE(d.add("x", std::move(x)).ok());
  EXPECT_TRUE(d.add("y", std::move(y)).ok());
  return d;
}

/// Checks that the batch's rows agree and returns the y values.
std::vector<int32_t> batchLabels(const BatchIterator &it) {
  const Tensor &x = it.batch()[0];
  const Tensor &y = it.batch()[1];
  EXPECT_EQ(x.dim(0), it.rows());
  EXPECT_EQ(y.dim(0), it.rows());
  for (int64_t r = 0; r < it.rows(); ++r)
    for (int j = 0; j < 3; ++j)
      EXPECT_EQ(x.data<float>()[r * 3 + j],
                float(10 * y.data<int32_t>()[r] + j));
  return y.toVector<int32_t>();
}
} // namespace

TEST(DatasetTest, AddAndSplit) {
  Dataset d = rows(10);
  EXPECT_EQ(d.size(), 10);
  EXPECT_EQ(d.names(), (std::vector<std::string>{"x", "y"}));
  EXPECT_ERROR_CONTAINS(d.add("z", Tensor::zeros({4, 2})),
                        "input 'z' has 4 examples but input 'x' has 10");
  EXPECT_ERROR_CONTAINS(d.add("x", Tensor::zeros({10})),
                        "input 'x' is given twice");
  EXPECT_ERROR_CONTAINS(d.add("s", Tensor::scalar(1.0f)),
                        "input 's' is a scalar");

  StatusOr<std::pair<Dataset, Dataset>> parts = d.split(3);
  ASSERT_TRUE(parts.ok());
  const Dataset &train = parts->first, &holdout = parts->second;
  EXPECT_EQ(train.size(), 7);
  EXPECT_EQ(holdout.size(), 3);
  EXPECT_EQ(train.find("y")->toVector<int32_t>(),
            (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(holdout.find("y")->toVector<int32_t>(),
            (std::vector<int32_t>{7, 8, 9}));
  EXPECT_EQ(holdout.find("x")->format(),
            "[[70, 71, 72], [80, 81, 82], [90, 91, 92]]");
  EXPECT_EQ(holdout.find("missing"), nullptr);
  EXPECT_TRUE(d.split(0).ok());
  EXPECT_EQ(d.split(10)->first.size(), 0);
  EXPECT_ERROR_CONTAINS(d.split(11),
                        "cannot hold out 11 examples of a data set of 10");
}

TEST(DatasetTest, PrepareInput) {
  Tensor images = Tensor::zeros({2, 28, 28});
  images.data<float>()[784 + 5] = 0.5f;
  StatusOr<Tensor> flat = prepareInput(images, {784}, DType::F32, "x", "a.gz");
  ASSERT_TRUE(flat.ok()) << flat.message();
  EXPECT_EQ(flat->shape(), (std::vector<int64_t>{2, 784}));
  EXPECT_EQ(flat->data<float>()[784 + 5], 0.5f);
  StatusOr<Tensor> nhwc =
      prepareInput(images, {28, 28, 1}, DType::F32, "x", "a.gz");
  ASSERT_TRUE(nhwc.ok());
  EXPECT_EQ(nhwc->shape(), (std::vector<int64_t>{2, 28, 28, 1}));
  StatusOr<Tensor> inferred =
      prepareInput(images, {-1, 28}, DType::F32, "x", "a.gz");
  ASSERT_TRUE(inferred.ok());
  EXPECT_EQ(inferred->shape(), (std::vector<int64_t>{2, 28, 28}));
  EXPECT_ERROR_CONTAINS(
      prepareInput(images, {10, 10}, DType::F32, "x", "a.gz"),
      "a.gz: cannot feed f32[2, 28, 28] to input 'x' of type f32[B, 10, 10]: "
      "examples have 784 elements, the input needs 100");
  EXPECT_ERROR_CONTAINS(
      prepareInput(images, {-1, 100}, DType::F32, "x", "a.gz"),
      "examples have 784 elements, not a multiple of 100");
  EXPECT_ERROR_CONTAINS(
      prepareInput(Tensor::scalar(1.0f), {}, DType::F32, "x", "literal"),
      "literal: cannot feed f32[] to input 'x' of type f32[B]: a scalar has "
      "no example dimension");

  Tensor labels = Tensor::fromVector<int32_t>({3}, {0, 2, 1});
  StatusOr<Tensor> oneHot = prepareInput(labels, {3}, DType::F32, "y", "l.gz");
  ASSERT_TRUE(oneHot.ok()) << oneHot.message();
  EXPECT_EQ(oneHot->format(), "[[1, 0, 0], [0, 0, 1], [0, 1, 0]]");
  EXPECT_ERROR_CONTAINS(
      prepareInput(labels, {2}, DType::F32, "y", "l.gz"),
      "l.gz: label 2 of example 1 is out of range for input 'y': expected a "
      "class id in [0, 2)");
  StatusOr<Tensor> direct = prepareInput(labels, {}, DType::I32, "y", "l.gz");
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(direct->format(), "[0, 2, 1]");
  StatusOr<Tensor> asFloat = prepareInput(labels, {1}, DType::F32, "y", "l");
  ASSERT_TRUE(asFloat.ok());
  EXPECT_EQ(asFloat->format(), "[[0], [2], [1]]");

  Tensor literal = Tensor::fromVector<float>({4}, {0, -1, -2, -3});
  StatusOr<Tensor> asInt =
      prepareInput(literal, {}, DType::I32, "y", "literal");
  ASSERT_TRUE(asInt.ok());
  EXPECT_EQ(asInt->toVector<int32_t>(), (std::vector<int32_t>{0, -1, -2, -3}));
  literal.data<float>()[2] = 0.5f;
  EXPECT_ERROR_CONTAINS(
      prepareInput(literal, {}, DType::I32, "y", "literal"),
      "element 2 is 0.5, not an integer");
}

TEST(DatasetTest, SequentialBatches) {
  Dataset d = rows(10);
  StatusOr<BatchIterator> train = BatchIterator::create(d, 4, false, true,
                                                        nullptr);
  ASSERT_TRUE(train.ok()) << train.message();
  EXPECT_EQ(train->batchesPerEpoch(), 2);
  ASSERT_TRUE(train->next());
  const void *buffer = train->batch()[0].rawData();
  EXPECT_EQ(batchLabels(*train), (std::vector<int32_t>{0, 1, 2, 3}));
  ASSERT_TRUE(train->next());
  EXPECT_EQ(batchLabels(*train), (std::vector<int32_t>{4, 5, 6, 7}));
  EXPECT_EQ(train->batch()[0].rawData(), buffer);
  EXPECT_FALSE(train->next()); // 8 and 9 are dropped
  EXPECT_FALSE(train->next());
  EXPECT_EQ(train->epoch(), 0);
  train->nextCyclic();
  EXPECT_EQ(train->epoch(), 1);
  EXPECT_EQ(batchLabels(*train), (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(train->batch()[0].rawData(), buffer);

  StatusOr<BatchIterator> eval = BatchIterator::create(d, 4, false, false,
                                                       nullptr);
  ASSERT_TRUE(eval.ok());
  EXPECT_EQ(eval->batchesPerEpoch(), 3);
  std::vector<std::vector<int32_t>> seen;
  for (int pass = 0; pass < 2; ++pass) {
    eval->startEpoch();
    seen.clear();
    while (eval->next())
      seen.push_back(batchLabels(*eval));
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[2], (std::vector<int32_t>{8, 9}));
    EXPECT_EQ(eval->rows(), 0);
  }

  StatusOr<BatchIterator> whole = BatchIterator::create(d, 50, false, false,
                                                        nullptr);
  ASSERT_TRUE(whole.ok());
  ASSERT_TRUE(whole->next());
  EXPECT_EQ(whole->rows(), 10);
  EXPECT_EQ(batchLabels(*whole).size(), 10u);
  EXPECT_FALSE(whole->next());

  EXPECT_ERROR_CONTAINS(BatchIterator::create(d, 50, false, true, nullptr),
                        "batch size 50 is larger than the data set's 10 "
                        "examples");
  EXPECT_ERROR_CONTAINS(BatchIterator::create(d, 0, false, true, nullptr),
                        "batch size must be positive, got 0");
  Dataset empty;
  EXPECT_ERROR_CONTAINS(BatchIterator::create(empty, 1, false, true, nullptr),
                        "cannot batch an empty data set");
}

TEST(DatasetTest, ShuffledBatchesAreDeterministic) {
  Dataset d = rows(10);
  auto run = [&](uint64_t seed) {
    Generator g(seed);
    StatusOr<BatchIterator> it = BatchIterator::create(d, 3, true, true, &g);
    EXPECT_TRUE(it.ok());
    std::vector<std::vector<int32_t>> epochs;
    for (int e = 0; e < 3; ++e) {
      std::vector<int32_t> all;
      for (int b = 0; b < 3; ++b) {
        it->nextCyclic();
        EXPECT_EQ(it->epoch(), e);
        std::vector<int32_t> labels = batchLabels(*it);
        const int64_t *order = it->order().data() + 3 * b;
        EXPECT_EQ(labels, std::vector<int32_t>(order, order + 3));
        all.insert(all.end(), labels.begin(), labels.end());
      }
      EXPECT_FALSE(it->next()); // the tenth example is dropped
      // Each epoch visits 9 distinct examples.
      EXPECT_EQ(std::set<int32_t>(all.begin(), all.end()).size(), 9u);
      epochs.push_back(all);
    }
    return epochs;
  };
  std::vector<std::vector<int32_t>> a = run(1), b = run(1), c = run(2);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a[0], a[1]);
}

//===----------------------------------------------------------------------===//
// Parallel loops: the OpenMP entry points compiled code calls
//===----------------------------------------------------------------------===//

extern "C" {
struct ident_t;
void __kmpc_fork_call(ident_t *, int32_t, void (*)(int32_t *, int32_t *, ...), ...);
void __kmpc_for_static_init_8u(ident_t *, int32_t, int32_t, int32_t *, uint64_t *,
                               uint64_t *, int64_t *, int64_t, int64_t);
void __kmpc_for_static_fini(ident_t *, int32_t);
void __kmpc_barrier(ident_t *, int32_t);
int32_t __kmpc_global_thread_num(ident_t *);
void *dlc_aligned_alloc(size_t, size_t);
void dlc_free(void *);
}

namespace {
/// What the outlined body of `omp.parallel { omp.wsloop for i in [0, n) }`
/// does: take this thread's share of the iterations, mark each, then wait
/// at the barrier; a nested region inside runs on the calling thread.
struct LoopState {
  uint64_t n = 0;
  std::vector<std::atomic<int>> *hits = nullptr;
  std::atomic<int> *lastIters = nullptr;
  std::atomic<int> *nestedHits = nullptr;
  /// Calls of the body (one per share), and whether it waits at a barrier
  /// (compiled code cut into more shares than threads has none).
  std::atomic<int> *calls = nullptr;
  bool barrier = true;
};

void nestedBody(int32_t *, int32_t *, LoopState *s) {
  int32_t last = 0;
  uint64_t lo = 0, hi = 9;
  int64_t stride = 0;
  __kmpc_for_static_init_8u(nullptr, 0, 34, &last, &lo, &hi, &stride, 1, 1);
  for (uint64_t i = lo; i <= hi && hi != UINT64_MAX; ++i)
    s->nestedHits->fetch_add(1);
  __kmpc_for_static_fini(nullptr, 0);
}

void loopBody(int32_t *, int32_t *, LoopState *s) {
  int32_t gtid = __kmpc_global_thread_num(nullptr), last = 0;
  uint64_t lo = 0, hi = s->n - 1;
  int64_t stride = 0;
  __kmpc_for_static_init_8u(nullptr, gtid, 34, &last, &lo, &hi, &stride, 1, 1);
  // An empty share is hi = lo - 1.
  for (uint64_t i = lo; i != hi + 1; ++i)
    (*s->hits)[i].fetch_add(1);
  if (last)
    s->lastIters->fetch_add(1);
  __kmpc_for_static_fini(nullptr, gtid);
  __kmpc_fork_call(nullptr, 1,
                   reinterpret_cast<void (*)(int32_t *, int32_t *, ...)>(&nestedBody), s);
  if (s->calls)
    s->calls->fetch_add(1);
  if (s->barrier)
    __kmpc_barrier(nullptr, gtid);
}

/// Compiled code whose one region is the loop of `args[0]` (a LoopState).
void forkLoop(void **args) {
  __kmpc_fork_call(nullptr, 1, reinterpret_cast<void (*)(int32_t *, int32_t *, ...)>(&loopBody),
                   args[0]);
}
} // namespace

TEST(ParallelTest, StaticLoopsCoverEveryIterationOnce) {
  for (int threads : {1, 2, 3}) {
    dlc::runtime::setNumThreads(threads);
    EXPECT_EQ(dlc::runtime::numThreads(), threads);
    for (uint64_t n : {1, 2, 5, 64, 1001}) {
      std::vector<std::atomic<int>> hits(n);
      std::atomic<int> lastIters{0}, nestedHits{0};
      LoopState s{n, &hits, &lastIters, &nestedHits};
      __kmpc_fork_call(nullptr, 1,
                       reinterpret_cast<void (*)(int32_t *, int32_t *, ...)>(&loopBody), &s);
      for (uint64_t i = 0; i < n; ++i)
        ASSERT_EQ(hits[i].load(), 1) << "iteration " << i << " of " << n << ", "
                                     << threads << " threads";
      EXPECT_EQ(lastIters.load(), 1) << n << " iterations, " << threads << " threads";
      // Each thread of the team ran the nested loop of 10 alone.
      EXPECT_EQ(nestedHits.load(), 10 * threads);
    }
  }
  dlc::runtime::setNumThreads(0);
  EXPECT_EQ(dlc::runtime::numThreads(), dlc::runtime::availableCores());
}

TEST(ParallelTest, RegionsCutIntoSharesCoverEveryIterationOnce) {
  // A call of code without barriers may cut its regions into 4 shares per
  // thread, claimed one at a time: still every iteration exactly once, and
  // one last iteration; on one thread the region runs whole, inline.
  for (int threads : {1, 2, 3}) {
    dlc::runtime::setNumThreads(threads);
    for (uint64_t n : {1, 5, 7, 64, 1001}) {
      std::vector<std::atomic<int>> hits(n);
      std::atomic<int> lastIters{0}, nestedHits{0}, calls{0};
      LoopState s{n, &hits, &lastIters, &nestedHits, &calls, /*barrier=*/false};
      void *args[] = {&s};
      ASSERT_TRUE(dlc::runtime::callCompiled(&forkLoop, args, 4).ok());
      for (uint64_t i = 0; i < n; ++i)
        ASSERT_EQ(hits[i].load(), 1) << "iteration " << i << " of " << n << ", "
                                     << threads << " threads";
      EXPECT_EQ(lastIters.load(), 1) << n << " iterations, " << threads << " threads";
      int shares = threads == 1 ? 1 : 4 * threads;
      EXPECT_EQ(calls.load(), shares);
      EXPECT_EQ(nestedHits.load(), 10 * shares);
    }
  }
  dlc::runtime::setNumThreads(0);
}

TEST(ParallelTest, EmptyLoopsGiveEveryThreadAnEmptyShare) {
  // The compiled code passes upper = lower - 1 for a loop of no iterations.
  for (int threads : {1, 2, 3}) {
    dlc::runtime::setNumThreads(threads);
    std::atomic<int> iterations{0};
    auto body = [](int32_t *, int32_t *, std::atomic<int> *count) {
      int32_t last = 1;
      uint64_t lo = 0, hi = UINT64_MAX;
      int64_t stride = 0;
      __kmpc_for_static_init_8u(nullptr, 0, 34, &last, &lo, &hi, &stride, 1, 1);
      for (uint64_t i = lo; i != hi + 1; ++i)
        count->fetch_add(1);
      EXPECT_EQ(last, 0);
      __kmpc_barrier(nullptr, 0);
    };
    void (*fn)(int32_t *, int32_t *, std::atomic<int> *) = body;
    __kmpc_fork_call(nullptr, 1, reinterpret_cast<void (*)(int32_t *, int32_t *, ...)>(fn),
                     &iterations);
    EXPECT_EQ(iterations.load(), 0);
  }
  dlc::runtime::setNumThreads(0);
}

namespace {
/// A size no allocator gives (the rounding to the alignment overflows).
constexpr size_t kImpossible = SIZE_MAX - 16;

/// What compiled code does with a buffer: write into it.
void allocateAndWrite(void **args) {
  auto *p = static_cast<int *>(dlc_aligned_alloc(64, *static_cast<size_t *>(args[0])));
  *p = 1;
  std::free(p);
}

struct RegionState {
  std::atomic<int> afterBarrier{0}, done{0};
  int failingThread;
};

/// A region whose thread `failingThread` cannot allocate before the
/// region's barrier; the others wait there (and must leave).
void failingRegion(int32_t *gtid, int32_t *, RegionState *s) {
  if (*gtid == s->failingThread)
    *static_cast<int *>(dlc_aligned_alloc(64, kImpossible)) = 1;
  __kmpc_barrier(nullptr, *gtid);
  s->afterBarrier.fetch_add(1);
}

void forkFailingRegion(void **args) {
  __kmpc_fork_call(nullptr, 1,
                   reinterpret_cast<void (*)(int32_t *, int32_t *, ...)>(&failingRegion),
                   args[0]);
  static_cast<RegionState *>(args[0])->done.store(1); // never reached
}
} // namespace

TEST(ParallelTest, AFailedAllocationEndsTheCallWithAnError) {
  size_t bytes = 1024;
  void *args[] = {&bytes};
  EXPECT_TRUE(dlc::runtime::callCompiled(&allocateAndWrite, args).ok());
  bytes = kImpossible;
  EXPECT_ERROR_CONTAINS(dlc::runtime::callCompiled(&allocateAndWrite, args),
                        "the compiled code cannot allocate 18446744073709551599 bytes");
  // In a parallel region, on the forking thread or a worker, with the other
  // threads waiting at a barrier: the call ends, nothing hangs, and the pool
  // runs the next region.
  for (int threads : {1, 2, 3})
    for (int failing = 0; failing < threads; ++failing) {
      dlc::runtime::setNumThreads(threads);
      RegionState s;
      s.failingThread = failing;
      void *regionArgs[] = {&s};
      SCOPED_TRACE(std::to_string(threads) + " threads, thread " + std::to_string(failing) +
                   " fails");
      EXPECT_ERROR_CONTAINS(dlc::runtime::callCompiled(&forkFailingRegion, regionArgs),
                            "cannot allocate");
      EXPECT_EQ(s.done.load(), 0);
      EXPECT_EQ(s.afterBarrier.load(), 0);
      bytes = 64;
      EXPECT_TRUE(dlc::runtime::callCompiled(&allocateAndWrite, args).ok());
      std::vector<std::atomic<int>> hits(64);
      std::atomic<int> lastIters{0}, nestedHits{0};
      LoopState loop{64, &hits, &lastIters, &nestedHits};
      __kmpc_fork_call(nullptr, 1, reinterpret_cast<void (*)(int32_t *, int32_t *, ...)>(&loopBody),
                       &loop);
      EXPECT_TRUE(std::all_of(hits.begin(), hits.end(), [](auto &h) { return h.load() == 1; }));
      bytes = kImpossible;
    }
  dlc::runtime::setNumThreads(0);
}

TEST(ParallelTest, AForkedChildRunsItsLoops) {
  // fork() copies only the calling thread: the child starts its own workers.
  dlc::runtime::setNumThreads(2);
  std::vector<std::atomic<int>> hits(64);
  std::atomic<int> lastIters{0}, nestedHits{0};
  LoopState s{64, &hits, &lastIters, &nestedHits};
  auto region = reinterpret_cast<void (*)(int32_t *, int32_t *, ...)>(&loopBody);
  __kmpc_fork_call(nullptr, 1, region, &s);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    for (auto &h : hits)
      h.store(0);
    __kmpc_fork_call(nullptr, 1, region, &s);
    bool ok = std::all_of(hits.begin(), hits.end(), [](auto &h) { return h.load() == 1; });
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  dlc::runtime::setNumThreads(0);
}

namespace {
/// 4 MiB: above glibc's mmap threshold, so each buffer is a mapping that
/// mallinfo2() counts (hblkhd) until it is freed.
constexpr size_t kBigBuffer = size_t{4} << 20;

struct LeakState {
  std::atomic<int> allocated{0};
  int failingThread = 0;
};

/// Each thread of the region allocates two big buffers and frees one; then
/// `failingThread` cannot allocate (after the others' barrier).
void allocatingRegion(int32_t *gtid, int32_t *, LeakState *s) {
  void *kept = dlc_aligned_alloc(64, kBigBuffer);
  std::memset(kept, 1, kBigBuffer);
  void *freed = dlc_aligned_alloc(64, kBigBuffer);
  dlc_free(freed);
  s->allocated.fetch_add(1);
  if (*gtid == s->failingThread)
    dlc_aligned_alloc(64, kImpossible);
  __kmpc_barrier(nullptr, *gtid);
}

/// A step: a buffer of its own, a region that allocates on every thread,
/// then a failure (in the region).
void allocateThenFail(void **args) {
  void *own = dlc_aligned_alloc(64, kBigBuffer);
  std::memset(own, 2, kBigBuffer);
  __kmpc_fork_call(nullptr, 1,
                   reinterpret_cast<void (*)(int32_t *, int32_t *, ...)>(&allocatingRegion),
                   args[0]);
}

/// A step that succeeds: one buffer freed, one returned (the caller's).
void allocateAndReturn(void **args) {
  dlc_free(dlc_aligned_alloc(64, kBigBuffer));
  *static_cast<void **>(args[0]) = dlc_aligned_alloc(64, kBigBuffer);
}

/// Bytes in mmapped blocks now (0 under ASan, whose allocator glibc's
/// mallinfo2 does not see: there LeakSanitizer checks at exit).
size_t mappedBytes() { return mallinfo2().hblkhd; }
} // namespace

TEST(ParallelTest, AFailedCallFreesTheBuffersItAllocated) {
  for (int threads : {1, 2, 3})
    for (int failing = 0; failing < threads; ++failing) {
      SCOPED_TRACE(std::to_string(threads) + " threads, thread " + std::to_string(failing) +
                   " fails");
      dlc::runtime::setNumThreads(threads);
      size_t before = mappedBytes();
      LeakState s;
      s.failingThread = failing;
      void *args[] = {&s};
      EXPECT_ERROR_CONTAINS(dlc::runtime::callCompiled(&allocateThenFail, args),
                            "cannot allocate");
      // (Shares not started when the failure came are not run.)
      EXPECT_GE(s.allocated.load(), 1);
      // Every buffer the step still held is freed: the step's own, and the
      // one each thread of its region kept.
      EXPECT_EQ(mappedBytes(), before);
    }
  // A call that returns keeps what it returns (the caller frees it).
  size_t before = mappedBytes();
  void *result = nullptr;
  void *args[] = {&result};
  ASSERT_TRUE(dlc::runtime::callCompiled(&allocateAndReturn, args).ok());
  ASSERT_NE(result, nullptr);
  std::memset(result, 3, kBigBuffer);
  if (before != 0 || mappedBytes() != 0)
    EXPECT_GE(mappedBytes(), before + kBigBuffer);
  std::free(result);
  dlc::runtime::setNumThreads(0);
}
