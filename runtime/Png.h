//===- Png.h - PNG encoding with libpng -------------------------*- C++ -*-===//
//
// Encodes 8-bit images for TensorBoard's image summaries.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_PNG_H
#define DLC_RUNTIME_PNG_H

#include "runtime/Status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dlc::runtime {

/// An 8-bit image, rows top to bottom, `channels` (1 grey, 3 RGB) samples
/// per pixel.
struct Image {
  int width = 0, height = 0, channels = 1;
  std::vector<uint8_t> pixels;
};

/// The PNG file of `image`.
StatusOr<std::string> encodePng(const Image &image);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_PNG_H
