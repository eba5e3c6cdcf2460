// OS failures as the package's IpcError, built by a factory the TS loader installs per env.
//
//   exports: luaipc::InitErrors(env, exports);          // adds exports.setErrorFactory(fn)
//   throw:   luaipc_error e; if (luaipc_sem_open(..., &e) != 0) throw luaipc::IpcError(env, e, name);
//            throw luaipc::IpcError(env, ECANCELED, "sem_wait", name);  // an errno of our own
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

namespace detail {

// The one place an OS failure becomes a JavaScript error. `osCode`: the OS's own code (Win32),
// 0 for none. JS thread only.
inline Napi::Error MakeIpcError(Napi::Env env, int err, const char* syscall, const char* path,
                                const char* description, unsigned long osCode) {
  AddonData* data = GetAddonData(env);
  Napi::Value raw = osCode != 0 ? Napi::Number::New(env, static_cast<double>(osCode)) : env.Undefined();
  if (!data->errorFactory.IsEmpty()) {
    Napi::Value made = data->errorFactory.Call({Napi::Number::New(env, err), Napi::String::New(env, syscall),
                                                OptionalString(env, path), raw, OptionalString(env, description)});
    if (made.IsObject()) return Napi::Error(env, made);
  }
  // No factory (an addon used without its loader): a plain Error of the same shape.
  const char* known = ErrnoCode(err);
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

}  // namespace detail

// Builds (does not throw) the error a seam reported in `e` (glue_os.h): its code, call and OS
// code, on `path` (the file, or the shm/sem name as the user gave it) unless the seam named a
// subject of its own. `description`, when given, replaces the standard description of the code
// in the message. JS thread only.
inline Napi::Error IpcError(Napi::Env env, const luaipc_error& e, const char* path = nullptr,
                            const char* description = nullptr) {
  return detail::MakeIpcError(env, e.code, e.syscall != nullptr ? e.syscall : "unknown",
                              e.subject != nullptr ? e.subject : path, description, e.os_code);
}

// The same for an errno of our own, which no OS call reported (a cancelled wait, a mapping
// refused for its size): no OS code.
inline Napi::Error IpcError(Napi::Env env, int err, const char* syscall, const char* path = nullptr,
                            const char* description = nullptr) {
  return detail::MakeIpcError(env, err, syscall, path, description, 0);
}

// The one use-after-close error (the TS layers build the same with filelike's closedError):
// an Error with code ERR_IPC_CLOSED and the message "attempt to use a closed <what>".
inline Napi::Error ClosedError(Napi::Env env, const char* what) {
  Napi::Error error = Napi::Error::New(env, std::string("attempt to use a closed ") + what);
  error.Set("code", Napi::String::New(env, "ERR_IPC_CLOSED"));
  return error;
}

}  // namespace luaipc
