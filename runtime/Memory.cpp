//===- Memory.cpp - how much memory a model may use ------------------------===//

#include "runtime/Memory.h"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <unistd.h>

using namespace dlc::runtime;

namespace {
std::atomic<uint64_t> limitBytes{0};
} // namespace

uint64_t dlc::runtime::physicalMemory() {
  long pages = ::sysconf(_SC_PHYS_PAGES), size = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || size <= 0)
    return UINT64_MAX;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(size);
}

uint64_t dlc::runtime::memoryLimit() {
  uint64_t set = limitBytes.load();
  return set ? set : physicalMemory();
}

void dlc::runtime::setMemoryLimit(uint64_t bytes) { limitBytes.store(bytes); }

uint64_t dlc::runtime::tensorBytes(const std::vector<int64_t> &shape,
                                   uint64_t elementBytes, uint64_t count) {
  uint64_t n = elementBytes;
  for (int64_t d : shape) {
    if (d < 0)
      return UINT64_MAX;
    if (d != 0 && n > UINT64_MAX / static_cast<uint64_t>(d))
      return UINT64_MAX;
    n *= static_cast<uint64_t>(d);
  }
  if (count && n > UINT64_MAX / count)
    return UINT64_MAX;
  return n * count;
}

Status MemoryPlan::add(const std::string &what, uint64_t bytes) {
  if (bytes <= limit_ && total_ <= limit_ - bytes) {
    total_ += bytes;
    if (!kinds_.empty())
      kinds_.back().second += bytes;
    return Status::success();
  }
  std::string size = bytes == UINT64_MAX ? std::string("more than 2^64")
                                         : std::to_string(bytes);
  std::string before;
  for (const auto &[kind, counted] : kinds_)
    if (counted)
      before += (before.empty() ? "" : ", ") + kind + " " + std::to_string(counted);
  return makeError(what, " needs ", size, " bytes, more than the ", limit_ - total_,
                   " bytes left of the ", limit_, " bytes dlc may use (--memory-limit)",
                   total_ ? " beside the " + std::to_string(total_) + " bytes counted before it (" +
                                before + ")"
                          : std::string());
}

StatusOr<uint64_t> dlc::runtime::parseMemorySize(const std::string &text) {
  return parseMemorySize(text, physicalMemory());
}

StatusOr<uint64_t> dlc::runtime::parseMemorySize(const std::string &text,
                                                 uint64_t total) {
  auto bad = [&] {
    return Status::error("'" + text + "': expected bytes with an optional K, M, G or T "
                         "suffix (2G), or a fraction of the memory (0.4)");
  };
  if (text.empty())
    return bad();
  char *end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !std::isfinite(value) || value <= 0)
    return bad();
  std::string suffix(end);
  if (suffix.empty() && value < 1)
    return static_cast<uint64_t>(value * static_cast<double>(total));
  double scale = 1;
  if (suffix == "K" || suffix == "k")
    scale = 1024.0;
  else if (suffix == "M" || suffix == "m")
    scale = 1024.0 * 1024;
  else if (suffix == "G" || suffix == "g")
    scale = 1024.0 * 1024 * 1024;
  else if (suffix == "T" || suffix == "t")
    scale = 1024.0 * 1024 * 1024 * 1024;
  else if (!suffix.empty())
    return bad();
  double bytes = value * scale;
  if (bytes < 1 || bytes > 1.8e19)
    return bad();
  return static_cast<uint64_t>(bytes);
}
