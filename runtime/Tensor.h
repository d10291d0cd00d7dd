//===- Tensor.h - Owning dense tensors and memref views ---------*- C++ -*-===//
//
// A Tensor owns a 64-byte-aligned, row-major buffer of f32 or i32 elements
// with a shape. It prints itself in the bracket notation of LANGUAGE.md, parses
// command-line literals, and lays itself out as an MLIR C-ABI memref
// descriptor for calling compiled code. No MLIR or LLVM headers are used.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_TENSOR_H
#define DLC_RUNTIME_TENSOR_H

#include "runtime/Status.h"

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace dlc::runtime {

/// Element types a Tensor can hold.
enum class DType { F32, I32 };

/// Returns the size in bytes of one element of `dtype` (always 4).
size_t dtypeSize(DType dtype);

/// Returns the language spelling of `dtype`: "f32" or "i32".
const char *dtypeName(DType dtype);

/// Returns the DType for a C++ element type (float -> F32, int32_t -> I32).
template <class T> constexpr DType dtypeOf() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, int32_t>,
                "tensors hold float or int32_t elements");
  return std::is_same_v<T, float> ? DType::F32 : DType::I32;
}

/// Formats a shape as "[8000, 28, 28]" ("[]" for a scalar).
std::string formatShape(const std::vector<int64_t> &shape);

/// Formats a type as "f32[8000, 28, 28]".
std::string formatType(DType dtype, const std::vector<int64_t> &shape);

/// Returns the number of elements of `shape` (1 for a scalar), or -1 when a
/// dimension is negative or the product overflows int64_t.
int64_t checkedNumElements(const std::vector<int64_t> &shape);

/// A dense row-major tensor owning a 64-byte-aligned buffer. Copying a Tensor
/// copies its data; moving it moves the buffer.
namespace detail {
/// Frees a tensor's buffer with the function of the memory it is in.
struct BufferRelease {
  void (*release)(void *) = std::free;
  void operator()(void *p) const { release(p); }
};
} // namespace detail

class Tensor {
public:
  /// Creates an f32 scalar holding 0.
  Tensor();

  /// Creates a zero-filled tensor of a shape the caller knows to be valid and
  /// small (a scalar, a literal's, a test's). A shape or size that cannot be
  /// allocated is a fatal error (a message, then abort()), never a null
  /// buffer: whatever builds tensors from untrusted input (a module spec, a
  /// checkpoint, a data file, a C API caller, compiled code's results) uses
  /// allocate(), which returns the error instead.
  Tensor(DType dtype, std::vector<int64_t> shape);

  /// Same as Tensor(dtype, shape).
  static Tensor zeros(std::vector<int64_t> shape, DType dtype = DType::F32);

  /// Creates a zero-filled tensor, or an error when the shape has a negative
  /// dimension, its size overflows, or the allocation fails.
  static StatusOr<Tensor> allocate(DType dtype, std::vector<int64_t> shape);

  /// Creates a tensor whose elements are copied from `values`, which must
  /// hold exactly numElements(shape) elements.
  template <class T>
  static Tensor fromVector(std::vector<int64_t> shape,
                           const std::vector<T> &values) {
    Tensor t(dtypeOf<T>(), std::move(shape));
    assert(static_cast<int64_t>(values.size()) == t.numElements() &&
           "value count does not match the shape");
    if (!values.empty())
      std::copy(values.begin(), values.end(), t.data<T>());
    return t;
  }

  /// Creates a scalar tensor holding `value`.
  template <class T> static Tensor scalar(T value) {
    return fromVector<T>({}, std::vector<T>{value});
  }

  Tensor(const Tensor &other);
  Tensor &operator=(const Tensor &other);
  Tensor(Tensor &&other) noexcept = default;
  Tensor &operator=(Tensor &&other) noexcept = default;
  ~Tensor() = default;

  /// Returns a deep copy.
  Tensor copy() const { return *this; }

  /// Returns the element type.
  DType dtype() const { return dtype_; }
  /// Returns the shape (empty for a scalar).
  const std::vector<int64_t> &shape() const { return shape_; }
  /// Returns the rank (number of dimensions).
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  /// Returns dimension `i`.
  int64_t dim(size_t i) const { return shape_.at(i); }
  /// Returns the number of elements (1 for a scalar).
  int64_t numElements() const { return numElements_; }
  /// Returns the size of the data in bytes.
  size_t byteSize() const {
    return static_cast<size_t>(numElements_) * dtypeSize(dtype_);
  }
  /// Returns "f32[2, 3]" style type text.
  std::string typeString() const { return formatType(dtype_, shape_); }

  /// Returns the buffer (64-byte aligned; null only when empty).
  void *rawData() { return buffer_.get(); }
  /// Returns the buffer (64-byte aligned; null only when empty).
  const void *rawData() const { return buffer_.get(); }

  /// Returns the elements as T; T must match dtype().
  template <class T> T *data() {
    assert(dtypeOf<T>() == dtype_ && "element type does not match dtype");
    return static_cast<T *>(rawData());
  }
  /// Returns the elements as T; T must match dtype().
  template <class T> const T *data() const {
    assert(dtypeOf<T>() == dtype_ && "element type does not match dtype");
    return static_cast<const T *>(rawData());
  }

  /// Returns the elements copied into a vector; T must match dtype().
  template <class T> std::vector<T> toVector() const {
    const T *p = data<T>();
    return std::vector<T>(p, p + numElements_);
  }

  /// Returns the same data with another shape of the same element count.
  StatusOr<Tensor> reshaped(std::vector<int64_t> shape) const;

  /// Changes the shape in place; `shape` must have the same element count.
  Status reshape(std::vector<int64_t> shape);

  /// A copy of rows [begin, end) of the first dimension (rank >= 1,
  /// 0 <= begin <= end <= dim(0)); an error when it cannot be allocated.
  StatusOr<Tensor> rows(int64_t begin, int64_t end) const;

  /// Prints the value in bracket notation with %g numbers: "7", "[3, 7]",
  /// "[[1, 2], [3, 4]]"; an empty dimension prints as "[]".
  std::string format() const;

  /// Takes ownership of `buffer` holding a row-major tensor of `shape`,
  /// to be freed with `release` (free() for malloc/aligned_alloc memory):
  /// compiled code returns its results this way.
  static Tensor adopt(DType dtype, std::vector<int64_t> shape, void *buffer,
                      void (*release)(void *) = std::free);

  /// Whether the buffer was adopted with `release` (which memory it is in).
  bool releasedWith(void (*release)(void *)) const {
    return buffer_.get_deleter().release == release;
  }

private:
  using FreeDeleter = detail::BufferRelease;
  /// Builds an empty shell for allocate() and adopt() to fill.
  struct Uninitialized {};
  explicit Tensor(Uninitialized) {}

  DType dtype_ = DType::F32;
  std::vector<int64_t> shape_;
  int64_t numElements_ = 1;
  std::unique_ptr<void, FreeDeleter> buffer_;

  /// Allocates an uninitialised buffer for numElements_; false on failure.
  bool allocateBuffer();
};

/// Parses a tensor literal as given on the command line ("3", "4.5",
/// "[1,2,3]", "[[1,2],[3,4]]", "[-1]"). Numbers are stored as `dtype`; for
/// I32 every number must be an integer in range. Errors name the 1-based
/// column: "column 4: expected ',' or ']', got 'x'".
StatusOr<Tensor> parseTensorLiteral(const std::string &text,
                                    DType dtype = DType::F32);

/// Returns the number of 64-bit words of a rank-`rank` memref descriptor:
/// allocated, aligned, offset, sizes[rank], strides[rank].
inline size_t memRefDescriptorWords(int64_t rank) {
  return 3 + 2 * static_cast<size_t>(rank);
}

/// Appends the MLIR C-ABI memref descriptor of `tensor` to `words`:
/// allocated and aligned pointers (both the buffer), offset 0, the sizes and
/// row-major strides. The words stay valid while `tensor` keeps its buffer.
void appendMemRefDescriptor(Tensor &tensor, std::vector<int64_t> &words);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_TENSOR_H
