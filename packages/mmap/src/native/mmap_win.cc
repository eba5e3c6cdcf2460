// Windows backend of mmap_os.h: CreateFileMappingW over the file, MapViewOfFile of the range.
// 'r' maps copy-on-write (PAGE_WRITECOPY / FILE_MAP_COPY): as on POSIX, bytes written into the
// view stay in this process. The section handle is kept for as long as the view is mapped
// (luaipc_mapping_hold_section), as shm does; the file handle is not needed once the section
// exists. Windows refuses to shrink a file while a view of it is mapped, so the view never loses
// pages under us.
#include "mmap_os.h"

#include <errno.h>
#include <windows.h>

#include <string>

#include "luaipc/glue_os.h"
#include "luaipc/win_error.h"
#include "luaipc/win_text.h"
#include "luaipc/mapping_os.h"

namespace {


}  // namespace

extern "C" {

size_t luaipc_mmap_pagesize(void) {
  SYSTEM_INFO info;
  GetSystemInfo(&info);
  return info.dwAllocationGranularity;
}

int luaipc_mmap_open(const char* path, int mode, uint64_t offset, uint64_t size, uint64_t max_size,
                     void** addr, size_t* mapped, luaipc_error* error) {
  std::wstring wide = luaipc::Wide(path);
  // CreateFileW refuses a directory with "access denied"; POSIX says what it is.
  DWORD attributes = GetFileAttributesW(wide.c_str());
  if (attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY) != 0) {
    return luaipc_fail(error, EISDIR, "open");
  }
  DWORD access = mode == LUAIPC_MMAP_R ? GENERIC_READ : GENERIC_READ | GENERIC_WRITE;
  HANDLE file = CreateFileW(wide.c_str(), access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                            nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (file == INVALID_HANDLE_VALUE) return luaipc::Win32Fail(error, "CreateFile");

  int err = 0;
  uint64_t len = size;
  LARGE_INTEGER length;
  if (GetFileType(file) != FILE_TYPE_DISK) {
    err = luaipc_fail(error, ENODEV, "mmap");  // NUL, consoles, pipes: nothing to map
  } else if (!GetFileSizeEx(file, &length)) {
    err = luaipc::Win32Fail(error, "GetFileSizeEx");
  } else {
    // The whole range must be in the file, as on POSIX (and a section larger than the file
    // would grow it).
    uint64_t end = static_cast<uint64_t>(length.QuadPart);
    if (offset >= end) {
      err = EINVAL;
    } else if (size == 0) {
      len = end - offset;
      if (len > max_size || len > static_cast<uint64_t>(SIZE_MAX)) err = EFBIG;
    } else if (size > end - offset) {
      err = EINVAL;
    }
    if (err != 0) luaipc_fail(error, err, "mmap");
  }
  HANDLE section = nullptr;
  if (err == 0) {
    section = CreateFileMappingW(file, nullptr, mode == LUAIPC_MMAP_R ? PAGE_WRITECOPY : PAGE_READWRITE, 0, 0,
                                 nullptr);
    if (section == nullptr) err = luaipc::Win32Fail(error, "CreateFileMapping");
  }
  CloseHandle(file);
  if (err != 0) return err;

  void* view = MapViewOfFile(section, mode == LUAIPC_MMAP_R ? FILE_MAP_COPY : FILE_MAP_WRITE,
                             static_cast<DWORD>(offset >> 32), static_cast<DWORD>(offset & 0xffffffffu),
                             static_cast<SIZE_T>(len));
  if (view == nullptr) {
    err = luaipc::Win32Fail(error, "MapViewOfFile");
    CloseHandle(section);
    return err;
  }
  luaipc_mapping_hold_section(view, section);
  *addr = view;
  *mapped = static_cast<size_t>(len);
  return 0;
}

int luaipc_mmap_flush(void* addr, size_t size, luaipc_error* error) {
  return FlushViewOfFile(addr, size) ? 0 : luaipc::Win32Fail(error, "FlushViewOfFile");
}

int luaipc_mmap_advise(void* addr, size_t size, int advice, const char** syscall) {
  *syscall = "VirtualUnlock";
  if (advice != LUAIPC_MMAP_PASSED) return 0;
  // Unlocking pages that are not locked takes them out of the working set; it then reports
  // ERROR_NOT_LOCKED, which is the expected outcome.
  if (VirtualUnlock(addr, size) || GetLastError() == ERROR_NOT_LOCKED) return 0;
  return luaipc::LastError();
}

}  // extern "C"
