//===- CompileCache.cpp - compiled models cached in memory and on disk ------===//
//
// The compiler's identity is the version plus the size and modification time
// of the binary or library that holds this code (found with dladdr), so a
// rebuilt compiler never reuses modules of an older one.
//
//===----------------------------------------------------------------------===//

#include "compiler/CompileCache.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/xxhash.h"

#include <algorithm>
#include <cstdlib>
#include <fcntl.h>
#include <dlfcn.h>
#include <map>
#include <mutex>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace dlc;

namespace {
std::string compilerIdentity() {
  std::string id = "dlc-" DLC_VERSION_STRING " llvm-" LLVM_VERSION_STRING;
  Dl_info info;
  if (dladdr(reinterpret_cast<void *>(&compilerIdentity), &info) && info.dli_fname) {
    llvm::sys::fs::file_status status;
    if (!llvm::sys::fs::status(info.dli_fname, status))
      id += " " + std::to_string(status.getSize()) + " " +
            std::to_string(status.getLastModificationTime().time_since_epoch().count());
  }
  return id;
}

std::mutex memoryMutex;
std::map<std::string, std::weak_ptr<runtime::Executable>> &memory() {
  static std::map<std::string, std::weak_ptr<runtime::Executable>> m;
  return m;
}
} // namespace

std::string cache::key(const std::string &source, const std::string &request,
                       const CompileOptions &options, const Target &target) {
  static const std::string identity = compilerIdentity();
  std::string text = identity + "\n" + target.cacheKey(options) + "\n" +
                     options.moduleOptionsText() + request + "\n" + source;
  uint64_t h1 = llvm::xxh3_64bits(llvm::StringRef(text));
  uint64_t h2 = llvm::xxh3_64bits(llvm::StringRef(text + "#"));
  return llvm::utohexstr(h1, true, 16) + llvm::utohexstr(h2, true, 16);
}

std::string cache::directory() {
  llvm::SmallString<256> dir;
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    dir = xdg;
  } else if (const char *home = std::getenv("HOME"); home && *home) {
    dir = home;
    llvm::sys::path::append(dir, ".cache");
  } else {
    return "";
  }
  llvm::sys::path::append(dir, "dlc");
  return std::string(dir);
}

bool cache::trusted(const std::string &path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0 || S_ISLNK(st.st_mode))
    return false;
  return st.st_uid == ::geteuid() && !(st.st_mode & (S_IWGRP | S_IWOTH));
}

std::string cache::modulePath(const std::string &key) {
  std::string dir = directory();
  // The cache holds code that dlc loads and runs: its folder is created
  // private, and one that another user owns or can write is not used.
  if (dir.empty() ||
      llvm::sys::fs::create_directories(dir, /*IgnoreExisting=*/true,
                                        llvm::sys::fs::perms::owner_all) ||
      !trusted(dir))
    return "";
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, key + ".so");
  return std::string(path);
}

std::shared_ptr<runtime::Executable> cache::lookupMemory(const std::string &key) {
  std::lock_guard<std::mutex> lock(memoryMutex);
  auto it = memory().find(key);
  return it == memory().end() ? nullptr : it->second.lock();
}

void cache::storeMemory(const std::string &key,
                        std::shared_ptr<runtime::Executable> exe) {
  std::lock_guard<std::mutex> lock(memoryMutex);
  memory()[key] = exe;
}

uint64_t cache::maxBytes() {
  if (const char *env = std::getenv("DLC_CACHE_MAX_MB"); env && *env) {
    char *end = nullptr;
    unsigned long long mb = std::strtoull(env, &end, 10);
    if (end && *end == 0 && mb < (1ull << 40))
      return static_cast<uint64_t>(mb) << 20;
  }
  return uint64_t(512) << 20;
}

void cache::touch(const std::string &path) {
  ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);
}

void cache::prune(const std::string &keep) {
  std::string dir = directory();
  if (dir.empty() || !trusted(dir))
    return;
  struct Entry {
    std::string path;
    uint64_t size;
    int64_t mtime;
  };
  std::vector<Entry> entries;
  uint64_t total = 0;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec)) {
    if (llvm::sys::path::extension(it->path()) != ".so")
      continue;
    struct stat st;
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode))
      continue;
    entries.push_back({it->path(), static_cast<uint64_t>(st.st_size),
                       static_cast<int64_t>(st.st_mtime)});
    total += static_cast<uint64_t>(st.st_size);
  }
  uint64_t limit = maxBytes();
  if (total <= limit)
    return;
  std::sort(entries.begin(), entries.end(),
            [](const Entry &a, const Entry &b) { return a.mtime < b.mtime; });
  for (const Entry &e : entries) {
    if (total <= limit)
      break;
    if (e.path == keep)
      continue;
    if (!llvm::sys::fs::remove(e.path))
      total -= e.size;
  }
}
