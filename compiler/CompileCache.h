//===- CompileCache.h - compiled models cached in memory and on disk -*- C++ -*-===//
//
// A compiled entry-point set is keyed by the model's text and file, the
// entry points and fed inputs it was built for, every option that changes the module
// (CompileOptions::moduleOptionsText), what the target compiles for (the
// host CPU and its features) and the compiler itself (the version and the
// file holding this code). The
// disk cache ($XDG_CACHE_HOME/dlc, else ~/.cache/dlc) stores AOT shared
// modules, so a later process skips code generation by loading one.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_COMPILER_COMPILECACHE_H
#define DLC_COMPILER_COMPILECACHE_H

#include "compiler/CompileOptions.h"
#include "compiler/targets/Target.h"
#include "runtime/Executable.h"

#include <cstdint>
#include <memory>
#include <string>

namespace dlc::cache {

/// The key of one compilation (hex digest).
std::string key(const std::string &source, const std::string &request,
                const CompileOptions &options, const Target &target);

/// The cache folder; "" when no home or cache folder is known.
std::string directory();

/// An executable compiled earlier in this process, or null.
std::shared_ptr<runtime::Executable> lookupMemory(const std::string &key);
void storeMemory(const std::string &key, std::shared_ptr<runtime::Executable> exe);

/// Whether `path` (the cache folder or an entry) is safe to load code from:
/// not a symlink, owned by this user, writable by no one else.
bool trusted(const std::string &path);

/// The path of the cached shared module for `key` ("" without a usable cache
/// folder: none known, or one that is not trusted).
std::string modulePath(const std::string &key);

/// The most bytes the disk cache may hold: DLC_CACHE_MAX_MB (MiB), else 512
/// MiB.
uint64_t maxBytes();

/// Marks the entry at `path` as used now (its modification time), so that
/// prune() removes it last.
void touch(const std::string &path);

/// Removes the least recently used entries (`*.so` in the cache folder, by
/// modification time) until the folder's entries fit in maxBytes(); `keep`
/// (the entry just stored) stays.
void prune(const std::string &keep);

} // namespace dlc::cache

#endif // DLC_COMPILER_COMPILECACHE_H
