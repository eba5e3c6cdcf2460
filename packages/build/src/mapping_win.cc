// Windows backend of mapping_os.h. Windows refuses to shrink a file or section while a view of
// it is mapped (ERROR_USER_MAPPED_FILE), so a mapping never loses pages under us: there is no
// fault to repair, only the bookkeeping, the unmapping, and the section handles that keep named
// sections alive.
#include "luaipc/mapping_os.h"

#include <errno.h>
#include <windows.h>

#include <atomic>
#include <mutex>
#include <new>
#include <unordered_map>

#include "luaipc/glue_os.h"

struct luaipc_mapping {
  void* addr;
  size_t size;
};

namespace {

std::atomic<size_t> g_count{0};
const volatile uint32_t g_epoch = 0;

// Views -> the section handles that keep their names alive. Never freed (process lifetime).
std::mutex& SectionsMutex() {
  static std::mutex* mu = new std::mutex();
  return *mu;
}
std::unordered_map<void*, HANDLE>& Sections() {
  static auto* sections = new std::unordered_map<void*, HANDLE>();
  return *sections;
}

size_t PageSize() {
  SYSTEM_INFO info;
  GetSystemInfo(&info);
  return info.dwPageSize;
}

}  // namespace

extern "C" void luaipc_mapping_hold_section(void* addr, void* section) {
  std::lock_guard<std::mutex> lock(SectionsMutex());
  Sections()[addr] = static_cast<HANDLE>(section);
}

extern "C" int luaipc_mapping_unmap_view(void* addr) {
  int err = UnmapViewOfFile(addr) ? 0 : luaipc_errno_from_win32(GetLastError());
  std::lock_guard<std::mutex> lock(SectionsMutex());
  auto it = Sections().find(addr);
  if (it != Sections().end()) {
    CloseHandle(it->second);
    Sections().erase(it);
  }
  return err;
}

extern "C" int luaipc_mapping_adopt(void* addr, size_t size, int, luaipc_mapping** out) {
  *out = nullptr;
  size_t page = PageSize();
  auto* m = new (std::nothrow) luaipc_mapping{addr, (size + page - 1) / page * page};
  if (m == nullptr) {
    luaipc_mapping_unmap_view(addr);
    return ENOMEM;
  }
  ++g_count;
  *out = m;
  return 0;
}

extern "C" int luaipc_mapping_release(luaipc_mapping* m) {
  int err = luaipc_mapping_unmap_view(m->addr);
  delete m;
  --g_count;
  return err;
}

// Nothing to repair, so nothing to watch: a handle that is never truncated.
extern "C" int luaipc_mapping_watch(void* addr, size_t size, int, luaipc_mapping** out) {
  *out = new (std::nothrow) luaipc_mapping{addr, size};
  return *out == nullptr ? ENOMEM : 0;
}

extern "C" void luaipc_mapping_unwatch(luaipc_mapping* m) { delete m; }

extern "C" void luaipc_mapping_arm(void) {}

extern "C" size_t luaipc_mapping_size(const luaipc_mapping* m) { return m->size; }

extern "C" int luaipc_mapping_truncated(const luaipc_mapping*) { return 0; }

extern "C" const volatile uint32_t* luaipc_mapping_epoch(void) { return &g_epoch; }

extern "C" size_t luaipc_mapping_count(void) { return g_count.load(); }

extern "C" size_t luaipc_mapping_limit(void) { return 0; }
