//===- Status.h - Error values for the dlc runtime ------------------------===//
//
// The runtime reports every failure as a value: a Status (ok, or a message) or
// a StatusOr<T> (a T, or a message). It never throws, prints or exits, so it
// can be embedded anywhere. Messages start lowercase, have no final period and
// name the file or thing that is wrong, as MLIR diagnostics do.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_STATUS_H
#define DLC_RUNTIME_STATUS_H

#include <cassert>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

namespace dlc::runtime {

/// The outcome of an operation that returns nothing else: ok, or an error
/// with a human-readable message.
class [[nodiscard]] Status {
public:
  /// Creates an ok status.
  Status() = default;

  /// Returns an ok status.
  static Status success() { return Status(); }

  /// Returns an error status carrying `message` (which must not be empty).
  static Status error(std::string message) {
    assert(!message.empty() && "an error needs a message");
    Status s;
    s.message_ = std::move(message);
    s.failed_ = true;
    return s;
  }

  /// Returns true when the operation succeeded.
  bool ok() const { return !failed_; }

  /// Returns the error message; empty for an ok status.
  const std::string &message() const { return message_; }

  /// Returns a copy of this error with `prefix` in front of the message (for
  /// adding context such as "file: " or "file:3:7: "); an ok status stays ok.
  Status withPrefix(const std::string &prefix) const {
    if (ok())
      return *this;
    return error(prefix + message_);
  }

private:
  std::string message_;
  bool failed_ = false;
};

/// Builds an error Status whose message is the streamed concatenation of
/// `parts` (`makeError("expected ", 3, " dims, got ", 2)`).
template <class... Parts> Status makeError(const Parts &...parts) {
  std::ostringstream os;
  (os << ... << parts);
  return Status::error(os.str());
}

/// Either a value of type T or an error Status.
template <class T> class [[nodiscard]] StatusOr {
public:
  /// Holds `value`.
  StatusOr(T value) : value_(std::move(value)) {}

  /// Holds the error `status`, which must not be ok.
  StatusOr(Status status) : status_(std::move(status)) {
    assert(!status_.ok() && "StatusOr built from an ok Status has no value");
  }

  /// Returns true when a value is held.
  bool ok() const { return status_.ok(); }

  /// Returns the status: ok when a value is held, else the error.
  const Status &status() const { return status_; }

  /// Returns the error message (empty when a value is held).
  const std::string &message() const { return status_.message(); }

  /// Returns the held value; only valid when ok().
  T &value() & {
    assert(ok() && "value() on an error StatusOr");
    return *value_;
  }
  /// Returns the held value; only valid when ok().
  const T &value() const & {
    assert(ok() && "value() on an error StatusOr");
    return *value_;
  }
  /// Moves the held value out; only valid when ok().
  T &&value() && {
    assert(ok() && "value() on an error StatusOr");
    return std::move(*value_);
  }

  /// Accesses the held value; only valid when ok().
  T &operator*() & { return value(); }
  /// Accesses the held value; only valid when ok().
  const T &operator*() const & { return value(); }
  /// Moves the held value out; only valid when ok().
  T &&operator*() && { return std::move(*this).value(); }
  /// Accesses a member of the held value; only valid when ok().
  T *operator->() { return &value(); }
  /// Accesses a member of the held value; only valid when ok().
  const T *operator->() const { return &value(); }

private:
  std::optional<T> value_;
  Status status_;
};

} // namespace dlc::runtime

#endif // DLC_RUNTIME_STATUS_H
