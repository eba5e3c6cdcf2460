// POSIX backend of glue_os.h.
#include "luaipc/glue_os.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include <cstring>
#include <mutex>
#include <new>

namespace {

static_assert(sizeof(pthread_t) <= sizeof(luaipc_thread_id), "pthread_t must fit a luaipc_thread_id");

struct Start {
  void (*fn)(void*);
  void* arg;
  char name[16];
};

void* Trampoline(void* p) {
  Start start = *static_cast<Start*>(p);
  delete static_cast<Start*>(p);
#if defined(__linux__) || defined(__FreeBSD__)
  pthread_setname_np(pthread_self(), start.name);
#elif defined(__APPLE__)
  pthread_setname_np(start.name);
#endif
  start.fn(start.arg);
  return nullptr;
}

// The signal that interrupts our blocking calls; its handler does nothing, the EINTR is the
// point. A realtime signal nobody has claimed (still at its default), so we never take over a
// signal some other code of the process relies on.
int g_wake_signal = 0;
std::once_flag g_wake_once;

void WakeHandler(int) {}

bool Claim(int sig) {
  struct sigaction old;
  if (sigaction(sig, nullptr, &old) != 0) return false;
  if ((old.sa_flags & SA_SIGINFO) == 0 && old.sa_handler == WakeHandler) return true;
  if ((old.sa_flags & SA_SIGINFO) != 0 || old.sa_handler != SIG_DFL) return false;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = WakeHandler;
  sigemptyset(&sa.sa_mask);
  // No SA_RESTART: the interrupted call must return EINTR.
  return sigaction(sig, &sa, nullptr) == 0;
}

void InstallWakeSignal() {
#if defined(SIGRTMIN) && defined(SIGRTMAX)
  for (int sig = SIGRTMAX - 2; sig >= SIGRTMIN + 2; --sig) {
    if (Claim(sig)) {
      g_wake_signal = sig;
      return;
    }
  }
#else
  // No realtime signals (macOS): SIGURG is ignored by default and seldom claimed.
  if (Claim(SIGURG)) g_wake_signal = SIGURG;
#endif
}

}  // namespace

extern "C" int luaipc_thread_start(void (*fn)(void*), void* arg, const char* name, luaipc_error* error) {
  std::call_once(g_wake_once, InstallWakeSignal);
  auto* start = new (std::nothrow) Start{fn, arg, {}};
  if (start == nullptr) return luaipc_fail(error, ENOMEM, "pthread_create");
  std::strncpy(start->name, name, sizeof start->name - 1);
  pthread_attr_t attr;
  int err = pthread_attr_init(&attr);
  if (err != 0) {
    delete start;
    return luaipc_fail(error, err, "pthread_create");
  }
  pthread_attr_setstacksize(&attr, LUAIPC_THREAD_STACK);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  // Asynchronous signals (SIGINT, SIGCHLD, ...) are for the JS thread and libuv; a new thread
  // inherits the mask, so block them around the create. Faults stay deliverable.
  sigset_t blocked, old;
  sigfillset(&blocked);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT}) sigdelset(&blocked, sig);
  if (g_wake_signal != 0) sigdelset(&blocked, g_wake_signal);
  pthread_sigmask(SIG_SETMASK, &blocked, &old);
  pthread_t id;
  err = pthread_create(&id, &attr, Trampoline, start);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  pthread_attr_destroy(&attr);
  if (err == 0) return 0;
  delete start;
  return luaipc_fail(error, err, "pthread_create");
}

extern "C" luaipc_thread_id luaipc_thread_self(void) {
  luaipc_thread_id id = 0;
  pthread_t self = pthread_self();
  std::memcpy(&id, &self, sizeof self);
  return id;
}

extern "C" int luaipc_thread_interrupt(luaipc_thread_id t) {
  std::call_once(g_wake_once, InstallWakeSignal);
  if (g_wake_signal == 0) return ENOSYS;
  pthread_t id;
  std::memcpy(&id, &t, sizeof id);
  return pthread_kill(id, g_wake_signal);
}

extern "C" int64_t luaipc_now_ns(void) {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

extern "C" int luaipc_pin_module(const void* address) {
  Dl_info info;
  if (dladdr(address, &info) == 0 || info.dli_fname == nullptr) return ENOENT;
  // RTLD_NOLOAD: only marks the already loaded object never to be unloaded.
  void* handle = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
  return handle == nullptr ? ENOENT : 0;
}
