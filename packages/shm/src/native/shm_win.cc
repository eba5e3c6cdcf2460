// Windows backend of shm_os.h: a named section backed by the paging file
// (CreateFileMappingW(INVALID_HANDLE_VALUE)) in the session namespace, "Local\" + name, where
// LuaIPC and Python's multiprocessing.shared_memory look for it too. No header inside the
// segment: every process sees the same bytes. The name lives while any process holds a handle
// to the section; each mapping keeps one (luaipc_mapping_hold_section), so the segment goes when
// the last mapping of it does, and there is no name to remove.
#include "shm_os.h"

#include <errno.h>
#include <windows.h>

#include <string>

#include "luaipc/glue_os.h"
#include "luaipc/win_error.h"
#include "luaipc/win_text.h"
#include "luaipc/mapping_os.h"

namespace {

// Kernel object names are limited to MAX_PATH characters, the "Local\" prefix included.
constexpr size_t kNameMax = MAX_PATH - 6;


}  // namespace

extern "C" {

size_t luaipc_shm_name_max(void) { return kNameMax; }

int luaipc_shm_create(const char* name, size_t size, void** addr, luaipc_shm_id* id, luaipc_error* err) {
  id->dev = 0;
  id->ino = 0;
  uint64_t wide = size;
  HANDLE h = CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE, static_cast<DWORD>(wide >> 32),
                                static_cast<DWORD>(wide & 0xffffffffu), luaipc::LocalObjectName(name).c_str());
  if (h == nullptr) return luaipc::Win32Fail(err, "CreateFileMapping");
  if (GetLastError() == ERROR_ALREADY_EXISTS) {
    CloseHandle(h);
    return luaipc::Win32Fail(err, "CreateFileMapping", ERROR_ALREADY_EXISTS);
  }
  void* view = MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, size);
  if (view == nullptr) {
    int e = luaipc::Win32Fail(err, "MapViewOfFile");
    CloseHandle(h);
    return e;
  }
  luaipc_mapping_hold_section(view, h);
  *addr = view;
  return 0;
}

int luaipc_shm_attach(const char* name, size_t max_size, void** addr, size_t* size, luaipc_error* err) {
  HANDLE h = OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, luaipc::LocalObjectName(name).c_str());
  if (h == nullptr) return luaipc::Win32Fail(err, "OpenFileMapping");
  void* view = MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, 0);
  if (view == nullptr) {
    int e = luaipc::Win32Fail(err, "MapViewOfFile");
    CloseHandle(h);
    return e;
  }
  luaipc_mapping_hold_section(view, h);
  // The size Windows reports is the view's, rounded up to whole pages (as LuaIPC and Python
  // see it too): parties agree on the real size themselves, as LuaIPC's reference says.
  MEMORY_BASIC_INFORMATION info;
  if (VirtualQuery(view, &info, sizeof info) == 0) {
    int e = luaipc::Win32Fail(err, "VirtualQuery");
    luaipc_mapping_unmap_view(view);
    return e;
  }
  if (info.RegionSize > max_size) {
    luaipc_mapping_unmap_view(view);
    return luaipc_fail(err, EFBIG, "MapViewOfFile");
  }
  *addr = view;
  *size = info.RegionSize;
  return 0;
}

int luaipc_shm_unmap(void* addr, size_t) { return luaipc_mapping_unmap_view(addr); }

// Nothing to remove: reports whether the name exists (ENOENT when not), so that code written
// for POSIX runs unchanged.
int luaipc_shm_unlink(const char* name, luaipc_error* err) {
  HANDLE h = OpenFileMappingW(FILE_MAP_READ, FALSE, luaipc::LocalObjectName(name).c_str());
  if (h == nullptr) return luaipc::Win32Fail(err, "shm_unlink");
  CloseHandle(h);
  return 0;
}

int luaipc_shm_same_object(const char* name, const luaipc_shm_id*, int* same) {
  HANDLE h = OpenFileMappingW(FILE_MAP_READ, FALSE, luaipc::LocalObjectName(name).c_str());
  *same = h != nullptr ? 1 : 0;
  if (h != nullptr) CloseHandle(h);
  return 0;
}

int luaipc_shm_unlink_if_same(const char*, const luaipc_shm_id*) { return 0; }

}  // extern "C"
