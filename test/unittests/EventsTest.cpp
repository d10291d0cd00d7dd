//===- EventsTest.cpp - TensorBoard event files, PNGs, metrics.jsonl ------===//
//
// Writes event files with the runtime's writer and reads them back with the
// records' framing and the generated protobuf classes: CRCs, versions, steps,
// tags, values, histograms, images and the graph.
//
//===----------------------------------------------------------------------===//

#include "runtime/EventWriter.h"
#include "runtime/Events.pb.h"
#include "runtime/Png.h"
#include "runtime/TrainingLog.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

using namespace dlc::runtime;
namespace ev = dlc::events;
namespace fs = std::filesystem;

namespace {
std::string freshDir(const std::string &name) {
  fs::path dir = fs::temp_directory_path() /
                 ("dlc-events-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir.string();
}

std::vector<ev::Event> readEvents(const std::string &path) {
  auto records = readRecords(path);
  EXPECT_TRUE(records.ok()) << records.message();
  std::vector<ev::Event> events;
  for (const std::string &r : *records) {
    ev::Event e;
    EXPECT_TRUE(e.ParseFromString(r));
    events.push_back(e);
  }
  return events;
}

std::string onlyFile(const std::string &dir) {
  std::vector<std::string> files;
  for (const auto &entry : fs::directory_iterator(dir))
    files.push_back(entry.path().string());
  EXPECT_EQ(files.size(), 1u) << dir;
  return files.empty() ? "" : files[0];
}

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
} // namespace

TEST(Events, Crc32cKnownValues) {
  // The check value of CRC-32C (RFC 3720) and 32 zero bytes (its test vector).
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  std::string zeros(32, '\0');
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
  // TensorFlow's mask: rotate right by 15, add 0xa282ead8.
  uint32_t c = 0xE3069283u;
  EXPECT_EQ(maskedCrc32c("123456789", 9), ((c >> 15) | (c << 17)) + 0xA282EAD8u);
}

TEST(Events, RecordFraming) {
  std::string record = frameRecord("hello");
  ASSERT_EQ(record.size(), 8u + 4 + 5 + 4);
  EXPECT_EQ(record[0], 5);
  for (int i = 1; i < 8; ++i)
    EXPECT_EQ(record[i], 0);
  EXPECT_EQ(record.substr(12, 5), "hello");
}

TEST(Events, ScalarsHistogramsImagesGraph) {
  std::string dir = freshDir("writer");
  std::string path;
  {
    auto w = EventWriter::open(dir + "/train");
    ASSERT_TRUE(w.ok()) << w.message();
    path = (*w)->path();
    EXPECT_NE(path.find("/train/events.out.tfevents."), std::string::npos);
    ASSERT_TRUE((*w)->scalar(7, "loss", 0.25).ok());
    std::vector<float> values = {-1, 0, 0.5f, 1, 2, 2, 3};
    ASSERT_TRUE((*w)->histogram(7, "params/W", values.data(), values.size(), 4).ok());
    ASSERT_TRUE((*w)->image(7, "weights/W", "PNGDATA", 3, 2, 1).ok());
    GraphNode x{"x", "input", {}, {"?x4xf32"}, {{-1, 4}}, {}, false, false, {}};
    GraphNode W{"W", "param", {}, {"4x2xf32"}, {{4, 2}}, {}, false, true, {}};
    GraphNode mm{"matmul_0", "dl.matmul", {"x", "W"}, {"?x2xf32"}, {{-1, 2}},
                 {{"transpose", "false"}}, false, false, {"m.dl", 3, 5}};
    ASSERT_TRUE((*w)->graph({x, W, mm}).ok());
  }
  std::vector<ev::Event> events = readEvents(path);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].file_version(), "brain.Event:2");
  EXPECT_GT(events[0].wall_time(), 1.6e9);

  ASSERT_TRUE(events[1].has_summary());
  EXPECT_EQ(events[1].step(), 7);
  ASSERT_EQ(events[1].summary().value_size(), 1);
  EXPECT_EQ(events[1].summary().value(0).tag(), "loss");
  EXPECT_FLOAT_EQ(events[1].summary().value(0).simple_value(), 0.25f);

  const ev::HistogramProto &h = events[2].summary().value(0).histo();
  EXPECT_EQ(events[2].summary().value(0).tag(), "params/W");
  EXPECT_EQ(h.min(), -1);
  EXPECT_EQ(h.max(), 3);
  EXPECT_EQ(h.num(), 7);
  EXPECT_DOUBLE_EQ(h.sum(), 7.5);
  EXPECT_DOUBLE_EQ(h.sum_squares(), 1 + 0.25 + 1 + 4 + 4 + 9);
  // Buckets (-1,0] (0,1] (1,2] (2,3], the first holding the minimum too.
  ASSERT_EQ(h.bucket_limit_size(), 4);
  EXPECT_EQ(h.bucket_limit(0), 0);
  EXPECT_EQ(h.bucket_limit(3), 3);
  EXPECT_EQ(h.bucket(0), 2);
  EXPECT_EQ(h.bucket(1), 2);
  EXPECT_EQ(h.bucket(2), 2);
  EXPECT_EQ(h.bucket(3), 1);

  const ev::Summary::Image &img = events[3].summary().value(0).image();
  EXPECT_EQ(img.width(), 3);
  EXPECT_EQ(img.height(), 2);
  EXPECT_EQ(img.colorspace(), 1);
  EXPECT_EQ(img.encoded_image_string(), "PNGDATA");

  ev::GraphDef g;
  ASSERT_TRUE(g.ParseFromString(events[4].graph_def()));
  ASSERT_EQ(g.node_size(), 3);
  EXPECT_EQ(g.node(2).name(), "matmul_0");
  EXPECT_EQ(g.node(2).op(), "dl.matmul");
  ASSERT_EQ(g.node(2).input_size(), 2);
  EXPECT_EQ(g.node(2).input(1), "W");
  const ev::AttrValue &shapes = g.node(2).attr().at("_output_shapes");
  ASSERT_EQ(shapes.list().shape_size(), 1);
  EXPECT_EQ(shapes.list().shape(0).dim(0).size(), -1);
  EXPECT_EQ(shapes.list().shape(0).dim(1).size(), 2);
  EXPECT_EQ(g.node(2).attr().at("line").s(), "m.dl:3:5");
  EXPECT_TRUE(g.node(1).attr().at("frozen").b());
  fs::remove_all(dir);
}

TEST(Events, TruncatedOrCorruptFilesAreErrors) {
  std::string dir = freshDir("corrupt");
  std::string path;
  {
    auto w = EventWriter::open(dir);
    ASSERT_TRUE(w.ok()) << w.message();
    path = (*w)->path();
    ASSERT_TRUE((*w)->scalar(1, "loss", 1).ok());
  }
  std::string bytes = readFile(path);
  // A crash between records leaves whole records: the prefix reads.
  size_t first = 16 + static_cast<unsigned char>(bytes[0]);
  std::ofstream(path, std::ios::binary) << bytes.substr(0, first);
  auto prefix = readRecords(path);
  ASSERT_TRUE(prefix.ok()) << prefix.message();
  EXPECT_EQ(prefix->size(), 1u);
  // A record cut short is reported with its offset.
  std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() - 3);
  auto cut = readRecords(path);
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.message().find("at byte " + std::to_string(first) + " is truncated"),
            std::string::npos)
      << cut.message();
  // One flipped bit in the data fails its CRC.
  std::string flipped = bytes;
  flipped[first + 14] ^= 1;
  std::ofstream(path, std::ios::binary) << flipped;
  auto bad = readRecords(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("bad data CRC"), std::string::npos) << bad.message();
  fs::remove_all(dir);
}

TEST(Events, PngHeader) {
  Image image;
  image.width = 3;
  image.height = 2;
  image.pixels = {0, 64, 128, 192, 255, 7};
  auto png = encodePng(image);
  ASSERT_TRUE(png.ok()) << png.message();
  EXPECT_EQ(png->substr(0, 8), "\x89PNG\r\n\x1a\n");
  // IHDR: big-endian width and height, bit depth 8, colour type 0 (grey).
  EXPECT_EQ(png->substr(12, 4), "IHDR");
  EXPECT_EQ(png->substr(16, 8), std::string("\0\0\0\3\0\0\0\2", 8));
  EXPECT_EQ((*png)[24], 8);
  EXPECT_EQ((*png)[25], 0);
  image.pixels.pop_back();
  EXPECT_FALSE(encodePng(image).ok());
}

TEST(Events, FirstLayerImage) {
  ModelSpec spec;
  spec.params.push_back(ParamSpec{"b", DType::F32, {32}, "fill", {}, {}, {}});
  spec.params.push_back(ParamSpec{"W1", DType::F32, {5, 5, 1, 32}, "fill", {}, {}, {}});
  std::map<std::string, Tensor> params;
  params.emplace("b", Tensor::zeros({32}));
  Tensor w = Tensor::zeros({5, 5, 1, 32});
  // Filter 1 is +1 at its top-left pixel; filter 0 is -1 at its bottom-right.
  w.data<float>()[1] = 1;
  w.data<float>()[(4 * 5 + 4) * 32 + 0] = -1;
  params.emplace("W1", w);
  std::string name;
  auto image = firstLayerImage(spec, params, &name);
  ASSERT_TRUE(image);
  EXPECT_EQ(name, "W1");
  // 32 tiles in a 6-column grid of 6 rows; 5x5 filters enlarged 10 times,
  // one pixel between tiles.
  EXPECT_EQ(image->channels, 1);
  EXPECT_EQ(image->width, 6 * 51 - 1);
  EXPECT_EQ(image->height, 6 * 51 - 1);
  auto at = [&](int y, int x) { return image->pixels[y * image->width + x]; };
  EXPECT_EQ(at(0, 51), 255);      // tile 1, top-left: +max
  EXPECT_EQ(at(49, 49), 0);       // tile 0, bottom-right: -max
  EXPECT_EQ(at(10, 10), 127);     // zero
  EXPECT_EQ(at(0, 50), 255);      // the white line between tiles
  // [784, 10]: ten 28x28 pictures, enlarged twice, in 4 columns.
  spec.params[1] = ParamSpec{"W", DType::F32, {784, 10}, "fill", {}, {}, {}};
  params.erase("W1");
  params.emplace("W", Tensor::zeros({784, 10}));
  image = firstLayerImage(spec, params);
  ASSERT_TRUE(image);
  EXPECT_EQ(image->width, 4 * 57 - 1);
  EXPECT_EQ(image->height, 3 * 57 - 1);
}

TEST(Events, TrainingLogWritesSetsAndJsonLines) {
  std::string dir = freshDir("log");
  ModelSpec spec;
  spec.params.push_back(ParamSpec{"W", DType::F32, {4, 2}, "fill", {}, {}, {}});
  spec.graph.push_back(GraphNode{"W", "param", {}, {"4x2xf32"}, {{4, 2}}, {}, false, false, {}});
  {
    auto log = TrainingLog::open(dir, spec);
    ASSERT_TRUE(log.ok()) << log.message();
    ASSERT_TRUE((*log)->scalars("train", 10, {{"loss", 0.5}, {"accuracy", 0.75}}).ok());
    ASSERT_TRUE((*log)->scalars("validation", 10, {{"loss", NAN}}).ok());
    std::map<std::string, Tensor> params;
    params.emplace("W", Tensor::zeros({4, 2}));
    ASSERT_TRUE((*log)->params(10, params).ok());
  }
  std::ifstream jsonl(dir + "/metrics.jsonl");
  std::string line;
  std::vector<nlohmann::json> lines;
  while (std::getline(jsonl, line))
    lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["step"], 10);
  EXPECT_EQ(lines[0]["set"], "train");
  EXPECT_EQ(lines[0]["loss"], 0.5);
  EXPECT_EQ(lines[0]["accuracy"], 0.75);
  EXPECT_EQ(lines[1]["set"], "validation");
  EXPECT_TRUE(lines[1]["loss"].is_null());

  // train: version, graph, 2 scalars, a histogram, the 4x2 matrix image.
  std::vector<ev::Event> train = readEvents(onlyFile(dir + "/train"));
  ASSERT_EQ(train.size(), 6u);
  EXPECT_FALSE(train[1].graph_def().empty());
  EXPECT_EQ(train[2].summary().value(0).tag(), "loss");
  EXPECT_EQ(train[3].summary().value(0).tag(), "accuracy");
  EXPECT_EQ(train[4].summary().value(0).tag(), "params/W");
  EXPECT_EQ(train[5].summary().value(0).tag(), "weights/W");
  std::vector<ev::Event> validation = readEvents(onlyFile(dir + "/validation"));
  ASSERT_EQ(validation.size(), 2u);
  EXPECT_TRUE(std::isnan(validation[1].summary().value(0).simple_value()));
  EXPECT_FALSE(fs::exists(dir + "/test"));
  fs::remove_all(dir);
}
