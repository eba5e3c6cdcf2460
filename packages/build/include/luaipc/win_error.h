// How a Windows backend fails, written once (every *_win.cc includes this instead of defining
// its own way).
//
//   if (h == nullptr) return luaipc::Win32Fail(err, "CreateSemaphoreW");   // GetLastError()
//   return luaipc::Win32Fail(err, "LockFileEx", code);                     // a code in hand
//
// The record (glue_os.h's luaipc_error) carries the errno, the call and the Win32 code, which
// JavaScript sees as err.winerror.
#pragma once

#ifdef _WIN32

#include <windows.h>

#include "luaipc/glue_os.h"

namespace luaipc {

inline int Win32Fail(luaipc_error* err, const char* syscall, DWORD code = GetLastError()) {
  return luaipc_fail_win32(err, code, syscall);
}

}  // namespace luaipc

#endif
