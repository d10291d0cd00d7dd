//===- TrainingLog.h - what `--logdir DIR` records --------------*- C++ -*-===//
//
// During training, `--logdir DIR` writes TensorBoard event files, one writer
// per set (DIR/train, DIR/validation, DIR/test, so that TensorBoard overlays
// their curves), and DIR/metrics.jsonl, one JSON object per logged step and
// set for scripts. The train writer also gets the model's graph, a histogram
// of every param and the first layer's weights as images. Everything is
// appended and flushed as it is logged: a run that stops early leaves
// readable files.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_TRAININGLOG_H
#define DLC_RUNTIME_TRAININGLOG_H

#include "runtime/EventWriter.h"
#include "runtime/ModelSpec.h"
#include "runtime/Png.h"
#include "runtime/Tensor.h"

#include <map>

namespace dlc::runtime {

/// The first layer's weights as a picture: the first param of rank 2 or 4.
/// A convolution filter [KH, KW, C, F] becomes a grid of F tiles (RGB when
/// C is 3, else the first input channel); a matrix [N*N, K] becomes K tiles
/// of N x N (the lecture's picture of W), another matrix of at most
/// 1024 x 1024 the matrix itself. Grey 128 is 0; the largest magnitude is
/// black or white. Tiles are enlarged to at least 48 pixels. `name` gets
/// the param's name; nullopt when no param fits.
std::optional<Image> firstLayerImage(const ModelSpec &spec,
                                     const std::map<std::string, Tensor> &params,
                                     std::string *name = nullptr);

class TrainingLog {
public:
  /// Creates `dir` and the train writer, and writes the graph of `spec`.
  static StatusOr<std::unique_ptr<TrainingLog>> open(const std::string &dir,
                                                     const ModelSpec &spec);

  /// Logs named scalars of one set ("train", "validation", "test") at `step`:
  /// one TensorBoard scalar each, and one line of metrics.jsonl.
  Status scalars(const std::string &set, int64_t step,
                 const std::vector<std::pair<std::string, double>> &values);
  /// Logs a histogram of every param ("params/NAME") and the first layer's
  /// weights ("weights/NAME") to the train writer.
  Status params(int64_t step, const std::map<std::string, Tensor> &params);

  ~TrainingLog();

private:
  TrainingLog(std::string dir, const ModelSpec &spec) : dir_(std::move(dir)), spec_(spec) {}
  StatusOr<EventWriter *> writer(const std::string &set);

  std::string dir_;
  const ModelSpec &spec_;
  std::map<std::string, std::unique_ptr<EventWriter>> writers_;
  std::FILE *jsonl_ = nullptr;
};

} // namespace dlc::runtime

#endif // DLC_RUNTIME_TRAININGLOG_H
