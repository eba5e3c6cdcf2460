// Built into the Linux prebuilds only (luaipc_add_addon with LUAIPC_COMPAT_GLIBC): local
// definitions of the few glibc and libstdc++ symbols that have no version older than what the
// prebuilds promise (GLIBC_2.28, GLIBCXX_3.4.25: RHEL 8, the oldest system Node 20 runs on).
// Every other symbol is bound to its oldest version by the .symver header scripts/prebuild.mjs
// generates. All of these are hidden: they bind inside the addon and are exported to no one.
#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

#include <new>

// libstdc++ (GCC 11+) skips atomic reference counts when this glibc 2.32 variable says the
// process is single-threaded. Zero means "threads may exist": always atomic, always correct.
extern "C" {
char __libc_single_threaded = 0;

// GCC 12's std::condition_variable waits on the steady clock with glibc 2.30's
// pthread_cond_clockwait. Its condition variables use the default (realtime) clock, so the
// deadline is translated; a wall-clock jump during such a wait can shorten or stretch it, as it
// did before glibc 2.30.
int pthread_cond_clockwait(pthread_cond_t* cond, pthread_mutex_t* mutex, clockid_t clock,
                           const struct timespec* abstime) {
  if (clock == CLOCK_REALTIME) return pthread_cond_timedwait(cond, mutex, abstime);
  struct timespec now, real;
  clock_gettime(clock, &now);
  clock_gettime(CLOCK_REALTIME, &real);
  long long left = (abstime->tv_sec - now.tv_sec) * 1000000000LL + (abstime->tv_nsec - now.tv_nsec);
  if (left < 0) left = 0;
  long long ns = real.tv_nsec + left % 1000000000LL;
  struct timespec target;
  target.tv_sec = real.tv_sec + left / 1000000000LL + ns / 1000000000LL;
  target.tv_nsec = ns % 1000000000LL;
  return pthread_cond_timedwait(cond, mutex, &target);
}

// stat, lstat and fstat are functions in glibc 2.33+; before, the headers inlined them as calls to
// __xstat/__fxstat, which newer glibc still exports under their old versions.
#if defined(__x86_64__)
#define LUAIPC_STAT_VER 1
__asm__(".symver __xstat,__xstat@GLIBC_2.2.5");
__asm__(".symver __lxstat,__lxstat@GLIBC_2.2.5");
__asm__(".symver __fxstat,__fxstat@GLIBC_2.2.5");
#elif defined(__aarch64__)
#define LUAIPC_STAT_VER 0
__asm__(".symver __xstat,__xstat@GLIBC_2.17");
__asm__(".symver __lxstat,__lxstat@GLIBC_2.17");
__asm__(".symver __fxstat,__fxstat@GLIBC_2.17");
#endif
int __xstat(int ver, const char* path, struct stat* buf);
int __lxstat(int ver, const char* path, struct stat* buf);
int __fxstat(int ver, int fd, struct stat* buf);
int stat(const char* path, struct stat* buf) { return __xstat(LUAIPC_STAT_VER, path, buf); }
int lstat(const char* path, struct stat* buf) { return __lxstat(LUAIPC_STAT_VER, path, buf); }
int fstat(int fd, struct stat* buf) { return __fxstat(LUAIPC_STAT_VER, fd, buf); }
}

// Thrown by GCC 11+'s inline array allocations; libstdc++ exports it from GLIBCXX_3.4.29 on.
namespace std {
[[noreturn]] void __throw_bad_array_new_length() { throw std::bad_array_new_length(); }
}  // namespace std
