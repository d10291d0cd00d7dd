//===- Communicator.cpp - local and MPI communicators -----------------------===//
//
// The MPI communicator opens Open MPI's libmpi with dlopen and binds the few
// functions and predefined handles it uses with dlsym; mpi.h supplies only
// their types. Open MPI's handles are addresses of exported objects
// (ompi_mpi_comm_world, ompi_mpi_float, ...), which is what makes the loader
// Open MPI's: another MPI would need its own handle table here.
//
//===----------------------------------------------------------------------===//

#include "runtime/Communicator.h"

#include "runtime/Parallel.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <type_traits>

#include <dlfcn.h>
#include <unistd.h>

#ifdef DLC_HAVE_MPI
#define OMPI_SKIP_MPICXX 1 // the C API only
#include <mpi.h>
#endif

using namespace dlc::runtime;

Communicator::~Communicator() = default;

namespace {
class LocalCommunicator final : public Communicator {
public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string name() const override { return "local"; }
  Status allreduceSum(float *, size_t) override { return Status::success(); }
  Status allreduceSum(double *, size_t) override { return Status::success(); }
  Status broadcast(void *, size_t, int) override { return Status::success(); }
  Status barrier() override { return Status::success(); }
  [[noreturn]] void abort(int code) override { std::exit(code); }
};

/// The integer value of environment variable `name`, or -1.
int envInt(const char *name) {
  const char *v = std::getenv(name);
  if (!v || !*v)
    return -1;
  char *end = nullptr;
  long n = std::strtol(v, &end, 10);
  return *end == '\0' && n >= 0 && n <= INT_MAX ? static_cast<int>(n) : -1;
}

#ifdef DLC_HAVE_MPI
/// libmpi's functions and the predefined handles this file uses.
struct MpiLibrary {
  void *handle = nullptr;
  decltype(&MPI_Initialized) initialized = nullptr;
  decltype(&MPI_Init) init = nullptr;
  decltype(&MPI_Finalized) finalized = nullptr;
  decltype(&MPI_Finalize) finalize = nullptr;
  decltype(&MPI_Comm_rank) commRank = nullptr;
  decltype(&MPI_Comm_size) commSize = nullptr;
  decltype(&MPI_Allreduce) allreduce = nullptr;
  decltype(&MPI_Bcast) bcast = nullptr;
  decltype(&MPI_Barrier) barrier = nullptr;
  decltype(&MPI_Abort) abort = nullptr;
  decltype(&MPI_Error_string) errorString = nullptr;
  MPI_Comm world = nullptr;
  MPI_Datatype f32 = nullptr, f64 = nullptr, byte = nullptr;
  MPI_Op sum = nullptr;

  /// Opens libmpi (the soname first, then the library the build found).
  static StatusOr<MpiLibrary> open() {
    MpiLibrary lib;
    std::string tried;
    for (const char *path : {"libmpi.so.40", "libmpi.so", DLC_MPI_LIBRARY}) {
      // RTLD_GLOBAL: Open MPI's plugins resolve libmpi's symbols globally.
      lib.handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
      if (lib.handle)
        break;
      tried += std::string(tried.empty() ? "" : "; ") + dlerror();
    }
    if (!lib.handle)
      return Status::error("cannot load Open MPI's libmpi (" + tried +
                           "); install openmpi-bin (Debian) or run without mpirun");
    std::string missing;
    auto bind = [&](auto &slot, const char *symbol) {
      void *p = dlsym(lib.handle, symbol);
      if (!p)
        missing += std::string(missing.empty() ? "" : ", ") + symbol;
      slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(p);
    };
    bind(lib.initialized, "MPI_Initialized");
    bind(lib.init, "MPI_Init");
    bind(lib.finalized, "MPI_Finalized");
    bind(lib.finalize, "MPI_Finalize");
    bind(lib.commRank, "MPI_Comm_rank");
    bind(lib.commSize, "MPI_Comm_size");
    bind(lib.allreduce, "MPI_Allreduce");
    bind(lib.bcast, "MPI_Bcast");
    bind(lib.barrier, "MPI_Barrier");
    bind(lib.abort, "MPI_Abort");
    bind(lib.errorString, "MPI_Error_string");
    bind(lib.world, "ompi_mpi_comm_world");
    bind(lib.f32, "ompi_mpi_float");
    bind(lib.f64, "ompi_mpi_double");
    bind(lib.byte, "ompi_mpi_byte");
    bind(lib.sum, "ompi_mpi_op_sum");
    if (!missing.empty())
      return Status::error("the loaded libmpi is not Open MPI's: it lacks " + missing);
    return lib;
  }
};

class MpiCommunicator final : public Communicator {
public:
  explicit MpiCommunicator(MpiLibrary lib) : mpi(lib) {}
  ~MpiCommunicator() override {
    int done = 0;
    if (initializedHere && mpi.finalized(&done) == MPI_SUCCESS && !done)
      mpi.finalize();
  }

  Status start() {
    int already = 0;
    if (Status s = check(mpi.initialized(&already), "MPI_Initialized"); !s.ok())
      return s;
    if (!already) {
      if (Status s = check(mpi.init(nullptr, nullptr), "MPI_Init"); !s.ok())
        return s;
      initializedHere = true;
    }
    if (Status s = check(mpi.commRank(mpi.world, &rank_), "MPI_Comm_rank"); !s.ok())
      return s;
    return check(mpi.commSize(mpi.world, &size_), "MPI_Comm_size");
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return "mpi"; }

  Status allreduceSum(float *data, size_t count) override {
    return allreduce(data, count, mpi.f32);
  }
  Status allreduceSum(double *data, size_t count) override {
    return allreduce(data, count, mpi.f64);
  }
  Status broadcast(void *data, size_t bytes, int root) override {
    auto *p = static_cast<char *>(data);
    for (size_t done = 0; done < bytes;) {
      int n = static_cast<int>(std::min<size_t>(bytes - done, INT_MAX));
      if (Status s = check(mpi.bcast(p + done, n, mpi.byte, root, mpi.world),
                           "MPI_Bcast");
          !s.ok())
        return s;
      done += n;
    }
    return Status::success();
  }
  Status barrier() override { return check(mpi.barrier(mpi.world), "MPI_Barrier"); }
  [[noreturn]] void abort(int code) override {
    std::fflush(stdout);
    std::fflush(stderr);
    mpi.abort(mpi.world, code);
    std::_Exit(code); // MPI_Abort does not return; in case it does.
  }

private:
  MpiLibrary mpi;
  int rank_ = 0, size_ = 1;
  bool initializedHere = false;

  Status check(int rc, const char *what) {
    if (rc == MPI_SUCCESS)
      return Status::success();
    char text[MPI_MAX_ERROR_STRING] = {0};
    int len = 0;
    mpi.errorString(rc, text, &len);
    return Status::error(std::string(what) + " failed: " + text);
  }

  template <class T>
  Status allreduce(T *data, size_t count, MPI_Datatype type) {
    // MPI counts are ints: large buffers go in pieces.
    for (size_t done = 0; done < count;) {
      int n = static_cast<int>(std::min<size_t>(count - done, INT_MAX));
      if (Status s = check(mpi.allreduce(MPI_IN_PLACE, data + done, n, type,
                                         mpi.sum, mpi.world),
                           "MPI_Allreduce");
          !s.ok())
        return s;
      done += n;
    }
    return Status::success();
  }
};
#endif
} // namespace

std::unique_ptr<Communicator> dlc::runtime::localCommunicator() {
  return std::make_unique<LocalCommunicator>();
}

int dlc::runtime::launchedWorldSize() {
  // Open MPI's mpirun, then PMI launchers (MPICH's hydra, Slurm's srun).
  for (const char *name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
    if (int n = envInt(name); n >= 0)
      return n;
  return 0;
}

int dlc::runtime::launchedLocalSize() {
  for (const char *name : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS",
                           "SLURM_NTASKS_PER_NODE"})
    if (int n = envInt(name); n > 0)
      return n;
  return 1;
}

StatusOr<std::unique_ptr<Communicator>> dlc::runtime::worldCommunicator() {
  int world = launchedWorldSize();
  if (world <= 1)
    return localCommunicator();
#ifdef DLC_HAVE_MPI
  auto lib = MpiLibrary::open();
  if (!lib.ok())
    return Status::error("started by mpirun as one of " + std::to_string(world) +
                         " processes, but " + lib.status().message());
  auto comm = std::make_unique<MpiCommunicator>(*lib);
  if (Status s = comm->start(); !s.ok())
    return s;
  return std::unique_ptr<Communicator>(std::move(comm));
#else
  return Status::error(
      "started by mpirun as one of " + std::to_string(world) +
      " processes, but this dlc was built without MPI (configure it with Open "
      "MPI's headers installed: apt-get install libopenmpi-dev); run it "
      "without mpirun to train in one process");
#endif
}

int dlc::runtime::defaultThreadsPerRank() {
  int cores = availableCores();
  // A mask narrower than the machine is the launcher's binding (mpirun
  // binds each process to a core, or to N with --map-by ...:PE=N): those
  // cores are this process's own. A mask of the whole machine is shared by
  // every process of the job on it.
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  if (online > 0 && cores < online)
    return cores;
  return std::max(1, cores / launchedLocalSize());
}
