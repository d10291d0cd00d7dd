//===- Checkpoint.cpp - safetensors checkpoints ---------------------------===//
//
// The JSON header is built and parsed with nlohmann-json. This file is
// compiled with -fexceptions so that nlohmann's exceptions can be caught here;
// none escapes. Assumes a little-endian host (tensor bytes are written as they
// sit in memory, as safetensors requires).
//
//===----------------------------------------------------------------------===//

#include "runtime/Checkpoint.h"

#include "runtime/Outputs.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>

#include <sys/stat.h>
#include <unistd.h>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian");

namespace dlc::runtime {

using nlohmann::json;

namespace {
const char *safetensorsDType(DType dtype) {
  return dtype == DType::F32 ? "F32" : "I32";
}

/// Closes a FILE on scope exit.
struct FileCloser {
  std::FILE *file;
  ~FileCloser() {
    if (file)
      std::fclose(file);
  }
};

/// Reads exactly `size` bytes at `offset`; false on a short read.
bool readAt(std::FILE *file, uint64_t offset, void *dst, size_t size) {
  if (size == 0)
    return true;
  if (::fseeko(file, static_cast<off_t>(offset), SEEK_SET) != 0)
    return false;
  return std::fread(dst, 1, size, file) == size;
}

/// Strips nlohmann's "[json.exception.parse_error.101] " prefix.
std::string jsonMessage(const char *what) {
  std::string s = what;
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find("] ");
    if (close != std::string::npos)
      s = s.substr(close + 2);
  }
  return s;
}

/// Reads a non-negative integer JSON value; false otherwise.
bool readUnsigned(const json &value, uint64_t &out) {
  if (value.is_number_unsigned()) {
    out = value.get<uint64_t>();
    return true;
  }
  if (value.is_number_integer() && value.get<int64_t>() >= 0) {
    out = static_cast<uint64_t>(value.get<int64_t>());
    return true;
  }
  return false;
}

struct Entry {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;
};
} // namespace

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

Status writeCheckpoint(const std::string &path,
                       const std::vector<NamedTensorRef> &tensors,
                       const std::map<std::string, std::string> &metadata) {
  auto fail = [&](auto &&...parts) -> Status {
    return makeError(path, ": ", parts...);
  };

  std::string header;
  try {
    json root = json::object();
    std::set<std::string> names;
    uint64_t offset = 0;
    for (const NamedTensorRef &ref : tensors) {
      if (!ref.tensor)
        return fail("tensor '", ref.name, "' is null");
      if (ref.name.empty())
        return fail("a tensor has an empty name");
      if (ref.name == "__metadata__")
        return fail("'__metadata__' cannot name a tensor");
      if (!names.insert(ref.name).second)
        return fail("tensor '", ref.name, "' appears twice");
      uint64_t size = ref.tensor->byteSize();
      root[ref.name] = {{"dtype", safetensorsDType(ref.tensor->dtype())},
                        {"shape", ref.tensor->shape()},
                        {"data_offsets", {offset, offset + size}}};
      offset += size;
    }
    if (!metadata.empty())
      root["__metadata__"] = metadata;
    header = root.dump();
  } catch (const json::exception &e) {
    return fail("cannot encode the checkpoint header: ", jsonMessage(e.what()));
  }
  // Pad with spaces so the data starts 8-byte aligned, as safetensors does.
  header.append((8 - header.size() % 8) % 8, ' ');

  uint8_t lengthBytes[8];
  uint64_t length = header.size();
  for (int i = 0; i < 8; ++i)
    lengthBytes[i] = static_cast<uint8_t>(length >> (8 * i));
  std::vector<ByteRange> pieces{{lengthBytes, 8}, {header.data(), header.size()}};
  for (const NamedTensorRef &ref : tensors)
    pieces.push_back({ref.tensor->rawData(), ref.tensor->byteSize()});
  return writeFileAtomically(path, pieces, "checkpoint");
}

Status writeCheckpoint(const std::string &path, const Checkpoint &checkpoint) {
  std::vector<NamedTensorRef> refs;
  refs.reserve(checkpoint.tensors.size());
  for (const auto &[name, tensor] : checkpoint.tensors)
    refs.push_back({name, &tensor});
  return writeCheckpoint(path, refs, checkpoint.metadata);
}

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

StatusOr<Checkpoint> readCheckpoint(const std::string &path) {
  auto fail = [&](auto &&...parts) -> Status {
    return makeError(path, ": ", parts...);
  };

  uint64_t fileSize = 0;
  auto fd = openRegularFile(path, &fileSize);
  if (!fd.ok())
    return fail(fd.status().message());
  FileCloser closer{::fdopen(*fd, "rb")};
  std::FILE *file = closer.file;
  if (!file) {
    ::close(*fd);
    return fail("cannot open: ", std::strerror(errno));
  }
  if (fileSize < 8)
    return fail("file of ", fileSize,
                " bytes is too short for a safetensors header");

  uint8_t lengthBytes[8];
  if (!readAt(file, 0, lengthBytes, 8))
    return fail("cannot read the header length");
  uint64_t headerLength = 0;
  for (int i = 7; i >= 0; --i)
    headerLength = (headerLength << 8) | lengthBytes[i];
  if (headerLength > fileSize - 8)
    return fail("header length ", headerLength, " exceeds the ",
                fileSize - 8, " bytes after the length field");
  if (headerLength > kMaxCheckpointHeaderBytes)
    return fail("header length ", headerLength, " exceeds the limit of ",
                kMaxCheckpointHeaderBytes, " bytes");
  if (headerLength < 2)
    return fail("header of ", headerLength,
                " bytes is too short for a JSON object");
  std::string headerText(headerLength, '\0');
  if (!readAt(file, 8, headerText.data(), headerLength))
    return fail("cannot read the ", headerLength, "-byte header");
  uint64_t dataStart = 8 + headerLength;
  uint64_t dataSize = fileSize - dataStart;

  std::vector<Entry> entries;
  Checkpoint result;
  try {
    // Duplicate top-level keys would silently overwrite each other, so the
    // parser callback records them.
    std::string duplicate;
    std::set<std::string> seen;
    json::parser_callback_t callback = [&](int depth, json::parse_event_t event,
                                           json &parsed) {
      if (event == json::parse_event_t::key && depth == 1 &&
          !seen.insert(parsed.get<std::string>()).second && duplicate.empty())
        duplicate = parsed.get<std::string>();
      return true;
    };
    json root = json::parse(headerText, callback);
    if (!duplicate.empty())
      return fail("tensor '", duplicate, "' appears twice in the header");
    if (!root.is_object())
      return fail("header is not a JSON object");

    for (auto &item : root.items()) {
      const std::string &name = item.key();
      const json &value = item.value();
      if (name == "__metadata__") {
        if (!value.is_object())
          return fail("'__metadata__' is not a JSON object");
        for (auto &[key, text] : value.items()) {
          if (!text.is_string())
            return fail("metadata '", key, "' is not a string");
          result.metadata[key] = text.get<std::string>();
        }
        continue;
      }
      auto bad = [&](auto &&...parts) {
        return fail("tensor '", name, "': ", parts...);
      };
      if (!value.is_object())
        return bad("entry is not a JSON object");
      for (auto &[key, unused] : value.items()) {
        (void)unused;
        if (key != "dtype" && key != "shape" && key != "data_offsets")
          return bad("unexpected key '", key, "'");
      }
      if (!value.contains("dtype") || !value.contains("shape") ||
          !value.contains("data_offsets"))
        return bad("expected keys 'dtype', 'shape' and 'data_offsets'");

      Entry entry;
      entry.name = name;
      const json &dtype = value.at("dtype");
      if (!dtype.is_string())
        return bad("dtype is not a string");
      std::string dtypeText = dtype.get<std::string>();
      if (dtypeText == "F32")
        entry.dtype = DType::F32;
      else if (dtypeText == "I32")
        entry.dtype = DType::I32;
      else
        return bad("unsupported dtype '", dtypeText, "': expected F32 or I32");

      const json &shape = value.at("shape");
      if (!shape.is_array())
        return bad("shape is not an array");
      for (const json &d : shape) {
        uint64_t v;
        if (!readUnsigned(d, v) ||
            v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
          return bad("shape ", shape.dump(),
                     " has an entry that is not a non-negative integer");
        entry.shape.push_back(static_cast<int64_t>(v));
      }
      int64_t count = checkedNumElements(entry.shape);
      if (count < 0 ||
          static_cast<uint64_t>(count) >
              std::numeric_limits<uint64_t>::max() / 4)
        return bad("shape ", formatShape(entry.shape), " is too large");

      const json &offsets = value.at("data_offsets");
      if (!offsets.is_array() || offsets.size() != 2 ||
          !readUnsigned(offsets[0], entry.begin) ||
          !readUnsigned(offsets[1], entry.end))
        return bad("data_offsets is not a pair of non-negative integers");
      if (entry.begin > entry.end || entry.end > dataSize)
        return bad("data_offsets [", entry.begin, ", ", entry.end,
                   "] are outside the ", dataSize, " data bytes");
      uint64_t expected = static_cast<uint64_t>(count) * 4;
      if (entry.end - entry.begin != expected)
        return bad("data_offsets [", entry.begin, ", ", entry.end, "] span ",
                   entry.end - entry.begin, " bytes but ",
                   formatType(entry.dtype, entry.shape), " needs ", expected);
      entries.push_back(std::move(entry));
    }
  } catch (const json::exception &e) {
    return fail("invalid JSON header: ", jsonMessage(e.what()));
  }

  // The data must be covered exactly: sorted by offset, each tensor starts
  // where the previous one ended.
  std::vector<const Entry *> byOffset;
  for (const Entry &e : entries)
    byOffset.push_back(&e);
  std::sort(byOffset.begin(), byOffset.end(),
            [](const Entry *a, const Entry *b) {
              return a->begin < b->begin ||
                     (a->begin == b->begin && a->end < b->end);
            });
  uint64_t cursor = 0;
  const Entry *previous = nullptr;
  for (const Entry *e : byOffset) {
    if (e->begin < cursor)
      return fail("tensors '", previous->name, "' and '", e->name,
                  "' overlap in the data");
    if (e->begin > cursor)
      return fail("data bytes [", cursor, ", ", e->begin,
                  ") belong to no tensor");
    cursor = e->end;
    if (e->end > e->begin || !previous)
      previous = e;
  }
  if (cursor != dataSize)
    return fail("data bytes [", cursor, ", ", dataSize,
                ") belong to no tensor");

  for (const Entry &e : entries) {
    StatusOr<Tensor> tensor = Tensor::allocate(e.dtype, e.shape);
    if (!tensor.ok())
      return fail("tensor '", e.name, "': ", tensor.message());
    if (!readAt(file, dataStart + e.begin, tensor->rawData(),
                tensor->byteSize()))
      return fail("cannot read the data of tensor '", e.name, "'");
    result.tensors.emplace(e.name, std::move(tensor).value());
  }
  return result;
}

} // namespace dlc::runtime
