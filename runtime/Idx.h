//===- Idx.h - Reading IDX (MNIST-format) files -----------------*- C++ -*-===//
//
// IDX files hold one dense array: two zero bytes, a type code, the rank, the
// dimensions as big-endian uint32 and then the big-endian elements. Files may
// be gzipped. Every header field and the data size are validated, and no
// allocation is made that the file's size cannot back.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_IDX_H
#define DLC_RUNTIME_IDX_H

#include "runtime/Status.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <string>

namespace dlc::runtime {

/// The element types of the IDX format (the third byte of the magic).
enum class IdxType : uint8_t {
  UByte = 0x08,
  SByte = 0x09,
  Short = 0x0B,
  Int = 0x0C,
  Float = 0x0D,
  Double = 0x0E,
};

/// Reads the IDX file `path`, gzipped or not (detected from its first bytes).
/// With `as` = F32 every element is converted to float and multiplied by
/// `scale`; with `as` = I32 (labels) every element must be an integer in the
/// i32 range and `scale` must be 1. The tensor has the file's shape. Errors
/// start with `path`: "t10k-images.gz: truncated IDX data: expected 1568000
/// bytes, got 1000".
StatusOr<Tensor> readIdx(const std::string &path, DType as = DType::F32,
                         double scale = 1.0);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_IDX_H
