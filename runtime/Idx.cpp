//===- Idx.cpp - Reading IDX (MNIST-format) files -------------------------===//
//
// Reads through zlib's gz* API, which decompresses gzip and passes plain files
// through. The data size claimed by the header is checked against the file's
// size (exactly for plain files, against deflate's maximum ratio for gzip)
// before anything is allocated.
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

#include <sys/stat.h>
#include <zlib.h>

namespace dlc::runtime {

namespace {
/// Deflate never expands data by more than about 1032:1.
constexpr uint64_t kMaxDeflateRatio = 1032;
constexpr unsigned kChunk = 1u << 30;

/// Closes a gzFile on scope exit.
struct GzCloser {
  gzFile file;
  ~GzCloser() {
    if (file)
      gzclose(file);
  }
};

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

/// Reads up to `size` bytes; returns the count, or -1 on a zlib error.
int64_t readFully(gzFile file, uint8_t *dst, uint64_t size) {
  uint64_t done = 0;
  while (done < size) {
    unsigned want = static_cast<unsigned>(
        std::min<uint64_t>(size - done, static_cast<uint64_t>(kChunk)));
    int got = gzread(file, dst + done, want);
    if (got < 0)
      return -1;
    if (got == 0)
      break;
    done += static_cast<uint64_t>(got);
  }
  return static_cast<int64_t>(done);
}

/// Returns zlib's error code for `file` (Z_OK when none) and its message.
/// Z_BUF_ERROR means the gzip stream ended early.
int streamError(gzFile file, std::string &message) {
  int errnum = Z_OK;
  const char *text = gzerror(file, &errnum);
  if (errnum == Z_ERRNO)
    message = std::strerror(errno);
  else
    message = text && *text ? text : "unknown zlib error";
  // gzerror() puts "PATH: " in front; the caller adds the path itself.
  size_t colon = message.rfind(": ");
  if (colon != std::string::npos)
    message = message.substr(colon + 2);
  return errnum;
}
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

  GzCloser closer{gzopen(path.c_str(), "rb")};
  gzFile file = closer.file;
  if (!file)
    return fail("cannot open: ",
                errno ? std::strerror(errno) : "out of memory");
  gzbuffer(file, 1u << 17);

  std::string zmsg;
  uint8_t magic[4];
  int64_t got = readFully(file, magic, 4);
  if (got < 0 || (got < 4 && streamError(file, zmsg) != Z_OK &&
                  streamError(file, zmsg) != Z_BUF_ERROR))
    return fail("corrupt gzip data: ", (streamError(file, zmsg), zmsg));
  if (got < 4)
    return fail("truncated IDX header: expected 4 bytes, got ", got);
  bool gzipped = gzdirect(file) == 0;
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
  got = readFully(file, dimBytes.data(), dimBytes.size());
  if (got < 0)
    return fail("corrupt gzip data: ", (streamError(file, zmsg), zmsg));
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
  got = readFully(file, raw.data(), dataSize);
  if (got < 0 || (static_cast<uint64_t>(got) < dataSize &&
                  streamError(file, zmsg) != Z_OK &&
                  streamError(file, zmsg) != Z_BUF_ERROR))
    return fail("corrupt gzip data: ", (streamError(file, zmsg), zmsg));
  if (static_cast<uint64_t>(got) < dataSize)
    return fail("truncated IDX data: expected ", dataSize, " bytes, got ", got);
  // One more read finds trailing bytes and, for gzip, a bad or missing trailer.
  uint8_t extra[64];
  int64_t more = readFully(file, extra, sizeof(extra));
  if (more > 0) {
    uint64_t trailing = static_cast<uint64_t>(more);
    while ((more = readFully(file, extra, sizeof(extra))) > 0)
      trailing += static_cast<uint64_t>(more);
    return fail("trailing garbage: ", trailing > 64 ? "at least " : "",
                trailing, " bytes after the IDX data of shape ",
                formatShape(shape));
  }
  int errnum = streamError(file, zmsg);
  if (more < 0 || errnum != Z_OK) {
    if (errnum == Z_BUF_ERROR)
      return fail("truncated gzip stream: the data is complete but the ",
                  "gzip trailer is missing");
    return fail("corrupt gzip data: ", zmsg);
  }

  const uint8_t *data = raw.data();
  return arrayToTensor(path, shape, as, scale,
                       [&](int64_t i) { return decode(data, code, i); });
}

} // namespace dlc::runtime
