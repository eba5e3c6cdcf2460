// POSIX backend of shm_os.h.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mutex>
#include <string>

#include "luaipc/glue_os.h"
#include "luaipc/segment_posix.h"
#include "shm_os.h"

namespace {

#if defined(__APPLE__)
// macOS: PSHMNAMLEN is 31, the leading '/' included. (Not tested on real hardware yet.)
constexpr size_t kNameMax = LUAIPC_DARWIN_IPC_NAME_MAX;
#else
// glibc keeps shm objects as files in /dev/shm, so the name without its '/' is one path
// component. One byte of NAME_MAX is kept for the '/', so the limit means the same thing with
// or without it (and matches what Python's shared_memory and LuaIPC pass to shm_open).
constexpr size_t kNameMax = NAME_MAX - 1;
#endif

// posix_fallocate reserves a segment's pages at create (Linux tmpfs). macOS has none, and the
// portable build runs without it: there a page the system cannot provide faults at first
// touch, which the mapping glue turns into zeros and IpcError ENXIO, like a shrunk segment.
#if !defined(__APPLE__) && !defined(LUAIPC_PORTABLE)
#define LUAIPC_SHM_RESERVE 1
#endif

// A descriptor kept in reserve for the identity check where shm objects are not files we can
// stat (macOS, the portable build): a process that ran out of descriptors gives it up for the
// one shm_open that lets a creator remove its name, then takes it back.
std::mutex g_spare_mu;
int g_spare = -1;

void TakeSpare() {
  if (g_spare < 0) g_spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

std::string OsName(const char* name) {
  std::string path("/");
  path += name;
  return path;
}

int Open(const char* name, int flags, mode_t mode, int* fd) {
  if (strlen(name) > kNameMax) return ENAMETOOLONG;
  std::string path = OsName(name);
  do {
    *fd = shm_open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (*fd < 0 && errno == EINTR);
  return *fd < 0 ? errno : 0;
}

int MapFd(int fd, size_t size, void** addr, const char** syscall) {
  void* got = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (got == MAP_FAILED) {
    *syscall = "mmap";
    return errno;
  }
  *addr = got;
  return 0;
}

}  // namespace

extern "C" size_t luaipc_shm_name_max(void) { return kNameMax; }

extern "C" int luaipc_shm_create(const char* name, size_t size, void** addr, luaipc_shm_id* id,
                                 luaipc_error* error) {
  const char* call = "shm_open";
  const char** syscall = &call;
  {
    // A creator will need its identity check; hold the spare descriptor from now on.
    std::lock_guard<std::mutex> lock(g_spare_mu);
    TakeSpare();
  }
  int fd;
  int err = Open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &fd);
  if (err != 0) return luaipc_fail(error, err, call);

#if defined(LUAIPC_SHM_RESERVE)
  const size_t reserve = size;
#else
  const size_t reserve = 0;
#endif
  err = luaipc::SizeNewSegment(fd, size, reserve, &id->dev, &id->ino, syscall);
  if (err == 0) err = MapFd(fd, size, addr, syscall);
  close(fd);
  if (err != 0) shm_unlink(OsName(name).c_str());
  return err == 0 ? 0 : luaipc_fail(error, err, call);
}

extern "C" int luaipc_shm_attach(const char* name, size_t max_size, void** addr, size_t* size,
                                 luaipc_error* error) {
  const char* call = "shm_open";
  const char** syscall = &call;
  int fd;
  int err = Open(name, O_RDWR, 0, &fd);
  if (err != 0) return luaipc_fail(error, err, call);

  struct stat st;
  if (fstat(fd, &st) < 0) {
    err = errno;
    *syscall = "fstat";
  } else if (st.st_size <= 0) {
    // Nothing to map yet: the creator has not sized it (mmap would say EINVAL too).
    *syscall = "mmap";
    err = EINVAL;
  } else if (static_cast<unsigned long long>(st.st_size) > max_size) {
    *syscall = "mmap";
    err = EFBIG;
  } else {
    *size = static_cast<size_t>(st.st_size);
    err = MapFd(fd, *size, addr, syscall);
  }
  close(fd);
  return err == 0 ? 0 : luaipc_fail(error, err, call);
}

extern "C" int luaipc_shm_unmap(void* addr, size_t size) {
  return munmap(addr, size) < 0 ? errno : 0;
}

extern "C" int luaipc_shm_unlink(const char* name, luaipc_error* err) {
  if (strlen(name) > kNameMax) return luaipc_fail(err, ENAMETOOLONG, "shm_unlink");
  return shm_unlink(OsName(name).c_str()) < 0 ? luaipc_fail(err, errno, "shm_unlink") : 0;
}

extern "C" int luaipc_shm_same_object(const char* name, const luaipc_shm_id* id, int* same) {
  *same = 0;
  if (strlen(name) > kNameMax) return ENAMETOOLONG;
  struct stat st;
#if defined(__linux__) && !defined(LUAIPC_PORTABLE)
  // glibc and musl keep the objects as files in /dev/shm. stat() needs no descriptor, so a
  // process that ran out of them still removes its names.
  std::string path = "/dev/shm/";
  path += name;
  if (stat(path.c_str(), &st) == 0) {
    *same = static_cast<uint64_t>(st.st_dev) == id->dev && static_cast<uint64_t>(st.st_ino) == id->ino;
    return 0;
  }
  // Not there (or not where this system keeps them): ask shm_open.
#endif
  int fd;
  int err = Open(name, O_RDONLY, 0, &fd);
  std::unique_lock<std::mutex> spare(g_spare_mu, std::defer_lock);
  if (err == EMFILE) {
    // Out of descriptors: give up the spare for this one check, and take it back after.
    spare.lock();
    if (g_spare >= 0) {
      close(g_spare);
      g_spare = -1;
      err = Open(name, O_RDONLY, 0, &fd);
    }
  }
  if (err == 0) {
    if (fstat(fd, &st) < 0) {
      err = errno;
    } else {
      *same = static_cast<uint64_t>(st.st_dev) == id->dev && static_cast<uint64_t>(st.st_ino) == id->ino;
    }
    close(fd);
  }
  if (spare.owns_lock()) TakeSpare();
  return err == ENOENT ? 0 : err;
}

extern "C" int luaipc_shm_unlink_if_same(const char* name, const luaipc_shm_id* id) {
  int same = 0;
  int err = luaipc_shm_same_object(name, id, &same);
  if (err != 0) return err;
  return same ? luaipc_shm_unlink(name, nullptr) : 0;
}
