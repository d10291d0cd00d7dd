//===- Parallel.cpp - the runtime's threads for compiled parallel loops ----===//
//
// One process-wide pool of numThreads() - 1 workers; the thread that enters
// a parallel region is the team's thread 0. A region's workers are woken by
// a generation counter: they spin a little (a training step starts its next
// region within microseconds), then sleep on a condition variable. The
// OpenMP ABI subset implemented here is what MLIR's OpenMP translation
// emits for `omp.parallel` + `omp.wsloop` with a static schedule.
//
//===----------------------------------------------------------------------===//

#include "runtime/Parallel.h"

#include <atomic>
#include <condition_variable>
#include <new>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <mutex>
#include <sched.h>
#include <thread>
#include <pthread.h>
#include <unistd.h>
#include <vector>

namespace {

using Microtask = void (*)(int32_t *, int32_t *, ...);

/// One parallel region: the outlined body and its captured arguments.
struct Region {
  Microtask fn = nullptr;
  int argc = 0;
  void *args[16] = {};
};

/// This thread's place in the team that runs the current region (a thread
/// outside any region is a team of one).
thread_local int tlsTid = 0;
thread_local int tlsTeam = 1;
thread_local bool tlsInRegion = false;

void invoke(const Region &r, int32_t tid) {
  int32_t gtid = tid, btid = tid;
  void *const *a = r.args;
  switch (r.argc) {
  case 0: r.fn(&gtid, &btid); break;
  case 1: r.fn(&gtid, &btid, a[0]); break;
  case 2: r.fn(&gtid, &btid, a[0], a[1]); break;
  case 3: r.fn(&gtid, &btid, a[0], a[1], a[2]); break;
  case 4: r.fn(&gtid, &btid, a[0], a[1], a[2], a[3]); break;
  case 5: r.fn(&gtid, &btid, a[0], a[1], a[2], a[3], a[4]); break;
  case 6: r.fn(&gtid, &btid, a[0], a[1], a[2], a[3], a[4], a[5]); break;
  case 7: r.fn(&gtid, &btid, a[0], a[1], a[2], a[3], a[4], a[5], a[6]); break;
  case 8: r.fn(&gtid, &btid, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]); break;
  default:
    // The compiled code packs its captures into one struct (argc 1).
    std::fprintf(stderr, "dlc runtime: a parallel region with %d arguments\n", r.argc);
    std::abort();
  }
}

/// Runs `r` with this thread as a team of one (nested or serial regions).
void runInline(const Region &r) {
  int tid = tlsTid, team = tlsTeam;
  bool inRegion = tlsInRegion;
  tlsTid = 0, tlsTeam = 1, tlsInRegion = true;
  invoke(r, 0);
  tlsTid = tid, tlsTeam = team, tlsInRegion = inRegion;
}

inline void pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

class Pool {
public:
  static Pool &get() {
    static Pool *pool = [] {
      auto *p = new Pool(); // never destroyed: workers may outlive main
      ::pthread_atfork(nullptr, nullptr, [] { Pool::get().resetAfterFork(); });
      return p;
    }();
    return *pool;
  }

  int size() {
    std::lock_guard<std::mutex> lock(resizeMutex);
    return team;
  }

  /// Sets the team size: waits for a region another thread runs; refused
  /// (ignored) from inside a region.
  void resize(int n) {
    if (tlsInRegion)
      return;
    std::lock_guard<std::mutex> lock(resizeMutex);
    std::lock_guard<std::mutex> owner(busy);
    adoptAfterFork();
    if (n == team && static_cast<int>(workers.size()) == n - 1)
      return;
    stopWorkers();
    team = n;
    // A worker waits for the first region after this one, even if it
    // starts running after that region was posted.
    uint64_t seen = generation.load();
    for (int tid = 1; tid < n; ++tid)
      workers.emplace_back([this, tid, seen] { work(tid, seen); });
  }

  /// Runs `r` on the whole team and returns when every thread is done. A
  /// region entered while another host thread's runs goes inline.
  void run(const Region &r) {
    std::unique_lock<std::mutex> owner(busy, std::try_to_lock);
    if (owner.owns_lock())
      adoptAfterFork();
    if (team == 1 || !owner.owns_lock()) {
      runInline(r);
      return;
    }
    region = &r;
    pending.store(team - 1);
    {
      std::lock_guard<std::mutex> lock(mutex);
      generation.fetch_add(1);
    }
    wake.notify_all();
    tlsTid = 0, tlsTeam = team, tlsInRegion = true;
    invoke(r, 0);
    tlsTid = 0, tlsTeam = 1, tlsInRegion = false;
    // Workers may have been preempted (more threads than free cores): spin
    // a few milliseconds (the imbalance of a region's shares), then give the
    // core away.
    for (int spin = 0; pending.load() != 0; ++spin)
      if (spin < (1 << 18))
        pause();
      else
        std::this_thread::yield();
  }

  /// Waits for every thread of the running team.
  void barrier() {
    if (tlsTeam == 1)
      return;
    uint64_t gen = barrierGeneration.load();
    if (barrierCount.fetch_add(1) + 1 == tlsTeam) {
      barrierCount.store(0);
      barrierGeneration.fetch_add(1);
      return;
    }
    for (int spin = 0; barrierGeneration.load() == gen; ++spin)
      if (spin < 4096)
        pause();
      else
        std::this_thread::yield();
  }

private:
  Pool() = default;

  void work(int tid, uint64_t seen) {
    while (true) {
      // Spin for the next region a while (20000 pauses, a few hundred
      // microseconds; waking a sleeping worker costs about 100 us here), then
      // sleep. Spinning longer measured slower: the spinning thread takes
      // execution resources from the serial parts of the step.
      for (int spin = 0; spin < 20000 && generation.load() == seen && !stopping; ++spin)
        pause();
      if (generation.load() == seen) {
        std::unique_lock<std::mutex> lock(mutex);
        wake.wait(lock, [&] { return generation.load() != seen || stopping; });
      }
      if (stopping && generation.load() == seen)
        return;
      seen = generation.load();
      tlsTid = tid, tlsTeam = team, tlsInRegion = true;
      invoke(*region, tid);
      tlsTid = 0, tlsTeam = 1, tlsInRegion = false;
      pending.fetch_sub(1);
    }
  }

  /// In a child of fork() (pthread_atfork's child handler): the locks may
  /// have been held by workers that the child does not have, so they start
  /// afresh (only the forking thread exists here); the next region starts
  /// new workers.
  void resetAfterFork() {
    new (&resizeMutex) std::mutex();
    new (&mutex) std::mutex();
    new (&busy) std::mutex();
    new (&wake) std::condition_variable();
    forked.store(true);
  }

  /// In a child of fork() the workers are gone (only the forking thread is
  /// copied): forget them, without joining, and start new ones.
  void adoptAfterFork() {
    if (!forked.exchange(false))
      return;
    new std::vector<std::thread>(std::move(workers)); // leaked on purpose
    workers.clear();
    uint64_t seen = generation.load();
    for (int tid = 1; tid < team; ++tid)
      workers.emplace_back([this, tid, seen] { work(tid, seen); });
  }

  void stopWorkers() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    wake.notify_all();
    for (std::thread &t : workers)
      t.join();
    workers.clear();
    stopping = false;
  }

  std::mutex resizeMutex, mutex, busy;

public:
  /// Set in a child of fork() (pthread_atfork): the next region or resize
  /// starts new workers. A flag, not a getpid() per region (a system call).
  std::atomic<bool> forked{false};

private:
  std::condition_variable wake;
  std::vector<std::thread> workers;
  int team = 1;
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> generation{0};
  std::atomic<int> pending{0};
  const Region *region = nullptr;
  std::atomic<int> barrierCount{0};
  std::atomic<uint64_t> barrierGeneration{0};
};

std::atomic<int> requestedThreads{0};
std::once_flag poolStarted;

Pool &startedPool() {
  std::call_once(poolStarted, [] { Pool::get().resize(dlc::runtime::numThreads()); });
  return Pool::get();
}

} // namespace

//===----------------------------------------------------------------------===//
// The OpenMP entry points (the subset of libomp's ABI the compiled code uses)
//===----------------------------------------------------------------------===//

extern "C" {

struct ident_t;

__attribute__((visibility("default"))) int32_t __kmpc_global_thread_num(ident_t *) {
  return tlsTid;
}

__attribute__((visibility("default"))) void __kmpc_fork_call(ident_t *, int32_t argc,
                                                             Microtask fn, ...) {
  Region r;
  r.fn = fn;
  r.argc = argc;
  va_list ap;
  va_start(ap, fn);
  for (int i = 0; i < argc && i < 16; ++i)
    r.args[i] = va_arg(ap, void *);
  va_end(ap);
  if (tlsInRegion)
    runInline(r);
  else
    startedPool().run(r);
}

/// Static schedule: thread t of T takes the t-th of T nearly equal blocks of
/// the inclusive range [*lower, *upper] (step `incr`); a thread with no
/// iterations gets an empty range (upper = lower - incr).
__attribute__((visibility("default"))) void
__kmpc_for_static_init_8u(ident_t *, int32_t, int32_t schedule, int32_t *lastIter,
                          uint64_t *lower, uint64_t *upper, int64_t *stride,
                          int64_t incr, int64_t) {
  // 34: kmp_sch_static (no chunk), what omp.wsloop without a schedule gets.
  if (schedule != 34) {
    std::fprintf(stderr, "dlc runtime: unsupported OpenMP schedule %d\n", schedule);
    std::abort();
  }
  // OpenMPIRBuilder's workshare loops are canonical: from 0 to the trip count
  // minus one, step 1.
  if (incr != 1) {
    std::fprintf(stderr, "dlc runtime: an OpenMP loop with step %lld\n", (long long)incr);
    std::abort();
  }
  uint64_t step = 1;
  // An empty loop comes as upper = lower - 1 (the compiled code does not test
  // the trip count first): trip wraps to 0 and every share is empty.
  uint64_t trip = *upper - *lower + 1;
  uint64_t team = static_cast<uint64_t>(tlsTeam), tid = static_cast<uint64_t>(tlsTid);
  uint64_t small = trip / team, extra = trip % team;
  uint64_t first = tid * small + (tid < extra ? tid : extra);
  uint64_t count = small + (tid < extra ? 1 : 0);
  uint64_t begin = *lower + first * step;
  *lastIter = count > 0 && first + count == trip;
  *stride = static_cast<int64_t>(trip * step);
  *lower = begin;
  *upper = begin + count * step - step; // begin - step when count is 0: empty
}

__attribute__((visibility("default"))) void __kmpc_for_static_fini(ident_t *, int32_t) {}

__attribute__((visibility("default"))) void __kmpc_barrier(ident_t *, int32_t) {
  Pool::get().barrier();
}

} // extern "C"

//===----------------------------------------------------------------------===//
// Thread count
//===----------------------------------------------------------------------===//

int dlc::runtime::availableCores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0)
      return n;
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw ? static_cast<int>(hw) : 1;
}

int dlc::runtime::numThreads() {
  int n = requestedThreads.load();
  return n > 0 ? n : availableCores();
}

void dlc::runtime::setNumThreads(int n) {
  requestedThreads.store(n > 0 ? n : 0);
  startedPool(); // the first call sizes it; then resize
  Pool::get().resize(numThreads());
}

const std::pair<const char *, void *> *
dlc::runtime::openMPEntryPoints(size_t &count) {
  static const std::pair<const char *, void *> entries[] = {
      {"__kmpc_global_thread_num", reinterpret_cast<void *>(&__kmpc_global_thread_num)},
      {"__kmpc_fork_call", reinterpret_cast<void *>(&__kmpc_fork_call)},
      {"__kmpc_for_static_init_8u", reinterpret_cast<void *>(&__kmpc_for_static_init_8u)},
      {"__kmpc_for_static_fini", reinterpret_cast<void *>(&__kmpc_for_static_fini)},
      {"__kmpc_barrier", reinterpret_cast<void *>(&__kmpc_barrier)},
  };
  count = sizeof(entries) / sizeof(entries[0]);
  return entries;
}

void dlc::runtime::exportRuntimeSymbols() {
  static std::once_flag once;
  std::call_once(once, [] {
    Dl_info info;
    if (dladdr(reinterpret_cast<void *>(&__kmpc_fork_call), &info) && info.dli_fname)
      // A no-op for the main program (its symbols are global when exported).
      dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL);
  });
}
