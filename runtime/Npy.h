//===- Npy.h - Reading NumPy .npy files -------------------------*- C++ -*-===//
//
// A .npy file (NumPy's format, versions 1.0 to 3.0) holds one array: the
// magic "\x93NUMPY", the version, a little-endian header length and an ASCII
// header that is a Python dict literal with 'descr' (the dtype, such as
// '<f4'), 'fortran_order' and 'shape', then the raw elements. The header is
// parsed by a small strict parser (no Python evaluation): every field is
// checked, errors name the header byte, and the data size is checked against
// the file size before anything is allocated.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_NPY_H
#define DLC_RUNTIME_NPY_H

#include "runtime/Status.h"
#include "runtime/Tensor.h"

#include <string>

namespace dlc::runtime {

/// Reads the .npy file `path`: float32, float64, uint8 and the other integer
/// dtypes (int8 to int64, uint16 to uint64), either byte order, C order. With
/// `as` = F32 every element is converted to float and multiplied by `scale`;
/// with `as` = I32 (labels) every element must be an integer in the i32
/// range and `scale` must be 1. The tensor has the file's shape. Errors
/// start with `path`: "x.npy: header byte 27: expected ',' or '}'".
StatusOr<Tensor> readNpy(const std::string &path, DType as = DType::F32,
                         double scale = 1.0);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_NPY_H
