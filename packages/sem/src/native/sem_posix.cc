#include "sem_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <limits.h>
#include <semaphore.h>
#include <sys/stat.h>
#include <time.h>

#include <cstdint>
#include <new>

namespace luaipc {
namespace sem {

struct OsSem {
  sem_t* handle;
};

namespace {

constexpr int64_t kNsPerSec = 1000000000;
// How long a cancellable wait sleeps before it looks at its cancel flag again.
constexpr int64_t kSliceNs = 50 * 1000000;
// About two cross-CPU wake-ups on a small VM: long enough to catch a peer that answers at
// once, short enough not to matter for a real wait. Measured against 0 and 20 us.
constexpr int64_t kSpinNs = 50 * 1000;

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * kNsPerSec + ts.tv_nsec;
}

timespec ToTimespec(int64_t ns) {
  timespec ts;
  ts.tv_sec = static_cast<time_t>(ns / kNsPerSec);
  ts.tv_nsec = static_cast<long>(ns % kNsPerSec);
  return ts;
}

// glibc's sem_wait/sem_clockwait are cancellation points that also return EINTR on signals:
// retry those, report everything else.
int WaitUntil(sem_t* s, int64_t deadline, bool* acquired) {
  for (;;) {
    int rc;
    if (deadline < 0) {
      rc = sem_wait(s);
    } else {
      timespec ts = ToTimespec(deadline);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 30))
      // The monotonic clock: a wall-clock jump must not stretch or cut the timeout.
      rc = sem_clockwait(s, CLOCK_MONOTONIC, &ts);
#else
      // sem_timedwait only knows CLOCK_REALTIME: translate the remaining time.
      int64_t left = deadline - NowNs();
      timespec now;
      clock_gettime(CLOCK_REALTIME, &now);
      int64_t real = static_cast<int64_t>(now.tv_sec) * kNsPerSec + now.tv_nsec + (left > 0 ? left : 0);
      ts = ToTimespec(real);
      rc = sem_timedwait(s, &ts);
#endif
    }
    if (rc == 0) {
      *acquired = true;
      return 0;
    }
    if (errno == EINTR) continue;
    if (errno == ETIMEDOUT) {
      *acquired = false;
      return 0;
    }
    return errno;
  }
}

}  // namespace

int64_t ValueMax() { return SEM_VALUE_MAX; }

// glibc keeps named semaphores as /dev/shm/sem.<name>: the "sem." prefix eats 4 of NAME_MAX.
int NameMax() { return NAME_MAX - 4; }

int Open(const char* osName, unsigned initial, bool create, OsSem** out) {
  sem_t* s = create ? sem_open(osName, O_CREAT | O_EXCL, S_IRUSR | S_IWUSR, initial) : sem_open(osName, 0);
  if (s == SEM_FAILED) return errno;
  auto* sem = new (std::nothrow) OsSem{s};
  if (sem == nullptr) {
    sem_close(s);
    return ENOMEM;
  }
  *out = sem;
  return 0;
}

void Close(OsSem* sem) {
  sem_close(sem->handle);
  delete sem;
}

int Unlink(const char* osName) { return sem_unlink(osName) == 0 ? 0 : errno; }

int Post(OsSem* sem) { return sem_post(sem->handle) == 0 ? 0 : errno; }

int TryWait(OsSem* sem, bool* acquired) {
  for (;;) {
    if (sem_trywait(sem->handle) == 0) {
      *acquired = true;
      return 0;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      *acquired = false;
      return 0;
    }
    return errno;
  }
}

int64_t DeadlineAfter(double seconds) {
  if (!(seconds >= 0)) return -1;
  // 2^62 ns is ~146 years: anything longer is forever, and the sum cannot overflow.
  if (seconds > 4.6e9) return -1;
  return NowNs() + static_cast<int64_t>(seconds * kNsPerSec);
}

int Wait(OsSem* sem, int64_t deadline, bool (*cancelled)(const void* ctx), const void* ctx, bool spin,
         bool* acquired) {
  int err = TryWait(sem, acquired);
  if (err != 0 || *acquired) return err;
  if (spin) {
    // sched_yield, not a pause loop: when the process that will post shares this CPU, yielding
    // hands it the CPU at once, while a busy spin would only delay it; alone on the CPU, the
    // yield returns at once and the spin catches a fast reply without a sleep and wake-up.
    int64_t until = NowNs() + kSpinNs;
    do {
      sched_yield();
      err = TryWait(sem, acquired);
      if (err != 0 || *acquired) return err;
    } while (NowNs() < until);
  }
  if (cancelled == nullptr) return WaitUntil(sem->handle, deadline, acquired);
  for (;;) {
    if (cancelled(ctx)) return ECANCELED;
    int64_t slice = NowNs() + kSliceNs;
    bool last = deadline >= 0 && deadline <= slice;
    err = WaitUntil(sem->handle, last ? deadline : slice, acquired);
    if (err != 0 || *acquired || last) return err;
  }
}

}  // namespace sem
}  // namespace luaipc
