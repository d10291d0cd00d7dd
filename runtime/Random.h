//===- Random.h - The seeded generator and param initializers ---*- C++ -*-===//
//
// Every random draw of a run (initializers, shuffling, dropout seeds) comes
// from one Generator: xoshiro256** seeded through splitmix64, with our own
// uniform and normal transforms, so the same seed gives the same values
// whatever the C++ standard library. Initializers follow LANGUAGE.md.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_RANDOM_H
#define DLC_RUNTIME_RANDOM_H

#include "runtime/LanguageFacts.h"
#include "runtime/Status.h"
#include "runtime/Tensor.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace dlc::runtime {

/// A deterministic pseudo-random generator (xoshiro256**, state seeded by
/// splitmix64). Not thread-safe.
class Generator {
public:
  /// The four 64-bit words of the generator state.
  using State = std::array<uint64_t, 4>;

  /// Seeds the generator; the same seed always gives the same sequence.
  explicit Generator(uint64_t seed = 0);

  /// Re-seeds the generator as the constructor does.
  void seed(uint64_t seed);

  /// Returns the next 64 random bits.
  uint64_t nextU64();

  /// Returns a uniform double in [0, 1) with 53 random bits.
  double nextDouble();

  /// Returns a uniform integer in [0, n); n must be > 0. Unbiased.
  uint64_t nextBelow(uint64_t n);

  /// Returns a standard normal draw (Box-Muller; the second value of each
  /// pair is kept for the next call).
  double nextNormal();

  /// Returns the state, e.g. to save it in a checkpoint.
  State state() const { return state_; }

  /// Restores a state returned by state(); drops any cached normal value.
  void setState(const State &state);

private:
  State state_;
  double cachedNormal_ = 0;
  bool hasCachedNormal_ = false;
};

/// An initializer from LANGUAGE.md. `kind` and the meaning of `a` and `b`:
///   "zeros", "ones"               a, b unused
///   "fill"                        a = the value
///   "normal", "truncated_normal"  a = mean, b = stddev (>= 0); truncated
///                                 redraws values beyond 2 stddev
///   "uniform"                     a = low, b = high (low <= high)
///   "glorot_uniform"              a, b unused; uniform in +-sqrt(6/(fan_in +
///                                 fan_out)) with Keras' fans
struct InitSpec {
  /// The initializer's name, as written in the language.
  std::string kind;
  /// First parameter (value, mean or low), see above.
  double a = 0;
  /// Second parameter (stddev or high), see above.
  double b = 0;

  /// The initializer kinds of LanguageFacts.h.
  using Kind = language::InitializerKind;
  /// Returns the language's name of `kind`.
  static std::string named(Kind kind) {
    return std::string(language::nameOf(kind));
  }

  /// Returns zeros().
  static InitSpec zeros() { return {named(Kind::Zeros), 0, 0}; }
  /// Returns ones().
  static InitSpec ones() { return {named(Kind::Ones), 0, 0}; }
  /// Returns fill(value).
  static InitSpec fill(double value) { return {named(Kind::Fill), value, 0}; }
  /// Returns normal(mean, stddev).
  static InitSpec normal(double mean = 0, double stddev = 1) {
    return {named(Kind::Normal), mean, stddev};
  }
  /// Returns truncated_normal(mean, stddev).
  static InitSpec truncatedNormal(double mean = 0, double stddev = 1) {
    return {named(Kind::TruncatedNormal), mean, stddev};
  }
  /// Returns uniform(low, high).
  static InitSpec uniform(double low = -1, double high = 1) {
    return {named(Kind::Uniform), low, high};
  }
  /// Returns glorot_uniform().
  static InitSpec glorotUniform() { return {named(Kind::GlorotUniform), 0, 0}; }
};

/// Computes Keras' fans of a weight shape: rank 0 -> (1, 1); rank 1 -> (n, n);
/// rank 2 [in, out] -> (in, out); higher ranks (conv HWIO) -> (C * R, F * R)
/// with R the product of all but the last two dimensions.
void computeFans(const std::vector<int64_t> &shape, double &fanIn,
                 double &fanOut);

/// Fills `tensor` in row-major order as `spec` says, drawing from
/// `generator`. Random kinds need an f32 tensor; zeros, ones and fill (with
/// an integral value) also accept i32. Errors name the initializer.
Status initialize(Tensor &tensor, const InitSpec &spec, Generator &generator);

/// Returns a uniformly random permutation of 0..n-1 (Fisher-Yates).
std::vector<int64_t> permutation(int64_t n, Generator &generator);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_RANDOM_H
