// Windows backend of sem_os.h: named semaphores (CreateSemaphoreW) in the session namespace
// ("Local\" + name), which is where LuaIPC and Python processes on Windows look too.
#include "sem_os.h"

#include <errno.h>
#include <windows.h>

#include <new>
#include <string>

#include "luaipc/glue_os.h"
#include "luaipc/win_error.h"
#include "luaipc/win_text.h"

struct luaipc_sem {
  HANDLE handle;
};

namespace {

// Kernel object names are limited to MAX_PATH characters, the "Local\" prefix included.
constexpr size_t kNameMax = MAX_PATH - 6;

}  // namespace

extern "C" {

int64_t luaipc_sem_value_max(void) { return 0x7fffffff; }

size_t luaipc_sem_name_max(void) { return kNameMax; }

int luaipc_sem_open(const char* name, unsigned initial, int create, luaipc_sem** out, luaipc_error* err) {
  std::wstring osName = luaipc::LocalObjectName(name);
  HANDLE h;
  if (create) {
    h = CreateSemaphoreW(nullptr, static_cast<LONG>(initial), 0x7fffffff, osName.c_str());
    if (h != nullptr && GetLastError() == ERROR_ALREADY_EXISTS) {
      CloseHandle(h);
      return luaipc::Win32Fail(err, "sem_open", ERROR_ALREADY_EXISTS);
    }
  } else {
    h = OpenSemaphoreW(SEMAPHORE_MODIFY_STATE | SYNCHRONIZE, FALSE, osName.c_str());
  }
  if (h == nullptr) return luaipc::Win32Fail(err, "sem_open");
  auto* sem = new (std::nothrow) luaipc_sem{h};
  if (sem == nullptr) {
    CloseHandle(h);
    return luaipc_fail(err, ENOMEM, "sem_open");
  }
  *out = sem;
  return 0;
}

void luaipc_sem_close(luaipc_sem* sem) {
  CloseHandle(sem->handle);
  delete sem;
}

// A Windows semaphore has no name to remove: it goes away with its last handle. unlink only
// reports whether the name exists (ENOENT when not), so code written for POSIX runs unchanged.
int luaipc_sem_unlink(const char* name, luaipc_error* err) {
  HANDLE h = OpenSemaphoreW(SYNCHRONIZE, FALSE, luaipc::LocalObjectName(name).c_str());
  if (h == nullptr) return luaipc::Win32Fail(err, "sem_unlink");
  CloseHandle(h);
  return 0;
}

int luaipc_sem_unlink_if_created(luaipc_sem*) { return 0; }

int luaipc_sem_post(luaipc_sem* sem, luaipc_error* err) {
  return ReleaseSemaphore(sem->handle, 1, nullptr) ? 0 : luaipc::Win32Fail(err, "sem_post");
}

int luaipc_sem_trywait(luaipc_sem* sem, luaipc_error* err) {
  DWORD rc = WaitForSingleObject(sem->handle, 0);
  if (rc == WAIT_OBJECT_0) return 0;
  if (rc == WAIT_TIMEOUT) return luaipc_fail(err, EAGAIN, "sem_trywait");
  return luaipc::Win32Fail(err, "sem_trywait");
}

int luaipc_sem_wait(luaipc_sem* sem, int64_t deadline_ns, luaipc_error* err) {
  DWORD ms = INFINITE;
  if (deadline_ns >= 0) {
    int64_t left = deadline_ns - luaipc_now_ns();
    // Round up: a wait must not end before its deadline.
    ms = left <= 0 ? 0 : static_cast<DWORD>((left + 999999) / 1000000);
    if (ms == INFINITE) ms = INFINITE - 1;
  }
  // Alertable: luaipc_thread_interrupt queues an APC, which ends the wait (EINTR).
  DWORD rc = WaitForSingleObjectEx(sem->handle, ms, TRUE);
  if (rc == WAIT_OBJECT_0) return 0;
  if (rc == WAIT_TIMEOUT) return luaipc_fail(err, ETIMEDOUT, "sem_wait");
  if (rc == WAIT_IO_COMPLETION) return luaipc_fail(err, EINTR, "sem_wait");
  return luaipc::Win32Fail(err, "sem_wait");
}

}  // extern "C"
