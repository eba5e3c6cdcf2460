// POSIX backend of mmap_os.h.
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <limits>

#include "mmap_os.h"

namespace {

int Open(const char* path, int mode, int* fd) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below); it changes
  // nothing for regular files and block devices. O_NOCTTY: a terminal never becomes ours.
  int flags = (mode == LUAIPC_MMAP_R ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  do {
    *fd = open(path, flags);
  } while (*fd < 0 && errno == EINTR);
  return *fd < 0 ? errno : 0;
}

// The length mapping may cover, or -1 when the file has no length to check against (character
// devices: /dev/zero maps any size, /dev/null none; mmap decides).
int FileLength(int fd, long long* length, const char** syscall) {
  struct stat st;
  if (fstat(fd, &st) < 0) {
    *syscall = "fstat";
    return errno;
  }
  *syscall = "mmap";
  if (S_ISREG(st.st_mode)) {
    *length = static_cast<long long>(st.st_size);
    return 0;
  }
  if (S_ISDIR(st.st_mode)) {
    *syscall = "open";  // as opening it for writing says
    return EISDIR;
  }
  if (S_ISBLK(st.st_mode)) {
    // fstat gives block devices no size; their end is where a seek to the end lands.
    off_t end = lseek(fd, 0, SEEK_END);
    if (end < 0) {
      *syscall = "lseek";
      return errno;
    }
    *length = static_cast<long long>(end);
    return 0;
  }
  if (S_ISCHR(st.st_mode)) {
    *length = -1;
    return 0;
  }
  return ENODEV;  // FIFOs, sockets: what mmap says of files it cannot map
}

}  // namespace

extern "C" size_t luaipc_mmap_pagesize(void) {
  long page = sysconf(_SC_PAGESIZE);
  return page > 0 ? static_cast<size_t>(page) : 4096;
}

extern "C" int luaipc_mmap_open(const char* path, int mode, uint64_t offset, uint64_t size,
                                uint64_t max_size, void** addr, size_t* mapped,
                                luaipc_error* error) {
  const char* call = "open";
  const char** syscall = &call;
  int fd;
  int err = Open(path, mode, &fd);
  if (err != 0) return luaipc_fail(error, err, call);

  long long length = 0;
  err = FileLength(fd, &length, syscall);
  uint64_t len = size;
  if (err == 0) {
    *syscall = "mmap";
    if (offset > static_cast<uint64_t>(std::numeric_limits<off_t>::max())) {
      err = EINVAL;
    } else if (length >= 0) {
      // Pages past the end of the file cannot be touched (SIGBUS) and would never reach it: the
      // whole range must be in the file, as LuaIPC requires.
      uint64_t end = static_cast<uint64_t>(length);
      if (offset >= end) {
        err = EINVAL;
      } else if (size == 0) {
        len = end - offset;
        if (len > max_size) err = EFBIG;
      } else if (size > end - offset) {
        err = EINVAL;
      }
    } else if (size == 0) {
      err = EINVAL;  // nothing says how much to map
    }
    if (err == 0 && len > static_cast<uint64_t>(std::numeric_limits<size_t>::max())) err = EFBIG;
  }
  if (err == 0) {
    // 'r': private copy-on-write, so that JavaScript writing into the Buffer neither reaches
    // the file nor faults. Its pages are charged to this process only when written;
    // MAP_NORESERVE keeps a large read-only view from counting against the commit limit at once.
    int flags = MAP_SHARED;
    if (mode == LUAIPC_MMAP_R) {
      flags = MAP_PRIVATE;
#if defined(MAP_NORESERVE) && defined(__linux__) && !defined(LUAIPC_PORTABLE)
      flags |= MAP_NORESERVE;
#endif
    }
    void* got = mmap(nullptr, static_cast<size_t>(len), PROT_READ | PROT_WRITE, flags, fd,
                     static_cast<off_t>(offset));
    if (got == MAP_FAILED) {
      err = errno;
    } else {
      *addr = got;
      *mapped = static_cast<size_t>(len);
    }
  }
  close(fd);
  return err == 0 ? 0 : luaipc_fail(error, err, call);
}

extern "C" int luaipc_mmap_flush(void* addr, size_t size, luaipc_error* error) {
  return msync(addr, size, MS_SYNC) < 0 ? luaipc_fail(error, errno, "msync") : 0;
}

extern "C" int luaipc_mmap_advise(void* addr, size_t size, int advice, luaipc_error* err) {
  int how = advice == LUAIPC_MMAP_PASSED ? MADV_DONTNEED : MADV_WILLNEED;
  return madvise(addr, size, how) < 0 ? luaipc_fail(err, errno, "madvise") : 0;
}
