// POSIX backend of mapping_os.h: the mapping registry, the SIGBUS handler, and the hub through
// which every copy of this file in the process shares one handler.
//
// Why a hub: each addon (shm, mmap, sem, a second installed version of one of them) has its own
// copy of this file. If each installed a handler chained to the one it found, the chain would
// break as soon as something reset SIGBUS (Node restores the default action when the last
// process.on('SIGBUS') listener goes) and one copy re-installed itself over the others, and it
// would loop if two copies ended up each other's predecessor. So there is exactly one handler of
// ours: the one of the copy loaded first (every copy finds it the same way, in the dynamic
// loader's list of loaded objects, through the exported luaipc_fault_hub_v1). Every copy adds its
// registry's lookup to that hub's list, and the hub's handler asks each of them. Handlers of ours
// never call each other, so they cannot form a loop; a foreign handler that passes the signal
// back to us is caught by the re-entry check in PassOnOnce.
#include "luaipc/mapping_os.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__APPLE__)
#include <mach-o/dyld.h>
#else
#include <link.h>
#endif

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "luaipc/glue_os.h"

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
  std::atomic<bool> watched;  // someone else's mapping (luaipc_mapping_watch): never unmapped here
};

extern "C" {

// What every copy of this file agrees on, version 1. Only ever extended at the end (`size` says
// how much a copy has), never changed: copies from different package versions share it.
struct luaipc_fault_hub {
  size_t size;
  // Adds `repair` (a copy's lookup: repairs the fault at `addr` and returns 1 if it lies in one
  // of that copy's mappings, else 0) to what the hub's handler asks. 0, or ENOMEM when the hub
  // is full. Idempotent.
  int (*join)(int (*repair)(uintptr_t addr));
  // Installs the hub's handler unless it is in place or no copy has joined yet (nothing to
  // protect).
  void (*arm)(void);
};

// The hub of this copy. Exported (the only symbol of ours that is) so that other copies find it.
__attribute__((visibility("default"))) const luaipc_fault_hub* luaipc_fault_hub_v1(void);

}  // extern "C"

namespace {

static_assert(std::atomic<uintptr_t>::is_always_lock_free, "the fault handler needs lock-free loads");
static_assert(std::atomic<uint32_t>::is_always_lock_free, "the fault handler needs lock-free loads");
static_assert(std::atomic<int>::is_always_lock_free, "the fault handler needs lock-free loads");
static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t), "the epoch is read as a plain word");

using RepairFn = int (*)(uintptr_t addr);
static_assert(std::atomic<RepairFn>::is_always_lock_free, "the fault handler needs lock-free loads");

// ---- This copy's registry ----------------------------------------------------------------

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
std::atomic<uintptr_t> g_page;

// Everything below is written under g_mutex (never taken by the handler).
std::mutex g_mutex;
Chunk* g_tail = nullptr;
std::vector<luaipc_mapping*>* g_free = nullptr;  // heap: no destructor racing late releases
size_t g_count = 0;  // mappings of ours (watched ranges are not counted)
size_t g_slots = 0;
size_t g_limit = 0;
bool g_initialized = false;
const luaipc_fault_hub* g_hub = nullptr;  // the process's hub, once looked up
bool g_joined = false;                    // whether this copy's lookup is in it

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

// Finds the registered range containing `addr`; lock-free and allocation-free.
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

// This copy's part of the handler (joined to the hub): replaces the range from the faulting page
// to its end by private zero pages. A shrunk object usually lost everything past its new end;
// pages in between that are also gone fault (and are replaced) in turn.
int Repair(uintptr_t addr) {
  uintptr_t end = 0;
  int access = 0;
  luaipc_mapping* m = Find(addr, &end, &access);
  if (m == nullptr) return 0;
  uintptr_t page = addr & ~(g_page.load(std::memory_order_relaxed) - 1);
  int prot = ((access & LUAIPC_MAP_READ) != 0 ? PROT_READ : 0) |
             ((access & LUAIPC_MAP_WRITE) != 0 ? PROT_WRITE : 0);
  void* got = mmap(reinterpret_cast<void*>(page), end - page, prot,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
  if (got == MAP_FAILED) return 0;
  m->truncated.store(1, std::memory_order_release);
  // Watched ranges can overlap (glibc maps a semaphore once and hands it to each open): all of
  // them lost the page.
  for (Chunk* c = &g_first; c != nullptr; c = c->next.load(std::memory_order_acquire)) {
    for (luaipc_mapping& s : c->slots) {
      if (&s == m || !s.watched.load(std::memory_order_relaxed)) continue;
      uintptr_t b = s.begin.load(std::memory_order_relaxed);
      if (b != 0 && addr >= b && addr < s.end.load(std::memory_order_relaxed)) {
        s.truncated.store(1, std::memory_order_release);
      }
    }
  }
  g_epoch.fetch_add(1, std::memory_order_release);
  return 1;
}

// ---- The hub (used in the copy that was loaded first) --------------------------------------

// Copies in one process: every addon of ours, each installed version of it.
constexpr size_t kMaxMembers = 64;
// Lookups that joined, in order, never removed (their copies are never unloaded:
// luaipc_pin_module). Zero-initialised.
std::atomic<RepairFn> h_members[kMaxMembers];
std::mutex h_mutex;  // join and arm
// The handler found in place when ours was installed, read by the handler while arm() may
// rewrite it: a seqlock (odd while being written).
std::atomic<uint32_t> h_previousSeq;
struct sigaction h_previous;  // zero: SIG_DFL
// Threads inside PassOnOnce (pthread_self), to catch a handler that passes the signal back.
constexpr size_t kInflight = 64;
std::atomic<uintptr_t> h_inflight[kInflight];

void OnFault(int sig, siginfo_t* info, void* context);

bool IsOurs(const struct sigaction& sa) {
  return (sa.sa_flags & SA_SIGINFO) != 0 && sa.sa_sigaction == OnFault;
}

bool SameHandler(const struct sigaction& a, const struct sigaction& b) {
  if ((a.sa_flags & SA_SIGINFO) != (b.sa_flags & SA_SIGINFO)) return false;
  return (a.sa_flags & SA_SIGINFO) != 0 ? a.sa_sigaction == b.sa_sigaction : a.sa_handler == b.sa_handler;
}

void WritePrevious(const struct sigaction& sa) {
  uint32_t seq = h_previousSeq.load(std::memory_order_relaxed);
  h_previousSeq.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  auto* to = reinterpret_cast<volatile unsigned char*>(&h_previous);
  auto* from = reinterpret_cast<const unsigned char*>(&sa);
  for (size_t i = 0; i < sizeof sa; ++i) to[i] = from[i];
  h_previousSeq.store(seq + 2, std::memory_order_release);
}

bool ReadPrevious(struct sigaction* out) {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    uint32_t seq = h_previousSeq.load(std::memory_order_acquire);
    if ((seq & 1) != 0) continue;
    auto* from = reinterpret_cast<const volatile unsigned char*>(&h_previous);
    auto* to = reinterpret_cast<unsigned char*>(out);
    for (size_t i = 0; i < sizeof *out; ++i) to[i] = from[i];
    std::atomic_thread_fence(std::memory_order_acquire);
    if (h_previousSeq.load(std::memory_order_relaxed) == seq) return true;
  }
  return false;
}

// The default action: the process ends by this signal (with a core dump where enabled). For a
// fault, returning repeats the access, which then gets it; a signal sent by kill() is raised
// again and delivered as soon as this handler returns (it is blocked until then).
void DefaultAction(int sig, bool fault) {
  struct sigaction dfl;
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  dfl.sa_flags = 0;
  sigaction(sig, &dfl, nullptr);
  if (!fault) raise(sig);
}

// What would have happened without us: the previous handler, or the default action.
void PassOn(int sig, siginfo_t* info, void* context, bool fault) {
  struct sigaction prev;
  if (!ReadPrevious(&prev)) {
    DefaultAction(sig, fault);
    return;
  }
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
  DefaultAction(sig, fault);
}

// PassOn, unless this thread is already passing a signal on: then the previous handler (or one
// it chains to) called us back, and passing on again would recurse until the stack overflows.
void PassOnOnce(int sig, siginfo_t* info, void* context, bool fault) {
  auto self = reinterpret_cast<uintptr_t>(pthread_self());
  for (auto& slot : h_inflight) {
    if (slot.load(std::memory_order_relaxed) == self) {
      DefaultAction(sig, fault);
      return;
    }
  }
  std::atomic<uintptr_t>* mine = nullptr;
  for (auto& slot : h_inflight) {
    uintptr_t expected = 0;
    if (slot.compare_exchange_strong(expected, self, std::memory_order_relaxed)) {
      mine = &slot;
      break;
    }
  }
  PassOn(sig, info, context, fault);
  if (mine != nullptr) mine->store(0, std::memory_order_relaxed);
}

void OnFault(int sig, siginfo_t* info, void* context) {
  int saved = errno;
  bool fault = info != nullptr && info->si_code > 0;  // raised by the kernel for an access
  bool repaired = false;
  if (fault) {
    auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
    for (auto& member : h_members) {
      RepairFn repair = member.load(std::memory_order_acquire);
      if (repair == nullptr) break;
      if (repair(addr) != 0) {
        repaired = true;
        break;
      }
    }
  }
  if (!repaired) PassOnOnce(sig, info, context, fault);
  errno = saved;
}

int HubJoin(RepairFn repair) {
  std::lock_guard<std::mutex> lock(h_mutex);
  for (auto& member : h_members) {
    RepairFn present = member.load(std::memory_order_relaxed);
    if (present == repair) return 0;
    if (present == nullptr) {
      member.store(repair, std::memory_order_release);
      return 0;
    }
  }
  return ENOMEM;
}

// Installs the handler over whatever is in place (the default action, a handler that was there
// before any of ours, or the one Node installs while a process.on('SIGBUS') listener exists),
// which then gets every SIGBUS that is not a fault in our mappings.
void HubArm() {
  std::lock_guard<std::mutex> lock(h_mutex);
  if (h_members[0].load(std::memory_order_relaxed) == nullptr) return;
  struct sigaction current;
  if (sigaction(SIGBUS, nullptr, &current) != 0 || IsOurs(current)) return;
  struct sigaction ours;
  ours.sa_sigaction = OnFault;
  sigemptyset(&ours.sa_mask);
  ours.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
  WritePrevious(current);
  struct sigaction replaced;
  if (sigaction(SIGBUS, &ours, &replaced) != 0) return;
  // Another thread installed a handler between the two calls: that one is what we replaced.
  if (!IsOurs(replaced) && !SameHandler(replaced, current)) WritePrevious(replaced);
}

const luaipc_fault_hub kHub = {sizeof(luaipc_fault_hub), HubJoin, HubArm};

// ---- Finding the hub ----------------------------------------------------------------------

using HubGetter = const luaipc_fault_hub* (*)();

// Paths of the loaded objects in load order (collected first: dlopen must not run inside
// dl_iterate_phdr, which holds the loader's lock).
std::vector<std::string> LoadedObjects() {
  std::vector<std::string> names;
#if defined(__APPLE__)
  uint32_t n = _dyld_image_count();
  for (uint32_t i = 0; i < n; ++i) {
    const char* name = _dyld_get_image_name(i);
    if (name != nullptr && name[0] != '\0') names.emplace_back(name);
  }
#else
  auto collect = [](struct dl_phdr_info* info, size_t, void* data) -> int {
    try {
      if (info->dlpi_name != nullptr && info->dlpi_name[0] != '\0') {
        static_cast<std::vector<std::string>*>(data)->emplace_back(info->dlpi_name);
      }
      return 0;
    } catch (...) {
      return 1;
    }
  };
  dl_iterate_phdr(collect, &names);
#endif
  return names;
}

// The hub of the first loaded object that has one (this copy's, if the lookup fails). Every
// copy gets the same answer: objects keep their place in the list, and ours are never unloaded.
const luaipc_fault_hub* FindHub() {
  for (const std::string& name : LoadedObjects()) {
    void* object = dlopen(name.c_str(), RTLD_LAZY | RTLD_NOLOAD);
    if (object == nullptr) continue;
    auto getter = reinterpret_cast<HubGetter>(dlsym(object, "luaipc_fault_hub_v1"));
    const luaipc_fault_hub* hub = nullptr;
    // Its handler must stay: pin the object (idempotent for our addons, pinned at init anyway).
    if (getter != nullptr && luaipc_pin_module(reinterpret_cast<const void*>(getter)) == 0) hub = getter();
    dlclose(object);
    if (hub != nullptr && hub->size >= sizeof(luaipc_fault_hub)) return hub;
  }
  return &kHub;
}

// Looks the hub up once. Under g_mutex.
int FindHubLocked() {
  if (g_hub != nullptr) return 0;
  try {
    g_hub = FindHub();
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
  return 0;
}

// Joins this copy's lookup to the hub (once) and arms the hub's handler. Under g_mutex.
int JoinLocked() {
  int err = FindHubLocked();
  if (err == 0 && !g_joined) err = g_hub->join(Repair);
  if (err != 0) return err;
  g_joined = true;
  g_hub->arm();
  return 0;
}

void InitLocked() {
  if (g_initialized) return;
  g_page.store(static_cast<uintptr_t>(sysconf(_SC_PAGESIZE)), std::memory_order_relaxed);
  g_limit = ReadLimit();
  g_tail = &g_first;
  g_free = new std::vector<luaipc_mapping*>();
  g_free->reserve(kChunkSlots);
  g_slots = kChunkSlots;
  for (size_t i = kChunkSlots; i > 0; --i) g_free->push_back(&g_first.slots[i - 1]);
  g_initialized = true;
}

// Takes a free slot for [begin, end) (page-rounded) and arms the handler. Under g_mutex; 0 or
// an errno, with nothing registered on failure.
int RegisterLocked(uintptr_t begin, uintptr_t end, int access, bool watched, luaipc_mapping** out) {
  try {
    InitLocked();
    if (!watched && g_limit != 0 && g_count >= g_limit) return ENOMEM;
    if (g_free->empty()) {
      auto* chunk = new Chunk();
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
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
  int err = JoinLocked();
  if (err != 0) return err;
  // The same range handed out again by its owner after it lost its pages (glibc maps a
  // semaphore once per process): it holds zeros, so it is truncated from the start.
  int truncated = 0;
  if (watched) {
    for (Chunk* c = &g_first; c != nullptr && truncated == 0; c = c->next.load(std::memory_order_relaxed)) {
      for (luaipc_mapping& s : c->slots) {
        if (s.begin.load(std::memory_order_relaxed) < end && s.end.load(std::memory_order_relaxed) > begin &&
            s.truncated.load(std::memory_order_relaxed) != 0) {
          truncated = 1;
          break;
        }
      }
    }
  }
  luaipc_mapping* m = g_free->back();
  g_free->pop_back();
  if (!watched) ++g_count;
  uint32_t seq = m->seq.load(std::memory_order_relaxed);
  m->seq.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  m->begin.store(begin, std::memory_order_relaxed);
  m->end.store(end, std::memory_order_relaxed);
  m->access.store(access, std::memory_order_relaxed);
  m->truncated.store(truncated, std::memory_order_relaxed);
  m->watched.store(watched, std::memory_order_relaxed);
  m->seq.store(seq + 2, std::memory_order_release);
  *out = m;
  return 0;
}

// Frees the slot; returns the range it had. Under g_mutex.
void UnregisterLocked(luaipc_mapping* m, uintptr_t* begin, uintptr_t* end) {
  *begin = m->begin.load(std::memory_order_relaxed);
  *end = m->end.load(std::memory_order_relaxed);
  uint32_t seq = m->seq.load(std::memory_order_relaxed);
  m->seq.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  m->begin.store(0, std::memory_order_relaxed);
  m->end.store(0, std::memory_order_relaxed);
  m->truncated.store(0, std::memory_order_relaxed);
  m->seq.store(seq + 2, std::memory_order_release);
  if (!m->watched.load(std::memory_order_relaxed)) --g_count;
  // Cannot fail: the vector had room for every slot when the slot's chunk was added.
  g_free->push_back(m);
}

uintptr_t PageSizeLocked() {
  InitLocked();
  return g_page.load(std::memory_order_relaxed);
}

}  // namespace

extern "C" const luaipc_fault_hub* luaipc_fault_hub_v1(void) { return &kHub; }

extern "C" int luaipc_mapping_adopt(void* addr, size_t size, int access, luaipc_mapping** out) {
  *out = nullptr;
  std::unique_lock<std::mutex> lock(g_mutex);
  int err;
  try {
    uintptr_t page = PageSizeLocked();
    uintptr_t begin = reinterpret_cast<uintptr_t>(addr);
    err = RegisterLocked(begin, (begin + size + page - 1) & ~(page - 1), access, false, out);
  } catch (const std::bad_alloc&) {
    err = ENOMEM;
  }
  if (err != 0) {
    lock.unlock();
    munmap(addr, size);
  }
  return err;
}

extern "C" int luaipc_mapping_release(luaipc_mapping* m) {
  uintptr_t begin;
  uintptr_t end;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    UnregisterLocked(m, &begin, &end);
  }
  if (begin == 0) return EINVAL;
  return munmap(reinterpret_cast<void*>(begin), end - begin) == 0 ? 0 : errno;
}

extern "C" int luaipc_mapping_watch(void* addr, size_t size, int access, luaipc_mapping** out) {
  *out = nullptr;
  std::lock_guard<std::mutex> lock(g_mutex);
  try {
    uintptr_t page = PageSizeLocked();
    uintptr_t at = reinterpret_cast<uintptr_t>(addr);
    return RegisterLocked(at & ~(page - 1), (at + size + page - 1) & ~(page - 1), access, true, out);
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
}

extern "C" void luaipc_mapping_unwatch(luaipc_mapping* m) {
  uintptr_t begin;
  uintptr_t end;
  std::lock_guard<std::mutex> lock(g_mutex);
  UnregisterLocked(m, &begin, &end);
}

extern "C" void luaipc_mapping_arm(void) {
  std::lock_guard<std::mutex> lock(g_mutex);
  // Whichever copy is asked arms the one handler, for the mappings of every copy (a worker's
  // included): the copy the main thread loaded may have mapped nothing itself.
  if (FindHubLocked() == 0) g_hub->arm();
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
