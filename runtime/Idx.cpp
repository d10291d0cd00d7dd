//===- Idx.cpp - Reading IDX (MNIST-format) files -------------------------===//
//
// Reads plain files as they are and gzip files (one or more members) through
// zlib's inflate API, which, unlike the gz* API, tells where the gzip data
// ends: bytes after the last member are trailing garbage, not ignored. The
// data size claimed by the header is checked against the file's size (exactly
// for plain files, against deflate's maximum ratio for gzip) before anything
// is allocated.
//
//===----------------------------------------------------------------------===//

#include "runtime/Idx.h"

#include "runtime/ArrayData.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

namespace dlc::runtime {

namespace {
/// Deflate never expands data by more than about 1032:1.
constexpr uint64_t kMaxDeflateRatio = 1032;

int elementSize(uint8_t code) {
  switch (static_cast<IdxType>(code)) {
  case IdxType::UByte:
  case IdxType::SByte:
    return 1;
  case IdxType::Short:
    return 2;
  case IdxType::Int:
  case IdxType::Float:
    return 4;
  case IdxType::Double:
    return 8;
  }
  return 0;
}

const char *typeName(uint8_t code) {
  switch (static_cast<IdxType>(code)) {
  case IdxType::UByte:
    return "ubyte";
  case IdxType::SByte:
    return "sbyte";
  case IdxType::Short:
    return "short";
  case IdxType::Int:
    return "int";
  case IdxType::Float:
    return "float";
  case IdxType::Double:
    return "double";
  }
  return "?";
}

uint64_t readBigEndian(const uint8_t *p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v = (v << 8) | p[i];
  return v;
}

/// Decodes element `i` of big-endian data of type `code` as a double.
double decode(const uint8_t *data, uint8_t code, int64_t i) {
  switch (static_cast<IdxType>(code)) {
  case IdxType::UByte:
    return data[i];
  case IdxType::SByte:
    return static_cast<int8_t>(data[i]);
  case IdxType::Short:
    return static_cast<int16_t>(readBigEndian(data + 2 * i, 2));
  case IdxType::Int:
    return static_cast<int32_t>(readBigEndian(data + 4 * i, 4));
  case IdxType::Float: {
    uint32_t bits = static_cast<uint32_t>(readBigEndian(data + 4 * i, 4));
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  case IdxType::Double: {
    uint64_t bits = readBigEndian(data + 8 * i, 8);
    double d;
    std::memcpy(&d, &bits, 8);
    return d;
  }
  }
  return 0;
}

/// The bytes of a file, inflated if it starts with gzip's magic bytes.
class Source {
public:
  ~Source() {
    if (inflating)
      inflateEnd(&zs);
    if (fd >= 0)
      ::close(fd);
  }

  /// Opens `path` (of `size` bytes) and looks for gzip's magic; returns
  /// false with errno set.
  bool open(const std::string &path, uint64_t size) {
    fileSize = size;
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || !fill())
      return false;
    gzipped = zs.avail_in >= 2 && in[0] == 0x1f && in[1] == 0x8b;
    if (gzipped && inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
      errno = ENOMEM;
      return false;
    }
    inflating = gzipped;
    return true;
  }

  bool isGzip() const { return gzipped; }
  /// Why the last read() returned -1.
  const std::string &failure() const { return error; }
  /// True once a gzip stream ended without its trailer (or mid-member).
  bool truncated() const { return cut; }

  /// Reads up to `size` bytes into `dst`; returns the count (short at the end
  /// of the data), or -1 with failure() set.
  int64_t read(uint8_t *dst, uint64_t size) {
    uint64_t done = 0;
    while (done < size) {
      if (zs.avail_in == 0 && !eof && !fill())
        return fail(std::strerror(errno));
      if (!gzipped) {
        if (zs.avail_in == 0)
          break;
        uint64_t n = std::min<uint64_t>(size - done, zs.avail_in);
        std::memcpy(dst + done, zs.next_in, n);
        zs.next_in += n;
        zs.avail_in -= static_cast<unsigned>(n);
        done += n;
        continue;
      }
      if (memberEnded) {
        // Another member may follow; anything else is garbage.
        if (zs.avail_in < 2 && !eof && !fill())
          return fail(std::strerror(errno));
        if (zs.avail_in == 0)
          break;
        if (zs.avail_in < 2 || zs.next_in[0] != 0x1f || zs.next_in[1] != 0x8b)
          return fail("trailing garbage: " +
                      std::to_string(fileSize - (fileBytes - zs.avail_in)) +
                      " bytes after the gzip data");
        inflateReset(&zs);
        memberEnded = false;
      }
      unsigned want = static_cast<unsigned>(
          std::min<uint64_t>(size - done, 1u << 30));
      zs.next_out = dst + done;
      zs.avail_out = want;
      int r = inflate(&zs, Z_NO_FLUSH);
      done += want - zs.avail_out;
      if (r == Z_STREAM_END) {
        memberEnded = true;
      } else if (r == Z_BUF_ERROR && zs.avail_in == 0) {
        // No progress without more input: the stream is cut short.
        if (eof) {
          cut = true;
          break;
        }
      } else if (r != Z_OK) {
        return fail(std::string("corrupt gzip data: ") +
                    (zs.msg ? zs.msg : "unknown zlib error"));
      }
    }
    return static_cast<int64_t>(done);
  }

private:
  /// Refills the input buffer if it is empty; false on a read error.
  bool fill() {
    if (zs.avail_in != 0)
      return true;
    ssize_t n;
    do
      n = ::read(fd, in.data(), in.size());
    while (n < 0 && errno == EINTR);
    if (n < 0)
      return false;
    eof = n == 0;
    fileBytes += static_cast<uint64_t>(n);
    zs.next_in = in.data();
    zs.avail_in = static_cast<unsigned>(n);
    return true;
  }
  int64_t fail(std::string message) {
    error = std::move(message);
    return -1;
  }

  int fd = -1;
  std::vector<uint8_t> in = std::vector<uint8_t>(1u << 17);
  z_stream zs = {};
  uint64_t fileSize = 0, fileBytes = 0;
  bool eof = false, gzipped = false, inflating = false, memberEnded = false,
       cut = false;
  std::string error;
};
} // namespace

Status checkDataFile(const std::string &path, DType as, double scale, uint64_t &size) {
  if (as == DType::I32 && scale != 1.0)
    return makeError(path, ": scale=", scale, " needs f32 data, not i32 labels");
  struct stat info;
  if (::stat(path.c_str(), &info) != 0)
    return makeError(path, ": cannot open: ", std::strerror(errno));
  if (!S_ISREG(info.st_mode))
    return makeError(path, ": not a regular file");
  size = static_cast<uint64_t>(info.st_size);
  return Status::success();
}

StatusOr<Tensor> readIdx(const std::string &path, DType as, double scale) {
  auto fail = [&](auto &&...parts) -> Status {
    return makeError(path, ": ", parts...);
  };
  uint64_t fileSize = 0;
  if (Status s = checkDataFile(path, as, scale, fileSize); !s.ok())
    return s;

  Source file;
  if (!file.open(path, fileSize))
    return fail("cannot open: ", std::strerror(errno));
  bool gzipped = file.isGzip();

  uint8_t magic[4];
  int64_t got = file.read(magic, 4);
  if (got < 0)
    return fail(file.failure());
  if (got < 4)
    return fail("truncated IDX header: expected 4 bytes, got ", got);
  if (magic[0] != 0 || magic[1] != 0) {
    char hex[16];
    std::snprintf(hex, sizeof(hex), "%02x%02x%02x%02x", magic[0], magic[1],
                  magic[2], magic[3]);
    return fail("bad IDX magic 0x", hex,
                ": expected two zero bytes, a type code and a rank");
  }
  uint8_t code = magic[2];
  int elemSize = elementSize(code);
  if (elemSize == 0) {
    char hex[8];
    std::snprintf(hex, sizeof(hex), "0x%02x", code);
    return fail("unknown IDX type code ", hex,
                ": expected 0x08, 0x09, 0x0b, 0x0c, 0x0d or 0x0e");
  }
  int rank = magic[3];
  if (rank == 0)
    return fail("IDX rank is 0: expected at least one dimension");

  std::vector<uint8_t> dimBytes(4 * static_cast<size_t>(rank));
  got = file.read(dimBytes.data(), dimBytes.size());
  if (got < 0)
    return fail(file.failure());
  if (got < static_cast<int64_t>(dimBytes.size()))
    return fail("truncated IDX header: expected ", rank,
                " dimensions, got ", got / 4);
  std::vector<int64_t> shape(rank);
  for (int i = 0; i < rank; ++i)
    shape[i] = static_cast<int64_t>(readBigEndian(&dimBytes[4 * i], 4));

  uint64_t headerSize = 4 + 4 * static_cast<uint64_t>(rank);
  int64_t count = checkedNumElements(shape);
  if (count < 0 ||
      static_cast<uint64_t>(count) >
          std::numeric_limits<uint64_t>::max() / 8 / kMaxDeflateRatio)
    return fail("IDX shape ", formatShape(shape), " is too large");
  uint64_t dataSize = static_cast<uint64_t>(count) * elemSize;

  if (!gzipped) {
    uint64_t available = fileSize - headerSize;
    if (available < dataSize)
      return fail("truncated IDX data: expected ", dataSize, " bytes, got ",
                  available);
    if (available > dataSize)
      return fail("trailing garbage: ", available - dataSize,
                  " bytes after the IDX data of shape ", formatShape(shape));
  } else if (dataSize > fileSize * kMaxDeflateRatio + 1024) {
    return fail("IDX header claims ", dataSize, " bytes of ", typeName(code),
                " data for shape ", formatShape(shape),
                ", more than a gzip file of ", fileSize, " bytes can hold");
  }

  std::vector<uint8_t> raw;
  raw.resize(dataSize);
  got = file.read(raw.data(), dataSize);
  if (got < 0)
    return fail(file.failure());
  if (static_cast<uint64_t>(got) < dataSize)
    return fail("truncated IDX data: expected ", dataSize, " bytes, got ", got);
  // One more read finds trailing bytes and, for gzip, a bad or missing
  // trailer or bytes after the gzip data.
  uint8_t extra[64];
  int64_t more = file.read(extra, sizeof(extra));
  if (more > 0) {
    uint64_t trailing = static_cast<uint64_t>(more);
    while ((more = file.read(extra, sizeof(extra))) > 0)
      trailing += static_cast<uint64_t>(more);
    return fail("trailing garbage: ", trailing > 64 ? "at least " : "",
                trailing, " bytes after the IDX data of shape ",
                formatShape(shape));
  }
  if (more < 0)
    return fail(file.failure());
  if (file.truncated())
    return fail("truncated gzip stream: the data is complete but the ",
                "gzip trailer is missing");

  const uint8_t *data = raw.data();
  return arrayToTensor(path, shape, as, scale,
                       [&](int64_t i) { return decode(data, code, i); });
}

} // namespace dlc::runtime
