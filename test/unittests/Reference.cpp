//===- Reference.cpp - A plain double-precision reference of the dl ops ---===//
//
// Straightforward loops over row-major index arithmetic; clarity over speed.
// Every op follows shared/LANGUAGE.md (NumPy and TensorFlow semantics where
// the page is silent).
//
//===----------------------------------------------------------------------===//

#include "Reference.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace dlc::ref {

[[noreturn]] static void fail(const char *what) {
  std::fprintf(stderr, "reference: %s\n", what);
  std::abort();
}

int64_t numElements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

Array::Array(std::vector<int64_t> s, std::vector<double> d)
    : shape(std::move(s)), data(std::move(d)) {
  if (static_cast<int64_t>(data.size()) != numElements(shape))
    fail("element count does not match the shape");
}

Array Array::zeros(std::vector<int64_t> shape) {
  int64_t n = numElements(shape);
  return Array(std::move(shape), std::vector<double>(n, 0.0));
}

Array Array::scalar(double v) { return Array({}, {v}); }

int64_t normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < 0)
    axis += rank;
  if (axis < 0 || axis >= rank)
    fail("axis out of range");
  return axis;
}

/// Row-major strides of `shape`.
static std::vector<int64_t> stridesOf(const std::vector<int64_t> &shape) {
  std::vector<int64_t> st(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    st[i] = st[i + 1] * shape[i + 1];
  return st;
}

/// Splits the flat index `flat` of `shape` into coordinates.
static std::vector<int64_t> unravel(int64_t flat, const std::vector<int64_t> &shape) {
  std::vector<int64_t> idx(shape.size());
  for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) {
    idx[i] = flat % shape[i];
    flat /= shape[i];
  }
  return idx;
}

std::vector<int64_t> broadcastShapes(const std::vector<int64_t> &a,
                                     const std::vector<int64_t> &b) {
  size_t r = std::max(a.size(), b.size());
  std::vector<int64_t> out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1)
      fail("shapes do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

/// The flat index into an operand of `shape` for output coordinates `idx`
/// (broadcast dimensions of size 1 read index 0).
static int64_t broadcastIndex(const std::vector<int64_t> &idx,
                              const std::vector<int64_t> &shape) {
  size_t off = idx.size() - shape.size();
  int64_t flat = 0;
  for (size_t i = 0; i < shape.size(); ++i)
    flat = flat * shape[i] + (shape[i] == 1 ? 0 : idx[off + i]);
  return flat;
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

Array binary(const Array &a, const Array &b,
             const std::function<double(double, double)> &f) {
  Array out = Array::zeros(broadcastShapes(a.shape, b.shape));
  for (int64_t i = 0; i < out.size(); ++i) {
    std::vector<int64_t> idx = unravel(i, out.shape);
    out.data[i] = f(a.data[broadcastIndex(idx, a.shape)],
                    b.data[broadcastIndex(idx, b.shape)]);
  }
  return out;
}

Array unary(const Array &a, const std::function<double(double)> &f) {
  Array out = a;
  for (double &v : out.data)
    v = f(v);
  return out;
}

Array add(const Array &a, const Array &b) {
  return binary(a, b, [](double x, double y) { return x + y; });
}
Array sub(const Array &a, const Array &b) {
  return binary(a, b, [](double x, double y) { return x - y; });
}
Array mul(const Array &a, const Array &b) {
  return binary(a, b, [](double x, double y) { return x * y; });
}
Array div(const Array &a, const Array &b) {
  return binary(a, b, [](double x, double y) { return x / y; });
}
Array pow(const Array &a, double p) {
  return unary(a, [p](double x) { return std::pow(x, p); });
}
Array maximum(const Array &a, const Array &b) {
  return binary(a, b, [](double x, double y) { return x > y ? x : y; });
}
Array minimum(const Array &a, const Array &b) {
  return binary(a, b, [](double x, double y) { return x < y ? x : y; });
}
Array neg(const Array &a) {
  return unary(a, [](double x) { return -x; });
}

Array compare(const Array &a, const Array &b, const std::string &op) {
  std::function<bool(double, double)> f;
  if (op == "==")
    f = [](double x, double y) { return x == y; };
  else if (op == "!=")
    f = [](double x, double y) { return x != y; };
  else if (op == "<")
    f = [](double x, double y) { return x < y; };
  else if (op == "<=")
    f = [](double x, double y) { return x <= y; };
  else if (op == ">")
    f = [](double x, double y) { return x > y; };
  else if (op == ">=")
    f = [](double x, double y) { return x >= y; };
  else
    fail("unknown comparison");
  return binary(a, b, [&](double x, double y) { return f(x, y) ? 1.0 : 0.0; });
}

Array relu(const Array &a) {
  return unary(a, [](double x) { return x > 0 ? x : 0.0; });
}
Array sigmoid(const Array &a) {
  return unary(a, [](double x) { return 1.0 / (1.0 + std::exp(-x)); });
}
Array tanh(const Array &a) {
  return unary(a, [](double x) { return std::tanh(x); });
}
Array exp(const Array &a) {
  return unary(a, [](double x) { return std::exp(x); });
}
Array log(const Array &a) {
  return unary(a, [](double x) { return std::log(x); });
}
Array sqrt(const Array &a) {
  return unary(a, [](double x) { return std::sqrt(x); });
}
Array square(const Array &a) {
  return unary(a, [](double x) { return x * x; });
}
Array abs(const Array &a) {
  return unary(a, [](double x) { return std::fabs(x); });
}
Array leakyRelu(const Array &a, double alpha) {
  return unary(a, [alpha](double x) { return x > 0 ? x : alpha * x; });
}
Array elu(const Array &a, double alpha) {
  return unary(a, [alpha](double x) { return x > 0 ? x : alpha * (std::exp(x) - 1); });
}

Array castF32(const Array &a) { return a; }
Array castI32(const Array &a) {
  return unary(a, [](double x) { return std::trunc(x); });
}
Array dropoutInference(const Array &a) { return a; }

//===----------------------------------------------------------------------===//
// Softmax and reductions
//===----------------------------------------------------------------------===//

/// Calls `f(base, stride, n)` once for every line of `a` along `axis`, where
/// the line's elements are at base + k*stride for k < n.
static void forEachLine(const std::vector<int64_t> &shape, int64_t axis,
                        const std::function<void(int64_t, int64_t, int64_t)> &f) {
  int64_t n = shape[axis];
  int64_t inner = 1;
  for (size_t i = axis + 1; i < shape.size(); ++i)
    inner *= shape[i];
  int64_t outer = 1;
  for (int64_t i = 0; i < axis; ++i)
    outer *= shape[i];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in)
      f(o * n * inner + in, inner, n);
}

/// log(sum(exp(x))) over one line, computed from the line's max.
static double logSumExp(const Array &a, int64_t base, int64_t stride, int64_t n) {
  double m = -std::numeric_limits<double>::infinity();
  for (int64_t k = 0; k < n; ++k)
    m = std::max(m, a.data[base + k * stride]);
  double s = 0;
  for (int64_t k = 0; k < n; ++k)
    s += std::exp(a.data[base + k * stride] - m);
  return m + std::log(s);
}

Array logSoftmax(const Array &a, int64_t axis) {
  axis = normalizeAxis(axis, a.rank());
  Array out = a;
  forEachLine(a.shape, axis, [&](int64_t base, int64_t stride, int64_t n) {
    double lse = logSumExp(a, base, stride, n);
    for (int64_t k = 0; k < n; ++k)
      out.data[base + k * stride] = a.data[base + k * stride] - lse;
  });
  return out;
}

Array softmax(const Array &a, int64_t axis) {
  Array out = logSoftmax(a, axis);
  for (double &v : out.data)
    v = std::exp(v);
  return out;
}

/// Reduces `a` over `axes` with `init` and `combine`, then applies `finish`
/// (given the reduced count) to every result.
static Array reduce(const Array &a, std::vector<int64_t> axes, bool keepdims,
                    double init, const std::function<double(double, double)> &combine,
                    const std::function<double(double, int64_t)> &finish) {
  std::vector<bool> reduced(a.shape.size(), axes.empty());
  for (int64_t ax : axes)
    reduced[normalizeAxis(ax, a.rank())] = true;
  std::vector<int64_t> keptShape, outShape;
  int64_t count = 1;
  for (size_t i = 0; i < a.shape.size(); ++i) {
    keptShape.push_back(reduced[i] ? 1 : a.shape[i]);
    if (reduced[i])
      count *= a.shape[i];
    if (!reduced[i])
      outShape.push_back(a.shape[i]);
  }
  Array acc(keptShape, std::vector<double>(numElements(keptShape), init));
  for (int64_t i = 0; i < a.size(); ++i) {
    std::vector<int64_t> idx = unravel(i, a.shape);
    int64_t j = broadcastIndex(idx, keptShape);
    acc.data[j] = combine(acc.data[j], a.data[i]);
  }
  for (double &v : acc.data)
    v = finish(v, count);
  if (!keepdims)
    acc.shape = outShape;
  return acc;
}

Array sum(const Array &a, std::vector<int64_t> axes, bool keepdims) {
  return reduce(a, std::move(axes), keepdims, 0.0,
                [](double x, double y) { return x + y; },
                [](double v, int64_t) { return v; });
}
Array mean(const Array &a, std::vector<int64_t> axes, bool keepdims) {
  return reduce(a, std::move(axes), keepdims, 0.0,
                [](double x, double y) { return x + y; },
                [](double v, int64_t n) { return v / static_cast<double>(n); });
}
Array max(const Array &a, std::vector<int64_t> axes, bool keepdims) {
  return reduce(a, std::move(axes), keepdims,
                -std::numeric_limits<double>::infinity(),
                [](double x, double y) { return y > x ? y : x; },
                [](double v, int64_t) { return v; });
}

Array argmax(const Array &a, int64_t axis) {
  axis = normalizeAxis(axis, a.rank());
  std::vector<int64_t> outShape;
  for (int64_t i = 0; i < a.rank(); ++i)
    if (i != axis)
      outShape.push_back(a.shape[i]);
  Array out = Array::zeros(outShape);
  int64_t line = 0;
  forEachLine(a.shape, axis, [&](int64_t base, int64_t stride, int64_t n) {
    int64_t best = 0;
    for (int64_t k = 1; k < n; ++k)
      if (a.data[base + k * stride] > a.data[base + best * stride])
        best = k;
    out.data[line++] = static_cast<double>(best);
  });
  return out;
}

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

Array reshape(const Array &a, std::vector<int64_t> shape) {
  int64_t known = 1, unknown = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1)
      unknown = static_cast<int64_t>(i);
    else
      known *= shape[i];
  }
  if (unknown >= 0)
    shape[unknown] = a.size() / known;
  if (numElements(shape) != a.size())
    fail("reshape changes the element count");
  return Array(std::move(shape), a.data);
}

Array flatten(const Array &a) {
  if (a.rank() < 1)
    fail("flatten of a scalar");
  int64_t n = a.shape[0];
  return Array({n, n == 0 ? 0 : a.size() / n}, a.data);
}

Array transpose(const Array &a, std::vector<int64_t> perm) {
  if (perm.empty())
    for (int64_t i = a.rank() - 1; i >= 0; --i)
      perm.push_back(i);
  std::vector<int64_t> outShape;
  for (int64_t p : perm)
    outShape.push_back(a.shape[p]);
  std::vector<int64_t> inStrides = stridesOf(a.shape);
  Array out = Array::zeros(outShape);
  for (int64_t i = 0; i < out.size(); ++i) {
    std::vector<int64_t> idx = unravel(i, outShape);
    int64_t src = 0;
    for (size_t k = 0; k < perm.size(); ++k)
      src += idx[k] * inStrides[perm[k]];
    out.data[i] = a.data[src];
  }
  return out;
}

Array oneHot(const Array &labels, int64_t depth) {
  int64_t n = labels.size();
  Array out = Array::zeros({n, depth});
  for (int64_t i = 0; i < n; ++i) {
    int64_t c = static_cast<int64_t>(labels.data[i]);
    if (c >= 0 && c < depth)
      out.data[i * depth + c] = 1.0;
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Linear algebra and convolution
//===----------------------------------------------------------------------===//

Array matmul(const Array &a, const Array &b) {
  bool batched = a.rank() == 3;
  if (a.rank() != b.rank() || (a.rank() != 2 && a.rank() != 3))
    fail("matmul ranks");
  int64_t B = batched ? a.shape[0] : 1;
  int64_t M = a.shape[a.rank() - 2], K = a.shape[a.rank() - 1];
  int64_t N = b.shape[b.rank() - 1];
  if (b.shape[b.rank() - 2] != K || (batched && b.shape[0] != B))
    fail("matmul shapes");
  Array out = Array::zeros(batched ? std::vector<int64_t>{B, M, N}
                                   : std::vector<int64_t>{M, N});
  for (int64_t z = 0; z < B; ++z)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double s = 0;
        for (int64_t k = 0; k < K; ++k)
          s += a.data[(z * M + i) * K + k] * b.data[(z * K + k) * N + j];
        out.data[(z * M + i) * N + j] = s;
      }
  return out;
}

int64_t windowOutput(int64_t in, int64_t k, int64_t s, bool same, Pad &pad) {
  if (!same) {
    pad = Pad{0, 0};
    return in < k ? 0 : (in - k) / s + 1;
  }
  int64_t out = (in + s - 1) / s;
  int64_t total = std::max<int64_t>((out - 1) * s + k - in, 0);
  pad.before = total / 2;
  pad.after = total - pad.before;
  return out;
}

Array conv2d(const Array &x, const Array &w, int64_t sh, int64_t sw, bool same) {
  if (x.rank() != 4 || w.rank() != 4 || x.shape[3] != w.shape[2])
    fail("conv2d shapes");
  int64_t N = x.shape[0], H = x.shape[1], W = x.shape[2], C = x.shape[3];
  int64_t KH = w.shape[0], KW = w.shape[1], F = w.shape[3];
  Pad ph, pw;
  int64_t OH = windowOutput(H, KH, sh, same, ph);
  int64_t OW = windowOutput(W, KW, sw, same, pw);
  Array out = Array::zeros({N, OH, OW, F});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow)
        for (int64_t f = 0; f < F; ++f) {
          double s = 0;
          for (int64_t kh = 0; kh < KH; ++kh)
            for (int64_t kw = 0; kw < KW; ++kw) {
              int64_t ih = oh * sh + kh - ph.before;
              int64_t iw = ow * sw + kw - pw.before;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                continue;
              for (int64_t c = 0; c < C; ++c)
                s += x.data[((n * H + ih) * W + iw) * C + c] *
                     w.data[((kh * KW + kw) * C + c) * F + f];
            }
          out.data[((n * OH + oh) * OW + ow) * F + f] = s;
        }
  return out;
}

/// Pools `x` with `combine` over the in-bounds cells of each window.
static Array pool(const Array &x, int64_t wh, int64_t ww, int64_t sh, int64_t sw,
                  bool same, bool isMax) {
  if (x.rank() != 4)
    fail("pool shapes");
  int64_t N = x.shape[0], H = x.shape[1], W = x.shape[2], C = x.shape[3];
  Pad ph, pw;
  int64_t OH = windowOutput(H, wh, sh, same, ph);
  int64_t OW = windowOutput(W, ww, sw, same, pw);
  Array out = Array::zeros({N, OH, OW, C});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow)
        for (int64_t c = 0; c < C; ++c) {
          double acc = isMax ? -std::numeric_limits<double>::infinity() : 0.0;
          int64_t count = 0;
          for (int64_t kh = 0; kh < wh; ++kh)
            for (int64_t kw = 0; kw < ww; ++kw) {
              int64_t ih = oh * sh + kh - ph.before;
              int64_t iw = ow * sw + kw - pw.before;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                continue;
              double v = x.data[((n * H + ih) * W + iw) * C + c];
              acc = isMax ? std::max(acc, v) : acc + v;
              ++count;
            }
          out.data[((n * OH + oh) * OW + ow) * C + c] =
              isMax ? acc : acc / static_cast<double>(count);
        }
  return out;
}

Array maxPool(const Array &x, int64_t wh, int64_t ww, int64_t sh, int64_t sw,
              bool same) {
  return pool(x, wh, ww, sh, sw, same, /*isMax=*/true);
}
Array avgPool(const Array &x, int64_t wh, int64_t ww, int64_t sh, int64_t sw,
              bool same) {
  return pool(x, wh, ww, sh, sw, same, /*isMax=*/false);
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

Array softmaxCrossEntropyIds(const Array &logits, const Array &labels) {
  int64_t N = logits.shape[0], C = logits.shape[1];
  Array lsm = logSoftmax(logits, 1);
  Array out = Array::zeros({N});
  for (int64_t n = 0; n < N; ++n)
    out.data[n] = -lsm.data[n * C + static_cast<int64_t>(labels.data[n])];
  return out;
}

Array softmaxCrossEntropyProbs(const Array &logits, const Array &probs) {
  int64_t N = logits.shape[0], C = logits.shape[1];
  Array lsm = logSoftmax(logits, 1);
  Array out = Array::zeros({N});
  for (int64_t n = 0; n < N; ++n) {
    double s = 0;
    for (int64_t c = 0; c < C; ++c)
      s -= probs.data[n * C + c] * lsm.data[n * C + c];
    out.data[n] = s;
  }
  return out;
}

Array mse(const Array &pred, const Array &target) {
  return mean(square(sub(pred, target)));
}

Array l2(const Array &a) { return sum(square(a)); }

} // namespace dlc::ref
