//===- fuzz-capi-compile.cpp - the C API's compile call ---------------------===//
//
// What a host hands dlc_model_from_source: the first byte picks the options
// (target, opt level and vectorize, invalid values included), the rest is
// the model text. The call must return DLC_OK with a model or an error code
// with a message, never crash, abort or exit the host; a model it returns
// must describe its inputs and params and initialize them (under a small
// memory limit, so a model too large for it is an error, not an OOM).
//
//===----------------------------------------------------------------------===//

#include "compiler/dlc.h"
#include "runtime/Memory.h"

#include <cstdint>
#include <cstring>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bool limited = (dlc::runtime::setMemoryLimit(64 << 20), true);
  (void)limited;
  if (size == 0)
    return 0;
  uint8_t pick = data[0];
  std::string source(reinterpret_cast<const char *>(data + 1), size - 1);
  dlc_options_t options;
  dlc_options_init(&options);
  options.use_cache = 0; // never write the user's cache
  options.target = static_cast<dlc_target_t>(pick & 0x3); // 2 and 3 are invalid
  options.opt_level = (pick >> 4) & 0x7; // 0-7: 4 and up are invalid
  options.vectorize = pick >> 7;
  dlc_model_t *model = nullptr;
  // A NUL inside the text ends it, as a C string does.
  dlc_status_t s = dlc_model_from_source(source.c_str(), (pick & 0x4) ? nullptr : "fuzz.dl",
                                         &options, &model);
  if (s != DLC_OK) {
    if (model || !dlc_last_error() || !*dlc_last_error())
      __builtin_trap(); // an error is an error code, a message and no model
    return 0;
  }
  if (!model)
    __builtin_trap();
  (void)dlc_model_name(model);
  dlc_value_info_t info;
  for (size_t i = 0, n = dlc_model_num_inputs(model); i <= n; ++i)
    if ((dlc_model_input_info(model, i, &info) == DLC_OK) != (i < n))
      __builtin_trap();
  for (size_t i = 0, n = dlc_model_num_params(model); i <= n; ++i)
    if ((dlc_model_param_info(model, i, &info) == DLC_OK) != (i < n))
      __builtin_trap();
  (void)dlc_model_init_params(model, 1);
  dlc_model_free(model);
  return 0;
}
