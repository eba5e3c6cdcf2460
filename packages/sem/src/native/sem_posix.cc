// POSIX backend of sem_os.h: named semaphores (sem_open). The OS name is '/' + name, which is
// what LuaIPC and Python's ctypes callers pass too, so all of them meet on one object.
//
// On Linux, glibc keeps a named semaphore in the file /dev/shm/sem.<name>, mapped shared into
// every process that opens it, and the sem_t* it returns points into that mapping. Other
// processes can therefore damage it. Two ways are caught here:
// - The file is truncated: touching the page raises SIGBUS. The page is watched by the fault
//   handler of luaipc/mapping_os.h, which replaces it with a zero page; every call then reports
//   ENXIO (checked before and after each glibc call, so a post or wait that landed on the zero
//   page is not reported as done). A wait asleep in the kernel sleeps on: the kernel does not
//   wake it, and it touches the page (and sees the loss) when its timeout or slice ends.
// - Its bytes are overwritten with values glibc never writes: glibc then aborts the process
//   ("The futex facility returned an unexpected error code"). The layout is checked right
//   before every call (EINVAL).
// Both checks run just before glibc's call, but glibc reads the bytes again itself: a peer that
// damages them in between (overwrites them, or truncates the file between glibc's read and its
// futex call, which the kernel then answers with EFAULT) can still make glibc abort. No check
// outside glibc closes that window of a few instructions.
#include "sem_os.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <semaphore.h>
#include <sys/stat.h>
#include <time.h>

#if defined(__linux__)
#include <linux/futex.h>
#endif

#include <cstdint>
#include <cstring>
#include <new>
#include <string>

#include "luaipc/alarm_os.h"
#include "luaipc/glue_os.h"
#include "luaipc/mapping_os.h"

struct luaipc_sem {
  sem_t* handle;
  std::string osName;
  // Identity of the object this handle created (dev 0 and ino 0: unknown or not the creator).
  dev_t dev;
  ino_t ino;
  // The page of glibc's mapping that holds the semaphore, watched for truncation (Linux), or
  // null.
  luaipc_mapping* page;
};

namespace {

constexpr int64_t kNsPerSec = 1000000000;

#if defined(__APPLE__)
// macOS: a semaphore's name, '/' included, fits PSEMNAMLEN (31) bytes, as a shm segment's does.
constexpr size_t kNameMax = LUAIPC_DARWIN_IPC_NAME_MAX;
#else
// glibc's file name is "sem." + name: 4 bytes of NAME_MAX go to the prefix.
constexpr size_t kNameMax = NAME_MAX - 4;
#endif

std::string OsName(const char* name) { return std::string("/") + name; }

// Where the OS keeps the object as a file: glibc puts named semaphores in /dev/shm as "sem." +
// name, which gives a creator the identity it checks before removing the name. Elsewhere
// (macOS) there is no path, no page to watch and no identity check: the creator's close removes
// the name as it finds it.
#if defined(__linux__)
constexpr bool kSemFile = true;
#else
constexpr bool kSemFile = false;
#endif

std::string FileOf(const char* name) { return std::string("/dev/shm/sem.") + name; }

// Systems without sem_timedwait (macOS), and the portable build: an untimed sem_wait that the
// glue's alarm interrupts at the deadline.
#if defined(__APPLE__) || defined(LUAIPC_PORTABLE)
#define LUAIPC_SEM_ALARM 1
#endif

#if !defined(LUAIPC_SEM_ALARM)
timespec ToTimespec(int64_t ns) {
  timespec ts;
  ts.tv_sec = static_cast<time_t>(ns / kNsPerSec);
  ts.tv_nsec = static_cast<long>(ns % kNsPerSec);
  return ts;
}

// sem_clockwait (glibc 2.30) waits on the monotonic clock, so a wall-clock jump neither stretches
// nor cuts a timeout. Looked up at run time: the binary must also load on older glibc.
using ClockWait = int (*)(sem_t*, clockid_t, const timespec*);
ClockWait FindClockWait() {
#if defined(__linux__)
  return reinterpret_cast<ClockWait>(dlsym(RTLD_DEFAULT, "sem_clockwait"));
#else
  return nullptr;
#endif
}

// How long a wait without a deadline sleeps at a time (see Wait).
constexpr int64_t kForeverSliceNs = 3600 * kNsPerSec;
#endif

// Whether the bytes can be a semaphore glibc made (nptl's struct new_sem): a value within
// SEM_VALUE_MAX, and a futex flag of 0 (process-private) or FUTEX_PRIVATE_FLAG (shared: what
// sem_open writes). Waiter counts can be anything. Other C libraries lay sem_t out differently:
// nothing to check there.
bool ValidLayout(const sem_t* s) {
#if defined(__linux__) && defined(__GLIBC__)
  const auto* bytes = reinterpret_cast<const unsigned char*>(s);
#if UINTPTR_MAX > 0xffffffffu
  // 64-bit atomics: uint64_t data (value in the low 32 bits, waiters in the high 32), int private.
  uint64_t data = __atomic_load_n(reinterpret_cast<const uint64_t*>(bytes), __ATOMIC_RELAXED);
  int flag = __atomic_load_n(reinterpret_cast<const int*>(bytes + 8), __ATOMIC_RELAXED);
  if (static_cast<uint32_t>(data) > static_cast<uint32_t>(SEM_VALUE_MAX)) return false;
#else
  // unsigned int value (the count shifted left by one, a waiters bit), int private.
  int flag = __atomic_load_n(reinterpret_cast<const int*>(bytes + 4), __ATOMIC_RELAXED);
#endif
  return flag == 0 || flag == FUTEX_PRIVATE_FLAG;
#else
  (void)s;
  return true;
#endif
}

bool Truncated(const luaipc_sem* sem) { return sem->page != nullptr && luaipc_mapping_truncated(sem->page) != 0; }

// Before a glibc call: ENXIO once the file lost the page, EINVAL for bytes glibc would choke on.
// Reading them is the first touch of a page another process removed: the fault is repaired and
// seen here.
int Check(const luaipc_sem* sem) {
  if (Truncated(sem)) return ENXIO;
  bool valid = ValidLayout(sem->handle);
  if (Truncated(sem)) return ENXIO;
  return valid ? 0 : EINVAL;
}

// After a glibc call that returned `err`: a call that touched a lost page worked on the zero
// page put in its place, which is not the semaphore.
int After(const luaipc_sem* sem, int err) { return Truncated(sem) ? ENXIO : err; }

#if defined(LUAIPC_SEM_ALARM)
constexpr int64_t kAlarmRepeatNs = 5 * 1000 * 1000;

int WaitWithAlarm(luaipc_sem* sem, int64_t deadline_ns) {
  luaipc_alarm* alarm = nullptr;
  // An alarm's failure is the wait's (sem_wait) to callers.
  int err = luaipc_alarm_open(&alarm, nullptr);
  if (err == 0) err = luaipc_alarm_arm(alarm, deadline_ns, kAlarmRepeatNs, nullptr);
  // Checked last, so that nothing slow runs between the check and glibc's call.
  if (err == 0) err = Check(sem);
  if (err == 0) err = sem_wait(sem->handle) == 0 ? 0 : errno;
  if (alarm != nullptr) luaipc_alarm_close(alarm);
  if (err == EINTR && luaipc_now_ns() >= deadline_ns) return ETIMEDOUT;
  return err;
}
#endif

// Check(), then glibc's wait, with nothing between the two.
int Wait(luaipc_sem* sem, int64_t deadline_ns) {
#if defined(LUAIPC_SEM_ALARM)
  if (deadline_ns >= 0) return WaitWithAlarm(sem, deadline_ns);
  int err = Check(sem);
  if (err != 0) return err;
  return sem_wait(sem->handle) == 0 ? 0 : errno;
#else
  // No untimed wait: the kernel restarts an untimed futex wait after a signal handler installed
  // with SA_RESTART (Node's SIGCHLD, a process.on(signal) listener), and a restarted wait sees
  // neither new bytes nor a lost page: glibc takes an overwritten count, or aborts on the EFAULT
  // a truncated file gives. A timed wait returns EINTR instead, and the caller's loop checks
  // again. So "forever" is an hour at a time, reported as EINTR.
  bool forever = deadline_ns < 0;
  if (forever) deadline_ns = luaipc_now_ns() + kForeverSliceNs;
  static const ClockWait clockWait = FindClockWait();
  timespec ts;
  if (clockWait != nullptr) {
    ts = ToTimespec(deadline_ns);
  } else {
    // sem_timedwait only knows CLOCK_REALTIME: translate the time left.
    int64_t left = deadline_ns - luaipc_now_ns();
    timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    ts = ToTimespec(static_cast<int64_t>(now.tv_sec) * kNsPerSec + now.tv_nsec + (left > 0 ? left : 0));
  }
  int err = Check(sem);
  if (err != 0) return err;
  int rc = clockWait != nullptr ? clockWait(sem->handle, CLOCK_MONOTONIC, &ts) : sem_timedwait(sem->handle, &ts);
  err = rc == 0 ? 0 : errno;
  if (forever && err == ETIMEDOUT) err = EINTR;
  return err;
#endif
}

}  // namespace

extern "C" {

int64_t luaipc_sem_value_max(void) { return SEM_VALUE_MAX; }

size_t luaipc_sem_name_max(void) { return kNameMax; }

int luaipc_sem_open(const char* name, unsigned initial, int create, luaipc_sem** out, luaipc_error* error) {
  if (strlen(name) > kNameMax) return luaipc_fail(error, ENAMETOOLONG, "sem_open");
  std::string osName = OsName(name);
  sem_t* s = create ? sem_open(osName.c_str(), O_CREAT | O_EXCL, S_IRUSR | S_IWUSR, initial)
                    : sem_open(osName.c_str(), 0);
  if (s == SEM_FAILED) return luaipc_fail(error, errno, "sem_open");
  auto* sem = new (std::nothrow) luaipc_sem{s, osName, 0, 0, nullptr};
  int err = sem == nullptr ? ENOMEM : 0;
  if (err == 0 && kSemFile) {
    std::string path = FileOf(name);
    // glibc's mapping: the page under the sem_t (see the top of this file).
    err = luaipc_mapping_watch(s, sizeof(sem_t), LUAIPC_MAP_READ | LUAIPC_MAP_WRITE, &sem->page);
    struct stat st;
    if (err == 0 && create && stat(path.c_str(), &st) == 0) {
      sem->dev = st.st_dev;
      sem->ino = st.st_ino;
    }
    // A file truncated before we opened it, or bytes that are no semaphore.
    if (err == 0) err = Check(sem);
  }
  if (err != 0) {
    if (sem != nullptr && sem->page != nullptr) luaipc_mapping_unwatch(sem->page);
    delete sem;
    sem_close(s);
    if (create) sem_unlink(osName.c_str());
    return luaipc_fail(error, err, "sem_open");
  }
  *out = sem;
  return 0;
}

void luaipc_sem_close(luaipc_sem* sem) {
  // Before glibc unmaps the page: a watched range must never outlive its mapping.
  if (sem->page != nullptr) luaipc_mapping_unwatch(sem->page);
  sem_close(sem->handle);
  delete sem;
}

int luaipc_sem_unlink(const char* name, luaipc_error* error) {
  if (strlen(name) > kNameMax) return luaipc_fail(error, ENAMETOOLONG, "sem_unlink");
  return sem_unlink(OsName(name).c_str()) == 0 ? 0 : luaipc_fail(error, errno, "sem_unlink");
}

int luaipc_sem_unlink_if_created(luaipc_sem* sem) {
  if (kSemFile) {
    std::string path = FileOf(sem->osName.c_str() + 1);
    struct stat st;
    if (sem->ino == 0 || stat(path.c_str(), &st) != 0) return 0;
    if (st.st_dev != sem->dev || st.st_ino != sem->ino) return 0;
  }
  return sem_unlink(sem->osName.c_str()) == 0 ? 0 : errno;
}

int luaipc_sem_post(luaipc_sem* sem, luaipc_error* error) {
  int err = Check(sem);
  if (err == 0) err = After(sem, sem_post(sem->handle) == 0 ? 0 : errno);
  return err == 0 ? 0 : luaipc_fail(error, err, "sem_post");
}

int luaipc_sem_trywait(luaipc_sem* sem, luaipc_error* error) {
  int err = Check(sem);
  while (err == 0) {
    if (sem_trywait(sem->handle) == 0) {
      err = After(sem, 0);
      break;
    }
    if (errno != EINTR) {
      err = After(sem, errno);
      break;
    }
  }
  return err == 0 ? 0 : luaipc_fail(error, err, "sem_trywait");
}

int luaipc_sem_wait(luaipc_sem* sem, int64_t deadline_ns, luaipc_error* error) {
  int err = After(sem, Wait(sem, deadline_ns));
  return err == 0 ? 0 : luaipc_fail(error, err, "sem_wait");
}

}  // extern "C"
