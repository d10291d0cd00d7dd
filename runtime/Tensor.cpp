//===- Tensor.cpp - Owning dense tensors and memref views -----------------===//
//
// Implements Tensor storage (aligned_alloc'ed, 64-byte aligned, size rounded up
// to a multiple of 64 as aligned_alloc requires), bracket-notation printing,
// the command-line literal parser and the memref descriptor layout.
//
//===----------------------------------------------------------------------===//

#include "runtime/Tensor.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

namespace dlc::runtime {

namespace {
constexpr size_t kAlignment = 64;
/// A tensor the caller promised could be built could not: no null buffer
/// may escape (Tensor(dtype, shape) documents this).
[[noreturn]] void cannotAllocate(const Status &why) {
  std::fprintf(stderr, "dlc runtime: fatal: %s\n", why.message().c_str());
  std::abort();
}

} // namespace

size_t dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return sizeof(float);
  case DType::I32:
    return sizeof(int32_t);
  }
  return 4;
}

const char *dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "f32";
  case DType::I32:
    return "i32";
  }
  return "?";
}

std::string formatShape(const std::vector<int64_t> &shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

std::string formatType(DType dtype, const std::vector<int64_t> &shape) {
  return dtypeName(dtype) + formatShape(shape);
}

int64_t checkedNumElements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return -1;
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d)
      return -1;
    n *= d;
  }
  return n;
}

//===----------------------------------------------------------------------===//
// Tensor
//===----------------------------------------------------------------------===//

Tensor::Tensor() : numElements_(1) {
  if (!allocateBuffer())
    cannotAllocate(Status::error("cannot allocate a scalar"));
  std::memset(buffer_.get(), 0, byteSize());
}

Tensor::Tensor(DType dtype, std::vector<int64_t> shape) {
  StatusOr<Tensor> t = allocate(dtype, std::move(shape));
  if (!t.ok())
    cannotAllocate(t.status());
  *this = std::move(*t);
}

Tensor Tensor::zeros(std::vector<int64_t> shape, DType dtype) {
  return Tensor(dtype, std::move(shape));
}

StatusOr<Tensor> Tensor::allocate(DType dtype, std::vector<int64_t> shape) {
  int64_t n = checkedNumElements(shape);
  if (n < 0 || static_cast<uint64_t>(n) >
                   std::numeric_limits<size_t>::max() / 4 - kAlignment)
    return makeError("invalid tensor shape ", formatShape(shape));
  Tensor t(Uninitialized{});
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.numElements_ = n;
  if (!t.allocateBuffer())
    return makeError("cannot allocate ", t.byteSize(), " bytes for ",
                     t.typeString());
  if (t.buffer_)
    std::memset(t.buffer_.get(), 0, t.byteSize());
  return t;
}

Tensor Tensor::adopt(DType dtype, std::vector<int64_t> shape, void *buffer,
                     void (*release)(void *)) {
  Tensor t(Uninitialized{});
  t.dtype_ = dtype;
  t.numElements_ = checkedNumElements(shape);
  t.shape_ = std::move(shape);
  t.buffer_ = std::unique_ptr<void, FreeDeleter>(buffer, FreeDeleter{release});
  return t;
}

bool Tensor::allocateBuffer() {
  size_t bytes = byteSize();
  if (bytes == 0) {
    buffer_ = nullptr;
    return true;
  }
  size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  buffer_ = std::unique_ptr<void, FreeDeleter>(std::aligned_alloc(kAlignment, rounded),
                                               FreeDeleter{std::free});
  return buffer_ != nullptr;
}

Tensor::Tensor(const Tensor &other)
    : dtype_(other.dtype_), shape_(other.shape_),
      numElements_(other.numElements_) {
  if (!allocateBuffer())
    cannotAllocate(makeError("cannot allocate ", byteSize(), " bytes to copy ", typeString()));
  if (buffer_)
    std::memcpy(buffer_.get(), other.buffer_.get(), byteSize());
}

Tensor &Tensor::operator=(const Tensor &other) {
  if (this != &other) {
    Tensor copied(other);
    *this = std::move(copied);
  }
  return *this;
}

StatusOr<Tensor> Tensor::reshaped(std::vector<int64_t> shape) const {
  Tensor t(*this);
  Status s = t.reshape(std::move(shape));
  if (!s.ok())
    return s;
  return t;
}

StatusOr<Tensor> Tensor::rows(int64_t begin, int64_t end) const {
  assert(rank() >= 1 && 0 <= begin && begin <= end && end <= dim(0) &&
         "rows out of range");
  std::vector<int64_t> shape = shape_;
  shape[0] = end - begin;
  StatusOr<Tensor> allocated = allocate(dtype_, shape);
  if (!allocated.ok())
    return allocated.status();
  Tensor part = std::move(*allocated);
  size_t rowBytes = shape_[0] ? byteSize() / static_cast<size_t>(shape_[0]) : 0;
  if (part.byteSize())
    std::memcpy(part.rawData(),
                static_cast<const char *>(rawData()) + begin * rowBytes,
                part.byteSize());
  return part;
}

Status Tensor::reshape(std::vector<int64_t> shape) {
  int64_t n = checkedNumElements(shape);
  if (n != numElements_)
    return makeError("cannot reshape ", typeString(), " to ",
                     formatShape(shape), ": element counts differ");
  shape_ = std::move(shape);
  return Status::success();
}

namespace {
void appendNumber(std::string &out, float v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", static_cast<double>(v));
  out += buf;
}

void appendNumber(std::string &out, int32_t v) { out += std::to_string(v); }

template <class T>
void formatDims(std::string &out, const T *data,
                const std::vector<int64_t> &shape, size_t dim,
                int64_t &index) {
  if (dim == shape.size()) {
    appendNumber(out, data[index++]);
    return;
  }
  out += '[';
  for (int64_t i = 0; i < shape[dim]; ++i) {
    if (i)
      out += ", ";
    formatDims(out, data, shape, dim + 1, index);
  }
  out += ']';
}
} // namespace

std::string Tensor::format() const {
  std::string out;
  int64_t index = 0;
  if (dtype_ == DType::F32)
    formatDims(out, data<float>(), shape_, 0, index);
  else
    formatDims(out, data<int32_t>(), shape_, 0, index);
  return out;
}

//===----------------------------------------------------------------------===//
// Literal parsing
//===----------------------------------------------------------------------===//

namespace {
/// Recursive-descent parser for
/// `value ::= number | '[' (value (',' value)*)? ']'`.
class LiteralParser {
public:
  LiteralParser(const std::string &text, DType dtype)
      : text_(text), dtype_(dtype) {}

  StatusOr<Tensor> parse() {
    skipSpace();
    if (pos_ == text_.size())
      return error("expected a number or '[', got the end of the input");
    std::vector<int64_t> shape;
    Status s = parseValue(shape, 0);
    if (!s.ok())
      return s;
    skipSpace();
    if (pos_ != text_.size())
      return error("unexpected '" + std::string(1, text_[pos_]) +
                   "' after the tensor literal");
    StatusOr<Tensor> allocated = Tensor::allocate(dtype_, shape);
    if (!allocated.ok())
      return allocated.status();
    Tensor t = std::move(*allocated);
    if (dtype_ == DType::F32) {
      for (size_t i = 0; i < values_.size(); ++i)
        t.data<float>()[i] = static_cast<float>(values_[i]);
    } else {
      for (size_t i = 0; i < values_.size(); ++i)
        t.data<int32_t>()[i] = static_cast<int32_t>(values_[i]);
    }
    return t;
  }

private:
  static constexpr int kMaxDepth = 32;
  const std::string &text_;
  DType dtype_;
  size_t pos_ = 0;
  std::vector<double> values_;

  Status error(const std::string &what, size_t at) const {
    return makeError("column ", at + 1, ": ", what);
  }
  Status error(const std::string &what) const { return error(what, pos_); }

  std::string current() const {
    if (pos_ >= text_.size())
      return "the end of the input";
    return "'" + std::string(1, text_[pos_]) + "'";
  }

  void skipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
            text_[pos_] == '\r'))
      ++pos_;
  }

  static bool isNumberChar(char c) {
    return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' ||
           c == '+' || c == '-';
  }

  Status parseValue(std::vector<int64_t> &shape, int depth) {
    if (pos_ < text_.size() && text_[pos_] == '[')
      return parseList(shape, depth);
    shape.clear();
    return parseNumber();
  }

  Status parseNumber() {
    size_t start = pos_;
    if (pos_ >= text_.size() || !isNumberChar(text_[pos_]) ||
        text_[pos_] == 'e' || text_[pos_] == 'E')
      return error("expected a number or '[', got " + current());
    // Scan sign, digits, point and exponent; strtod then decides validity.
    size_t end = pos_;
    while (end < text_.size() && isNumberChar(text_[end])) {
      char c = text_[end];
      if ((c == '+' || c == '-') && end != start && text_[end - 1] != 'e' &&
          text_[end - 1] != 'E')
        break;
      ++end;
    }
    std::string token = text_.substr(start, end - start);
    char *parsedEnd = nullptr;
    double v = std::strtod(token.c_str(), &parsedEnd);
    if (parsedEnd != token.c_str() + token.size() || token.empty())
      return error("invalid number '" + token + "'", start);
    if (!std::isfinite(v))
      return error("number '" + token + "' is out of range", start);
    if (dtype_ == DType::I32) {
      if (v != std::floor(v))
        return error("expected an integer for an i32 tensor, got '" + token +
                         "'",
                     start);
      if (v < -2147483648.0 || v > 2147483647.0)
        return error("integer '" + token + "' does not fit in i32", start);
    }
    values_.push_back(v);
    pos_ = end;
    return Status::success();
  }

  Status parseList(std::vector<int64_t> &shape, int depth) {
    if (depth >= kMaxDepth)
      return error("tensor literal nested deeper than " +
                   std::to_string(kMaxDepth) + " levels");
    ++pos_; // '['
    skipSpace();
    std::vector<int64_t> first;
    int64_t count = 0;
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      shape = {0};
      return Status::success();
    }
    while (true) {
      skipSpace();
      size_t elementStart = pos_;
      std::vector<int64_t> elementShape;
      Status s = parseValue(elementShape, depth + 1);
      if (!s.ok())
        return s;
      if (count == 0)
        first = elementShape;
      else if (elementShape != first)
        return error("ragged tensor literal: element has shape " +
                         formatShape(elementShape) + " but the first has " +
                         formatShape(first),
                     elementStart);
      ++count;
      skipSpace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == ']') {
        ++pos_;
        break;
      }
      return error("expected ',' or ']', got " + current());
    }
    shape.clear();
    shape.push_back(count);
    shape.insert(shape.end(), first.begin(), first.end());
    return Status::success();
  }
};
} // namespace

StatusOr<Tensor> parseTensorLiteral(const std::string &text, DType dtype) {
  return LiteralParser(text, dtype).parse();
}

//===----------------------------------------------------------------------===//
// Memref descriptors
//===----------------------------------------------------------------------===//

static_assert(sizeof(void *) == sizeof(int64_t),
              "memref descriptors assume 64-bit pointers");

void appendMemRefDescriptor(Tensor &tensor, std::vector<int64_t> &words) {
  int64_t pointer = reinterpret_cast<intptr_t>(tensor.rawData());
  words.push_back(pointer); // allocated
  words.push_back(pointer); // aligned
  words.push_back(0);       // offset
  const std::vector<int64_t> &shape = tensor.shape();
  for (int64_t d : shape)
    words.push_back(d);
  size_t stridesAt = words.size();
  words.resize(words.size() + shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    words[stridesAt + i] = stride;
    stride *= shape[i];
  }
}

} // namespace dlc::runtime
