//===- Checkpoint.h - safetensors checkpoints -------------------*- C++ -*-===//
//
// Checkpoints are safetensors files: an 8-byte little-endian header length, a
// JSON header mapping each tensor name to its dtype ("F32" or "I32"), shape
// and [begin, end) byte offsets into the data that follows, plus string pairs
// under "__metadata__" (the training step is "step"). Writes are atomic;
// reads validate every field and never trust a size before checking it.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_CHECKPOINT_H
#define DLC_RUNTIME_CHECKPOINT_H

#include "runtime/Status.h"
#include "runtime/Tensor.h"

#include <map>
#include <string>
#include <vector>

namespace dlc::runtime {

/// A tensor to write under `name`; the tensor is borrowed, not copied.
struct NamedTensorRef {
  /// The name in the file (params by name, optimizer state as "opt.*").
  std::string name;
  /// The tensor; must stay alive during the write.
  const Tensor *tensor = nullptr;
};

/// The contents of a checkpoint file.
struct Checkpoint {
  /// Every tensor by name.
  std::map<std::string, Tensor> tensors;
  /// The "__metadata__" string pairs (for example "step" -> "123").
  std::map<std::string, std::string> metadata;
};

/// The largest JSON header readCheckpoint accepts (100 MB, as safetensors).
constexpr uint64_t kMaxCheckpointHeaderBytes = 100u * 1000 * 1000;

/// Writes `tensors` (in the given order; names must be unique, non-empty and
/// not "__metadata__") and `metadata` to `path` atomically: the data goes to
/// "PATH.tmp.<pid>", is fsync'ed and then renamed over `path`. On failure the
/// temporary file is removed and `path` is untouched.
Status writeCheckpoint(const std::string &path,
                       const std::vector<NamedTensorRef> &tensors,
                       const std::map<std::string, std::string> &metadata);

/// Writes `checkpoint` to `path` atomically, as above.
Status writeCheckpoint(const std::string &path, const Checkpoint &checkpoint);

/// Reads and validates the safetensors file `path`: header length against the
/// file size, JSON syntax, unique names, dtypes (F32 or I32 only), shapes
/// against byte sizes, offsets in range, non-overlapping and covering the
/// data exactly, and string-valued metadata. Errors start with `path`.
StatusOr<Checkpoint> readCheckpoint(const std::string &path);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_CHECKPOINT_H
