//===- Png.cpp - PNG encoding with libpng ----------------------------------===//
//
// libpng reports errors by longjmp; nothing here owns memory that the jump
// would leak (the rows are pointers into the image, the output a string).
//
//===----------------------------------------------------------------------===//

#include "runtime/Png.h"

#include <csetjmp>
#include <png.h>

using namespace dlc::runtime;

namespace {
void appendData(png_structp png, png_bytep data, png_size_t size) {
  static_cast<std::string *>(png_get_io_ptr(png))->append(
      reinterpret_cast<const char *>(data), size);
}
void flushNothing(png_structp) {}
} // namespace

StatusOr<std::string> dlc::runtime::encodePng(const Image &image) {
  if (image.width <= 0 || image.height <= 0 ||
      (image.channels != 1 && image.channels != 3) ||
      image.pixels.size() !=
          static_cast<size_t>(image.width) * image.height * image.channels)
    return makeError("cannot encode a ", image.width, "x", image.height, "x",
                     image.channels, " image from ", image.pixels.size(), " bytes");
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (!png)
    return makeError("libpng: cannot create a writer");
  png_infop info = png_create_info_struct(png);
  std::string out;
  std::vector<png_bytep> rows(image.height);
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return makeError("libpng: cannot encode the image");
  }
  png_set_write_fn(png, &out, appendData, flushNothing);
  png_set_IHDR(png, info, image.width, image.height, 8,
               image.channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  for (int y = 0; y < image.height; ++y)
    rows[y] = const_cast<png_bytep>(image.pixels.data()) +
              static_cast<size_t>(y) * image.width * image.channels;
  png_set_rows(png, info, rows.data());
  png_write_png(png, info, PNG_TRANSFORM_IDENTITY, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}
