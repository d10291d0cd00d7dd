//===- FuzzFile.h - a fuzz input as a file, for readers that take paths --===//

#ifndef DLC_TEST_FUZZ_FUZZFILE_H
#define DLC_TEST_FUZZ_FUZZFILE_H

#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>

/// Writes `data` to a file private to this process and returns its path.
inline std::string fuzzFile(const uint8_t *data, size_t size,
                            const char *suffix) {
  static const std::string path = "/tmp/dlc-fuzz-" + std::to_string(::getpid()) + suffix;
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f)
    __builtin_trap();
  if (size && std::fwrite(data, 1, size, f) != size)
    __builtin_trap();
  std::fclose(f);
  return path;
}

#endif // DLC_TEST_FUZZ_FUZZFILE_H
