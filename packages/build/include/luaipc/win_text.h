// Text helpers the Windows backends share: Node and our C seams speak UTF-8, Win32's W
// functions UTF-16.
#pragma once

#ifdef _WIN32

#include <windows.h>

#include <string>

namespace luaipc {

// UTF-8 -> UTF-16 (empty for null or empty input).
inline std::wstring Wide(const char* s) {
  if (s == nullptr || *s == '\0') return std::wstring();
  int n = MultiByteToWideChar(CP_UTF8, 0, s, -1, nullptr, 0);
  if (n <= 1) return std::wstring();
  std::wstring out(static_cast<size_t>(n - 1), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, s, -1, &out[0], n);
  return out;
}

// A named kernel object (semaphore, section) in the session namespace, where LuaIPC and
// Python's multiprocessing look for it too.
inline std::wstring LocalObjectName(const char* name) { return L"Local\\" + Wide(name); }

}  // namespace luaipc

#endif
