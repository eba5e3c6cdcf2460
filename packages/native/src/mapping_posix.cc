// POSIX backend of mapping_os.h: the mapping registry and the SIGBUS handler.
#include "luaipc/mapping_os.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif
#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON
#endif

// A registry slot. The handler reads it lock-free: `seq` is odd while the slot is being changed
// (a seqlock), so a reader never acts on a half-written range.
struct luaipc_mapping {
  std::atomic<uint32_t> seq;
  std::atomic<uintptr_t> begin;  // 0: the slot is free
  std::atomic<uintptr_t> end;    // page-rounded
  std::atomic<int> access;
  std::atomic<int> truncated;
};

namespace {

static_assert(std::atomic<uintptr_t>::is_always_lock_free, "the fault handler needs lock-free loads");
static_assert(std::atomic<uint32_t>::is_always_lock_free, "the fault handler needs lock-free loads");
static_assert(std::atomic<int>::is_always_lock_free, "the fault handler needs lock-free loads");
static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t), "the epoch is read as a plain word");

// Slots come in chunks that are never freed, linked once and then only read, so the handler can
// walk them while other threads register and release mappings.
constexpr size_t kChunkSlots = 256;
struct Chunk {
  luaipc_mapping slots[kChunkSlots];
  std::atomic<Chunk*> next;
};

// Zero-initialised static storage: usable before any constructor runs, never destroyed.
Chunk g_first;
std::atomic<uint32_t> g_epoch;

// Everything below is written under g_mutex (never taken by the handler). The handler reads
// g_page and g_previous, which are set before the handler is installed.
std::mutex g_mutex;
Chunk* g_tail = nullptr;
std::vector<luaipc_mapping*>* g_free = nullptr;  // heap: no destructor racing late releases
size_t g_count = 0;
size_t g_slots = 0;
size_t g_limit = 0;
uintptr_t g_page = 0;
bool g_initialized = false;
bool g_installed = false;
struct sigaction g_previous;

void OnFault(int sig, siginfo_t* info, void* context);

bool IsOurs(const struct sigaction& sa) {
  return (sa.sa_flags & SA_SIGINFO) != 0 && sa.sa_sigaction == OnFault;
}

// The limit this addon puts on its own mappings: half of the kernel's per-process limit, so a
// program that leaks them gets ENOMEM from us while V8 can still map its heap.
size_t ReadLimit() {
#if defined(__linux__)
  int fd = open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char text[32];
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) return 0;
  text[n] = '\0';
  unsigned long long value = std::strtoull(text, nullptr, 10);
  return static_cast<size_t>(value / 2);
#else
  return 0;
#endif
}

// Installs the handler the first time, and again if SIGBUS has since been reset to the default
// action (libuv does that when a process.on('SIGBUS') listener is removed). A handler someone
// installed over ours is left in place: it may be chained to ours (another addon's copy of this
// code), and installing ours over it again could make the chain a loop.
void EnsureHandler() {
  struct sigaction current;
  if (sigaction(SIGBUS, nullptr, &current) != 0) return;
  if (IsOurs(current)) return;
  bool isDefault = (current.sa_flags & SA_SIGINFO) == 0 && current.sa_handler == SIG_DFL;
  if (g_installed && !isDefault) return;
  struct sigaction ours;
  ours.sa_sigaction = OnFault;
  sigemptyset(&ours.sa_mask);
  ours.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  g_previous = current;
  if (sigaction(SIGBUS, &ours, nullptr) == 0) g_installed = true;
}

void InitLocked() {
  if (!g_initialized) {
    g_page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    g_limit = ReadLimit();
    g_tail = &g_first;
    g_free = new std::vector<luaipc_mapping*>();
    g_free->reserve(kChunkSlots);
    g_slots = kChunkSlots;
    for (size_t i = kChunkSlots; i > 0; --i) g_free->push_back(&g_first.slots[i - 1]);
  }
  EnsureHandler();
  g_initialized = true;
}

// Finds the registered mapping containing `addr`; lock-free and allocation-free.
luaipc_mapping* Find(uintptr_t addr, uintptr_t* end, int* access) {
  for (Chunk* c = &g_first; c != nullptr; c = c->next.load(std::memory_order_acquire)) {
    for (luaipc_mapping& s : c->slots) {
      uint32_t seq = s.seq.load(std::memory_order_acquire);
      if ((seq & 1) != 0) continue;
      uintptr_t b = s.begin.load(std::memory_order_relaxed);
      uintptr_t e = s.end.load(std::memory_order_relaxed);
      int a = s.access.load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (s.seq.load(std::memory_order_relaxed) != seq) continue;
      if (b == 0 || addr < b || addr >= e) continue;
      *end = e;
      *access = a;
      return &s;
    }
  }
  return nullptr;
}

// Replaces the mapping from the faulting page to its end by private zero pages. A shrunk object
// usually lost everything past its new end; pages in between that are also gone fault (and are
// replaced) in turn.
bool Repair(uintptr_t addr) {
  uintptr_t end = 0;
  int access = 0;
  luaipc_mapping* m = Find(addr, &end, &access);
  if (m == nullptr) return false;
  uintptr_t page = addr & ~(g_page - 1);
  int prot = ((access & LUAIPC_MAP_READ) != 0 ? PROT_READ : 0) |
             ((access & LUAIPC_MAP_WRITE) != 0 ? PROT_WRITE : 0);
  void* got = mmap(reinterpret_cast<void*>(page), end - page, prot,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
  if (got == MAP_FAILED) return false;
  m->truncated.store(1, std::memory_order_release);
  g_epoch.fetch_add(1, std::memory_order_release);
  return true;
}

// What would have happened without us: the previous handler, or the default action.
void PassOn(int sig, siginfo_t* info, void* context) {
  const struct sigaction& prev = g_previous;
  bool fault = info != nullptr && info->si_code > 0;  // raised by the kernel for an access
  if ((prev.sa_flags & SA_SIGINFO) != 0) {
    if (prev.sa_sigaction != nullptr) {
      prev.sa_sigaction(sig, info, context);
      return;
    }
  } else if (prev.sa_handler == SIG_IGN) {
    // A fault cannot be ignored: returning would repeat it forever. Take the default action.
    if (!fault) return;
  } else if (prev.sa_handler != SIG_DFL) {
    prev.sa_handler(sig);
    return;
  }
  // The default action (the process ends by this signal, with a core dump where enabled). For a
  // fault, returning repeats the access, which then gets it; a signal sent by kill() is raised
  // again and delivered as soon as this handler returns (it is blocked until then).
  struct sigaction dfl;
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  dfl.sa_flags = 0;
  sigaction(sig, &dfl, nullptr);
  if (!fault) raise(sig);
}

void OnFault(int sig, siginfo_t* info, void* context) {
  int saved = errno;
  bool fault = info != nullptr && info->si_code > 0;
  if (!fault || !Repair(reinterpret_cast<uintptr_t>(info->si_addr))) PassOn(sig, info, context);
  errno = saved;
}

}  // namespace

extern "C" int luaipc_mapping_adopt(void* addr, size_t size, int access, luaipc_mapping** out) {
  *out = nullptr;
  std::unique_lock<std::mutex> lock(g_mutex);
  int err = 0;
  try {
    InitLocked();
    if (g_limit != 0 && g_count >= g_limit) err = ENOMEM;
    if (err == 0 && g_free->empty()) {
      Chunk* chunk = new (std::nothrow) Chunk();
      if (chunk == nullptr) {
        err = ENOMEM;
      } else {
        try {
          // Room for every slot there is, so that a release never allocates.
          g_free->reserve(g_slots + kChunkSlots);
        } catch (const std::bad_alloc&) {
          delete chunk;
          throw;
        }
        g_slots += kChunkSlots;
        for (size_t i = kChunkSlots; i > 0; --i) g_free->push_back(&chunk->slots[i - 1]);
        g_tail->next.store(chunk, std::memory_order_release);
        g_tail = chunk;
      }
    }
  } catch (const std::bad_alloc&) {
    err = ENOMEM;
  }
  if (err != 0) {
    lock.unlock();
    munmap(addr, size);
    return err;
  }
  luaipc_mapping* m = g_free->back();
  g_free->pop_back();
  ++g_count;
  uintptr_t begin = reinterpret_cast<uintptr_t>(addr);
  uintptr_t end = (begin + size + g_page - 1) & ~(g_page - 1);
  uint32_t seq = m->seq.load(std::memory_order_relaxed);
  m->seq.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  m->begin.store(begin, std::memory_order_relaxed);
  m->end.store(end, std::memory_order_relaxed);
  m->access.store(access, std::memory_order_relaxed);
  m->truncated.store(0, std::memory_order_relaxed);
  m->seq.store(seq + 2, std::memory_order_release);
  *out = m;
  return 0;
}

extern "C" int luaipc_mapping_release(luaipc_mapping* m) {
  uintptr_t begin;
  uintptr_t end;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    begin = m->begin.load(std::memory_order_relaxed);
    end = m->end.load(std::memory_order_relaxed);
    uint32_t seq = m->seq.load(std::memory_order_relaxed);
    m->seq.store(seq + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    m->begin.store(0, std::memory_order_relaxed);
    m->end.store(0, std::memory_order_relaxed);
    m->truncated.store(0, std::memory_order_relaxed);
    m->seq.store(seq + 2, std::memory_order_release);
    --g_count;
    // Cannot fail: the vector had room for every slot when the slot's chunk was added.
    g_free->push_back(m);
  }
  if (begin == 0) return EINVAL;
  return munmap(reinterpret_cast<void*>(begin), end - begin) == 0 ? 0 : errno;
}

extern "C" size_t luaipc_mapping_size(const luaipc_mapping* m) {
  return m->end.load(std::memory_order_relaxed) - m->begin.load(std::memory_order_relaxed);
}

extern "C" int luaipc_mapping_truncated(const luaipc_mapping* m) {
  return m->truncated.load(std::memory_order_acquire);
}

extern "C" const volatile uint32_t* luaipc_mapping_epoch(void) {
  return reinterpret_cast<const volatile uint32_t*>(&g_epoch);
}

extern "C" size_t luaipc_mapping_count(void) {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_count;
}

extern "C" size_t luaipc_mapping_limit(void) {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_initialized ? g_limit : ReadLimit();
}
