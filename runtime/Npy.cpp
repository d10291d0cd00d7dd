//===- Npy.cpp - Reading NumPy .npy files -----------------------------------===//
//
// The format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
// The header dict is parsed here rather than evaluated: strings in single or
// double quotes, True/False, and tuples of non-negative integers are the only
// values a valid header holds.
//
//===----------------------------------------------------------------------===//

#include "runtime/Npy.h"

#include "runtime/ArrayData.h"
#include "runtime/Outputs.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

namespace dlc::runtime {

namespace {

/// Closes a FILE on scope exit.
struct FileCloser {
  std::FILE *file;
  ~FileCloser() {
    if (file)
      std::fclose(file);
  }
};

/// A parsed 'descr': the element kind ('f', 'i', 'u'), its size and
/// whether its bytes are big-endian.
struct ElementType {
  char kind = 0;
  int size = 0;
  bool bigEndian = false;
};

/// The strict parser of the header dict. Errors carry the byte offset in
/// the file of the character they point at.
class HeaderParser {
public:
  HeaderParser(const std::string &text, size_t fileOffset)
      : text_(text), base_(fileOffset) {}

  Status parse(std::optional<std::string> &descr, std::optional<bool> &fortran,
               std::optional<std::vector<int64_t>> &shape) {
    skipSpace();
    if (!consume('{'))
      return expected("'{' starting the header dict");
    skipSpace();
    while (!peek('}')) {
      size_t keyAt = pos_;
      std::string key;
      if (Status s = parseString(key); !s.ok())
        return s;
      skipSpace();
      if (!consume(':'))
        return expected("':' after the key '" + key + "'");
      skipSpace();
      if (key == "descr") {
        if (descr)
          return errorAt(keyAt, "'descr' appears twice");
        std::string value;
        if (Status s = parseString(value); !s.ok())
          return s;
        descr = value;
      } else if (key == "fortran_order") {
        if (fortran)
          return errorAt(keyAt, "'fortran_order' appears twice");
        if (text_.compare(pos_, 4, "True") == 0) {
          fortran = true;
          pos_ += 4;
        } else if (text_.compare(pos_, 5, "False") == 0) {
          fortran = false;
          pos_ += 5;
        } else {
          return expected("True or False for 'fortran_order'");
        }
      } else if (key == "shape") {
        if (shape)
          return errorAt(keyAt, "'shape' appears twice");
        std::vector<int64_t> dims;
        if (Status s = parseShape(dims); !s.ok())
          return s;
        shape = dims;
      } else {
        return errorAt(keyAt, "unknown key '" + key +
                                  "': expected 'descr', 'fortran_order' or 'shape'");
      }
      skipSpace();
      if (consume(','))
        skipSpace();
      else if (!peek('}'))
        return expected("',' or '}'");
    }
    ++pos_;
    skipSpace();
    if (pos_ != text_.size())
      return expected("the end of the header after '}'");
    return Status::success();
  }

  Status errorAt(size_t at, const std::string &message) const {
    return makeError("header byte ", base_ + at, ": ", message);
  }

private:
  const std::string &text_;
  size_t base_, pos_ = 0;

  bool peek(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  bool consume(char c) {
    if (!peek(c))
      return false;
    ++pos_;
    return true;
  }
  void skipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  Status expected(const std::string &what) const {
    std::string found = pos_ >= text_.size() ? "the end of the header"
                                             : "'" + std::string(1, text_[pos_]) + "'";
    return errorAt(pos_, "expected " + what + ", found " + found);
  }

  /// A string in single or double quotes, without escapes.
  Status parseString(std::string &out) {
    if (!peek('\'') && !peek('"'))
      return expected("a quoted string");
    char quote = text_[pos_++];
    size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '\\' || static_cast<unsigned char>(text_[pos_]) < 0x20)
        return errorAt(pos_, "unexpected character in a string");
      ++pos_;
    }
    if (pos_ >= text_.size())
      return errorAt(start - 1, "unterminated string");
    out = text_.substr(start, pos_ - start);
    ++pos_;
    return Status::success();
  }

  /// A tuple of non-negative integers: `()`, `(3,)`, `(3, 4)`.
  Status parseShape(std::vector<int64_t> &dims) {
    if (!consume('('))
      return expected("a tuple such as (60000, 28, 28) for 'shape'");
    skipSpace();
    while (!peek(')')) {
      if (pos_ >= text_.size() || text_[pos_] < '0' || text_[pos_] > '9')
        return expected("a non-negative dimension");
      size_t start = pos_;
      int64_t v = 0;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
        int digit = text_[pos_] - '0';
        if (v > (std::numeric_limits<int64_t>::max() - digit) / 10)
          return errorAt(start, "dimension too large");
        v = v * 10 + digit;
        ++pos_;
      }
      // Python 2 wrote longs as 3L.
      consume('L');
      dims.push_back(v);
      skipSpace();
      if (consume(','))
        skipSpace();
      else if (!peek(')'))
        return expected("',' or ')' in the shape");
    }
    ++pos_;
    return Status::success();
  }
};

/// Parses a 'descr' such as '<f4', '|u1' or '>i8'.
std::optional<ElementType> parseDescr(const std::string &descr) {
  if (descr.size() != 3)
    return std::nullopt;
  ElementType t;
  char order = descr[0];
  t.kind = descr[1];
  t.size = descr[2] - '0';
  if (order != '<' && order != '>' && order != '|' && order != '=')
    return std::nullopt;
  t.bigEndian = order == '>';
  bool ok = (t.kind == 'f' && (t.size == 4 || t.size == 8)) ||
            ((t.kind == 'i' || t.kind == 'u') &&
             (t.size == 1 || t.size == 2 || t.size == 4 || t.size == 8));
  if (!ok)
    return std::nullopt;
  return t;
}

/// Decodes element `i` of the raw data as a double.
double decode(const uint8_t *data, const ElementType &t, int64_t i) {
  const uint8_t *p = data + static_cast<size_t>(i) * t.size;
  uint64_t bits = 0;
  for (int b = 0; b < t.size; ++b) {
    int shift = 8 * (t.bigEndian ? t.size - 1 - b : b);
    bits |= static_cast<uint64_t>(p[b]) << shift;
  }
  if (t.kind == 'f') {
    if (t.size == 4) {
      uint32_t bits32 = static_cast<uint32_t>(bits);
      float f;
      std::memcpy(&f, &bits32, 4);
      return f;
    }
    double d;
    std::memcpy(&d, &bits, 8);
    return d;
  }
  if (t.kind == 'u')
    return static_cast<double>(bits);
  // Sign-extend.
  int shift = 64 - 8 * t.size;
  return static_cast<double>(static_cast<int64_t>(bits << shift) >> shift);
}

} // namespace

StatusOr<Tensor> readNpy(const std::string &path, DType as, double scale) {
  auto fail = [&](auto &&...parts) -> Status { return makeError(path, ": ", parts...); };
  uint64_t fileSize = 0;
  if (Status s = checkDataFile(path, as, scale, fileSize); !s.ok())
    return s;
  auto fd = openRegularFile(path);
  if (!fd.ok())
    return fail(fd.status().message());
  FileCloser closer{::fdopen(*fd, "rb")};
  if (!closer.file) {
    ::close(*fd);
    return fail("cannot open: ", std::strerror(errno));
  }

  // Magic, version, header length.
  uint8_t prefix[12];
  size_t got = std::fread(prefix, 1, sizeof prefix, closer.file);
  static const uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (got < 8 || std::memcmp(prefix, kMagic, 6) != 0)
    return fail("not a .npy file: expected the magic \\x93NUMPY at byte 0");
  uint8_t major = prefix[6], minor = prefix[7];
  if (major < 1 || major > 3 || minor != 0)
    return fail("unsupported .npy version ", int(major), ".", int(minor),
                " at byte 6: expected 1.0, 2.0 or 3.0");
  size_t lengthBytes = major == 1 ? 2 : 4;
  if (got < 8 + lengthBytes)
    return fail("truncated .npy header: the file ends at byte ", got);
  uint64_t headerLength = 0;
  for (size_t b = 0; b < lengthBytes; ++b)
    headerLength |= static_cast<uint64_t>(prefix[8 + b]) << (8 * b);
  uint64_t dataStart = 8 + lengthBytes + headerLength;
  if (dataStart > fileSize)
    return fail("truncated .npy header: it claims ", headerLength,
                " bytes, but the file has ", fileSize, " bytes");
  // Header lengths beyond NumPy's own limit are refused before reading.
  if (headerLength > (1u << 20))
    return fail(".npy header of ", headerLength, " bytes is too large");

  std::string header(headerLength, '\0');
  if (std::fseek(closer.file, static_cast<long>(8 + lengthBytes), SEEK_SET) != 0 ||
      std::fread(header.data(), 1, headerLength, closer.file) != headerLength)
    return fail("cannot read the .npy header: ", std::strerror(errno));

  HeaderParser parser(header, 8 + lengthBytes);
  std::optional<std::string> descr;
  std::optional<bool> fortran;
  std::optional<std::vector<int64_t>> shape;
  if (Status s = parser.parse(descr, fortran, shape); !s.ok())
    return s.withPrefix(path + ": ");
  if (!descr || !fortran || !shape)
    return fail("the .npy header lacks '", !descr ? "descr" : !fortran ? "fortran_order" : "shape",
                "'");
  std::optional<ElementType> type = parseDescr(*descr);
  if (!type)
    return fail("unsupported .npy dtype '", *descr,
                "': expected float32 ('<f4'), float64 ('<f8'), uint8 ('|u1') or an "
                "integer type ('<i8', '<i4', ...)");
  if (*fortran && shape->size() > 1)
    return fail("the array is in Fortran order; save it in C order "
                "(numpy.ascontiguousarray)");
  if (shape->empty())
    return fail("the array is a scalar; data needs a first dimension (the example)");
  int64_t count = checkedNumElements(*shape);
  if (count < 0 ||
      static_cast<uint64_t>(count) > std::numeric_limits<uint64_t>::max() / 8)
    return fail(".npy shape ", formatShape(*shape), " is too large");
  uint64_t dataSize = static_cast<uint64_t>(count) * type->size;
  uint64_t available = fileSize - dataStart;
  if (available < dataSize)
    return fail("truncated .npy data: expected ", dataSize, " bytes for ", *descr,
                " of shape ", formatShape(*shape), ", got ", available);
  if (available > dataSize)
    return fail("trailing garbage: ", available - dataSize,
                " bytes after the .npy data of shape ", formatShape(*shape));

  std::vector<uint8_t> raw(dataSize);
  if (dataSize && std::fread(raw.data(), 1, dataSize, closer.file) != dataSize)
    return fail("cannot read the .npy data: ", std::strerror(errno));
  const uint8_t *data = raw.data();
  const ElementType t = *type;
  return arrayToTensor(path, *shape, as, scale,
                       [&](int64_t i) { return decode(data, t, i); });
}

} // namespace dlc::runtime
