// The OS side of @luaipc/filelock: a tiny C API over byte-range locks on an open file,
// returning 0 or an OS error code and filling the luaipc_error record (glue_os.h) it is given
// (it may be NULL), whose call is "fcntl" on every OS (the README's error table). No N-API and
// no policy (timeouts, slicing and cancellation live in binding.cc). filelock_posix.cc
// implements it with fcntl: open-file-description locks (F_OFD_SETLK, Linux) where the OS has
// them, classic per-process POSIX locks (F_SETLK) elsewhere or when built with LUAIPC_PORTABLE.
#ifndef LUAIPC_FILELOCK_OS_H
#define LUAIPC_FILELOCK_OS_H

#include <stdint.h>

#include "luaipc/glue_os.h"

#ifdef __cplusplus
extern "C" {
#endif

// 1 when locks belong to the open file description (they exclude between threads of one
// process, and closing another descriptor of the file keeps them), 0 when they belong to the
// process (classic POSIX record locks).
int luaipc_flock_ofd(void);

// What a descriptor is open on; only regular files can be locked.
enum {
  LUAIPC_FLOCK_REGULAR = 0,
  LUAIPC_FLOCK_DIRECTORY = 1,
  LUAIPC_FLOCK_FIFO = 2,
  LUAIPC_FLOCK_SOCKET = 3,
  LUAIPC_FLOCK_PIPE_OR_SOCKET = 4,  // Windows can't tell them apart
  LUAIPC_FLOCK_CHAR_DEVICE = 5,
  LUAIPC_FLOCK_BLOCK_DEVICE = 6,
  LUAIPC_FLOCK_OTHER = 7
};

// What a lock call goes through: the user's descriptor (luaipc_flock_user), or a duplicate of
// ours from luaipc_flock_dup, which on Windows is a HANDLE, not a descriptor number: the two
// travel as this type, never as one int.
typedef struct luaipc_flock_fd {
  intptr_t os;  // the descriptor, or the duplicate's handle (POSIX: a descriptor too)
  int dup;      // 1 for a duplicate of ours
} luaipc_flock_fd;

static inline luaipc_flock_fd luaipc_flock_user(int fd) {
  luaipc_flock_fd f;
  f.os = fd;
  f.dup = 0;
  return f;
}

// Which file `fd` is. EBADF when it is not an open descriptor, or (with `kind` set) not one of a
// regular file (an EBADF with no OS code then).
typedef struct luaipc_flock_file {
  uint64_t dev;
  uint64_t ino;
  int kind;
} luaipc_flock_file;
int luaipc_flock_check(int fd, luaipc_flock_file* file, luaipc_error* err);

// Whether `fd` is still an open descriptor of `file` (from luaipc_flock_check), and, when `dup`
// is given (a luaipc_flock_dup of the descriptor `file` came from), still of the same open file
// as *dup where the OS can tell (Linux: kcmp; Windows: CompareObjectHandles); elsewhere, of the
// same file. 1 or 0. A wait asks this to notice that its user closed the descriptor.
int luaipc_flock_is(int fd, const luaipc_flock_file* file, const luaipc_flock_fd* dup);

// For the message of an EBADF: how `fd` is open (LUAIPC_FLOCK_READ | LUAIPC_FLOCK_WRITE, or -1
// where the OS would not refuse a lock for it) and its path where the OS can tell (else "").
// 0, or the error of looking (EBADF: not open), which nobody reports: it only builds a message.
#define LUAIPC_FLOCK_READ 1
#define LUAIPC_FLOCK_WRITE 2
#define LUAIPC_FLOCK_PATH_MAX 4096
typedef struct luaipc_flock_about {
  luaipc_flock_file file;
  int access;
  char path[LUAIPC_FLOCK_PATH_MAX];
} luaipc_flock_about;
int luaipc_flock_describe(int fd, luaipc_flock_about* about);

// The range is [start, start + len), len 0 meaning "to the end of the file and beyond".
// exclusive: 1 = write lock, 0 = read (shared) lock; locking a range this owner already holds in
// the other mode converts it.
// Non-blocking: 0 when locked, EAGAIN when a lock of another owner conflicts.
int luaipc_flock_try(luaipc_flock_fd fd, int exclusive, int64_t start, int64_t len, luaipc_error* err);
// Blocking: 0 when locked, EINTR when a signal interrupted the wait, EDEADLK when the kernel
// sees that waiting would deadlock (classic locks only).
int luaipc_flock_wait(luaipc_flock_fd fd, int exclusive, int64_t start, int64_t len, luaipc_error* err);
int luaipc_flock_unlock(luaipc_flock_fd fd, int64_t start, int64_t len, luaipc_error* err);

// A second descriptor of the same open file description, owning the same locks, for a wait that
// must not be redirected to another file when `fd` is closed and its number reused, and that can
// still give back what it took once `fd` is closed. Only with open-file-description locks: with
// classic locks, closing it would drop every lock the process holds on the file (ENOTSUP then).
int luaipc_flock_dup(int fd, luaipc_flock_fd* out, luaipc_error* err);
void luaipc_flock_close_dup(luaipc_flock_fd dup);

#ifdef __cplusplus
}
#endif

#endif
