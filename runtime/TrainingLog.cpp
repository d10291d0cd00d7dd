//===- TrainingLog.cpp - what `--logdir DIR` records ------------------------===//

#include "runtime/TrainingLog.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>

using namespace dlc::runtime;

namespace {
/// Grey 128 for 0, 0 or 255 for -scale or +scale.
uint8_t grey(float v, float scale) {
  float g = 127.5f + 127.5f * v / scale;
  return static_cast<uint8_t>(std::clamp(g, 0.0f, 255.0f));
}

/// A grid of `count` tiles of `h` x `w` pixels with `channels` samples each,
/// `zoom` times enlarged, one pixel of white between tiles; `sample(t, y, x,
/// c)` is the value of tile t at (y, x), channel c.
template <class Sample>
Image tileGrid(int count, int h, int w, int channels, const Sample &sample) {
  int zoom = std::max(1, (48 + std::max(h, w) - 1) / std::max(h, w));
  int cols = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(count))));
  int rows = (count + cols - 1) / cols;
  Image img;
  img.channels = channels;
  img.width = cols * (w * zoom + 1) - 1;
  img.height = rows * (h * zoom + 1) - 1;
  img.pixels.assign(static_cast<size_t>(img.width) * img.height * channels, 255);
  for (int t = 0; t < count; ++t) {
    int top = t / cols * (h * zoom + 1), left = t % cols * (w * zoom + 1);
    for (int y = 0; y < h * zoom; ++y)
      for (int x = 0; x < w * zoom; ++x)
        for (int c = 0; c < channels; ++c)
          img.pixels[(static_cast<size_t>(top + y) * img.width + left + x) * channels + c] =
              sample(t, y / zoom, x / zoom, c);
  }
  return img;
}
} // namespace

std::optional<Image> dlc::runtime::firstLayerImage(const ModelSpec &spec,
                                                  const std::map<std::string, Tensor> &params,
                                                  std::string *name) {
  for (const ParamSpec &p : spec.params) {
    auto it = params.find(p.name);
    if (it == params.end() || it->second.dtype() != DType::F32 ||
        (it->second.rank() != 2 && it->second.rank() != 4))
      continue;
    const Tensor &t = it->second;
    const float *w = t.data<float>();
    float scale = 0;
    for (int64_t i = 0; i < t.numElements(); ++i)
      if (std::isfinite(w[i]))
        scale = std::max(scale, std::fabs(w[i]));
    if (scale == 0)
      scale = 1;
    const std::vector<int64_t> &s = t.shape();
    if (name)
      *name = p.name;
    if (s.size() == 4) {
      // [KH, KW, C, F]: tile f shows filter f.
      int64_t kh = s[0], kw = s[1], c = s[2], f = s[3];
      if (kh > 64 || kw > 64 || f > 1024)
        return std::nullopt;
      int channels = c == 3 ? 3 : 1;
      return tileGrid(f, kh, kw, channels, [&](int tile, int y, int x, int ch) {
        return grey(w[((y * kw + x) * c + ch) * f + tile], scale);
      });
    }
    int64_t n = s[0], k = s[1];
    int64_t side = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(n))));
    if (side * side == n && side > 1 && k <= 1024)
      // [N*N, K]: tile j is column j as an N x N picture.
      return tileGrid(k, side, side, 1, [&](int tile, int y, int x, int) {
        return grey(w[(y * side + x) * k + tile], scale);
      });
    if (n > 1024 || k > 1024)
      return std::nullopt;
    return tileGrid(1, n, k, 1, [&](int, int y, int x, int) {
      return grey(w[y * k + x], scale);
    });
  }
  return std::nullopt;
}

StatusOr<std::unique_ptr<TrainingLog>> TrainingLog::open(const std::string &dir,
                                                         const ModelSpec &spec) {
  if (Status s = makeDirectories(dir); !s.ok())
    return s;
  std::unique_ptr<TrainingLog> log(new TrainingLog(dir, spec));
  std::string path = dir + "/metrics.jsonl";
  log->jsonl_ = std::fopen(path.c_str(), "a");
  if (!log->jsonl_)
    return makeError("cannot write '", path, "': ", std::strerror(errno));
  auto train = log->writer("train");
  if (!train.ok())
    return train.status();
  if (!spec.graph.empty())
    if (Status s = (*train)->graph(spec.graph); !s.ok())
      return s;
  return log;
}

TrainingLog::~TrainingLog() {
  if (jsonl_)
    std::fclose(jsonl_);
}

StatusOr<EventWriter *> TrainingLog::writer(const std::string &set) {
  auto it = writers_.find(set);
  if (it != writers_.end())
    return it->second.get();
  auto opened = EventWriter::open(dir_ + "/" + set);
  if (!opened.ok())
    return opened.status();
  return (writers_[set] = std::move(*opened)).get();
}

Status TrainingLog::scalars(const std::string &set, int64_t step,
                            const std::vector<std::pair<std::string, double>> &values) {
  auto w = writer(set);
  if (!w.ok())
    return w.status();
  nlohmann::ordered_json line;
  line["step"] = step;
  line["set"] = set;
  line["wall_time"] = std::chrono::duration<double>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  for (const auto &[tag, value] : values) {
    if (Status s = (*w)->scalar(step, tag, value); !s.ok())
      return s;
    // JSON has no NaN or Inf: null stands for them.
    line[tag] = std::isfinite(value) ? nlohmann::ordered_json(value) : nullptr;
  }
  std::string text = line.dump() + "\n";
  if (std::fwrite(text.data(), 1, text.size(), jsonl_) != text.size() ||
      std::fflush(jsonl_) != 0)
    return makeError("cannot write '", dir_, "/metrics.jsonl': ", std::strerror(errno));
  return Status::success();
}

Status TrainingLog::params(int64_t step, const std::map<std::string, Tensor> &params) {
  auto w = writer("train");
  if (!w.ok())
    return w.status();
  for (const ParamSpec &p : spec_.params) {
    auto it = params.find(p.name);
    if (it == params.end() || it->second.dtype() != DType::F32)
      continue;
    if (Status s = (*w)->histogram(step, "params/" + p.name, it->second.data<float>(),
                                   it->second.numElements());
        !s.ok())
      return s;
  }
  std::string name;
  if (auto image = firstLayerImage(spec_, params, &name)) {
    auto png = encodePng(*image);
    if (!png.ok())
      return png.status();
    return (*w)->image(step, "weights/" + name, *png, image->width, image->height,
                       image->channels);
  }
  return Status::success();
}
