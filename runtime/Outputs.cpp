//===- Outputs.cpp - checking what a command will write ---------------------===//

#include "runtime/Outputs.h"

#include <cerrno>
#include <cstring>

#include <atomic>
#include <climits>
#include <csignal>
#include <mutex>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dlc::runtime {

namespace {
//===----------------------------------------------------------------------===//
// Temporary files removed on SIGINT and SIGTERM
//===----------------------------------------------------------------------===//

/// The temporary files being written, for the signal handler: fixed slots of
/// whole paths, so that the handler only reads memory and calls unlink()
/// (async-signal-safe). A slot's path is complete before it is marked used.
struct TempSlot {
  std::atomic<bool> used{false};
  char path[PATH_MAX];
};
constexpr int kTempSlots = 16;
TempSlot tempSlots[kTempSlots];
struct sigaction previousInt, previousTerm;

void removeTempFiles(int sig, siginfo_t *info, void *context) {
  int saved = errno;
  for (TempSlot &slot : tempSlots)
    if (slot.used.load(std::memory_order_acquire))
      ::unlink(slot.path);
  errno = saved;
  // Then whatever handled the signal before (dlc's LLVM handlers, a host's),
  // or the default: the process ends by the signal, as it would have.
  const struct sigaction &previous = sig == SIGINT ? previousInt : previousTerm;
  if (previous.sa_flags & SA_SIGINFO) {
    if (previous.sa_sigaction) {
      previous.sa_sigaction(sig, info, context);
      return;
    }
  } else if (previous.sa_handler != SIG_DFL) {
    previous.sa_handler(sig);
    return;
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

/// Installs the handler once (chaining to the handlers before it).
void installTempFileHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_sigaction = removeTempFiles;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART | SA_SIGINFO;
    // A signal the process ignores (SIGINT in a background job) stays
    // ignored: the write goes on, and so must its file.
    for (auto [sig, previous] : {std::pair{SIGINT, &previousInt}, {SIGTERM, &previousTerm}})
      if (::sigaction(sig, nullptr, previous) == 0 && ((previous->sa_flags & SA_SIGINFO) ||
                                                      previous->sa_handler != SIG_IGN))
        ::sigaction(sig, &action, previous);
  });
}

/// Registers `path` for removal on a signal while it is written; the slot
/// (or -1 when all are taken or the path is too long) for forgetTempFile().
int rememberTempFile(const std::string &path) {
  if (path.size() >= PATH_MAX)
    return -1;
  installTempFileHandler();
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  for (int i = 0; i < kTempSlots; ++i)
    if (!tempSlots[i].used.load()) {
      std::memcpy(tempSlots[i].path, path.c_str(), path.size() + 1);
      tempSlots[i].used.store(true, std::memory_order_release);
      return i;
    }
  return -1;
}

void forgetTempFile(int slot) {
  if (slot >= 0)
    tempSlots[slot].used.store(false, std::memory_order_release);
}

/// True when both paths exist and name the same file.
bool sameFile(const std::string &a, const std::string &b) {
  struct stat sa, sb;
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 &&
         sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
/// True when `a` and `b` would be the same file once written: the same
/// file now, or (when either does not exist yet) the same name in the same
/// folder, however the paths spell it (`d/x`, `d/./x`, a link to `d`).
bool sameTarget(const std::string &a, const std::string &b) {
  if (a == b || sameFile(a, b))
    return true;
  auto base = [](const std::string &p) {
    size_t slash = p.find_last_of('/');
    return slash == std::string::npos ? p : p.substr(slash + 1);
  };
  struct stat st;
  bool bothExist = ::stat(a.c_str(), &st) == 0 && ::stat(b.c_str(), &st) == 0;
  return !bothExist && base(a) == base(b) && !base(a).empty() &&
         sameFile(directoryOf(a), directoryOf(b));
}

/// Writes all of `size` bytes to `fd`, retrying short writes.
bool writeAll(int fd, const void *data, size_t size) {
  const char *p = static_cast<const char *>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}
} // namespace

std::string directoryOf(const std::string &path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return ".";
  if (slash == 0)
    return "/";
  return path.substr(0, slash);
}

Status writeFileAtomically(const std::string &path, const std::vector<ByteRange> &pieces,
                           const char *what) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  // Interrupted (SIGINT, SIGTERM), the process leaves no temporary file.
  int slot = rememberTempFile(tmp);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    int saved = errno;
    forgetTempFile(slot);
    return makeError(path, ": cannot create ", tmp, ": ", std::strerror(saved));
  }
  auto abandon = [&](const char *verb) -> Status {
    int saved = errno;
    if (fd >= 0)
      ::close(fd);
    ::unlink(tmp.c_str());
    forgetTempFile(slot);
    return makeError(path, ": cannot ", verb, " the ", what, ": ", std::strerror(saved));
  };
  for (const ByteRange &piece : pieces)
    if (!writeAll(fd, piece.data, piece.size))
      return abandon("write");
  if (::fsync(fd) != 0)
    return abandon("sync");
  int closed = ::close(fd);
  fd = -1;
  if (closed != 0)
    return abandon("close");
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return abandon("rename into place");
  forgetTempFile(slot);

  // Make the rename durable; failing to sync the folder is not an error.
  int dir = ::open(directoryOf(path).c_str(), O_RDONLY | O_CLOEXEC);
  if (dir >= 0) {
    (void)::fsync(dir);
    ::close(dir);
  }
  return Status::success();
}

Status checkOutputs(const std::string &input, const std::vector<Output> &outputs) {
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Output &out = outputs[i];
    if (out.path.empty() || out.path == "-")
      continue;
    if (!input.empty() && sameFile(out.path, input))
      return makeError(out.flag, " ", out.path, ": is the model file ", input,
                       "; refusing to overwrite it");
    for (size_t j = 0; j < i; ++j) {
      const Output &other = outputs[j];
      if (!other.path.empty() &&
          sameTarget(out.path, other.path))
        return makeError(out.flag, " and ", other.flag, " name the same file ",
                         out.path);
    }
    struct stat st;
    if (!out.text && ::stat(out.path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
      return makeError(out.flag, " ", out.path,
                       ": is not a regular file; refusing to replace it");
  }
  return Status::success();
}

StatusOr<int> openRegularFile(const std::string &path, uint64_t *size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return Status::error(std::string("cannot open: ") + std::strerror(errno));
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    int saved = errno;
    ::close(fd);
    return Status::error(std::string("cannot stat: ") + std::strerror(saved));
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    return Status::error("not a regular file");
  }
  // Reads of a regular file never block; clear the flag all the same.
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  if (size)
    *size = static_cast<uint64_t>(info.st_size);
  return fd;
}

Status checkWritable(const std::string &path) {
  if (path.empty())
    return Status::success();
  std::string dir = directoryOf(path);
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return makeError("cannot write '", path, "': expected a folder '", dir,
                     "', but there is none");
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return makeError("cannot write '", path, "': it is a folder");
  if (::access(dir.c_str(), W_OK) != 0)
    return makeError("cannot write '", path, "': the folder '", dir, "' is not writable");
  return Status::success();
}

} // namespace dlc::runtime
