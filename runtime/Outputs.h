//===- Outputs.h - checking what a command will write -----------*- C++ -*-===//
//
// The tools check every output before any work, so that a long training run
// does not end in an error and nothing is destroyed: not the model (or module)
// file, not another output of the same run, not a device or FIFO that a
// binary output would be renamed over. Shared by `dlc` and `dlc-rt`, which
// also write every file atomically through writeFileAtomically.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_OUTPUTS_H
#define DLC_RUNTIME_OUTPUTS_H

#include "runtime/Status.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dlc::runtime {

/// An output a command writes: its flag (for messages), its path ("" when
/// not asked for), and whether it may be a device or pipe the user named
/// (text only, like /dev/stdout).
struct Output {
  const char *flag;
  std::string path;
  bool text = false;
};

/// Refuses outputs that would destroy something: the input file itself
/// (compared by device and inode), two outputs on one path, and (for binary
/// outputs, which are renamed into place) a path that exists but is not a
/// regular file. "" and "-" are skipped.
Status checkOutputs(const std::string &input, const std::vector<Output> &outputs);

/// Checks that the folder `path` would be written into exists and is
/// writable and that `path` is not a folder ("" passes).
Status checkWritable(const std::string &path);

/// Opens `path` for reading when it is a regular file: the file descriptor
/// (the caller closes it) and its size in `size`. Anything else is an error
/// whose message is the reason (`not a regular file`, or the system's); the
/// open never blocks, so a FIFO is refused instead of waiting for a writer,
/// and a device is refused instead of being read forever. Every reader of
/// a file a user names (models, modules, data, checkpoints, event files)
/// opens through it.
StatusOr<int> openRegularFile(const std::string &path, uint64_t *size = nullptr);

/// The folder part of `path`: "." when there is none, "/" for the root.
std::string directoryOf(const std::string &path);

/// Bytes to write: `size` bytes at `data`.
struct ByteRange {
  const void *data;
  size_t size;
};

/// Writes `pieces` one after another to `path` atomically: the data goes to
/// "PATH.tmp.<pid>", is fsync'ed and then renamed over `path`. On failure
/// the temporary file is removed and `path` is untouched; on SIGINT or
/// SIGTERM while it is written too (a handler installed at the first write
/// removes it, then passes the signal on to the handler before it, or ends
/// the process by the signal). Errors start with "PATH: " and name `what`
/// ("checkpoint", "report").
Status writeFileAtomically(const std::string &path, const std::vector<ByteRange> &pieces,
                           const char *what);

} // namespace dlc::runtime

#endif // DLC_RUNTIME_OUTPUTS_H
