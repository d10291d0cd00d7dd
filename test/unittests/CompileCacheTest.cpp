//===- CompileCacheTest.cpp - the compile cache's key ------------------------===//
//
// The key must change with every option that changes the compiled module
// (DLC_MODULE_OPTIONS: the list is walked here, so a new option is tested
// the day it is added), with the model, the request and the target, and
// must not change with the options that do not (--time-passes, the cache
// switch).
//
//===----------------------------------------------------------------------===//

#include "compiler/CompileCache.h"
#include "compiler/targets/Target.h"

#include "gtest/gtest.h"

#include <string>

using namespace dlc;

namespace {

void perturb(bool &v) { v = !v; }
void perturb(unsigned &v) { v = v == 0 ? 1 : v - 1; }
void perturb(std::string &v) { v += "-other"; }

const Target &cpuTarget() {
  auto target = lookupTarget("cpu");
  EXPECT_TRUE(static_cast<bool>(target));
  return *target;
}

TEST(CompileCacheTest, EveryModuleOptionChangesTheKey) {
  const Target &target = cpuTarget();
  CompileOptions base;
  std::string baseKey = cache::key("model m", "run;", base, target);
  EXPECT_EQ(baseKey, cache::key("model m", "run;", base, target));
  int options = 0;
#define DLC_TEST_OPTION(type, name, init, doc)                                 \
  {                                                                            \
    CompileOptions changed = base;                                             \
    perturb(changed.name);                                                     \
    EXPECT_NE(baseKey, cache::key("model m", "run;", changed, target))         \
        << "option " #name " is not part of the cache key";                    \
    ++options;                                                                 \
  }
  DLC_MODULE_OPTIONS(DLC_TEST_OPTION)
#undef DLC_TEST_OPTION
  EXPECT_GE(options, 5);
}

TEST(CompileCacheTest, OtherOptionsDoNotChangeTheKey) {
  const Target &target = cpuTarget();
  CompileOptions base, changed;
  changed.timePasses = !base.timePasses;
  changed.useCache = !base.useCache;
  EXPECT_EQ(cache::key("model m", "run;", base, target),
            cache::key("model m", "run;", changed, target));
}

TEST(CompileCacheTest, ModelAndRequestChangeTheKey) {
  const Target &target = cpuTarget();
  CompileOptions options;
  std::string key = cache::key("model m", "run;", options, target);
  EXPECT_NE(key, cache::key("model n", "run;", options, target));
  EXPECT_NE(key, cache::key("model m", "run;fed:x;", options, target));
}

TEST(CompileCacheTest, TargetLookup) {
  EXPECT_EQ(builtTargetNames(), "cpu, cuda, cuda-emulated");
  auto cuda = lookupTarget("cuda");
  ASSERT_TRUE(static_cast<bool>(cuda));
  EXPECT_EQ(cuda->name(), "cuda");
  EXPECT_TRUE(cuda->hasStage(Stage::PTX));
  EXPECT_FALSE(lookupTarget("cpu")->hasStage(Stage::PTX));
  auto bogus = lookupTarget("gpu");
  ASSERT_FALSE(static_cast<bool>(bogus));
  EXPECT_EQ(llvm::toString(bogus.takeError()),
            "unknown target 'gpu'; built targets: cpu, cuda, cuda-emulated");
}

} // namespace
