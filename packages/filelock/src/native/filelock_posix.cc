// POSIX backend of filelock_os.h. Linux has open-file-description locks (F_OFD_SETLK, 3.15+):
// owned by the open file description, so they exclude between worker threads of one process
// and survive the close of some other descriptor of the file, while still conflicting with
// classic POSIX locks of other processes (Python's fcntl.lockf, LuaIPC). macOS and the BSDs
// lack them; LUAIPC_PORTABLE compiles that fallback (classic F_SETLK, owned by the process) on
// Linux too.
#include "filelock_os.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

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

}  // namespace

extern "C" {

int luaipc_flock_ofd(void) { return LUAIPC_FLOCK_OFD; }

int luaipc_flock_check(int fd, luaipc_flock_file* file) {
  struct stat st;
  if (fstat(fd, &st) != 0) return errno;
  if (!S_ISREG(st.st_mode)) return EBADF;
  file->dev = static_cast<uint64_t>(st.st_dev);
  file->ino = static_cast<uint64_t>(st.st_ino);
  return 0;
}

int luaipc_flock_try(int fd, int exclusive, int64_t start, int64_t len) {
  for (;;) {
    int err = Fcntl(fd, kSetLock, exclusive ? F_WRLCK : F_RDLCK, start, len);
    // POSIX allows EACCES for "held by another owner"; one code for callers.
    if (err == EACCES) return EAGAIN;
    if (err != EINTR) return err;
  }
}

int luaipc_flock_wait(int fd, int exclusive, int64_t start, int64_t len) {
  return Fcntl(fd, kSetLockWait, exclusive ? F_WRLCK : F_RDLCK, start, len);
}

int luaipc_flock_unlock(int fd, int64_t start, int64_t len) {
  for (;;) {
    int err = Fcntl(fd, kSetLock, F_UNLCK, start, len);
    if (err != EINTR) return err;
  }
}

int luaipc_flock_dup(int fd, int* out) {
#if LUAIPC_FLOCK_OFD
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return errno;
  *out = copy;
  return 0;
#else
  (void)fd;
  (void)out;
  return ENOTSUP;
#endif
}

void luaipc_flock_close_dup(int fd) { close(fd); }

}  // extern "C"
