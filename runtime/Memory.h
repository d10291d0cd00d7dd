//===- Memory.h - how much memory a model may use ----------------*- C++ -*-===//
//
// The runtime counts what a model needs before it allocates it (params
// today) and refuses with an error naming the tensor when that exceeds the
// limit, instead of crashing in an allocation. The limit is the machine's
// physical memory unless the user sets one (`--memory-limit`).
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_MEMORY_H
#define DLC_RUNTIME_MEMORY_H

#include "runtime/Status.h"

#include <cstdint>
#include <string>

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

} // namespace dlc::runtime

#endif // DLC_RUNTIME_MEMORY_H
