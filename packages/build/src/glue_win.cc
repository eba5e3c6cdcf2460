// Windows backend of glue_os.h.
#include "luaipc/glue_os.h"

#include <errno.h>
#include <process.h>
#include <windows.h>

#include <cstring>
#include <new>

namespace {

struct Start {
  void (*fn)(void*);
  void* arg;
  wchar_t name[16];
};

unsigned __stdcall Trampoline(void* p) {
  Start start = *static_cast<Start*>(p);
  delete static_cast<Start*>(p);
  // SetThreadDescription exists from Windows 10 1607 on: look it up.
  using SetDescription = HRESULT(WINAPI*)(HANDLE, PCWSTR);
  auto set = reinterpret_cast<SetDescription>(
      reinterpret_cast<void*>(GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "SetThreadDescription")));
  if (set != nullptr) set(GetCurrentThread(), start.name);
  start.fn(start.arg);
  return 0;
}

void CALLBACK WakeApc(ULONG_PTR) {}

}  // namespace

// The C runtime's _beginthreadex, whose failure is an errno: no Win32 code to report.
extern "C" int luaipc_thread_start(void (*fn)(void*), void* arg, const char* name, luaipc_error* err) {
  auto* start = new (std::nothrow) Start{fn, arg, {}};
  if (start == nullptr) return luaipc_fail(err, ENOMEM, "pthread_create");
  for (size_t i = 0; i + 1 < 16 && name[i] != '\0'; i++) start->name[i] = static_cast<wchar_t>(name[i]);
  uintptr_t h = _beginthreadex(nullptr, LUAIPC_THREAD_STACK, Trampoline, start,
                               STACK_SIZE_PARAM_IS_A_RESERVATION, nullptr);
  if (h == 0) {
    delete start;
    return luaipc_fail(err, EAGAIN, "pthread_create");
  }
  CloseHandle(reinterpret_cast<HANDLE>(h));
  return 0;
}

extern "C" luaipc_thread_id luaipc_thread_self(void) { return GetCurrentThreadId(); }

// An APC ends an alertable wait (WaitFor...Ex, SleepEx); CancelSynchronousIo ends a blocking
// synchronous I/O call (LockFileEx, ReadFile on a pipe), which APCs don't reach.
extern "C" int luaipc_thread_interrupt(luaipc_thread_id t) {
  HANDLE h = OpenThread(THREAD_SET_CONTEXT | THREAD_TERMINATE, FALSE, static_cast<DWORD>(t));
  if (h == nullptr) return luaipc_errno_from_win32(GetLastError());
  DWORD ok = QueueUserAPC(WakeApc, h, 0);
  CancelSynchronousIo(h);
  CloseHandle(h);
  return ok != 0 ? 0 : luaipc_errno_from_win32(GetLastError());
}

// Node's file descriptors live in the C runtime node.exe links statically, not in ucrtbase.dll
// (there every descriptor is EBADF, or another table's file) nor in the older runtime mingw-w64
// addons link. node.exe exports libuv's uv_get_osfhandle, which reads the right table and
// answers INVALID_HANDLE_VALUE for a descriptor that is not open.
extern "C" int luaipc_os_handle_from_fd(int fd, void** handle) {
  using GetOsfHandle = HANDLE (*)(int);
  static const GetOsfHandle get = [] {
    const wchar_t* const modules[] = {nullptr, L"libnode.dll", L"node.dll"};
    for (const wchar_t* module : modules) {
      HMODULE m = GetModuleHandleW(module);
      FARPROC f = m == nullptr ? nullptr : GetProcAddress(m, "uv_get_osfhandle");
      if (f != nullptr) return reinterpret_cast<GetOsfHandle>(reinterpret_cast<void*>(f));
    }
    return static_cast<GetOsfHandle>(nullptr);
  }();
  if (get == nullptr) return ENOSYS;
  HANDLE h = get(fd);
  // -2: a standard stream's descriptor with no handle behind it.
  if (h == INVALID_HANDLE_VALUE || h == nullptr || h == reinterpret_cast<HANDLE>(-2)) return EBADF;
  *handle = h;
  return 0;
}

extern "C" int64_t luaipc_now_ns(void) {
  static LARGE_INTEGER frequency = [] {
    LARGE_INTEGER f;
    QueryPerformanceFrequency(&f);
    return f;
  }();
  LARGE_INTEGER now;
  QueryPerformanceCounter(&now);
  int64_t seconds = now.QuadPart / frequency.QuadPart;
  int64_t rest = now.QuadPart % frequency.QuadPart;
  return seconds * 1000000000 + rest * 1000000000 / frequency.QuadPart;
}

extern "C" int luaipc_pin_module(const void* address) {
  HMODULE module;
  BOOL ok = GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
                               static_cast<LPCWSTR>(address), &module);
  return ok ? 0 : luaipc_errno_from_win32(GetLastError());
}

namespace {

int ErrnoOf(unsigned long code) {
  switch (code) {
    case ERROR_SUCCESS: return 0;
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_NAME:
    case ERROR_MOD_NOT_FOUND: return ENOENT;
    case ERROR_ALREADY_EXISTS:
    case ERROR_FILE_EXISTS: return EEXIST;
    case ERROR_ACCESS_DENIED:
    case ERROR_SHARING_VIOLATION:
    case ERROR_WRITE_PROTECT: return EACCES;
    case ERROR_LOCK_VIOLATION: return EAGAIN;
    case ERROR_INVALID_HANDLE: return EBADF;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_COMMITMENT_LIMIT: return ENOMEM;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL: return ENOSPC;
    case ERROR_TOO_MANY_OPEN_FILES: return EMFILE;
    case ERROR_FILENAME_EXCED_RANGE: return ENAMETOOLONG;
    case ERROR_INVALID_PARAMETER:
    case ERROR_MAPPED_ALIGNMENT:
    case ERROR_FILE_INVALID: return EINVAL;
    case ERROR_TOO_MANY_POSTS: return EOVERFLOW;
    case ERROR_OPERATION_ABORTED:
    case ERROR_CANCELLED: return ECANCELED;
    case ERROR_BROKEN_PIPE:
    case ERROR_NO_DATA: return EPIPE;
    case ERROR_BAD_EXE_FORMAT:
    case ERROR_EXE_MACHINE_TYPE_MISMATCH: return ENOEXEC;
    case ERROR_NOT_SUPPORTED:
    case ERROR_CALL_NOT_IMPLEMENTED: return ENOSYS;
    case ERROR_POSSIBLE_DEADLOCK: return EDEADLK;
    case ERROR_USER_MAPPED_FILE: return EBUSY;
    case ERROR_DIRECTORY:
    case ERROR_BAD_PATHNAME: return EINVAL;
    case WAIT_TIMEOUT: return ETIMEDOUT;
    default: return EIO;
  }
}

}  // namespace

extern "C" int luaipc_errno_from_win32(unsigned long code) { return ErrnoOf(code); }

extern "C" int luaipc_fail_win32(luaipc_error* e, unsigned long os_code, const char* syscall) {
  int err = ErrnoOf(os_code);
  if (e != nullptr) {
    e->code = err;
    e->syscall = syscall;
    e->subject = nullptr;
    e->os_code = os_code;
  }
  return err;
}
