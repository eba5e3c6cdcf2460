// Windows backend of filelock_os.h: LockFileEx / UnlockFileEx on the handle behind a Node file
// descriptor (HandleOf).
//
// What Windows gives, and what callers see of it (README, "Windows"):
// - A lock belongs to the open file (the kernel's file object) together with the process: two
//   opens of one file exclude each other even in one process, a handle duplicated within the
//   process (DuplicateHandle) is the same owner, a child that inherits a handle is not. That is
//   the shape of Linux's open-file-description locks, so luaipc_flock_ofd() reports 1 and
//   luaipc_flock_dup() hands out such duplicates.
// - Locks are mandatory: other handles' reads and writes into a locked range fail.
// - Nothing converts. An exclusive request conflicts with every overlapping lock, the owner's
//   own included; a shared request is granted over the owner's own exclusive lock and stacks on
//   it. Each lock is released separately, and only by naming its exact range, so unlock()
//   repeats the release until nothing is left on that range, whatever the modes.
// - A blocking LockFileEx on a synchronous handle (all of Node's) has no timeout: it returns
//   ERROR_OPERATION_ABORTED when the glue's interruption cancels it (CancelSynchronousIo), which
//   is the EINTR binding.cc's waits expect. Wine's blocking lock waits without any way out, so
//   under Wine the wait polls instead (see WaitPolling).
#include "filelock_os.h"

#include <errno.h>
#include <windows.h>

#include <cstdint>

#include "luaipc/glue_os.h"
#include "luaipc/win_error.h"

namespace {

// Every failure is reported as fcntl's, as on POSIX (the README's error table); the Win32 code
// rides along as os_code.
constexpr const char* kCall = "fcntl";

int Fail(luaipc_error* err, DWORD code = GetLastError()) { return luaipc::Win32Fail(err, kCall, code); }

// The HANDLE behind a Node descriptor (luaipc_os_handle_from_fd), or a duplicate's own handle.
int HandleOf(luaipc_flock_fd fd, HANDLE* h, luaipc_error* err) {
  if (fd.dup) {
    *h = reinterpret_cast<HANDLE>(fd.os);
    return 0;
  }
  void* handle = nullptr;
  int e = luaipc_os_handle_from_fd(static_cast<int>(fd.os), &handle);
  if (e != 0) return luaipc_fail(err, e, kCall);
  *h = static_cast<HANDLE>(handle);
  return 0;
}

// 1 when two handles are one kernel object, 0 when not, -1 when the system can't say
// (CompareObjectHandles is Windows 10's).
int SameObject(HANDLE a, HANDLE b) {
  using Compare = BOOL(WINAPI*)(HANDLE, HANDLE);
  static const Compare compare = [] {
    HMODULE kernelbase = GetModuleHandleW(L"kernelbase.dll");
    FARPROC f = kernelbase == nullptr ? nullptr : GetProcAddress(kernelbase, "CompareObjectHandles");
    return reinterpret_cast<Compare>(reinterpret_cast<void*>(f));
  }();
  if (compare == nullptr) return -1;
  return compare(a, b) ? 1 : 0;
}

// Windows has no "to the end and beyond": len 0 is the largest range from start, [start, 2^64)
// (from 0 it stops one byte short). Such a range never wraps, which Windows and Wine refuse.
struct Span {
  DWORD low;
  DWORD high;
};

Span SpanOf(int64_t start, int64_t len) {
  uint64_t n = len > 0 ? static_cast<uint64_t>(len) : 0 - static_cast<uint64_t>(start);
  if (n == 0) n = UINT64_MAX;
  return Span{static_cast<DWORD>(n & 0xffffffffu), static_cast<DWORD>(n >> 32)};
}

OVERLAPPED At(int64_t start) {
  OVERLAPPED ov{};
  uint64_t offset = static_cast<uint64_t>(start);
  ov.Offset = static_cast<DWORD>(offset & 0xffffffffu);
  ov.OffsetHigh = static_cast<DWORD>(offset >> 32);
  return ov;
}

DWORD LockFlags(int exclusive) { return exclusive ? LOCKFILE_EXCLUSIVE_LOCK : 0; }

// One non-blocking attempt: 0, EAGAIN when another lock conflicts, or the error.
int TryOnce(HANDLE h, int exclusive, int64_t start, int64_t len, luaipc_error* err) {
  OVERLAPPED ov = At(start);
  Span span = SpanOf(start, len);
  if (LockFileEx(h, LockFlags(exclusive) | LOCKFILE_FAIL_IMMEDIATELY, 0, span.low, span.high, &ov)) return 0;
  DWORD code = GetLastError();
  if (code == ERROR_IO_PENDING) {
    // Only a handle opened for overlapped I/O (never Node's) gets here; the attempt ends at once
    // but must be collected before `ov` goes out of scope.
    DWORD unused;
    if (GetOverlappedResult(h, &ov, &unused, TRUE)) return 0;
    code = GetLastError();
  }
  return Fail(err, code);  // ERROR_LOCK_VIOLATION is EAGAIN
}

// Under Wine, LockFileEx without LOCKFILE_FAIL_IMMEDIATELY sleeps where neither an APC nor
// CancelSynchronousIo reaches it, so no timeout or cancellation could end it.
bool BlockingLockIsStuck() {
  static const bool wine = [] {
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    return ntdll != nullptr && GetProcAddress(ntdll, "wine_get_version") != nullptr;
  }();
  return wine;
}

// The wait where the blocking call can't be interrupted: attempts separated by alertable sleeps
// growing to kPollMaxMs, so the glue's interruption (an APC) ends a sleep as EINTR.
constexpr DWORD kPollMaxMs = 50;

int WaitPolling(HANDLE h, int exclusive, int64_t start, int64_t len, luaipc_error* err) {
  DWORD pause = 1;
  for (;;) {
    int e = TryOnce(h, exclusive, start, len, err);
    if (e != EAGAIN) return e;
    if (SleepEx(pause, TRUE) == WAIT_IO_COMPLETION) return luaipc_fail(err, EINTR, kCall);
    if (pause < kPollMaxMs) pause = pause * 2 < kPollMaxMs ? pause * 2 : kPollMaxMs;
  }
}

int WaitBlocking(HANDLE h, int exclusive, int64_t start, int64_t len, luaipc_error* error) {
  OVERLAPPED ov = At(start);
  // The event matters only for a handle opened for overlapped I/O, where the call returns at
  // once and the wait happens here, alertably.
  ov.hEvent = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  if (ov.hEvent == nullptr) return Fail(error);
  Span span = SpanOf(start, len);
  int err = 0;
  if (!LockFileEx(h, LockFlags(exclusive), 0, span.low, span.high, &ov)) {
    DWORD code = GetLastError();
    if (code == ERROR_IO_PENDING) {
      DWORD unused;
      if (WaitForSingleObjectEx(ov.hEvent, INFINITE, TRUE) == WAIT_IO_COMPLETION) CancelIoEx(h, &ov);
      code = GetOverlappedResult(h, &ov, &unused, TRUE) ? ERROR_SUCCESS : GetLastError();
    }
    if (code == ERROR_OPERATION_ABORTED) {
      err = luaipc_fail(error, EINTR, kCall);
    } else if (code != ERROR_SUCCESS) {
      err = Fail(error, code);
    }
  }
  CloseHandle(ov.hEvent);
  return err;
}

}  // namespace

extern "C" {

int luaipc_flock_ofd(void) { return 1; }

}  // extern "C"

namespace {

int CheckHandle(HANDLE h, luaipc_flock_file* file, luaipc_error* err) {
  file->dev = 0;
  file->ino = 0;
  switch (GetFileType(h)) {
    case FILE_TYPE_DISK: break;
    case FILE_TYPE_PIPE: file->kind = LUAIPC_FLOCK_PIPE_OR_SOCKET; return luaipc_fail(err, EBADF, kCall);
    case FILE_TYPE_CHAR: file->kind = LUAIPC_FLOCK_CHAR_DEVICE; return luaipc_fail(err, EBADF, kCall);
    default: file->kind = LUAIPC_FLOCK_OTHER; return luaipc_fail(err, EBADF, kCall);
  }
  BY_HANDLE_FILE_INFORMATION info;
  if (!GetFileInformationByHandle(h, &info)) return Fail(err);
  file->dev = info.dwVolumeSerialNumber;
  file->ino = (static_cast<uint64_t>(info.nFileIndexHigh) << 32) | info.nFileIndexLow;
  file->kind = info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY ? LUAIPC_FLOCK_DIRECTORY : LUAIPC_FLOCK_REGULAR;
  return file->kind == LUAIPC_FLOCK_REGULAR ? 0 : luaipc_fail(err, EBADF, kCall);
}

}  // namespace

extern "C" {

int luaipc_flock_check(int fd, luaipc_flock_file* file, luaipc_error* err) {
  HANDLE h;
  int e = HandleOf(luaipc_flock_user(fd), &h, err);
  if (e != 0) return e;
  return CheckHandle(h, file, err);
}

int luaipc_flock_is(int fd, const luaipc_flock_file* file, const luaipc_flock_fd* dup) {
  HANDLE h;
  if (HandleOf(luaipc_flock_user(fd), &h, nullptr) != 0) return 0;
  if (dup != nullptr) {
    // One kernel object: the duplicate's. No I/O on the handle, so this never queues behind a
    // wait pending on the same file object.
    int same = SameObject(h, reinterpret_cast<HANDLE>(dup->os));
    if (same >= 0) return same;
  }
  luaipc_flock_file now{};
  int err = luaipc_flock_check(fd, &now, nullptr);
  return err == 0 && now.dev == file->dev && now.ino == file->ino;
}

int luaipc_flock_describe(int fd, luaipc_flock_about* about) {
  about->file.kind = LUAIPC_FLOCK_REGULAR;
  int err = luaipc_flock_check(fd, &about->file, nullptr);
  if (err != 0 && !(err == EBADF && about->file.kind != LUAIPC_FLOCK_REGULAR)) return err;
  // LockFileEx takes either mode with read or write access (EACCES with neither): access never
  // explains an EBADF here.
  about->access = -1;
  about->path[0] = '\0';
  HANDLE h;
  if (HandleOf(luaipc_flock_user(fd), &h, nullptr) != 0) return 0;
  wchar_t wide[LUAIPC_FLOCK_PATH_MAX];
  DWORD n = GetFinalPathNameByHandleW(h, wide, LUAIPC_FLOCK_PATH_MAX, FILE_NAME_NORMALIZED);
  if (n == 0 || n >= LUAIPC_FLOCK_PATH_MAX) return 0;
  // "\\?\C:\dir\file" is "C:\dir\file" as the user wrote it; UNC paths keep their "\\?\UNC\".
  const wchar_t* path = wide;
  if (n > 6 && wcsncmp(wide, L"\\\\?\\", 4) == 0 && wide[5] == L':') path = wide + 4;
  int bytes = WideCharToMultiByte(CP_UTF8, 0, path, -1, about->path, LUAIPC_FLOCK_PATH_MAX, nullptr, nullptr);
  if (bytes == 0) about->path[0] = '\0';
  return 0;
}

int luaipc_flock_try(luaipc_flock_fd fd, int exclusive, int64_t start, int64_t len, luaipc_error* err) {
  HANDLE h;
  int e = HandleOf(fd, &h, err);
  if (e != 0) return e;
  return TryOnce(h, exclusive, start, len, err);
}

int luaipc_flock_wait(luaipc_flock_fd fd, int exclusive, int64_t start, int64_t len, luaipc_error* err) {
  HANDLE h;
  int e = HandleOf(fd, &h, err);
  if (e != 0) return e;
  return BlockingLockIsStuck() ? WaitPolling(h, exclusive, start, len, err)
                               : WaitBlocking(h, exclusive, start, len, err);
}

int luaipc_flock_unlock(luaipc_flock_fd fd, int64_t start, int64_t len, luaipc_error* err) {
  HANDLE h;
  int e = HandleOf(fd, &h, err);
  if (e != 0) return e;
  Span span = SpanOf(start, len);
  // Until nothing is left on the range: a shared lock stacked on an exclusive one (or on
  // another shared one) is a lock of its own.
  for (;;) {
    OVERLAPPED ov = At(start);
    if (UnlockFileEx(h, 0, span.low, span.high, &ov)) continue;
    DWORD code = GetLastError();
    // Nothing (more) locked on exactly this range; Wine says ERROR_LOCK_VIOLATION for it.
    if (code == ERROR_NOT_LOCKED || code == ERROR_LOCK_VIOLATION) return 0;
    // Nothing can be locked on what is not a regular file, so nothing is to unlock there.
    luaipc_flock_file unused;
    if (CheckHandle(h, &unused, nullptr) == EBADF) return 0;
    return Fail(err, code);
  }
}

int luaipc_flock_dup(int fd, luaipc_flock_fd* out, luaipc_error* err) {
  HANDLE h;
  int e = HandleOf(luaipc_flock_user(fd), &h, err);
  if (e != 0) return e;
  HANDLE copy;
  HANDLE self = GetCurrentProcess();
  if (!DuplicateHandle(self, h, self, &copy, 0, FALSE, DUPLICATE_SAME_ACCESS)) return Fail(err);
  out->os = reinterpret_cast<intptr_t>(copy);
  out->dup = 1;
  return 0;
}

void luaipc_flock_close_dup(luaipc_flock_fd dup) {
  if (dup.dup) CloseHandle(reinterpret_cast<HANDLE>(dup.os));
}

}  // extern "C"
