// OS failures as the package's IpcError, built by a factory the TS loader installs per env.
//
//   exports: luaipc::InitErrors(env, exports);          // adds exports.setErrorFactory(fn)
//   throw:   throw luaipc::IpcError(env, errno, "sem_open", name);   // name/file -> err.path
#pragma once

#include <napi.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "luaipc/env.h"
#include "luaipc/glue_os.h"

namespace luaipc {

namespace detail {

// Only for the fallback path (no factory installed): the factory knows every code.
inline const char* ErrnoCode(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case EFBIG: return "EFBIG";
    case ENOSPC: return "ENOSPC";
    case ERANGE: return "ERANGE";
    case EDEADLK: return "EDEADLK";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    case EOVERFLOW: return "EOVERFLOW";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ECANCELED: return "ECANCELED";
    default: return nullptr;
  }
}

inline Napi::Value SetErrorFactory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) {
    NAPI_THROW(Napi::TypeError::New(env, "setErrorFactory expects a function"), env.Undefined());
  }
  AddonData* data = GetAddonData(env);
  data->errorFactory = Napi::Persistent(info[0].As<Napi::Function>());
  return env.Undefined();
}

inline Napi::Value OptionalString(Napi::Env env, const char* s) {
  return s == nullptr ? env.Undefined() : Napi::String::New(env, s);
}

}  // namespace detail

inline void InitErrors(Napi::Env env, Napi::Object exports) {
  GetAddonData(env);
  exports.Set("setErrorFactory", Napi::Function::New(env, detail::SetErrorFactory, "setErrorFactory"));
}

// Builds (does not throw) the error for OS error `err` (positive errno) from `syscall` on
// `path`: the file, or the shm/sem name as the user gave it. `description`, when given, replaces
// the standard description of the code in the message. JS thread only.
inline Napi::Error IpcError(Napi::Env env, int err, const char* syscall, const char* path = nullptr,
                            const char* description = nullptr) {
  AddonData* data = GetAddonData(env);
#ifdef _WIN32
  // The Win32 code behind `err`, when a backend mapped one on this thread (glue_os.h).
  unsigned long winerror = luaipc_take_win32_error(err);
  Napi::Value raw = winerror != 0 ? Napi::Number::New(env, static_cast<double>(winerror)) : env.Undefined();
#else
  Napi::Value raw = env.Undefined();
#endif
  if (!data->errorFactory.IsEmpty()) {
    Napi::Value made = data->errorFactory.Call({Napi::Number::New(env, err), Napi::String::New(env, syscall),
                                                detail::OptionalString(env, path), raw,
                                                detail::OptionalString(env, description)});
    if (made.IsObject()) return Napi::Error(env, made);
  }
  // No factory (an addon used without its loader): a plain Error of the same shape.
  const char* known = detail::ErrnoCode(err);
  std::string code = known != nullptr ? known : "E" + std::to_string(err);
  std::string message = code + ": " + (description != nullptr ? description : std::strerror(err)) + ", " + syscall;
  if (path != nullptr) message += std::string(" '") + path + "'";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", Napi::String::New(env, syscall));
  if (path != nullptr) error.Set("path", Napi::String::New(env, path));
  return error;
}

// The one use-after-close error (the TS layers build the same with filelike's closedError):
// an Error with code ERR_IPC_CLOSED and the message "attempt to use a closed <what>".
inline Napi::Error ClosedError(Napi::Env env, const char* what) {
  Napi::Error error = Napi::Error::New(env, std::string("attempt to use a closed ") + what);
  error.Set("code", Napi::String::New(env, "ERR_IPC_CLOSED"));
  return error;
}

}  // namespace luaipc
