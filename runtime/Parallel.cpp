//===- Parallel.cpp - the runtime's threads for compiled parallel loops ----===//
//
// One process-wide pool of numThreads() - 1 workers; the thread that enters
// a parallel region runs the team's share 0. A region's workers are woken by
// a generation counter: they spin a little (a training step starts its next
// region within microseconds), then sleep on a condition variable. The
// OpenMP ABI subset implemented here is what MLIR's OpenMP translation
// emits for `omp.parallel` + `omp.wsloop` with a static schedule.
//
// The compiled code's buffers come from dlc_aligned_alloc. When it cannot
// allocate, it records the error in the call (callCompiled) and jumps back,
// with siglongjmp, to the innermost recovery point of its thread: the call
// itself on the thread that made it, the region on a worker. The other
// threads of a failed region leave at their next barrier; the thread that
// forked the region waits for them all, then leaves the call. No C++ frame
// with a destructor lies between a recovery point and the compiled code, so
// nothing but the step's own buffers is skipped: each call keeps the set of
// buffers its compiled code allocated and has not freed (dlc_free is the
// module's free), and a failed call frees them once every thread is out.
//
// The team's shares 1..T-1 are claimed, not assigned: a worker takes the
// next unclaimed one, and the thread that entered the region, once its own
// share is done, takes the ones still unclaimed. So a worker whose core is
// busy with another process delays a region by nothing (its share runs
// elsewhere) instead of by a scheduler time slice; a step has dozens of
// regions. A share that waits in a barrier for another is never followed by
// a second share on the same thread before every share has arrived there,
// so barriers still work; the compiled code has none (dl-omp-nowait).
//
//===----------------------------------------------------------------------===//

#include "runtime/Parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <new>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <linux/futex.h>
#include <mutex>
#include <sched.h>
#include <sys/syscall.h>
#include <system_error>
#include <thread>
#include <unordered_set>
#include <pthread.h>
#include <setjmp.h>
#include <unistd.h>
#include <vector>

namespace {

using Microtask = void (*)(int32_t *, int32_t *, ...);

/// One call of compiled code (callCompiled): the first error any of its
/// threads met, and the buffers its code allocated and has not freed yet
/// (freed when the call fails; a call that returns hands them over as its
/// results).
struct CallState {
  /// How many shares per thread its regions are cut into (callCompiled).
  int sharesPerThread = 1;
  std::atomic<bool> failed{false};
  std::mutex mutex;
  dlc::runtime::Status error;
  std::mutex liveMutex;
  std::unordered_set<void *> live;

  void track(void *p) {
    std::lock_guard<std::mutex> lock(liveMutex);
    live.insert(p);
  }
  void untrack(void *p) {
    std::lock_guard<std::mutex> lock(liveMutex);
    live.erase(p);
  }
  /// Frees what the failed call left (every thread of it is out).
  void freeLive() {
    for (void *p : live)
      std::free(p);
    live.clear();
  }
};

/// One parallel region: the outlined body, its captured arguments and the
/// call it belongs to.
struct Region {
  Microtask fn = nullptr;
  int argc = 0;
  void *args[16] = {};
  CallState *call = nullptr;
};

/// This thread's place in the team that runs the current region (a thread
/// outside any region is a team of one).
thread_local int tlsTid = 0;
thread_local int tlsTeam = 1;
thread_local bool tlsInRegion = false;
/// The call this thread works for, and where it goes back to when the
/// compiled code cannot go on (null outside compiled code).
thread_local CallState *tlsCall = nullptr;
thread_local sigjmp_buf *tlsRecovery = nullptr;

/// A place to go back to: the thread's region state and recovery point as
/// they were, put back when it is left either way.
struct Recovery {
  int tid = tlsTid, team = tlsTeam;
  bool inRegion = tlsInRegion;
  CallState *call = tlsCall;
  sigjmp_buf *outer = tlsRecovery;
  sigjmp_buf here;
  void restore() const {
    tlsTid = tid, tlsTeam = team, tlsInRegion = inRegion;
    tlsCall = call, tlsRecovery = outer;
  }
};

/// Records `error` as this thread's call's error (the first one counts).
/// Without a call (compiled code called other than through callCompiled)
/// nothing safe is left to do.
void record(dlc::runtime::Status error) {
  CallState *call = tlsCall;
  if (!call || !tlsRecovery) {
    std::fprintf(stderr, "dlc runtime: fatal: %s\n", error.message().c_str());
    std::abort();
  }
  std::lock_guard<std::mutex> lock(call->mutex);
  if (!call->failed.load()) {
    call->error = std::move(error);
    call->failed.store(true);
  }
}

/// Leaves the compiled code for this thread's innermost recovery point
/// (after record(); nothing with a destructor is alive in this frame).
[[noreturn]] void leave() { siglongjmp(*tlsRecovery, 1); }

/// Leaves for the recovery point when this thread's call has failed (a
/// thread of a failed region).
void leaveIfFailed() {
  if (tlsCall && tlsCall->failed.load())
    leave();
}

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

/// futex(2) on an atomic int (C++17 has no atomic wait): FUTEX_WAIT sleeps
/// while it still holds `value`, FUTEX_WAKE wakes `value` sleepers.
inline void futex(std::atomic<int> &word, int op, int value) {
  static_assert(sizeof(std::atomic<int>) == sizeof(int), "a futex is an int");
  ::syscall(SYS_futex, reinterpret_cast<int *>(&word), op, value, nullptr, nullptr, 0);
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
    // A share's number must fit the claim word's share bits.
    n = std::clamp(n, 1, static_cast<int>(kShareMask));
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
    for (int tid = 1; tid < n; ++tid) {
      // A thread the system cannot start (its thread limit, memory) makes
      // the team smaller, not the process end by an exception.
      try {
        workers.emplace_back([this, tid, seen] { work(tid, seen); });
      } catch (const std::system_error &) {
        team = tid;
        break;
      }
    }
  }

  /// Runs `r` on the whole team and returns when every thread is done. A
  /// region entered while another host thread's runs goes inline.
  void run(const Region &r) {
    // No lock object: a failed inline region leaves this frame by
    // siglongjmp, which must skip no destructor.
    if (!busy.try_lock()) {
      runInline(r);
      return;
    }
    adoptAfterFork();
    if (team == 1) {
      busy.unlock();
      runInline(r);
      return;
    }
    region = &r;
    // A region of a call whose module allows it is cut into more shares
    // than threads, claimed one at a time: a share's iterations are a
    // contiguous block of the static schedule, as with one share a thread,
    // so every iteration runs once on some thread and the results do not
    // change; but a thread that finishes early, or a worker that wakes late,
    // takes the next share instead of leaving the others to wait for it.
    int sharesPerThread = r.call ? std::max(1, r.call->sharesPerThread) : 1;
    shares.store(static_cast<int>(std::min<int64_t>(int64_t{team} * sharesPerThread, kShareMask)));
    pending.store(shares.load() - 1);
    uint64_t gen;
    {
      std::lock_guard<std::mutex> lock(mutex);
      gen = generation.load() + 1;
      claims.store(gen << kShareBits | 1);
      generation.store(gen);
    }
    wake.notify_all();
    runShare(r, 0);
    // The shares no worker has claimed yet run here.
    while (const Region *claimed = claim(gen))
      runShare(*claimed, claimedShare);
    // Shares that workers started may have been preempted (more threads
    // than free cores): spin a while (the imbalance of a region's shares is
    // microseconds), then sleep until the last share ends (a futex, not
    // sched_yield, which can hand the core to another process for a whole
    // time slice).
    for (int spin = 0; spin < (1 << 14) && pending.load() != 0; ++spin)
      pause();
    if (pending.load() != 0) {
      sleeping.store(true);
      for (int left = pending.load(); left != 0; left = pending.load())
        futex(pending, FUTEX_WAIT_PRIVATE, left);
      sleeping.store(false);
    }
    // A failed region's threads left it at different barriers.
    if (r.call && r.call->failed.load())
      barrierCount.store(0);
    busy.unlock();
  }

  /// Waits for every thread of the running team; a thread of a failed call
  /// leaves instead (the others may never come).
  void barrier() {
    if (tlsTeam == 1)
      return;
    leaveIfFailed();
    uint64_t gen = barrierGeneration.load();
    if (barrierCount.fetch_add(1) + 1 == tlsTeam) {
      barrierCount.store(0);
      barrierGeneration.fetch_add(1);
      return;
    }
    for (int spin = 0; barrierGeneration.load() == gen; ++spin) {
      if (spin < 4096)
        pause();
      else
        std::this_thread::yield();
      if ((spin & 255) == 0)
        leaveIfFailed();
    }
  }

private:
  Pool() = default;

  /// Runs this thread's share of `r` as thread `tid` of `team`; a failure
  /// in it comes back here (the call records it).
  static void guardedInvoke(const Region &r, int tid, int team) {
    Recovery recovery;
    if (sigsetjmp(recovery.here, 0) == 0) {
      tlsTid = tid, tlsTeam = team, tlsInRegion = true;
      tlsCall = r.call, tlsRecovery = &recovery.here;
      invoke(r, tid);
    }
    recovery.restore();
    tlsTid = 0, tlsTeam = 1, tlsInRegion = false;
  }

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
      while (const Region *claimed = claim(seen))
        runShare(*claimed, claimedShare);
    }
  }

  /// Claims the next unclaimed share of region `gen` (or of a later one,
  /// for a worker that woke late): the region, with the share in
  /// `claimedShare`, or null when none is left. The claim word packs the
  /// generation with the next share, so a claim cannot take a share of a
  /// region that has ended; the region stays posted until every claimed
  /// share is done (`pending`).
  const Region *claim(uint64_t gen) {
    uint64_t word = claims.load();
    while (true) {
      uint64_t share = word & kShareMask;
      if ((word >> kShareBits) < gen || share >= static_cast<uint64_t>(shares.load()))
        return nullptr;
      if (claims.compare_exchange_weak(word, word + 1)) {
        claimedShare = static_cast<int>(share);
        return region;
      }
    }
  }

  /// Runs share `share` of `r` (none of a call that has failed); a share
  /// other than 0 counts as done after.
  void runShare(const Region &r, int share) {
    if (!(r.call && r.call->failed.load()))
      guardedInvoke(r, share, shares.load());
    if (share != 0 && pending.fetch_sub(1) == 1 && sleeping.load())
      futex(pending, FUTEX_WAKE_PRIVATE, 1);
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
  /// The shares of the running region (at least `team`).
  std::atomic<int> shares{1};
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> generation{0};
  std::atomic<int> pending{0};
  /// The thread that entered the region sleeps on `pending` (futex).
  std::atomic<bool> sleeping{false};
  static constexpr unsigned kShareBits = 16;
  static constexpr uint64_t kShareMask = (uint64_t{1} << kShareBits) - 1;
  /// generation << kShareBits | the next unclaimed share.
  std::atomic<uint64_t> claims{0};
  static thread_local int claimedShare;
  const Region *region = nullptr;
  std::atomic<int> barrierCount{0};
  std::atomic<uint64_t> barrierGeneration{0};
};

thread_local int Pool::claimedShare = 0;

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
  r.call = tlsCall;
  if (tlsInRegion)
    runInline(r);
  else
    startedPool().run(r);
  // Every thread of the region is done: a failure in it ends the call.
  leaveIfFailed();
}

/// What the compiled code's memref.alloc calls (the CPU target renames
/// aligned_alloc to it): aligned memory, freed with free(), or the call's
/// end with an error. DLC_FAIL_ALLOCATION=N makes the N-th allocation of
/// the process fail (a fault for tests).
__attribute__((visibility("default"))) void *dlc_aligned_alloc(size_t alignment,
                                                               size_t bytes) {
  if (alignment < sizeof(void *))
    alignment = sizeof(void *);
  // aligned_alloc wants a multiple of the alignment, and may return null
  // for 0 bytes: at least one alignment.
  size_t rounded = bytes <= alignment ? alignment : (bytes + alignment - 1) / alignment * alignment;
  void *p = nullptr;
  bool injected = dlc::runtime::allocationFailureInjected();
  if (rounded >= bytes && !injected)
    p = std::aligned_alloc(alignment, rounded);
  if (!p) {
    record(dlc::runtime::makeError("the compiled code cannot allocate ", bytes,
                                   " bytes for a buffer of the step",
                                   injected ? " (DLC_FAIL_ALLOCATION)" : ""));
    leave();
  }
  if (CallState *call = tlsCall) {
    // A buffer the call cannot keep track of could not be freed if the call
    // fails: that is a failed allocation too.
    bool tracked = true;
    try {
      call->track(p);
    } catch (const std::bad_alloc &) {
      tracked = false;
    }
    if (!tracked) {
      std::free(p);
      record(dlc::runtime::makeError("the compiled code cannot allocate ", bytes,
                                     " bytes for a buffer of the step"));
      leave();
    }
  }
  return p;
}

/// What the compiled code's memref.dealloc calls (the CPU target renames
/// free to it): the buffer is no longer the call's to free on failure.
__attribute__((visibility("default"))) void dlc_free(void *p) {
  if (!p)
    return;
  if (CallState *call = tlsCall)
    call->untrack(p);
  std::free(p);
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
  requestedThreads.store(n > 0 ? std::min(n, kMaxThreads) : 0);
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
      {"dlc_aligned_alloc", reinterpret_cast<void *>(&dlc_aligned_alloc)},
      {"dlc_free", reinterpret_cast<void *>(&dlc_free)},
  };
  count = sizeof(entries) / sizeof(entries[0]);
  return entries;
}

dlc::runtime::Status dlc::runtime::callCompiled(void (*fn)(void **), void **args,
                                               int sharesPerThread) {
  CallState call;
  call.sharesPerThread = sharesPerThread;
  Recovery recovery;
  if (sigsetjmp(recovery.here, 0) == 0) {
    tlsCall = &call, tlsRecovery = &recovery.here;
    fn(args);
  }
  recovery.restore();
  if (!call.failed.load())
    return Status::success(); // what is live is the results, the caller's now
  call.freeLive();
  std::lock_guard<std::mutex> lock(call.mutex);
  return call.error;
}

bool dlc::runtime::allocationFailureInjected() {
  static const long failAt = [] {
    const char *text = std::getenv("DLC_FAIL_ALLOCATION");
    return text ? std::strtol(text, nullptr, 10) : 0L;
  }();
  static std::atomic<long> count{0};
  return failAt > 0 && count.fetch_add(1) + 1 == failAt;
}

void dlc::runtime::recordCompiledCallError(Status error) { record(std::move(error)); }

void dlc::runtime::leaveCompiledCall() { leave(); }

void dlc::runtime::exportRuntimeSymbols() {
  static std::once_flag once;
  std::call_once(once, [] {
    Dl_info info;
    if (dladdr(reinterpret_cast<void *>(&__kmpc_fork_call), &info) && info.dli_fname)
      // A no-op for the main program (its symbols are global when exported).
      dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL);
  });
}
