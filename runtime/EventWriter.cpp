//===- EventWriter.cpp - TensorBoard event files ---------------------------===//

#include "runtime/EventWriter.h"
#include "runtime/Outputs.h"

#include "runtime/Events.pb.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>

#include <sys/stat.h>
#include <unistd.h>

using namespace dlc::runtime;
namespace ev = dlc::events;

namespace {
/// The table of the reflected CRC-32C polynomial 0x82F63B78.
std::array<uint32_t, 256> makeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}

void putLE(std::string &out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out.push_back(static_cast<char>(v >> (8 * i)));
}

uint64_t getLE(const char *p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

double wallTime() {
  return std::chrono::duration<double>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ev::Event eventAt(int64_t step) {
  ev::Event e;
  e.set_wall_time(wallTime());
  e.set_step(step);
  return e;
}

void setShape(ev::TensorShapeProto &proto, const std::vector<int64_t> &shape) {
  for (int64_t d : shape)
    proto.add_dim()->set_size(d);
}
} // namespace

uint32_t dlc::runtime::crc32c(const char *data, size_t size) {
  static const std::array<uint32_t, 256> table = makeCrcTable();
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i)
    c = table[(c ^ static_cast<unsigned char>(data[i])) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t dlc::runtime::maskedCrc32c(const char *data, size_t size) {
  uint32_t c = crc32c(data, size);
  return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
}

std::string dlc::runtime::frameRecord(const std::string &data) {
  std::string record;
  putLE(record, data.size(), 8);
  putLE(record, maskedCrc32c(record.data(), 8), 4);
  record += data;
  putLE(record, maskedCrc32c(data.data(), data.size()), 4);
  return record;
}

StatusOr<std::vector<std::string>> dlc::runtime::readRecords(const std::string &path) {
  auto fd = openRegularFile(path);
  if (!fd.ok())
    return makeError("cannot read '", path, "': ", fd.status().message());
  std::FILE *f = ::fdopen(*fd, "rb");
  if (!f) {
    ::close(*fd);
    return makeError("cannot open '", path, "': ", std::strerror(errno));
  }
  std::string bytes;
  char buffer[1 << 16];
  for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, f)) > 0;)
    bytes.append(buffer, n);
  std::fclose(f);
  std::vector<std::string> records;
  size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < 12)
      return makeError(path, ": the record at byte ", at, " is truncated (its header)");
    uint64_t length = getLE(&bytes[at], 8);
    if (getLE(&bytes[at + 8], 4) != maskedCrc32c(&bytes[at], 8))
      return makeError(path, ": the record at byte ", at, " has a bad length CRC");
    if (bytes.size() - at - 12 < length + 4 || length > bytes.size())
      return makeError(path, ": the record at byte ", at, " is truncated (", length,
                       " bytes of data announced)");
    std::string data = bytes.substr(at + 12, length);
    if (getLE(&bytes[at + 12 + length], 4) != maskedCrc32c(data.data(), data.size()))
      return makeError(path, ": the record at byte ", at, " has a bad data CRC");
    records.push_back(std::move(data));
    at += 16 + length;
  }
  return records;
}

Status dlc::runtime::makeDirectories(const std::string &path) {
  for (size_t slash = 1; slash != std::string::npos;) {
    slash = path.find('/', slash + 1);
    std::string prefix = path.substr(0, slash);
    if (::mkdir(prefix.c_str(), 0777) != 0 && errno != EEXIST)
      return makeError("cannot create the folder '", prefix, "': ", std::strerror(errno));
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return makeError("cannot create the folder '", path, "': something else is there");
  return Status::success();
}

StatusOr<std::unique_ptr<EventWriter>> EventWriter::open(const std::string &dir) {
  if (Status s = makeDirectories(dir); !s.ok())
    return s;
  char host[256] = "localhost";
  ::gethostname(host, sizeof host - 1);
  // Two writers opened in the same second by one process get distinct names.
  static int serial = 0;
  std::string path = dir + "/events.out.tfevents." +
                     std::to_string(static_cast<long long>(wallTime())) + "." + host +
                     "." + std::to_string(::getpid()) + "." + std::to_string(serial++) +
                     ".dlc";
  std::FILE *f = std::fopen(path.c_str(), "ab");
  if (!f)
    return makeError("cannot write '", path, "': ", std::strerror(errno));
  std::unique_ptr<EventWriter> writer(new EventWriter(path, f));
  ev::Event version = eventAt(0);
  version.set_file_version("brain.Event:2");
  if (Status s = writer->write(version.SerializeAsString()); !s.ok())
    return s;
  return writer;
}

EventWriter::~EventWriter() { std::fclose(file_); }

Status EventWriter::write(const std::string &event) {
  std::string record = frameRecord(event);
  if (std::fwrite(record.data(), 1, record.size(), file_) != record.size() ||
      std::fflush(file_) != 0)
    return makeError("cannot write '", path_, "': ", std::strerror(errno));
  return Status::success();
}

Status EventWriter::scalar(int64_t step, const std::string &tag, double value) {
  ev::Event e = eventAt(step);
  ev::Summary::Value *v = e.mutable_summary()->add_value();
  v->set_tag(tag);
  v->set_simple_value(static_cast<float>(value));
  return write(e.SerializeAsString());
}

Status EventWriter::histogram(int64_t step, const std::string &tag, const float *values,
                              int64_t n, int buckets) {
  ev::Event e = eventAt(step);
  ev::Summary::Value *v = e.mutable_summary()->add_value();
  v->set_tag(tag);
  ev::HistogramProto *h = v->mutable_histo();
  double lo = INFINITY, hi = -INFINITY, sum = 0, squares = 0;
  int64_t finite = 0;
  for (int64_t i = 0; i < n; ++i) {
    double x = values[i];
    if (!std::isfinite(x))
      continue;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    sum += x;
    squares += x * x;
    ++finite;
  }
  if (finite == 0)
    lo = hi = 0;
  h->set_min(lo);
  h->set_max(hi);
  h->set_num(static_cast<double>(finite));
  h->set_sum(sum);
  h->set_sum_squares(squares);
  // Bucket i holds (limit[i-1], limit[i]]; the first one also holds min.
  double width = hi > lo ? (hi - lo) / buckets : 1.0;
  if (hi <= lo)
    buckets = 1;
  std::vector<double> counts(buckets, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    double x = values[i];
    if (!std::isfinite(x))
      continue;
    int b = static_cast<int>(std::ceil((x - lo) / width)) - 1;
    counts[std::clamp(b, 0, buckets - 1)] += 1;
  }
  for (int b = 0; b < buckets; ++b) {
    h->add_bucket_limit(b + 1 == buckets ? hi : lo + (b + 1) * width);
    h->add_bucket(counts[b]);
  }
  return write(e.SerializeAsString());
}

Status EventWriter::image(int64_t step, const std::string &tag, const std::string &png,
                          int width, int height, int channels) {
  ev::Event e = eventAt(step);
  ev::Summary::Value *v = e.mutable_summary()->add_value();
  v->set_tag(tag);
  ev::Summary::Image *image = v->mutable_image();
  image->set_width(width);
  image->set_height(height);
  image->set_colorspace(channels);
  image->set_encoded_image_string(png);
  return write(e.SerializeAsString());
}

Status EventWriter::graph(const std::vector<GraphNode> &nodes) {
  ev::GraphDef g;
  for (const GraphNode &n : nodes) {
    ev::NodeDef *node = g.add_node();
    node->set_name(n.name);
    node->set_op(n.op);
    for (const std::string &in : n.inputs)
      node->add_input(in);
    auto &attrs = *node->mutable_attr();
    // TensorBoard's graph view labels edges with `_output_shapes`.
    ev::AttrValue::ListValue *shapes = attrs["_output_shapes"].mutable_list();
    for (const std::vector<int64_t> &shape : n.shapes)
      setShape(*shapes->add_shape(), shape);
    for (const auto &[key, value] : n.attrs)
      attrs[key].set_s(value);
    std::string types;
    for (const std::string &t : n.types)
      types += (types.empty() ? "" : ", ") + t;
    if (!types.empty())
      attrs["type"].set_s(types);
    if (n.fused)
      attrs["fused"].set_b(true);
    if (n.frozen)
      attrs["frozen"].set_b(true);
    if (n.loc.line)
      attrs["line"].set_s(n.loc.prefix().substr(0, n.loc.prefix().size() - 2));
  }
  g.mutable_versions()->set_producer(1);
  ev::Event e = eventAt(0);
  e.set_graph_def(g.SerializeAsString());
  return write(e.SerializeAsString());
}
