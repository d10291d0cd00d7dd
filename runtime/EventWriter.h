//===- EventWriter.h - TensorBoard event files ------------------*- C++ -*-===//
//
// One event file of TensorBoard's format: a sequence of records, each
//   uint64 length, uint32 masked_crc32c(length), data, uint32 masked_crc32c(data)
// (little-endian), whose data is a serialized `Event` (runtime/Events.proto,
// TensorFlow's field numbers). The first record holds the file version.
// Every record is written with one call and flushed, so a run that crashes
// leaves a file of whole records that TensorBoard reads.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_EVENTWRITER_H
#define DLC_RUNTIME_EVENTWRITER_H

#include "runtime/ModelSpec.h"
#include "runtime/Status.h"

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace dlc::runtime {

/// CRC-32C (Castagnoli) of `size` bytes.
uint32_t crc32c(const char *data, size_t size);
/// The CRC as event records store it: rotated and offset, so that a CRC of
/// data that itself holds CRCs stays useful.
uint32_t maskedCrc32c(const char *data, size_t size);

/// `data` framed as one record (length, its CRC, data, its CRC).
std::string frameRecord(const std::string &data);

/// The data of every record of the event file `path`, each length and CRC
/// checked; a truncated last record is an error that names its offset.
StatusOr<std::vector<std::string>> readRecords(const std::string &path);

/// Creates the folder `path` and its parents (as `mkdir -p`).
Status makeDirectories(const std::string &path);

class EventWriter {
public:
  /// Creates the folder `dir` (and its parents) and a new event file in it,
  /// `events.out.tfevents.TIME.HOST.PID.dlc`, starting with the version
  /// record.
  static StatusOr<std::unique_ptr<EventWriter>> open(const std::string &dir);
  ~EventWriter();

  const std::string &path() const { return path_; }

  Status scalar(int64_t step, const std::string &tag, double value);
  /// A histogram of `n` values in `buckets` equal buckets from min to max.
  Status histogram(int64_t step, const std::string &tag, const float *values,
                   int64_t n, int buckets = 30);
  /// A PNG image (`channels`: 1 grey, 3 RGB, 4 RGBA).
  Status image(int64_t step, const std::string &tag, const std::string &png,
               int width, int height, int channels);
  /// The model's graph as a GraphDef for TensorBoard's graph view.
  Status graph(const std::vector<GraphNode> &nodes);

private:
  EventWriter(std::string path, std::FILE *file) : path_(std::move(path)), file_(file) {}
  /// Frames, writes and flushes one serialized Event.
  Status write(const std::string &event);

  std::string path_;
  std::FILE *file_;
};

} // namespace dlc::runtime

#endif // DLC_RUNTIME_EVENTWRITER_H
