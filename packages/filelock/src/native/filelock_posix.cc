// POSIX backend of filelock_os.h. Linux has open-file-description locks (F_OFD_SETLK, 3.15+):
// owned by the open file description, so they exclude between worker threads of one process
// and survive the close of some other descriptor of the file, while still conflicting with
// classic POSIX locks of other processes (Python's fcntl.lockf, LuaIPC). macOS and the BSDs
// lack them; LUAIPC_PORTABLE compiles that fallback (classic F_SETLK, owned by the process) on
// Linux too.
#include "filelock_os.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>

#if defined(F_OFD_SETLK) && !defined(LUAIPC_PORTABLE)
#define LUAIPC_FLOCK_OFD 1
#else
#define LUAIPC_FLOCK_OFD 0
#endif

namespace {

#if LUAIPC_FLOCK_OFD
constexpr int kSetLock = F_OFD_SETLK;
constexpr int kSetLockWait = F_OFD_SETLKW;
#else
constexpr int kSetLock = F_SETLK;
constexpr int kSetLockWait = F_SETLKW;
#endif

int Fcntl(int fd, int cmd, short type, int64_t start, int64_t len) {
  struct flock fl;
  std::memset(&fl, 0, sizeof fl);  // OFD locks require l_pid == 0
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(start);
  fl.l_len = static_cast<off_t>(len);
  return fcntl(fd, cmd, &fl) == 0 ? 0 : errno;
}

int KindOf(mode_t mode) {
  if (S_ISREG(mode)) return LUAIPC_FLOCK_REGULAR;
  if (S_ISDIR(mode)) return LUAIPC_FLOCK_DIRECTORY;
  if (S_ISFIFO(mode)) return LUAIPC_FLOCK_FIFO;
  if (S_ISSOCK(mode)) return LUAIPC_FLOCK_SOCKET;
  if (S_ISCHR(mode)) return LUAIPC_FLOCK_CHAR_DEVICE;
  if (S_ISBLK(mode)) return LUAIPC_FLOCK_BLOCK_DEVICE;
  return LUAIPC_FLOCK_OTHER;
}

#if defined(__linux__) && defined(SYS_kcmp)
// This process's id for kcmp without a system call each time (glibc's getpid() makes one, and a
// contended lockSync() looks once per hand-off); a forked child forgets it.
std::atomic<pid_t> g_pid{0};

pid_t SelfPid() {
  static std::once_flag registered;
  std::call_once(registered, [] { pthread_atfork(nullptr, nullptr, [] { g_pid.store(0); }); });
  pid_t pid = g_pid.load(std::memory_order_relaxed);
  if (pid == 0) {
    pid = getpid();
    g_pid.store(pid, std::memory_order_relaxed);
  }
  return pid;
}
#endif

// 1 when descriptors a and b share one open file description, 0 when they don't (or one is not
// open), -1 when the OS can't say.
int SameOpenFile(int a, int b) {
#if defined(__linux__) && defined(SYS_kcmp)
  // kcmp may be missing (CONFIG_KCMP) or refused by a seccomp filter: -1 then.
  constexpr int kKcmpFile = 0;  // KCMP_FILE, <linux/kcmp.h>
  pid_t self = SelfPid();
  long r = syscall(SYS_kcmp, self, self, kKcmpFile, a, b);
  if (r == 0) return 1;
  if (r > 0 || errno == EBADF) return 0;
  return -1;
#else
  (void)a;
  (void)b;
  return -1;
#endif
}

// Every failure is fcntl's to callers (an fstat or a dup serves the lock call).
int Fail(luaipc_error* err, int code) { return code == 0 ? 0 : luaipc_fail(err, code, "fcntl"); }

}  // namespace

extern "C" {

int luaipc_flock_ofd(void) { return LUAIPC_FLOCK_OFD; }

int luaipc_flock_check(int fd, luaipc_flock_file* file, luaipc_error* err) {
  struct stat st;
  if (fstat(fd, &st) != 0) return Fail(err, errno);
  file->dev = static_cast<uint64_t>(st.st_dev);
  file->ino = static_cast<uint64_t>(st.st_ino);
  file->kind = KindOf(st.st_mode);
  return Fail(err, file->kind == LUAIPC_FLOCK_REGULAR ? 0 : EBADF);
}

int luaipc_flock_is(int fd, const luaipc_flock_file* file, const luaipc_flock_fd* dup) {
  if (dup != nullptr) {
    int same = SameOpenFile(fd, static_cast<int>(dup->os));
    if (same >= 0) return same;
  }
  luaipc_flock_file now{};
  return luaipc_flock_check(fd, &now, nullptr) == 0 && now.dev == file->dev && now.ino == file->ino;
}

int luaipc_flock_describe(int fd, luaipc_flock_about* about) {
  about->file.kind = LUAIPC_FLOCK_REGULAR;
  int err = luaipc_flock_check(fd, &about->file, nullptr);
  // Open but not a regular file is what there is to describe.
  if (err != 0 && !(err == EBADF && about->file.kind != LUAIPC_FLOCK_REGULAR)) return err;
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return errno;
  int mode = flags & O_ACCMODE;
  about->access = (mode == O_RDONLY || mode == O_RDWR ? LUAIPC_FLOCK_READ : 0) |
                  (mode == O_WRONLY || mode == O_RDWR ? LUAIPC_FLOCK_WRITE : 0);
  about->path[0] = '\0';
#ifdef __linux__
  char link[32];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, about->path, sizeof about->path - 1);
  // Only a path: pipes and sockets show as "pipe:[...]", a removed file ends in " (deleted)".
  static const char kDeleted[] = " (deleted)";
  size_t tail = sizeof kDeleted - 1;
  if (n <= 0 || about->path[0] != '/' ||
      (static_cast<size_t>(n) >= tail && std::memcmp(about->path + n - tail, kDeleted, tail) == 0)) {
    n = 0;
  }
  about->path[n] = '\0';
#endif
  return 0;
}

int luaipc_flock_try(luaipc_flock_fd fd, int exclusive, int64_t start, int64_t len, luaipc_error* err) {
  for (;;) {
    int e = Fcntl(static_cast<int>(fd.os), kSetLock, exclusive ? F_WRLCK : F_RDLCK, start, len);
    // POSIX allows EACCES for "held by another owner"; one code for callers.
    if (e == EACCES) return Fail(err, EAGAIN);
    if (e != EINTR) return Fail(err, e);
  }
}

int luaipc_flock_wait(luaipc_flock_fd fd, int exclusive, int64_t start, int64_t len, luaipc_error* err) {
  return Fail(err, Fcntl(static_cast<int>(fd.os), kSetLockWait, exclusive ? F_WRLCK : F_RDLCK, start, len));
}

int luaipc_flock_unlock(luaipc_flock_fd fd, int64_t start, int64_t len, luaipc_error* err) {
  for (;;) {
    int e = Fcntl(static_cast<int>(fd.os), kSetLock, F_UNLCK, start, len);
    if (e != EINTR) return Fail(err, e);
  }
}

int luaipc_flock_dup(int fd, luaipc_flock_fd* out, luaipc_error* err) {
#if LUAIPC_FLOCK_OFD
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return Fail(err, errno);
  out->os = copy;
  out->dup = 1;
  return 0;
#else
  (void)fd;
  (void)out;
  return Fail(err, ENOTSUP);
#endif
}

void luaipc_flock_close_dup(luaipc_flock_fd dup) { close(static_cast<int>(dup.os)); }

}  // extern "C"
