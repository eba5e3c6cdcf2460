// Windows backend of channel_os.h, in the session namespace ("Local\" + name, as @luaipc/shm
// and @luaipc/sem put their objects):
//   the segment   a section backed by the paging file (committed whole at create: a full paging
//                 file fails there, so reserve/discard have nothing to do)
//   the locks     one named mutex per lock byte, "Local\<name>.lock<at>": Windows abandons a
//                 mutex whose owning thread ends, so a dead process (or a terminated worker)
//                 frees its locks as fcntl's do on POSIX
//   a doorbell    a named auto-reset event, "Local\<name>.rx" / ".tx<k>"
// Kernel objects vanish with their last handle: there are no names to remove.
#include <errno.h>
#include <windows.h>

#include <map>
#include <mutex>
#include <new>
#include <set>
#include <string>
#include <utility>

#include "channel_os.h"
#include "luaipc/glue_os.h"
#include "luaipc/win_error.h"
#include "luaipc/mapping_os.h"
#include "luaipc/win_text.h"

struct luaipc_chan_file {
  int unused;
};

namespace {

// Kernel object names are limited to MAX_PATH characters: "Local\", the name and the longest
// suffix (".lock1087", the last slot's lock byte).
constexpr size_t kNameMax = MAX_PATH - 6 - 9 - 1;

bool TooLong(const char* name) { return strlen(name) > kNameMax; }

std::wstring ObjectName(const char* name, const std::string& suffix) {
  return luaipc::LocalObjectName((std::string(name) + suffix).c_str());
}

// Which lock bytes handles of this process hold (by channel name and byte): a thread that owns
// a mutex acquires it again at once, so two handles on one thread would not exclude each other.
std::mutex g_held_mu;
std::set<std::pair<std::string, uint32_t>>* g_held = nullptr;

}  // namespace

struct luaipc_chan_locks {
  std::string name;
  std::map<uint32_t, HANDLE> mine;
};

struct luaipc_bell {
  HANDLE event;
};

extern "C" {

size_t luaipc_chan_name_max(void) { return kNameMax; }

int luaipc_chan_dir(void) { return LUAIPC_CHAN_DIR_DEV_SHM; }

int luaipc_chan_create(const char* name, size_t size, size_t, luaipc_chan_file** file, void** addr,
                       luaipc_chan_id* id, luaipc_error* err) {
  if (TooLong(name)) return luaipc_fail(err, ENAMETOOLONG, "CreateFileMapping");
  id->dev = 0;
  id->ino = 0;
  auto* f = new (std::nothrow) luaipc_chan_file{0};
  if (f == nullptr) return luaipc_fail(err, ENOMEM, "CreateFileMapping");
  uint64_t wide = size;
  HANDLE h = CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE, static_cast<DWORD>(wide >> 32),
                                static_cast<DWORD>(wide & 0xffffffffu), luaipc::LocalObjectName(name).c_str());
  if (h == nullptr) {
    int e = luaipc::Win32Fail(err, "CreateFileMapping");
    delete f;
    return e;
  }
  if (GetLastError() == ERROR_ALREADY_EXISTS) {
    CloseHandle(h);
    delete f;
    return luaipc::Win32Fail(err, "CreateFileMapping", ERROR_ALREADY_EXISTS);
  }
  void* view = MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, size);
  if (view == nullptr) {
    int e = luaipc::Win32Fail(err, "MapViewOfFile");
    CloseHandle(h);
    delete f;
    return e;
  }
  luaipc_mapping_hold_section(view, h);
  *file = f;
  *addr = view;
  return 0;
}

int luaipc_chan_open(const char* name, size_t min_size, size_t max_size, luaipc_chan_file** file, void** addr,
                     size_t* size, luaipc_error* error) {
  if (TooLong(name)) return luaipc_fail(error, ENAMETOOLONG, "OpenFileMapping");
  HANDLE h = OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, luaipc::LocalObjectName(name).c_str());
  if (h == nullptr) return luaipc::Win32Fail(error, "OpenFileMapping");
  void* view = MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, 0);
  if (view == nullptr) {
    int e = luaipc::Win32Fail(error, "MapViewOfFile");
    CloseHandle(h);
    return e;
  }
  luaipc_mapping_hold_section(view, h);
  // The view's size, in whole pages: a channel's segment is whole pages.
  MEMORY_BASIC_INFORMATION info;
  int err = 0;
  if (VirtualQuery(view, &info, sizeof info) == 0) {
    err = luaipc::Win32Fail(error, "VirtualQuery");
  } else if (info.RegionSize < min_size) {
    err = luaipc_fail(error, EPROTO, "MapViewOfFile");
  } else if (info.RegionSize > max_size) {
    err = luaipc_fail(error, EFBIG, "MapViewOfFile");
  }
  auto* f = err == 0 ? new (std::nothrow) luaipc_chan_file{0} : nullptr;
  if (err == 0 && f == nullptr) err = luaipc_fail(error, ENOMEM, "MapViewOfFile");
  if (err != 0) {
    luaipc_mapping_unmap_view(view);
    return err;
  }
  *file = f;
  *addr = view;
  *size = info.RegionSize;
  return 0;
}

void luaipc_chan_file_close(luaipc_chan_file* file) { delete file; }

int luaipc_chan_unmap(void* addr, size_t) { return luaipc_mapping_unmap_view(addr); }

int luaipc_chan_reserve(luaipc_chan_file*, uint64_t, uint64_t, luaipc_error*) { return 0; }

int luaipc_chan_discard(luaipc_chan_file*, uint64_t, uint64_t, luaipc_error*) { return 0; }

// Nothing to remove: reports whether the channel exists (ENOENT when not), as shm does.
int luaipc_chan_unlink(const char* name, luaipc_error* err) {
  if (TooLong(name)) return luaipc_fail(err, ENAMETOOLONG, "shm_unlink");
  HANDLE h = OpenFileMappingW(FILE_MAP_READ, FALSE, luaipc::LocalObjectName(name).c_str());
  if (h == nullptr) return luaipc::Win32Fail(err, "shm_unlink");
  CloseHandle(h);
  return 0;
}

int luaipc_chan_unlink_if_same(const char*, const luaipc_chan_id*) { return 0; }

// The locks' mutexes are made by the lock calls: opening them is only remembering the name.
int luaipc_chan_locks_open(const char* name, int, luaipc_chan_locks** out, luaipc_error* err) {
  if (TooLong(name)) return luaipc_fail(err, ENAMETOOLONG, "CreateMutexW");
  auto* locks = new (std::nothrow) luaipc_chan_locks();
  if (locks == nullptr) return luaipc_fail(err, ENOMEM, "CreateMutexW");
  try {
    locks->name = name;
  } catch (const std::bad_alloc&) {
    delete locks;
    return luaipc_fail(err, ENOMEM, "CreateMutexW");
  }
  *out = locks;
  return 0;
}

void luaipc_chan_locks_close(luaipc_chan_locks* locks) {
  if (locks == nullptr) return;
  for (auto& held : locks->mine) {
    ReleaseMutex(held.second);
    CloseHandle(held.second);
    std::lock_guard<std::mutex> guard(g_held_mu);
    g_held->erase(std::make_pair(locks->name, held.first));
  }
  delete locks;
}

int luaipc_chan_trylock(luaipc_chan_locks* locks, uint32_t at, luaipc_error* err) {
  if (locks->mine.count(at) != 0) return 0;
  try {
    std::lock_guard<std::mutex> guard(g_held_mu);
    if (g_held == nullptr) g_held = new std::set<std::pair<std::string, uint32_t>>();
    if (g_held->count(std::make_pair(locks->name, at)) != 0) return luaipc_fail(err, EAGAIN, "WaitForSingleObject");
    HANDLE h = CreateMutexW(nullptr, FALSE, ObjectName(locks->name.c_str(), ".lock" + std::to_string(at)).c_str());
    if (h == nullptr) return luaipc::Win32Fail(err, "CreateMutexW");
    DWORD r = WaitForSingleObject(h, 0);
    if (r != WAIT_OBJECT_0 && r != WAIT_ABANDONED) {
      DWORD code = GetLastError();
      CloseHandle(h);
      if (r == WAIT_TIMEOUT) return luaipc_fail(err, EAGAIN, "WaitForSingleObject");
      return luaipc::Win32Fail(err, "WaitForSingleObject", code);
    }
    locks->mine.emplace(at, h);
    g_held->insert(std::make_pair(locks->name, at));
    return 0;
  } catch (const std::bad_alloc&) {
    return luaipc_fail(err, ENOMEM, "CreateMutexW");
  }
}

int luaipc_chan_unlock(luaipc_chan_locks* locks, uint32_t at, luaipc_error*) {
  auto it = locks->mine.find(at);
  if (it == locks->mine.end()) return 0;
  ReleaseMutex(it->second);
  CloseHandle(it->second);
  locks->mine.erase(it);
  std::lock_guard<std::mutex> guard(g_held_mu);
  g_held->erase(std::make_pair(locks->name, at));
  return 0;
}

int luaipc_chan_held(luaipc_chan_locks* locks, uint32_t at, int* held, luaipc_error* err) {
  *held = 0;
  if (locks->mine.count(at) != 0) return 0;
  {
    std::lock_guard<std::mutex> guard(g_held_mu);
    if (g_held != nullptr && g_held->count(std::make_pair(locks->name, at)) != 0) {
      *held = 1;
      return 0;
    }
  }
  HANDLE h = OpenMutexW(SYNCHRONIZE | MUTEX_MODIFY_STATE, FALSE,
                        ObjectName(locks->name.c_str(), ".lock" + std::to_string(at)).c_str());
  if (h == nullptr) {
    // No such mutex: nobody has it open, let alone holds it.
    return GetLastError() == ERROR_FILE_NOT_FOUND ? 0 : luaipc::Win32Fail(err, "OpenMutexW");
  }
  DWORD r = WaitForSingleObject(h, 0);
  if (r == WAIT_OBJECT_0 || r == WAIT_ABANDONED) {
    ReleaseMutex(h);
  } else if (r == WAIT_TIMEOUT) {
    *held = 1;
  }
  CloseHandle(h);
  return 0;
}

int luaipc_bell_listen(const char* name, int, int lane, int fresh, luaipc_bell** out, luaipc_error* err) {
  if (TooLong(name)) return luaipc_fail(err, ENAMETOOLONG, "CreateEventW");
  std::string suffix = lane < 0 ? ".rx" : ".tx" + std::to_string(lane);
  HANDLE h = CreateEventW(nullptr, FALSE, FALSE, ObjectName(name, suffix).c_str());
  if (h == nullptr) return luaipc::Win32Fail(err, "CreateEventW");
  if (fresh && GetLastError() == ERROR_ALREADY_EXISTS) {
    // The receiver's doorbell is made with its section: one that exists is someone else's.
    CloseHandle(h);
    return luaipc::Win32Fail(err, "CreateEventW", ERROR_ALREADY_EXISTS);
  }
  auto* bell = new (std::nothrow) luaipc_bell{h};
  if (bell == nullptr) {
    CloseHandle(h);
    return luaipc_fail(err, ENOMEM, "CreateEventW");
  }
  *out = bell;
  return 0;
}

int luaipc_bell_connect(const char* name, int, int lane, luaipc_bell** out, luaipc_error* err) {
  if (TooLong(name)) return luaipc_fail(err, ENAMETOOLONG, "OpenEventW");
  std::string suffix = lane < 0 ? ".rx" : ".tx" + std::to_string(lane);
  HANDLE h = OpenEventW(EVENT_MODIFY_STATE, FALSE, ObjectName(name, suffix).c_str());
  if (h == nullptr) {
    DWORD code = GetLastError();
    if (code == ERROR_FILE_NOT_FOUND) return luaipc_fail(err, ECONNREFUSED, "OpenEventW");
    return luaipc::Win32Fail(err, "OpenEventW", code);
  }
  auto* bell = new (std::nothrow) luaipc_bell{h};
  if (bell == nullptr) {
    CloseHandle(h);
    return luaipc_fail(err, ENOMEM, "OpenEventW");
  }
  *out = bell;
  return 0;
}

void luaipc_bell_close(luaipc_bell* bell) {
  if (bell == nullptr) return;
  CloseHandle(bell->event);
  delete bell;
}

// An event does not know whether anyone waits on it: a dead receiver is seen through its lock
// (a full ring, or a send waiting for room) instead of here.
int luaipc_bell_ring(luaipc_bell* bell, luaipc_error* err) {
  return SetEvent(bell->event) ? 0 : luaipc::Win32Fail(err, "SetEvent");
}

int luaipc_bell_wait(luaipc_bell* bell, int64_t until, luaipc_error* err) {
  DWORD ms = INFINITE;
  if (until >= 0) {
    int64_t left = until - luaipc_now_ns();
    if (left <= 0) return luaipc_fail(err, ETIMEDOUT, "WaitForSingleObjectEx");
    int64_t rounded = (left + 999999) / 1000000;
    ms = rounded >= static_cast<int64_t>(INFINITE) ? INFINITE - 1 : static_cast<DWORD>(rounded);
  }
  // Alertable: a cancelled wait is woken by an APC (luaipc_thread_interrupt).
  DWORD r = WaitForSingleObjectEx(bell->event, ms, TRUE);
  if (r == WAIT_OBJECT_0) return 0;
  if (r == WAIT_TIMEOUT) return luaipc_fail(err, ETIMEDOUT, "WaitForSingleObjectEx");
  if (r == WAIT_IO_COMPLETION) return luaipc_fail(err, EINTR, "WaitForSingleObjectEx");
  return luaipc::Win32Fail(err, "WaitForSingleObjectEx");
}

int luaipc_bell_drain(luaipc_bell* bell, luaipc_error*) {
  WaitForSingleObject(bell->event, 0);
  return 0;
}

int luaipc_bell_pollable(luaipc_bell*, int*, luaipc_error* err) { return luaipc_fail(err, ENOTSUP, "fcntl"); }

int luaipc_bell_remove(const char*, int, int, luaipc_error*) { return 0; }

}  // extern "C"
