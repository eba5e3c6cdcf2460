// POSIX backend of sem_os.h: named semaphores (sem_open). The OS name is '/' + name, which is
// what LuaIPC and Python's ctypes callers pass too, so all of them meet on one object.
#include "sem_os.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <semaphore.h>
#include <sys/stat.h>
#include <time.h>

#include <cstdint>
#include <new>
#include <string>

#include "luaipc/alarm_os.h"
#include "luaipc/glue_os.h"

struct luaipc_sem {
  sem_t* handle;
  std::string osName;
  // Identity of the object this handle created (dev 0 and ino 0: unknown or not the creator).
  dev_t dev;
  ino_t ino;
};

namespace {

constexpr int64_t kNsPerSec = 1000000000;

std::string OsName(const char* name) { return std::string("/") + name; }

// Where the OS keeps the object as a file, when it does: glibc puts named semaphores in
// /dev/shm as "sem." + name. Elsewhere (macOS) there is no path and no identity check.
bool FileOf(const char* name, std::string* path) {
#if defined(__linux__)
  *path = std::string("/dev/shm/sem.") + name;
  return true;
#else
  (void)name;
  (void)path;
  return false;
#endif
}

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
#if defined(__linux__) && !defined(LUAIPC_PORTABLE)
  return reinterpret_cast<ClockWait>(dlsym(RTLD_DEFAULT, "sem_clockwait"));
#else
  return nullptr;
#endif
}

// Systems without sem_timedwait (macOS), and the portable build: an untimed sem_wait that the
// glue's alarm interrupts at the deadline.
#if defined(__APPLE__) || defined(LUAIPC_PORTABLE)
#define LUAIPC_SEM_ALARM 1
#endif

#if defined(LUAIPC_SEM_ALARM)
constexpr int64_t kAlarmRepeatNs = 5 * 1000 * 1000;

int WaitWithAlarm(sem_t* s, int64_t deadline_ns) {
  luaipc_alarm* alarm = nullptr;
  int err = luaipc_alarm_open(&alarm);
  if (err == 0) err = luaipc_alarm_arm(alarm, deadline_ns, kAlarmRepeatNs);
  if (err == 0) err = sem_wait(s) == 0 ? 0 : errno;
  if (alarm != nullptr) luaipc_alarm_close(alarm);
  if (err == EINTR && luaipc_now_ns() >= deadline_ns) return ETIMEDOUT;
  return err;
}
#endif

}  // namespace

extern "C" {

int64_t luaipc_sem_value_max(void) { return SEM_VALUE_MAX; }

// glibc's file name is "sem." + name: 4 bytes of NAME_MAX go to the prefix.
size_t luaipc_sem_name_max(void) { return NAME_MAX - 4; }

int luaipc_sem_open(const char* name, unsigned initial, int create, luaipc_sem** out) {
  std::string osName = OsName(name);
  sem_t* s = create ? sem_open(osName.c_str(), O_CREAT | O_EXCL, S_IRUSR | S_IWUSR, initial)
                    : sem_open(osName.c_str(), 0);
  if (s == SEM_FAILED) return errno;
  auto* sem = new (std::nothrow) luaipc_sem{s, osName, 0, 0};
  if (sem == nullptr) {
    sem_close(s);
    if (create) sem_unlink(osName.c_str());
    return ENOMEM;
  }
  std::string path;
  struct stat st;
  if (create && FileOf(name, &path) && stat(path.c_str(), &st) == 0) {
    sem->dev = st.st_dev;
    sem->ino = st.st_ino;
  }
  *out = sem;
  return 0;
}

void luaipc_sem_close(luaipc_sem* sem) {
  sem_close(sem->handle);
  delete sem;
}

int luaipc_sem_unlink(const char* name) { return sem_unlink(OsName(name).c_str()) == 0 ? 0 : errno; }

int luaipc_sem_unlink_if_created(luaipc_sem* sem) {
  std::string path;
  if (FileOf(sem->osName.c_str() + 1, &path)) {
    struct stat st;
    if (sem->ino == 0 || stat(path.c_str(), &st) != 0) return 0;
    if (st.st_dev != sem->dev || st.st_ino != sem->ino) return 0;
  }
  return sem_unlink(sem->osName.c_str()) == 0 ? 0 : errno;
}

int luaipc_sem_post(luaipc_sem* sem) { return sem_post(sem->handle) == 0 ? 0 : errno; }

int luaipc_sem_trywait(luaipc_sem* sem) {
  for (;;) {
    if (sem_trywait(sem->handle) == 0) return 0;
    if (errno != EINTR) return errno;
  }
}

int luaipc_sem_wait(luaipc_sem* sem, int64_t deadline_ns) {
  int rc;
  if (deadline_ns < 0) {
    rc = sem_wait(sem->handle);
  } else {
#if defined(LUAIPC_SEM_ALARM)
    return WaitWithAlarm(sem->handle, deadline_ns);
#endif
    static const ClockWait clockWait = FindClockWait();
    if (clockWait != nullptr) {
      timespec ts = ToTimespec(deadline_ns);
      rc = clockWait(sem->handle, CLOCK_MONOTONIC, &ts);
    } else {
      // sem_timedwait only knows CLOCK_REALTIME: translate the time left.
      int64_t left = deadline_ns - luaipc_now_ns();
      timespec now;
      clock_gettime(CLOCK_REALTIME, &now);
      timespec ts = ToTimespec(static_cast<int64_t>(now.tv_sec) * kNsPerSec + now.tv_nsec + (left > 0 ? left : 0));
      rc = sem_timedwait(sem->handle, &ts);
    }
  }
  return rc == 0 ? 0 : errno;
}

}  // extern "C"
