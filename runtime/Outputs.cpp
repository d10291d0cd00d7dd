//===- Outputs.cpp - checking what a command will write ---------------------===//

#include "runtime/Outputs.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dlc::runtime {

namespace {
/// True when both paths exist and name the same file.
bool sameFile(const std::string &a, const std::string &b) {
  struct stat sa, sb;
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 &&
         sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
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
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return makeError(path, ": cannot create ", tmp, ": ", std::strerror(errno));
  auto abandon = [&](const char *verb) -> Status {
    int saved = errno;
    if (fd >= 0)
      ::close(fd);
    ::unlink(tmp.c_str());
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
          (other.path == out.path || sameFile(out.path, other.path)))
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
