//===- Random.cpp - The seeded generator and param initializers -----------===//
//
// xoshiro256** (Blackman and Vigna) with splitmix64 seeding, modulo rejection
// for bounded integers and Box-Muller for normals. Float results go
// through double arithmetic and are rounded once to f32.
//
//===----------------------------------------------------------------------===//

#include "runtime/Random.h"

#include "runtime/LanguageFacts.h"

#include <cmath>
#include <utility>

namespace dlc::runtime {

namespace {
uint64_t splitmix64(uint64_t &x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

constexpr double kTwoPi = 6.283185307179586476925286766559;
} // namespace

Generator::Generator(uint64_t seedValue) { seed(seedValue); }

void Generator::seed(uint64_t seedValue) {
  uint64_t x = seedValue;
  for (uint64_t &word : state_)
    word = splitmix64(x);
  hasCachedNormal_ = false;
}

void Generator::setState(const State &state) {
  state_ = state;
  hasCachedNormal_ = false;
}

uint64_t Generator::nextU64() {
  uint64_t *s = state_.data();
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double Generator::nextDouble() {
  return static_cast<double>(nextU64() >> 11) * 0x1.0p-53;
}

uint64_t Generator::nextBelow(uint64_t n) {
  assert(n > 0 && "nextBelow needs a positive bound");
  // Reject the low values that would make `x % n` biased.
  uint64_t threshold = (0 - n) % n;
  while (true) {
    uint64_t x = nextU64();
    if (x >= threshold)
      return x % n;
  }
}

double Generator::nextNormal() {
  if (hasCachedNormal_) {
    hasCachedNormal_ = false;
    return cachedNormal_;
  }
  // u1 in (0, 1] keeps log() finite.
  double u1 = 1.0 - nextDouble();
  double u2 = nextDouble();
  double r = std::sqrt(-2.0 * std::log(u1));
  cachedNormal_ = r * std::sin(kTwoPi * u2);
  hasCachedNormal_ = true;
  return r * std::cos(kTwoPi * u2);
}

void computeFans(const std::vector<int64_t> &shape, double &fanIn,
                 double &fanOut) {
  size_t rank = shape.size();
  if (rank == 0) {
    fanIn = fanOut = 1;
  } else if (rank == 1) {
    fanIn = fanOut = static_cast<double>(shape[0]);
  } else {
    double receptive = 1;
    for (size_t i = 0; i + 2 < rank; ++i)
      receptive *= static_cast<double>(shape[i]);
    fanIn = static_cast<double>(shape[rank - 2]) * receptive;
    fanOut = static_cast<double>(shape[rank - 1]) * receptive;
  }
}

namespace {
template <class Draw> void fillF32(Tensor &tensor, Draw draw) {
  float *p = tensor.data<float>();
  for (int64_t i = 0, e = tensor.numElements(); i < e; ++i)
    p[i] = static_cast<float>(draw());
}

Status fillConstant(Tensor &tensor, double value, const std::string &kind) {
  if (tensor.dtype() == DType::F32) {
    fillF32(tensor, [value] { return value; });
    return Status::success();
  }
  if (value != std::floor(value) || value < -2147483648.0 ||
      value > 2147483647.0)
    return makeError(kind, "(", value, ") needs an integer value for an i32 ",
                     "tensor");
  int32_t *p = tensor.data<int32_t>();
  for (int64_t i = 0, e = tensor.numElements(); i < e; ++i)
    p[i] = static_cast<int32_t>(value);
  return Status::success();
}
} // namespace

Status initialize(Tensor &tensor, const InitSpec &spec, Generator &generator) {
  using Kind = language::InitializerKind;
  const std::string &kind = spec.kind;
  const language::Initializer *initializer = language::findInitializer(kind);
  if (!initializer)
    return makeError("unknown initializer '", kind, "'");
  switch (initializer->kind) {
  case Kind::Zeros:
    return fillConstant(tensor, 0, kind);
  case Kind::Ones:
    return fillConstant(tensor, 1, kind);
  case Kind::Fill:
    return fillConstant(tensor, spec.a, kind);
  default:
    break;
  }

  if (tensor.dtype() != DType::F32)
    return makeError(kind, "() needs an f32 tensor, got ",
                     tensor.typeString());
  if (!std::isfinite(spec.a) || !std::isfinite(spec.b))
    return makeError(kind, "() parameters must be finite");

  if (initializer->kind == Kind::Normal ||
      initializer->kind == Kind::TruncatedNormal) {
    double mean = spec.a, stddev = spec.b;
    if (stddev < 0)
      return makeError(kind, "() needs stddev >= 0, got ", stddev);
    if (initializer->kind == Kind::Normal) {
      fillF32(tensor, [&] { return mean + stddev * generator.nextNormal(); });
    } else {
      fillF32(tensor, [&] {
        double n;
        do
          n = generator.nextNormal();
        while (std::fabs(n) > 2.0);
        return mean + stddev * n;
      });
    }
    return Status::success();
  }

  double low, high;
  if (initializer->kind == Kind::Uniform) {
    low = spec.a;
    high = spec.b;
    if (low > high)
      return makeError(kind, "() needs low <= high, got low=", low,
                       " high=", high);
  } else {
    double fanIn, fanOut;
    computeFans(tensor.shape(), fanIn, fanOut);
    if (fanIn + fanOut <= 0)
      return makeError(kind, "() needs a non-empty shape, got ",
                       tensor.typeString());
    high = std::sqrt(6.0 / (fanIn + fanOut));
    low = -high;
  }
  fillF32(tensor,
          [&] { return low + (high - low) * generator.nextDouble(); });
  return Status::success();
}

std::vector<int64_t> permutation(int64_t n, Generator &generator) {
  std::vector<int64_t> perm(n > 0 ? n : 0);
  for (int64_t i = 0; i < n; ++i)
    perm[i] = i;
  for (int64_t i = n - 1; i > 0; --i) {
    int64_t j = static_cast<int64_t>(
        generator.nextBelow(static_cast<uint64_t>(i) + 1));
    std::swap(perm[i], perm[j]);
  }
  return perm;
}

} // namespace dlc::runtime
