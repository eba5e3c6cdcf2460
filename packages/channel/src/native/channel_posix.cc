// POSIX backend of channel_os.h.
//
// Locks: open-file-description locks (F_OFD_SETLK, Linux) where the OS has them: owned by the
// descriptor, so each handle opens the lock file itself and worker threads of one process are as
// separate as processes. Elsewhere (and under LUAIPC_PORTABLE) classic POSIX record locks, which
// belong to the process and all vanish when *any* descriptor of the file is closed: there one
// descriptor per lock file serves the whole process (never closed while a lock on it is held),
// and a table of which handle holds which byte does the rest. That is also why the locks live
// on a file of their own: the segment is opened and closed freely.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "channel_os.h"
#include "luaipc/glue_os.h"
#include "luaipc/segment_posix.h"

#if defined(F_OFD_SETLK) && !defined(LUAIPC_PORTABLE)
#define LUAIPC_CHAN_OFD 1
#else
#define LUAIPC_CHAN_OFD 0
#endif

// posix_fallocate and hole punching (Linux tmpfs). Without them a page the system cannot provide
// faults at first touch, which the mapping glue turns into zeros and an error (luaipc/mapping.h).
#if defined(__linux__) && !defined(LUAIPC_PORTABLE)
#define LUAIPC_CHAN_RESERVE 1
#else
#define LUAIPC_CHAN_RESERVE 0
#endif

struct luaipc_chan_file {
  int fd;
};

namespace {

// The longest doorbell suffix: ".tx" and a slot number below 1024 (MAX_SENDERS in src/layout.ts).
constexpr size_t kSuffixMax = 7;
#if defined(__APPLE__)
// PSHMNAMLEN is 31, the leading '/' included. (Not tested on real hardware yet.)
constexpr size_t kNameMax = LUAIPC_DARWIN_IPC_NAME_MAX;
#else
// The doorbells are files named <name>.tx<k> in one directory.
constexpr size_t kNameMax = NAME_MAX - kSuffixMax;
#endif

#if defined(__linux__) && !defined(LUAIPC_PORTABLE)
constexpr int kDir = LUAIPC_CHAN_DIR_DEV_SHM;
#else
constexpr int kDir = LUAIPC_CHAN_DIR_TMP;
#endif

const char* DirPath(int dir) { return dir == LUAIPC_CHAN_DIR_DEV_SHM ? "/dev/shm" : "/tmp"; }

bool TooLong(const char* name) { return strlen(name) > kNameMax; }

std::string ShmName(const char* name) { return std::string("/") + name; }

std::string FilePath(const char* name, int dir, const char* suffix) {
  return std::string(DirPath(dir)) + "/" + name + suffix;
}

std::string BellPath(const char* name, int dir, int lane) {
  return lane < 0 ? FilePath(name, dir, ".rx") : FilePath(name, dir, (".tx" + std::to_string(lane)).c_str());
}

int Retry(int rc) { return rc < 0 ? errno : 0; }

// `code` (0: none) as the failure of `syscall` in *err.
int Fail(luaipc_error* err, int code, const char* syscall) { return code == 0 ? 0 : luaipc_fail(err, code, syscall); }

int OpenNoIntr(const char* path, int flags, mode_t mode) {
  int fd;
  do {
    fd = open(path, flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

int ShmOpen(const char* name, int flags, mode_t mode, int* fd) {
  std::string os = ShmName(name);
  do {
    *fd = shm_open(os.c_str(), flags | O_CLOEXEC, mode);
  } while (*fd < 0 && errno == EINTR);
  return *fd < 0 ? errno : 0;
}

// Removes `path` if it is what the channel makes there: a FIFO (a doorbell) or, for the lock
// file, an empty regular file. Anything else has the name by collision and is not ours.
int RemoveIfOurs(const std::string& path, bool lock_file) {
  struct stat st;
  if (lstat(path.c_str(), &st) < 0) return errno;
  bool ours = lock_file ? S_ISREG(st.st_mode) && st.st_size == 0 : S_ISFIFO(st.st_mode);
  if (!ours) return EEXIST;
  return Retry(unlink(path.c_str()));
}

// Removes the doorbells and the lock file of `name` in `dir` (whatever exists of them).
void RemoveFiles(const char* name, int dir) {
  RemoveIfOurs(FilePath(name, dir, ".lock"), true);
  RemoveIfOurs(FilePath(name, dir, ".rx"), false);
  DIR* d = opendir(DirPath(dir));
  if (d == nullptr) return;
  std::string prefix = std::string(name) + ".tx";
  std::vector<std::string> doomed;
  while (dirent* e = readdir(d)) {
    const char* n = e->d_name;
    if (strncmp(n, prefix.c_str(), prefix.size()) != 0) continue;
    const char* digits = n + prefix.size();
    size_t len = strlen(digits);
    if (len == 0 || len > 4 || strspn(digits, "0123456789") != len) continue;
    doomed.push_back(std::string(DirPath(dir)) + "/" + n);
  }
  closedir(d);
  for (const std::string& path : doomed) RemoveIfOurs(path, false);
}

}  // namespace

extern "C" {

size_t luaipc_chan_name_max(void) { return kNameMax; }

int luaipc_chan_dir(void) { return kDir; }

int luaipc_chan_create(const char* name, size_t size, size_t reserve, luaipc_chan_file** file, void** addr,
                       luaipc_chan_id* id, luaipc_error* error) {
  const char* call = "shm_open";
  const char** syscall = &call;
  if (TooLong(name)) return luaipc_fail(error, ENAMETOOLONG, call);
  auto* f = new (std::nothrow) luaipc_chan_file{-1};
  if (f == nullptr) return luaipc_fail(error, ENOMEM, call);
  int err = ShmOpen(name, O_RDWR | O_CREAT | O_EXCL, 0600, &f->fd);
  if (err != 0) {
    delete f;
    return luaipc_fail(error, err, call);
  }
  err = luaipc::SizeNewSegment(f->fd, size, LUAIPC_CHAN_RESERVE ? reserve : 0, &id->dev, &id->ino,
                               syscall);
  void* mapped = MAP_FAILED;
  if (err == 0) {
    mapped = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, 0);
    if (mapped == MAP_FAILED) {
      err = errno;
      *syscall = "mmap";
    }
  }
  if (err == 0) {
    // The lock file, exclusively: one that exists is someone else's (one left by a receiver
    // that was killed goes with unlink(name), as its segment does).
    std::string lock = FilePath(name, kDir, ".lock");
    int fd = OpenNoIntr(lock.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
      err = errno;
      *syscall = "open";
    } else {
      close(fd);
      // The receiver's doorbell, exclusively too: one that exists is not ours, so a failure
      // here leaves it where it is (luaipc_bell_listen then opens the one made here).
      std::string bell = BellPath(name, kDir, -1);
      if (mkfifo(bell.c_str(), 0600) < 0) {
        err = errno;
        *syscall = "mkfifo";
        unlink(lock.c_str());
      }
    }
  }
  if (err != 0) {
    if (mapped != MAP_FAILED) munmap(mapped, size);
    close(f->fd);
    delete f;
    shm_unlink(ShmName(name).c_str());
    return luaipc_fail(error, err, call);
  }
  *file = f;
  *addr = mapped;
  return 0;
}

int luaipc_chan_open(const char* name, size_t min_size, size_t max_size, luaipc_chan_file** file, void** addr,
                     size_t* size, luaipc_error* error) {
  const char* call = "shm_open";
  const char** syscall = &call;
  if (TooLong(name)) return luaipc_fail(error, ENAMETOOLONG, call);
  auto* f = new (std::nothrow) luaipc_chan_file{-1};
  if (f == nullptr) return luaipc_fail(error, ENOMEM, call);
  int err = ShmOpen(name, O_RDWR, 0, &f->fd);
  if (err != 0) {
    delete f;
    return luaipc_fail(error, err, call);
  }
  struct stat st;
  if (fstat(f->fd, &st) < 0) {
    err = errno;
    *syscall = "fstat";
  } else if (st.st_size < 0 || static_cast<unsigned long long>(st.st_size) < min_size) {
    err = EPROTO;
    *syscall = "mmap";
  } else if (static_cast<unsigned long long>(st.st_size) > max_size) {
    err = EFBIG;
    *syscall = "mmap";
  } else {
    *size = static_cast<size_t>(st.st_size);
    void* mapped = mmap(nullptr, *size, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, 0);
    if (mapped == MAP_FAILED) {
      err = errno;
      *syscall = "mmap";
    } else {
      *addr = mapped;
    }
  }
  if (err != 0) {
    close(f->fd);
    delete f;
    return luaipc_fail(error, err, call);
  }
  *file = f;
  return 0;
}

void luaipc_chan_file_close(luaipc_chan_file* file) {
  if (file == nullptr) return;
  close(file->fd);
  delete file;
}

int luaipc_chan_unmap(void* addr, size_t size) { return munmap(addr, size) < 0 ? errno : 0; }

int luaipc_chan_reserve(luaipc_chan_file* file, uint64_t offset, uint64_t len, luaipc_error* err) {
#if LUAIPC_CHAN_RESERVE
  int e;
  do {
    e = posix_fallocate(file->fd, static_cast<off_t>(offset), static_cast<off_t>(len));
  } while (e == EINTR);
  return Fail(err, e, "posix_fallocate");
#else
  (void)file;
  (void)offset;
  (void)len;
  (void)err;
  return 0;
#endif
}

int luaipc_chan_discard(luaipc_chan_file* file, uint64_t offset, uint64_t len, luaipc_error* err) {
#if LUAIPC_CHAN_RESERVE
  return Fail(err,
              Retry(fallocate(file->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                              static_cast<off_t>(len))),
              "fallocate");
#else
  (void)file;
  (void)offset;
  (void)len;
  (void)err;
  return 0;
#endif
}

int luaipc_chan_unlink(const char* name, luaipc_error* error) {
  if (TooLong(name)) return luaipc_fail(error, ENAMETOOLONG, "shm_unlink");
  int err = Retry(shm_unlink(ShmName(name).c_str()));
  RemoveFiles(name, LUAIPC_CHAN_DIR_DEV_SHM);
  RemoveFiles(name, LUAIPC_CHAN_DIR_TMP);
  return err == 0 ? 0 : luaipc_fail(error, err, "shm_unlink");
}

int luaipc_chan_unlink_if_same(const char* name, const luaipc_chan_id* id) {
  if (TooLong(name)) return ENAMETOOLONG;
  struct stat st;
  int err = 0;
#if defined(__linux__) && !defined(LUAIPC_PORTABLE)
  // glibc and musl keep the objects as files in /dev/shm: stat() needs no descriptor, so a
  // process that ran out of them still removes its names.
  if (stat(("/dev/shm/" + std::string(name)).c_str(), &st) < 0) err = errno;
#else
  int fd;
  err = ShmOpen(name, O_RDONLY, 0, &fd);
  if (err == 0) {
    if (fstat(fd, &st) < 0) err = errno;
    close(fd);
  }
#endif
  if (err != 0) return err == ENOENT ? 0 : err;
  if (static_cast<uint64_t>(st.st_dev) != id->dev || static_cast<uint64_t>(st.st_ino) != id->ino) return 0;
  shm_unlink(ShmName(name).c_str());
  RemoveFiles(name, kDir);
  return 0;
}

}  // extern "C"

// ---- locks ----

namespace {

int SetLock(int fd, int cmd, short type, uint32_t at) {
  struct flock fl;
  std::memset(&fl, 0, sizeof fl);  // OFD locks require l_pid == 0
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(at);
  fl.l_len = 1;
  for (;;) {
    if (fcntl(fd, cmd, &fl) == 0) return 0;
    int err = errno;
    if (err == EINTR) continue;
    // POSIX allows EACCES for "held by someone else"; one code for callers.
    return err == EACCES ? EAGAIN : err;
  }
}

// Whether someone other than the caller's descriptor (OFD) or process (classic) holds `at`.
int Probe(int fd, int cmd, uint32_t at, int* held) {
  struct flock fl;
  std::memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(at);
  fl.l_len = 1;
  if (fcntl(fd, cmd, &fl) < 0) return errno;
  *held = fl.l_type != F_UNLCK;
  return 0;
}

#if !LUAIPC_CHAN_OFD
// One per lock file this process has open (classic locks): the descriptor every handle locks
// through, and which bytes some handle of ours holds.
struct SharedLockFile {
  int fd;
  uint64_t dev;
  uint64_t ino;
  int refs;
  std::set<uint32_t> held;
  // Descriptors of the same file opened in a race (the path replaced between stat and open):
  // closing one would drop the process's locks, so they live as long as the entry.
  std::vector<int> parked;
};

std::mutex g_locks_mu;
std::map<std::pair<uint64_t, uint64_t>, SharedLockFile*>* g_lock_files = nullptr;
#endif

}  // namespace

struct luaipc_chan_locks {
#if LUAIPC_CHAN_OFD
  int fd;
#else
  SharedLockFile* shared;
  std::set<uint32_t> mine;
#endif
};

namespace {

// luaipc_chan_locks_open's work: 0 or the errno of whichever call failed (stat, open, fstat).
int OpenLocks(const char* name, int dir, luaipc_chan_locks** out) {
  if (TooLong(name)) return ENAMETOOLONG;
  std::string path = FilePath(name, dir, ".lock");
#if LUAIPC_CHAN_OFD
  int fd = OpenNoIntr(path.c_str(), O_RDWR, 0);
  if (fd < 0) return errno;
  auto* locks = new (std::nothrow) luaipc_chan_locks{fd};
  if (locks == nullptr) {
    close(fd);
    return ENOMEM;
  }
  *out = locks;
  return 0;
#else
  try {
    std::lock_guard<std::mutex> guard(g_locks_mu);
    if (g_lock_files == nullptr) g_lock_files = new std::map<std::pair<uint64_t, uint64_t>, SharedLockFile*>();
    struct stat st;
    if (stat(path.c_str(), &st) < 0) return errno;
    auto key = std::make_pair(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino));
    auto it = g_lock_files->find(key);
    SharedLockFile* shared = nullptr;
    if (it != g_lock_files->end()) {
      shared = it->second;
    } else {
      int fd = OpenNoIntr(path.c_str(), O_RDWR, 0);
      if (fd < 0) return errno;
      if (fstat(fd, &st) < 0) {
        int err = errno;
        close(fd);
        return err;
      }
      key = std::make_pair(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino));
      it = g_lock_files->find(key);
      if (it != g_lock_files->end()) {
        shared = it->second;
        shared->parked.push_back(fd);
      } else {
        shared = new SharedLockFile{fd, key.first, key.second, 0, {}, {}};
        g_lock_files->emplace(key, shared);
      }
    }
    auto* locks = new luaipc_chan_locks{shared, {}};
    ++shared->refs;
    *out = locks;
    return 0;
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
#endif
}

// luaipc_chan_trylock's work: 0, EAGAIN (another holder) or the errno.
int TryLock(luaipc_chan_locks* locks, uint32_t at) {
#if LUAIPC_CHAN_OFD
  return SetLock(locks->fd, F_OFD_SETLK, F_WRLCK, at);
#else
  try {
    std::lock_guard<std::mutex> guard(g_locks_mu);
    SharedLockFile* shared = locks->shared;
    if (shared->held.count(at) != 0) return locks->mine.count(at) != 0 ? 0 : EAGAIN;
    int err = SetLock(shared->fd, F_SETLK, F_WRLCK, at);
    if (err != 0) return err;
    shared->held.insert(at);
    locks->mine.insert(at);
    return 0;
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
#endif
}

}  // namespace

extern "C" {

int luaipc_chan_locks_open(const char* name, int dir, luaipc_chan_locks** out, luaipc_error* err) {
  return Fail(err, OpenLocks(name, dir, out), "open");
}

void luaipc_chan_locks_close(luaipc_chan_locks* locks) {
  if (locks == nullptr) return;
#if LUAIPC_CHAN_OFD
  close(locks->fd);
#else
  std::lock_guard<std::mutex> guard(g_locks_mu);
  SharedLockFile* shared = locks->shared;
  for (uint32_t at : locks->mine) {
    SetLock(shared->fd, F_SETLK, F_UNLCK, at);
    shared->held.erase(at);
  }
  if (--shared->refs == 0) {
    g_lock_files->erase(std::make_pair(shared->dev, shared->ino));
    close(shared->fd);
    for (int fd : shared->parked) close(fd);
    delete shared;
  }
#endif
  delete locks;
}

int luaipc_chan_trylock(luaipc_chan_locks* locks, uint32_t at, luaipc_error* err) {
  return Fail(err, TryLock(locks, at), "fcntl");
}

int luaipc_chan_unlock(luaipc_chan_locks* locks, uint32_t at, luaipc_error* err) {
#if LUAIPC_CHAN_OFD
  return Fail(err, SetLock(locks->fd, F_OFD_SETLK, F_UNLCK, at), "fcntl");
#else
  std::lock_guard<std::mutex> guard(g_locks_mu);
  if (locks->mine.erase(at) == 0) return 0;
  locks->shared->held.erase(at);
  return Fail(err, SetLock(locks->shared->fd, F_SETLK, F_UNLCK, at), "fcntl");
#endif
}

int luaipc_chan_held(luaipc_chan_locks* locks, uint32_t at, int* held, luaipc_error* err) {
  *held = 0;
#if LUAIPC_CHAN_OFD
  return Fail(err, Probe(locks->fd, F_OFD_GETLK, at, held), "fcntl");
#else
  std::lock_guard<std::mutex> guard(g_locks_mu);
  if (locks->shared->held.count(at) != 0) {
    *held = locks->mine.count(at) == 0;
    return 0;
  }
  // Not ours: F_GETLK sees the other processes' locks (never this process's own).
  return Fail(err, Probe(locks->shared->fd, F_GETLK, at, held), "fcntl");
#endif
}

}  // extern "C"

// ---- doorbells: FIFOs ----

struct luaipc_bell {
  int fd;
};

namespace {

// Takes `fd` (just opened on a doorbell's path) as a doorbell if it is a FIFO; closes it either
// way on failure, which is `not_fifo` when something else has the name.
int WrapBell(int fd, int not_fifo, luaipc_bell** out) {
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
    close(fd);
    return not_fifo;
  }
  auto* bell = new (std::nothrow) luaipc_bell{fd};
  if (bell == nullptr) {
    close(fd);
    return ENOMEM;
  }
  *out = bell;
  return 0;
}

}  // namespace

extern "C" {

// Failures of making and opening a doorbell are the binding's "mkfifo" and "open" as callers know
// them, whichever call met them.
int luaipc_bell_listen(const char* name, int dir, int lane, int fresh, luaipc_bell** out, luaipc_error* err) {
  if (TooLong(name)) return luaipc_fail(err, ENAMETOOLONG, "mkfifo");
  std::string path = BellPath(name, dir, lane);
  // The receiver's doorbell (`fresh`) was made by luaipc_chan_create, exclusively.
  if (!fresh && mkfifo(path.c_str(), 0600) < 0 && errno != EEXIST) return luaipc_fail(err, errno, "mkfifo");
  // O_RDWR: the FIFO always has a writer (us), so it never reports end-of-file, and peers can
  // open it for writing without blocking.
  int fd = OpenNoIntr(path.c_str(), O_RDWR | O_NONBLOCK, 0);
  if (fd < 0) return luaipc_fail(err, errno, "mkfifo");
  // EEXIST: the name is taken by something else
  return Fail(err, WrapBell(fd, EEXIST, out), "mkfifo");
}

int luaipc_bell_connect(const char* name, int dir, int lane, luaipc_bell** out, luaipc_error* err) {
  if (TooLong(name)) return luaipc_fail(err, ENAMETOOLONG, "open");
  std::string path = BellPath(name, dir, lane);
  int fd = OpenNoIntr(path.c_str(), O_WRONLY | O_NONBLOCK, 0);
  if (fd < 0) {
    // No such doorbell (ENOENT), or nobody has it open for reading (ENXIO).
    return luaipc_fail(err, errno == ENOENT || errno == ENXIO ? ECONNREFUSED : errno, "open");
  }
  return Fail(err, WrapBell(fd, ECONNREFUSED, out), "open");
}

void luaipc_bell_close(luaipc_bell* bell) {
  if (bell == nullptr) return;
  close(bell->fd);
  delete bell;
}

int luaipc_bell_ring(luaipc_bell* bell, luaipc_error* err) {
  static const char byte = 1;
  for (;;) {
    if (write(bell->fd, &byte, 1) == 1) return 0;
    int e = errno;
    if (e == EINTR) continue;
    // EAGAIN: the FIFO is full of rings nobody took yet; one more would change nothing.
    return e == EAGAIN ? 0 : luaipc_fail(err, e, "write");
  }
}

int luaipc_bell_drain(luaipc_bell* bell, luaipc_error* err) {
  char sink[256];
  for (;;) {
    ssize_t n = read(bell->fd, sink, sizeof sink);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno != EAGAIN ? luaipc_fail(err, errno, "read") : 0;
  }
}

// Every failure is "poll" to callers, the drain's included.
int luaipc_bell_wait(luaipc_bell* bell, int64_t until, luaipc_error* err) {
  int timeout = -1;
  if (until >= 0) {
    int64_t left = until - luaipc_now_ns();
    if (left <= 0) return luaipc_fail(err, ETIMEDOUT, "poll");
    // Rounded up: waking a little late is fine, spinning on a zero timeout is not.
    int64_t ms = (left + 999999) / 1000000;
    timeout = ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
  }
  struct pollfd p;
  p.fd = bell->fd;
  p.events = POLLIN;
  p.revents = 0;
  int n = poll(&p, 1, timeout);
  if (n < 0) return luaipc_fail(err, errno, "poll");
  if (n == 0) return luaipc_fail(err, ETIMEDOUT, "poll");
  return Fail(err, luaipc_bell_drain(bell, nullptr), "poll");
}

int luaipc_bell_pollable(luaipc_bell* bell, int* fd, luaipc_error* err) {
  int copy = fcntl(bell->fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return luaipc_fail(err, errno, "fcntl");
  *fd = copy;
  return 0;
}

int luaipc_bell_remove(const char* name, int dir, int lane, luaipc_error* err) {
  if (TooLong(name)) return luaipc_fail(err, ENAMETOOLONG, "unlink");
  return Fail(err, RemoveIfOurs(BellPath(name, dir, lane), false), "unlink");
}

}  // extern "C"
