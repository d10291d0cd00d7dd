//===- ArrayData.h - a data file's elements as a tensor ---------*- C++ -*-===//
//
// What the data readers (IDX, npy) share once a file's header is checked:
// turning its elements into the tensor an input is fed from. f32 data is
// converted and multiplied by the source's `scale`; i32 data (labels) must
// hold integers in the i32 range.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_ARRAYDATA_H
#define DLC_RUNTIME_ARRAYDATA_H

#include "runtime/Status.h"
#include "runtime/Tensor.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace dlc::runtime {

/// What every data reader checks first: that labels (`as` = I32) take no
/// scale, and that `path` is a regular file; stores its size in `size`.
/// Errors start with `path`.
Status checkDataFile(const std::string &path, DType as, double scale, uint64_t &size);

/// Builds a tensor of `shape` and dtype `as` from the elements
/// `element(0)`, `element(1)`, ... (each a double). Errors start with
/// `path` and name the element.
template <class Element>
StatusOr<Tensor> arrayToTensor(const std::string &path, const std::vector<int64_t> &shape,
                               DType as, double scale, Element element) {
  StatusOr<Tensor> allocated = Tensor::allocate(as, shape);
  if (!allocated.ok())
    return allocated.status().withPrefix(path + ": ");
  Tensor tensor = std::move(allocated).value();
  int64_t count = tensor.numElements();
  if (as == DType::F32) {
    float *out = tensor.data<float>();
    for (int64_t i = 0; i < count; ++i)
      out[i] = static_cast<float>(element(i) * scale);
    return tensor;
  }
  int32_t *out = tensor.data<int32_t>();
  for (int64_t i = 0; i < count; ++i) {
    double v = element(i);
    if (!(v == std::floor(v)) || v < -2147483648.0 || v > 2147483647.0)
      return makeError(path, ": element ", i, " is ", v,
                       ", not an integer; i32 data needs integer values");
    out[i] = static_cast<int32_t>(v);
  }
  return tensor;
}

} // namespace dlc::runtime

#endif // DLC_RUNTIME_ARRAYDATA_H
