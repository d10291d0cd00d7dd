//===- fuzz-safetensors.cpp - the checkpoint reader on arbitrary bytes ----===//

#include "FuzzFile.h"
#include "runtime/Checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string path = fuzzFile(data, size, ".safetensors");
  (void)dlc::runtime::readCheckpoint(path);
  return 0;
}
