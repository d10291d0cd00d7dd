//===- Communicator.h - the processes a model trains on ---------*- C++ -*-===//
//
// The communication seam of data-parallel training: the Trainer sees only
// this interface (rank, size, allreduce-sum, broadcast, barrier, abort), so
// MPI today and NCCL later are one implementation each. A single process is
// the LocalCommunicator, whose collectives do nothing.
//
// MPI is loaded, not linked (docs/CHOICES.md): one binary runs with and
// without Open MPI, and only a process that mpirun started opens libmpi.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_COMMUNICATOR_H
#define DLC_RUNTIME_COMMUNICATOR_H

#include "runtime/Status.h"

#include <cstddef>
#include <memory>
#include <string>

namespace dlc::runtime {

class Communicator {
public:
  virtual ~Communicator();
  /// This process's index, 0 <= rank() < size().
  virtual int rank() const = 0;
  /// The number of processes.
  virtual int size() const = 0;
  /// The engine's name ("local", "mpi").
  virtual std::string name() const = 0;
  /// Replaces `data[0, count)` on every rank by its elementwise sum over all
  /// ranks.
  virtual Status allreduceSum(float *data, size_t count) = 0;
  virtual Status allreduceSum(double *data, size_t count) = 0;
  /// Copies `bytes` bytes at `data` from rank `root` to every rank.
  virtual Status broadcast(void *data, size_t bytes, int root) = 0;
  /// Returns when every rank has called it.
  virtual Status barrier() = 0;
  /// Ends every process of the job with exit status `code`.
  [[noreturn]] virtual void abort(int code) = 0;

  bool isRoot() const { return rank() == 0; }
};

/// One process on its own: rank 0 of 1, collectives leave data unchanged.
std::unique_ptr<Communicator> localCommunicator();

/// The number of processes of the job a launcher (mpirun, or a PMI launcher
/// such as srun) started this process in, from its environment; 0 when no
/// launcher started it.
int launchedWorldSize();
/// The processes of that job on this machine (1 without a launcher).
int launchedLocalSize();

/// The communicator of this process: MPI's world when a launcher started it
/// in a job of more than one process, else localCommunicator(). An error when
/// the job has several processes but this build cannot load MPI.
StatusOr<std::unique_ptr<Communicator>> worldCommunicator();

/// The default number of threads per process: the cores of this process's
/// affinity mask, divided among the job's processes on this machine when the
/// mask is the whole machine (at least 1); a narrower mask is the launcher's
/// binding, whose cores are this process's own.
int defaultThreadsPerRank();

} // namespace dlc::runtime

#endif // DLC_RUNTIME_COMMUNICATOR_H
