//===- fuzz-idx.cpp - the IDX reader (plain and gzip) on arbitrary bytes --===//

#include "FuzzFile.h"
#include "runtime/Idx.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = fuzzFile(data, size, ".idx");
  (void)dlc::runtime::readIdx(path, dlc::runtime::DType::F32, 1.0 / 255);
  (void)dlc::runtime::readIdx(path, dlc::runtime::DType::I32);
  return 0;
}
