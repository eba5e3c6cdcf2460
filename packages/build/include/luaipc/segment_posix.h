// A new shared-memory segment's first steps on POSIX, as shm and the channel create theirs (see
// docs/ARCHITECTURE.md, "Where each mechanism lives"). POSIX backends only.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>

namespace luaipc {

// For the segment just created exclusively on `fd`: its identity (*dev, *ino: only its creator
// removes the name later, and only while the name is still this object), its `size`, and the
// pages of [0, reserve) reserved now (0: none; tmpfs hands pages out lazily, and a store into a
// page it cannot provide raises SIGBUS, where reserving says ENOSPC here). Returns 0, or the
// errno with *syscall naming the call that failed.
inline int SizeNewSegment(int fd, size_t size, size_t reserve, uint64_t* dev, uint64_t* ino,
                          const char** syscall) {
  struct stat st;
  if (fstat(fd, &st) < 0) {
    *syscall = "fstat";
    return errno;
  }
  *dev = static_cast<uint64_t>(st.st_dev);
  *ino = static_cast<uint64_t>(st.st_ino);
  int rc;
  do {
    rc = ftruncate(fd, static_cast<off_t>(size));
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    *syscall = "ftruncate";
    return errno;
  }
  if (reserve == 0) return 0;
#if defined(__APPLE__)
  // No posix_fallocate on macOS: its callers reserve nothing there.
  *syscall = "posix_fallocate";
  return ENOTSUP;
#else
  int err;
  do {
    err = posix_fallocate(fd, 0, static_cast<off_t>(reserve));
  } while (err == EINTR);
  if (err != 0) *syscall = "posix_fallocate";
  return err;
#endif
}

}  // namespace luaipc
