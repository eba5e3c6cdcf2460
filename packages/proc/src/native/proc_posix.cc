// POSIX backend of proc_os.h: posix_spawn (never fork(): the process has many threads, and
// glibc's posix_spawn is a vfork-style clone that does not copy the address space), pipes made
// close-on-exec, and on Linux a pidfd so the exit is one more readable descriptor in poll().
//
// LUAIPC_PORTABLE compiles the paths macOS and the BSDs take (no pidfd, no eventfd, no pipe2),
// and older C libraries (no posix_spawn_file_actions_addchdir_np), on Linux too.
#include "proc_os.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#if defined(__linux__) && !defined(LUAIPC_PORTABLE)
#include <sys/eventfd.h>
#include <sys/syscall.h>
#define LUAIPC_HAVE_EVENTFD 1
#define LUAIPC_HAVE_PIPE2 1
#if defined(SYS_pidfd_open)
#define LUAIPC_HAVE_PIDFD 1
#endif
#elif defined(__FreeBSD__) && !defined(LUAIPC_PORTABLE)
#define LUAIPC_HAVE_PIPE2 1
#endif

#if defined(LUAIPC_HAVE_PIPE2)
#define LUAIPC_PIPE_CALL "pipe2"
#else
#define LUAIPC_PIPE_CALL "pipe"
#endif
#if defined(LUAIPC_HAVE_EVENTFD)
#define LUAIPC_WAKE_CALL "eventfd"
#else
#define LUAIPC_WAKE_CALL LUAIPC_PIPE_CALL
#endif

extern char** environ;

// What runs a command string, and a script that has no "#!" line (execvp's _PATH_BSHELL).
constexpr const char* kShell = "/bin/sh";

struct luaipc_proc {
  pid_t pid;
  int fds[3];  // our ends: stdin's write end, stdout's and stderr's read ends
  int pidfd;
  int wake[2];  // eventfd: wake[0] == wake[1]; else a pipe
  int exited;  // the status below is known (the child may still be held unreaped)
  int reaped;
  int signaled;
  int code;
  int full[3];  // times the pipe was found full (see GrowIfBusy)
};

namespace {

void CloseFd(int* fd) {
  if (*fd >= 0) {
    // close() is not retried on EINTR: on Linux the descriptor is gone either way.
    close(*fd);
    *fd = -1;
  }
}

int SetFlag(int fd, int getCmd, int setCmd, int flag) {
  int flags = fcntl(fd, getCmd);
  if (flags < 0) return errno;
  if ((flags & flag) != 0) return 0;
  return fcntl(fd, setCmd, flags | flag) < 0 ? errno : 0;
}

int MakePipe(int fds[2]) {
#if defined(LUAIPC_HAVE_PIPE2)
  return pipe2(fds, O_CLOEXEC) == 0 ? 0 : errno;
#else
  // A spawn on another thread between pipe() and fcntl() could inherit these two; macOS and
  // the BSDs without pipe2 accept that window (libuv does the same there).
  if (pipe(fds) != 0) return errno;
  int err = SetFlag(fds[0], F_GETFD, F_SETFD, FD_CLOEXEC);
  if (err == 0) err = SetFlag(fds[1], F_GETFD, F_SETFD, FD_CLOEXEC);
  if (err != 0) {
    CloseFd(&fds[0]);
    CloseFd(&fds[1]);
  }
  return err;
#endif
}

int OpenWake(int wake[2]) {
#if defined(LUAIPC_HAVE_EVENTFD)
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return errno;
  wake[0] = wake[1] = fd;
  return 0;
#else
  int err = MakePipe(wake);
  if (err == 0) err = SetFlag(wake[0], F_GETFL, F_SETFL, O_NONBLOCK);
  if (err == 0) err = SetFlag(wake[1], F_GETFL, F_SETFL, O_NONBLOCK);
  if (err != 0) {
    CloseFd(&wake[0]);
    CloseFd(&wake[1]);
  }
  return err;
#endif
}

void CloseWake(int wake[2]) {
  if (wake[0] == wake[1]) {
    CloseFd(&wake[0]);
    wake[1] = -1;
  } else {
    CloseFd(&wake[0]);
    CloseFd(&wake[1]);
  }
}

void DrainWake(int fd) {
  char buf[64];
  while (read(fd, buf, sizeof buf) > 0) {
  }
}

int OpenPidfd(pid_t pid) {
#if defined(LUAIPC_HAVE_PIDFD)
  // Always close-on-exec. Fails with ENOSYS before Linux 5.3 (or under a seccomp filter that
  // forbids it): then the exit is found by reaping from time to time instead.
  long fd = syscall(SYS_pidfd_open, pid, 0);
  return fd < 0 ? -1 : static_cast<int>(fd);
#else
  (void)pid;
  return -1;
#endif
}

// posix_spawn_file_actions_addchdir_np: glibc 2.29, musl 1.1.24, macOS 10.15, FreeBSD 13.1.
// Looked up at run time so the addon still loads on older C libraries.
using AddChdir = int (*)(posix_spawn_file_actions_t*, const char*);
AddChdir FindAddChdir() {
#if defined(LUAIPC_PORTABLE)
  // The portable build takes the path of C libraries without it (glibc before 2.29).
  return nullptr;
#else
  static AddChdir fn = reinterpret_cast<AddChdir>(dlsym(RTLD_DEFAULT, "posix_spawn_file_actions_addchdir_np"));
  return fn;
#endif
}

bool IsExecutableFile(const std::string& path, int* err) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    *err = errno;
    return false;
  }
  if (!S_ISREG(st.st_mode) || access(path.c_str(), X_OK) != 0) {
    *err = EACCES;
    return false;
  }
  return true;
}

// execvp's search, done in the parent: the child's PATH (not the parent's) decides, as with
// child_process, and a missing program is ENOENT from spawn instead of an exit status.
int SearchPath(const char* file, const char* searchPath, std::string* found) {
  if (*file == '\0') return ENOENT;
  if (strchr(file, '/') != nullptr) {
    *found = file;
    return 0;
  }
  std::string path = searchPath != nullptr ? searchPath : "/usr/local/bin:/usr/bin:/bin";
  int result = ENOENT;
  size_t start = 0;
  for (;;) {
    size_t end = path.find(':', start);
    std::string dir = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    // An empty entry is the current directory, as for execvp.
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + file;
    int err = 0;
    if (IsExecutableFile(candidate, &err)) {
      *found = candidate;
      return 0;
    }
    // As execvp: a program found but not executable is EACCES, unless a later entry has one.
    if (err == EACCES) result = EACCES;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return result;
}

struct Cleanup {
  std::vector<int> fds;
  ~Cleanup() {
    for (int& fd : fds) CloseFd(&fd);
  }
};

// A pipe that is full again and again (a fast child, or fast input) is grown from the default
// 64 KiB to 256 KiB, so each wake-up moves four times as much (child_process gets the same from
// its socket pairs' larger buffers). Only busy pipes grow: bigger pipe buffers count against the
// user's pipe-user-pages-soft allowance.
#if defined(__linux__) && defined(F_SETPIPE_SZ)
constexpr int kFullBeforeGrow = 4;
constexpr int kGrownPipeSize = 256 * 1024;
void GrowIfBusy(luaipc_proc* p, int stream, bool full) {
  if (!full || p->full[stream] > kFullBeforeGrow) return;
  if (++p->full[stream] == kFullBeforeGrow) fcntl(p->fds[stream], F_SETPIPE_SZ, kGrownPipeSize);
}
#else
void GrowIfBusy(luaipc_proc*, int, bool) {}
#endif
// A read this large emptied a full default-sized pipe.
constexpr size_t kDefaultPipeSize = 64 * 1024;

}  // namespace

extern "C" int luaipc_proc_spawn(const luaipc_proc_options* opts, luaipc_proc** out, luaipc_error* error) {
  *out = nullptr;
  // The failed call on `subject` (the program, the directory).
  auto failOn = [error](int e, const char* call, const char* subject) {
    luaipc_fail(error, e, call);
    if (error != nullptr) error->subject = subject;
    return e;
  };
  const char* file = opts->file;
  const char* searchPath = opts->search_path;
  char* const* givenArgv = opts->argv;
  char* shellArgv[] = {const_cast<char*>(kShell), const_cast<char*>("-c"), const_cast<char*>(opts->file), nullptr};
  if ((opts->flags & LUAIPC_PROC_SHELL) != 0) {
    file = kShell;
    searchPath = nullptr;
    givenArgv = shellArgv;
  }
  std::string program;
  int err = SearchPath(file, searchPath, &program);
  if (err != 0) return failOn(err, "posix_spawn", file);
  if (opts->cwd != nullptr) {
    // Checked here because a failed chdir inside posix_spawn reads like a missing program.
    struct stat st;
    err = stat(opts->cwd, &st) != 0 ? errno : (S_ISDIR(st.st_mode) ? 0 : ENOTDIR);
    if (err != 0) return failOn(err, "chdir", opts->cwd);
  }

  auto* p = static_cast<luaipc_proc*>(calloc(1, sizeof(luaipc_proc)));
  if (p == nullptr) return luaipc_fail(error, ENOMEM, "malloc");
  p->pid = -1;
  p->fds[0] = p->fds[1] = p->fds[2] = -1;
  p->pidfd = -1;
  p->wake[0] = p->wake[1] = -1;
  // Everything in `temp` is ours to close once the child has its copies.
  Cleanup temp;
  int child[3] = {-1, -1, -1};
  auto fail = [&](int e, const char* call, const char* subject = nullptr) {
    luaipc_proc_free(p);
    return failOn(e, call, subject);
  };

  // The caller's descriptors are checked before we open any: a closed number would otherwise
  // be taken by one of ours and passed to the child.
  for (int i = 0; i < 3; ++i) {
    if (opts->stdio[i] >= 0 && fcntl(opts->stdio[i], F_GETFD) < 0) return fail(errno, "dup2");
  }
  err = OpenWake(p->wake);
  if (err != 0) return fail(err, LUAIPC_WAKE_CALL);

  for (int i = 0; i < 3; ++i) {
    int how = opts->stdio[i];
    if (how == LUAIPC_PROC_PIPE) {
      int fds[2];
      err = MakePipe(fds);
      if (err != 0) return fail(err, LUAIPC_PIPE_CALL);
      int ours = i == 0 ? fds[1] : fds[0];
      int theirs = i == 0 ? fds[0] : fds[1];
      p->fds[i] = ours;
      temp.fds.push_back(theirs);
      // Only our end is non-blocking: O_NONBLOCK belongs to the open file description, and
      // the child's end is its own description, so the child sees an ordinary blocking pipe.
      err = SetFlag(ours, F_GETFL, F_SETFL, O_NONBLOCK);
      if (err != 0) return fail(err, "fcntl");
      child[i] = theirs;
    } else if (how >= 0) {
      child[i] = how;
    } else if (fcntl(i, F_GETFD) >= 0) {
      // Inherit: Node marks its own 0, 1 and 2 close-on-exec, so they are passed on explicitly
      // (a parent with that stream closed gives a child with it closed).
      child[i] = i;
    }
  }
  // Every source must be above 2 before the dup2 actions run: an earlier action (a pipe onto 1)
  // would clobber a later source (the parent's fd 1 given as stderr), and dup2 onto the same
  // number would keep close-on-exec set (only newer C libraries clear it then).
  for (int i = 0; i < 3; ++i) {
    if (child[i] < 0 || child[i] > 2) continue;
    int high = fcntl(child[i], F_DUPFD_CLOEXEC, 3);
    if (high < 0) return fail(errno, "fcntl");
    temp.fds.push_back(high);
    child[i] = high;
  }

  posix_spawn_file_actions_t actions;
  err = posix_spawn_file_actions_init(&actions);
  if (err != 0) return fail(err, "posix_spawn");
  posix_spawnattr_t attr;
  err = posix_spawnattr_init(&attr);
  if (err != 0) {
    posix_spawn_file_actions_destroy(&actions);
    return fail(err, "posix_spawn");
  }
  struct Destroy {
    posix_spawn_file_actions_t* a;
    posix_spawnattr_t* t;
    ~Destroy() {
      posix_spawn_file_actions_destroy(a);
      posix_spawnattr_destroy(t);
    }
  } destroy{&actions, &attr};

  for (int i = 0; i < 3 && err == 0; ++i) {
    if (child[i] >= 0) err = posix_spawn_file_actions_adddup2(&actions, child[i], i);
  }
  if (err != 0) return fail(err, "posix_spawn");

  std::vector<char*> argv;
  std::string cdScript;
  std::string target;  // the program the shell execs (program itself becomes /bin/sh)
  if (opts->cwd != nullptr) {
    AddChdir addChdir = FindAddChdir();
    if (addChdir != nullptr) {
      err = addChdir(&actions, opts->cwd);
      if (err != 0) return fail(err, "posix_spawn");
    } else {
      // No addchdir in this C library: a shell changes directory and execs the program.
      cdScript = "cd -- \"$0\" && exec \"$@\"";
      argv.push_back(const_cast<char*>(kShell));
      argv.push_back(const_cast<char*>("-c"));
      argv.push_back(const_cast<char*>(cdScript.c_str()));
      argv.push_back(const_cast<char*>(opts->cwd));
      target = program;
      argv.push_back(const_cast<char*>(target.c_str()));
      if (givenArgv[0] != nullptr) {
        for (char* const* a = givenArgv + 1; *a != nullptr; ++a) argv.push_back(*a);
      }
      argv.push_back(nullptr);
      program = kShell;
    }
  }

  // The child starts with default signal dispositions and an empty mask, whatever the parent
  // (Node ignores SIGPIPE; our threads block most signals) has: as child_process does.
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
#if defined(__GLIBC__) && defined(__linux__)
  // glibc leaves out its two internal signals (32, 33) from sigfillset, and its posix_spawn then
  // sets them to SIG_IGN in the child, which exec keeps: every program we start would run with
  // them ignored (child_process children do not). sigaddset refuses them, so set their bits in
  // glibc's sigset_t layout directly; the child's posix_spawn code then makes them SIG_DFL.
  for (int sig = 32; sig <= 33 && sig < SIGRTMIN; ++sig) {
    constexpr int kBits = 8 * sizeof(unsigned long);
    reinterpret_cast<unsigned long*>(&all)[(sig - 1) / kBits] |= 1UL << ((sig - 1) % kBits);
  }
#endif
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  if ((opts->flags & LUAIPC_PROC_NEW_GROUP) != 0) {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&attr, 0);
  }
  posix_spawnattr_setflags(&attr, flags);

  pid_t pid;
  char* const* useArgv = argv.empty() ? givenArgv : argv.data();
  char* const* envp = opts->envp != nullptr ? opts->envp : environ;
  // glibc reports the child's exec failure (ENOENT, EACCES, ENOEXEC) as this return value.
  err = posix_spawn(&pid, program.c_str(), &actions, &attr, useArgv, envp);
  if (err == ENOEXEC) {
    // Found and executable, but no format the kernel runs: as execvp (and so child_process)
    // does, take it for a shell script without "#!" and run `/bin/sh file args...`.
    std::vector<char*> script;
    script.push_back(const_cast<char*>(kShell));
    script.push_back(const_cast<char*>(program.c_str()));
    if (useArgv[0] != nullptr) {
      for (char* const* a = useArgv + 1; *a != nullptr; ++a) script.push_back(*a);
    }
    script.push_back(nullptr);
    err = posix_spawn(&pid, kShell, &actions, &attr, script.data(), envp);
  }
  if (err != 0) return fail(err, "posix_spawn", file);
  p->pid = pid;
  p->pidfd = OpenPidfd(pid);
  *out = p;
  return 0;
}

extern "C" long luaipc_proc_pid(const luaipc_proc* p) { return static_cast<long>(p->pid); }

extern "C" int luaipc_proc_piped(const luaipc_proc* p, int stream) { return p->fds[stream] >= 0; }

extern "C" int luaipc_proc_exit_watchable(const luaipc_proc* p) { return p->pidfd >= 0; }

extern "C" int luaipc_proc_poll(luaipc_proc* p, unsigned want, int timeout_ms, unsigned* ready) {
  struct pollfd pf[5];
  unsigned bit[5];
  nfds_t n = 0;
  *ready = 0;
  pf[n] = {p->wake[0], POLLIN, 0};
  bit[n++] = LUAIPC_PROC_EV_WAKE;
  // A descriptor we do not want events from stays out of the set: POLLHUP and POLLERR are
  // reported even for events == 0, and a closed peer would make poll return at once, forever.
  if ((want & LUAIPC_PROC_EV_STDIN) != 0 && p->fds[0] >= 0) {
    pf[n] = {p->fds[0], POLLOUT, 0};
    bit[n++] = LUAIPC_PROC_EV_STDIN;
  }
  if ((want & LUAIPC_PROC_EV_STDOUT) != 0 && p->fds[1] >= 0) {
    pf[n] = {p->fds[1], POLLIN, 0};
    bit[n++] = LUAIPC_PROC_EV_STDOUT;
  }
  if ((want & LUAIPC_PROC_EV_STDERR) != 0 && p->fds[2] >= 0) {
    pf[n] = {p->fds[2], POLLIN, 0};
    bit[n++] = LUAIPC_PROC_EV_STDERR;
  }
  if ((want & LUAIPC_PROC_EV_EXIT) != 0 && p->pidfd >= 0 && !p->exited) {
    pf[n] = {p->pidfd, POLLIN, 0};
    bit[n++] = LUAIPC_PROC_EV_EXIT;
  }
  int rv = poll(pf, n, timeout_ms);
  if (rv < 0) return errno == EINTR ? 0 : errno;
  for (nfds_t i = 0; i < n; ++i) {
    if (pf[i].revents != 0) *ready |= bit[i];
  }
  if ((*ready & LUAIPC_PROC_EV_WAKE) != 0) DrainWake(p->wake[0]);
  return 0;
}

extern "C" int luaipc_proc_wake(luaipc_proc* p) {
  if (p->wake[1] < 0) return 0;
#if defined(LUAIPC_HAVE_EVENTFD)
  uint64_t one = 1;
  ssize_t n = write(p->wake[1], &one, sizeof one);
#else
  char one = 1;
  ssize_t n = write(p->wake[1], &one, 1);
#endif
  // EAGAIN: the counter (or pipe) is full, so a wake-up is pending anyway.
  return n >= 0 || errno == EAGAIN ? 0 : errno;
}

extern "C" int luaipc_proc_read(luaipc_proc* p, int stream, void* buf, size_t cap, size_t* got) {
  *got = 0;
  int fd = p->fds[stream];
  if (fd < 0) return EBADF;
  for (;;) {
    ssize_t n = read(fd, buf, cap);
    if (n >= 0) {
      *got = static_cast<size_t>(n);
      GrowIfBusy(p, stream, *got >= kDefaultPipeSize);
      return 0;
    }
    if (errno == EINTR) continue;
    return errno == EWOULDBLOCK ? EAGAIN : errno;
  }
}

extern "C" int luaipc_proc_write(luaipc_proc* p, const void* buf, size_t len, size_t* done) {
  *done = 0;
  int fd = p->fds[0];
  if (fd < 0) return EBADF;
  for (;;) {
    ssize_t n = write(fd, buf, len);
    if (n >= 0) {
      *done = static_cast<size_t>(n);
      GrowIfBusy(p, 0, *done < len);
      return 0;
    }
    if (errno == EINTR) continue;
    return errno == EWOULDBLOCK ? EAGAIN : errno;
  }
}

extern "C" int luaipc_proc_write_pieces(luaipc_proc* p, const void* const* bufs, const size_t* lens, int n,
                                        size_t* done) {
  *done = 0;
  int fd = p->fds[0];
  if (fd < 0) return EBADF;
  struct iovec iov[LUAIPC_PROC_MAX_PIECES];
  if (n > LUAIPC_PROC_MAX_PIECES) n = LUAIPC_PROC_MAX_PIECES;
  for (int i = 0; i < n; ++i) {
    iov[i].iov_base = const_cast<void*>(bufs[i]);
    iov[i].iov_len = lens[i];
  }
  for (;;) {
    ssize_t w = writev(fd, iov, n);
    if (w >= 0) {
      *done = static_cast<size_t>(w);
      size_t offered = 0;
      for (int i = 0; i < n; ++i) offered += lens[i];
      GrowIfBusy(p, 0, *done < offered);
      return 0;
    }
    if (errno == EINTR) continue;
    return errno == EWOULDBLOCK ? EAGAIN : errno;
  }
}

extern "C" void luaipc_proc_close_stream(luaipc_proc* p, int stream) { CloseFd(&p->fds[stream]); }

extern "C" int luaipc_proc_reap(luaipc_proc* p, int hold, int* exited, int* signaled, int* code) {
  if (!p->reaped && !(p->exited && hold)) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    int rv;
    do {
      // Only our own pid: libuv reaps its children the same way, and neither takes the other's.
      rv = waitid(P_PID, static_cast<id_t>(p->pid), &info, WEXITED | WNOHANG | (hold ? WNOWAIT : 0));
    } while (rv < 0 && errno == EINTR);
    if (rv < 0) {
      if (!p->exited) return errno;
      // Reaped by someone else after we read its status: the status stands.
      p->reaped = 1;
    } else if (info.si_pid == 0) {
      *exited = 0;
      return 0;
    } else {
      if (!p->exited) {
        p->exited = 1;
        p->signaled = info.si_code == CLD_EXITED ? 0 : 1;
        p->code = info.si_status;
      }
      if (!hold) p->reaped = 1;
    }
  }
  *exited = 1;
  *signaled = p->signaled;
  *code = p->code;
  return 0;
}

extern "C" int luaipc_proc_abandon(luaipc_proc* p) {
  for (int& fd : p->fds) CloseFd(&fd);
  luaipc_proc_release_watch(p);
  if (p->reaped) return 0;
  kill(p->pid, SIGKILL);
  int status = 0;
  pid_t rv;
  do {
    rv = waitpid(p->pid, &status, 0);
  } while (rv < 0 && errno == EINTR);
  if (rv < 0) return errno;
  p->reaped = 1;
  if (!p->exited) {
    p->exited = 1;
    p->signaled = WIFSIGNALED(status) ? 1 : 0;
    p->code = WIFSIGNALED(status) ? WTERMSIG(status) : (WIFEXITED(status) ? WEXITSTATUS(status) : 0);
  }
  return 0;
}

extern "C" int luaipc_proc_kill(luaipc_proc* p, int sig, int group, luaipc_error* error) {
  // Once reaped, the pid may belong to someone else, and so may the group id: a group's id is
  // free for reuse once its last member is gone. While the leader is unreaped (held), the id
  // is still its own, so the group is the child's or empty.
  if (p->reaped) return 0;
  int rv = kill(group ? -p->pid : p->pid, sig);
  if (rv == 0 || errno == ESRCH) return 0;
  return luaipc_fail(error, errno, "kill");
}

extern "C" void luaipc_proc_release_watch(luaipc_proc* p) {
  CloseFd(&p->pidfd);
  CloseWake(p->wake);
}

extern "C" void luaipc_proc_free(luaipc_proc* p) {
  if (p == nullptr) return;
  if (p->exited && !p->reaped) {
    // A held zombie: it has ended, so this does not wait.
    int status;
    while (waitpid(p->pid, &status, WNOHANG) < 0 && errno == EINTR) {
    }
  }
  for (int& fd : p->fds) CloseFd(&fd);
  CloseFd(&p->pidfd);
  CloseWake(p->wake);
  free(p);
}
