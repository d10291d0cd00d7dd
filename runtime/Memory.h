//===- Memory.h - how much memory a model may use ----------------*- C++ -*-===//
//
// The runtime counts what a model needs before it allocates it (params,
// optimizer state, data, and the activations of the compiled step as far as
// their shapes tell) and refuses with an error naming the tensor and the
// bytes when that exceeds the limit, instead of crashing in an allocation.
// The limit is the machine's physical memory unless the user sets one
// (`--memory-limit`).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_MEMORY_H
#define DLC_RUNTIME_MEMORY_H

#include "runtime/Status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace dlc::runtime {

/// The machine's physical memory in bytes.
uint64_t physicalMemory();

/// The bytes a model may use: what setMemoryLimit set, else physicalMemory().
uint64_t memoryLimit();

/// Sets the limit (0: the default).
void setMemoryLimit(uint64_t bytes);

/// Parses a memory size: bytes with an optional K, M, G or T suffix (powers
/// of 1024: `2G`, `512M`, `1048576`), or a fraction of the physical memory
/// (`0.4`).
StatusOr<uint64_t> parseMemorySize(const std::string &text);

/// The same, with fractions of `total` bytes (a GPU's memory).
StatusOr<uint64_t> parseMemorySize(const std::string &text, uint64_t total);

/// The bytes of `count` tensors of `elementBytes`-byte elements and `shape`,
/// or UINT64_MAX when a dimension is negative or the product overflows.
uint64_t tensorBytes(const std::vector<int64_t> &shape, uint64_t elementBytes = 4,
                     uint64_t count = 1);

/// What a model needs, counted before it is allocated: each add() counts one
/// more thing and fails, naming it and its bytes, once the total passes the
/// limit.
class MemoryPlan {
public:
  explicit MemoryPlan(uint64_t limit = memoryLimit()) : limit_(limit) {}

  /// Counts `bytes` for `what` ("optimizer state 'opt.w.m' of type
  /// f32[784, 10]"). The error says: WHAT needs N bytes, beyond the L bytes
  /// dlc may use (--memory-limit) beside the T bytes counted before it
  /// (and what they were).
  Status add(const std::string &what, uint64_t bytes);

  /// Uncounts `bytes` counted before (a buffer freed).
  void release(uint64_t bytes) { total_ -= bytes < total_ ? bytes : total_; }

  /// The bytes counted so far.
  uint64_t total() const { return total_; }
  uint64_t limit() const { return limit_; }

private:
  uint64_t limit_, total_ = 0;
  /// What was counted, by kind ("params", "optimizer state", ...), in order.
  std::vector<std::pair<std::string, uint64_t>> kinds_;

public:
  /// Names the kind of what the following add()s count ("params").
  void kind(const std::string &name) { kinds_.emplace_back(name, 0); }
};

} // namespace dlc::runtime

#endif // DLC_RUNTIME_MEMORY_H
