//===- Reference.h - A plain double-precision reference of the dl ops -*- C++ -*-===//
//
// An independent implementation of every forward op of the dl language
// (docs: shared/LANGUAGE.md) on simple row-major arrays of doubles. It is
// written from the language description only, with no MLIR and no code of
// the compiler, so that the compiled kernels and gradients can be checked
// against it (the gradients by central finite differences).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_TEST_UNITTESTS_REFERENCE_H
#define DLC_TEST_UNITTESTS_REFERENCE_H

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dlc::ref {

/// A dense row-major array of doubles; an empty shape is a scalar. Integer
/// tensors (labels, argmax results) hold whole numbers.
struct Array {
  std::vector<int64_t> shape;
  std::vector<double> data;

  Array() : data(1, 0.0) {}
  Array(std::vector<int64_t> shape, std::vector<double> data);
  /// A zero-filled array of `shape`.
  static Array zeros(std::vector<int64_t> shape);
  /// A scalar.
  static Array scalar(double v);

  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  int64_t size() const { return static_cast<int64_t>(data.size()); }
};

/// Returns the element count of `shape` (1 for a scalar).
int64_t numElements(const std::vector<int64_t> &shape);

/// Returns `axis` made non-negative for rank `rank` (-1 is the last axis).
int64_t normalizeAxis(int64_t axis, int64_t rank);

/// Returns the NumPy broadcast of two shapes; aborts when they don't match.
std::vector<int64_t> broadcastShapes(const std::vector<int64_t> &a,
                                     const std::vector<int64_t> &b);

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

/// Applies `f` elementwise with NumPy broadcasting.
Array binary(const Array &a, const Array &b,
             const std::function<double(double, double)> &f);
/// Applies `f` to every element.
Array unary(const Array &a, const std::function<double(double)> &f);

Array add(const Array &a, const Array &b);
Array sub(const Array &a, const Array &b);
Array mul(const Array &a, const Array &b);
Array div(const Array &a, const Array &b);
/// `a ** p` with a scalar exponent.
Array pow(const Array &a, double p);
Array maximum(const Array &a, const Array &b);
Array minimum(const Array &a, const Array &b);
Array neg(const Array &a);

/// Comparisons; the result holds 1.0 or 0.0. `op` is one of
/// "==", "!=", "<", "<=", ">", ">=".
Array compare(const Array &a, const Array &b, const std::string &op);

Array relu(const Array &a);
Array sigmoid(const Array &a);
Array tanh(const Array &a);
Array exp(const Array &a);
Array log(const Array &a);
Array sqrt(const Array &a);
Array square(const Array &a);
Array abs(const Array &a);
Array leakyRelu(const Array &a, double alpha = 0.2);
Array elu(const Array &a, double alpha = 1.0);

/// Casts: f32 is the identity on doubles; i32 truncates toward zero.
Array castF32(const Array &a);
Array castI32(const Array &a);

/// The identity (dropout outside training).
Array dropoutInference(const Array &a);

//===----------------------------------------------------------------------===//
// Softmax and reductions
//===----------------------------------------------------------------------===//

Array softmax(const Array &a, int64_t axis = -1);
Array logSoftmax(const Array &a, int64_t axis = -1);

/// Reductions over `axes` (negative allowed); an empty list reduces all axes.
Array sum(const Array &a, std::vector<int64_t> axes = {}, bool keepdims = false);
Array mean(const Array &a, std::vector<int64_t> axes = {}, bool keepdims = false);
Array max(const Array &a, std::vector<int64_t> axes = {}, bool keepdims = false);

/// Index of the first largest element along `axis` (the axis is removed).
Array argmax(const Array &a, int64_t axis = -1);

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

/// Reshape; one dimension may be -1.
Array reshape(const Array &a, std::vector<int64_t> shape);
/// `[N, ...] -> [N, product of the rest]`.
Array flatten(const Array &a);
/// Permutes the axes; an empty `perm` reverses them.
Array transpose(const Array &a, std::vector<int64_t> perm = {});
/// i32 `[N]` -> `[N, depth]`; labels outside [0, depth) give a zero row.
Array oneHot(const Array &labels, int64_t depth);

//===----------------------------------------------------------------------===//
// Linear algebra and convolution
//===----------------------------------------------------------------------===//

/// `[M,K] x [K,N]` or batched `[B,M,K] x [B,K,N]`.
Array matmul(const Array &a, const Array &b);

/// The padding before and after one spatial dimension.
struct Pad {
  int64_t before = 0, after = 0;
};

/// The output size and padding of one spatial dimension of size `in` under a
/// window `k` and stride `s` with `same` (TensorFlow's rule) or `valid`.
int64_t windowOutput(int64_t in, int64_t k, int64_t s, bool same, Pad &pad);

/// conv2d on x `[N,H,W,C]` and w `[KH,KW,C,F]` -> `[N,OH,OW,F]`.
Array conv2d(const Array &x, const Array &w, int64_t sh, int64_t sw, bool same);
/// max_pool on `[N,H,W,C]`; padding cells are ignored.
Array maxPool(const Array &x, int64_t wh, int64_t ww, int64_t sh, int64_t sw,
              bool same);
/// avg_pool on `[N,H,W,C]`; the mean over the cells inside the input.
Array avgPool(const Array &x, int64_t wh, int64_t ww, int64_t sh, int64_t sw,
              bool same);

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

/// Per-example loss `[N]` from logits `[N,C]` and class ids `[N]`.
Array softmaxCrossEntropyIds(const Array &logits, const Array &labels);
/// Per-example loss `[N]` from logits `[N,C]` and probabilities `[N,C]`.
Array softmaxCrossEntropyProbs(const Array &logits, const Array &probs);
/// Mean of squared differences (broadcast), a scalar.
Array mse(const Array &pred, const Array &target);
/// Sum of squares, a scalar.
Array l2(const Array &a);

} // namespace dlc::ref

#endif // DLC_TEST_UNITTESTS_REFERENCE_H
