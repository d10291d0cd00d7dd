//===- fuzz-model-spec.cpp - the module spec reader (dlc-rt) on any text --===//
//
// dlc-rt reads the model's description from the JSON text a module carries;
// a module is a file anyone can hand it.
//
//===----------------------------------------------------------------------===//

#include "runtime/ModelSpec.h"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  auto spec = dlc::runtime::ModelSpec::fromJSON(text);
  // What is read must also write back and read again.
  if (spec.ok() && !dlc::runtime::ModelSpec::fromJSON(spec->toJSON()).ok())
    __builtin_trap();
  return 0;
}
