#include "shm_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

namespace {

// glibc keeps shm objects as files in /dev/shm, so the name without its '/' is one path
// component. One byte of NAME_MAX is kept for the '/', so the limit means the same thing with
// or without it (and matches what Python's shared_memory and LuaIPC pass to shm_open).
constexpr size_t kNameMax = NAME_MAX - 1;

std::string OsName(const char* name) {
  std::string path("/");
  path += name;
  return path;
}

int MapFd(int fd, size_t size, luaipc_shm_map* out, const char** syscall) {
  void* addr = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (addr == MAP_FAILED) {
    *syscall = "mmap";
    return errno;
  }
  out->addr = addr;
  out->size = size;
  return 0;
}

}  // namespace

size_t luaipc_shm_name_max(void) { return kNameMax; }

int luaipc_shm_create(const char* name, size_t size, luaipc_shm_map* out, const char** syscall) {
  *syscall = "shm_open";
  if (strlen(name) > kNameMax) return ENAMETOOLONG;
  std::string path = OsName(name);
  int fd;
  do {
    fd = shm_open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return errno;

  int err = 0;
  int rc;
  do {
    rc = ftruncate(fd, static_cast<off_t>(size));
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    err = errno;
    *syscall = "ftruncate";
  }
  // tmpfs hands out pages lazily; when it runs out, a store into the mapping raises SIGBUS and
  // kills the process. Reserving the pages now turns that into ENOSPC here.
  if (err == 0) {
    do {
      err = posix_fallocate(fd, 0, static_cast<off_t>(size));
    } while (err == EINTR);
    if (err != 0) *syscall = "posix_fallocate";
  }
  if (err == 0) err = MapFd(fd, size, out, syscall);
  close(fd);
  if (err != 0) shm_unlink(path.c_str());
  return err;
}

int luaipc_shm_attach(const char* name, size_t max_size, luaipc_shm_map* out,
                      const char** syscall) {
  *syscall = "shm_open";
  if (strlen(name) > kNameMax) return ENAMETOOLONG;
  std::string path = OsName(name);
  int fd;
  do {
    fd = shm_open(path.c_str(), O_RDWR | O_CLOEXEC, 0);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return errno;

  struct stat st;
  if (fstat(fd, &st) < 0) {
    int err = errno;
    close(fd);
    *syscall = "fstat";
    return err;
  }
  int err;
  if (st.st_size <= 0) {
    // Nothing to map yet: the creator has not sized it (mmap would say EINVAL too).
    *syscall = "mmap";
    err = EINVAL;
  } else if (static_cast<unsigned long long>(st.st_size) > max_size) {
    *syscall = "mmap";
    err = EFBIG;
  } else {
    err = MapFd(fd, static_cast<size_t>(st.st_size), out, syscall);
  }
  close(fd);
  return err;
}

int luaipc_shm_unmap(const luaipc_shm_map* map) {
  return munmap(map->addr, map->size) < 0 ? errno : 0;
}

int luaipc_shm_retire(const luaipc_shm_map* map) {
  void* addr = mmap(map->addr, map->size, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  return addr == MAP_FAILED ? errno : 0;
}

int luaipc_shm_unlink(const char* name) {
  if (strlen(name) > kNameMax) return ENAMETOOLONG;
  return shm_unlink(OsName(name).c_str()) < 0 ? errno : 0;
}
