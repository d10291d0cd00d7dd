//===- Dataset.h - Data sets, input conversion and batching -----*- C++ -*-===//
//
// A Dataset is a set of named tensors (one per model input) whose first
// dimension counts the same N examples. prepareInput() turns a loaded tensor
// (IDX file or literal) into the layout of a model input, split() holds out
// the last examples for validation, and BatchIterator yields contiguous
// batches, reshuffled every epoch from the run's Generator.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_DATASET_H
#define DLC_RUNTIME_DATASET_H

#include "runtime/Random.h"
#include "runtime/Memory.h"
#include "runtime/Status.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace dlc::runtime {

/// Converts `raw`, whose first dimension is the example, into a tensor of
/// shape [N, exampleShape...] and element type `dtype` for the model input
/// `inputName`. `exampleShape` is the input's type without its batch
/// dimension; one entry may be -1 (inferred). Rules:
///   - examples with the same element count are reshaped ([N, 28, 28] feeds
///     [784] or [28, 28, 1]);
///   - i32 labels [N] feeding f32 [C] with C >= 2 become one-hot rows (every
///     label must be in [0, C));
///   - otherwise i32 converts to f32, and f32 converts to i32 when every
///     value is an integer.
/// Errors start with `source` (a file name or "literal") and name both types.
/// With a `plan`, the converted tensor's bytes are counted in it before it
/// is allocated. With `classes` > 0 (an i32 input of class ids, see
/// InputSpec::classes), every value must be in [0, classes); the error
/// names the example.
StatusOr<Tensor> prepareInput(const Tensor &raw,
                              const std::vector<int64_t> &exampleShape,
                              DType dtype, const std::string &inputName,
                              const std::string &source, MemoryPlan *plan = nullptr,
                              int64_t classes = 0);

/// Checks that every value of `labels` (an i32 tensor whose first dimension
/// is the example) is a class id in [0, classes): else the error `SOURCE:
/// label L of example E is out of range for input 'NAME': expected a class
/// id in [0, C)`. Every way class ids enter (data files, literal data,
/// --feed, the C API's feeds) goes through it. Nothing to check when
/// `classes` is 0 or the tensor is not i32.
Status checkClassIds(const Tensor &labels, int64_t classes, const std::string &inputName,
                     const std::string &source);

/// Named tensors sharing their first dimension, the example count N.
class Dataset {
public:
  /// Adds `tensor` as input `name`; errors when the name is taken, the
  /// tensor is a scalar, or its first dimension differs from the others'.
  Status add(const std::string &name, Tensor tensor);

  /// Returns the number of examples N (0 for a data set with no tensors).
  int64_t size() const { return size_; }
  /// Returns true when no tensor has been added.
  bool empty() const { return tensors_.empty(); }
  /// Returns the input names, in the order they were added.
  const std::vector<std::string> &names() const { return names_; }
  /// Returns the tensors, in the order they were added.
  const std::vector<Tensor> &tensors() const { return tensors_; }
  /// Returns the tensor of input `name`, or null.
  const Tensor *find(const std::string &name) const;

  /// Returns examples [begin, end) as a new data set (0 <= begin <= end <= N);
  /// an error when the copy cannot be allocated.
  StatusOr<Dataset> slice(int64_t begin, int64_t end) const;

  /// Returns (the first N - holdout examples, the last holdout examples);
  /// errors unless 0 <= holdout <= N.
  StatusOr<std::pair<Dataset, Dataset>> split(int64_t holdout) const;

private:
  std::vector<std::string> names_;
  std::vector<Tensor> tensors_;
  int64_t size_ = 0;
};

/// Yields batches of a Dataset as contiguous tensors, one per input, in the
/// data set's order. Buffers are reused across steps. The Dataset and the
/// Generator must outlive the iterator.
///
/// Training: `while (...) { it.nextCyclic(); run(it.batch()); }`.
/// Evaluation (dropLast off): `it.startEpoch(); while (it.next()) ...`.
class BatchIterator {
public:
  /// Creates an iterator and starts epoch 0. With `shuffle`, every epoch
  /// visits the examples in a new order drawn from `generator` (which may be
  /// null only without shuffle). With `dropLast`, a final batch smaller than
  /// `batch` is skipped (training); otherwise it is yielded (evaluation).
  /// Errors on an empty data set, batch <= 0, or dropLast with batch > N.
  static StatusOr<BatchIterator> create(const Dataset &data, int64_t batch,
                                        bool shuffle, bool dropLast,
                                        Generator *generator);

  /// Starts a new epoch from the first example, reshuffling when enabled.
  void startEpoch();

  /// Gathers the next batch of this epoch; false (and nothing gathered) when
  /// the epoch is over.
  bool next();

  /// As next(), but starts a new epoch when the current one is over.
  void nextCyclic();

  /// Returns the current batch: one tensor per input, first dimension rows().
  const std::vector<Tensor> &batch() const {
    return rows_ == batchSize_ ? full_ : partial_;
  }
  /// Returns the number of examples in the current batch.
  int64_t rows() const { return rows_; }
  /// Returns the current epoch, counting from 0.
  int64_t epoch() const { return epoch_; }
  /// Returns the number of batches each epoch yields.
  int64_t batchesPerEpoch() const;
  /// Returns the example indices of the current epoch, in visiting order.
  const std::vector<int64_t> &order() const { return order_; }

private:
  BatchIterator() = default;

  const Dataset *data_ = nullptr;
  Generator *generator_ = nullptr;
  int64_t batchSize_ = 0;
  bool shuffle_ = false;
  bool dropLast_ = false;
  int64_t epoch_ = -1;
  int64_t cursor_ = 0;
  int64_t rows_ = 0;
  std::vector<int64_t> order_;
  std::vector<size_t> rowBytes_;
  std::vector<Tensor> full_;
  std::vector<Tensor> partial_;

  void gather(std::vector<Tensor> &into, int64_t rows);
};

} // namespace dlc::runtime

#endif // DLC_RUNTIME_DATASET_H
