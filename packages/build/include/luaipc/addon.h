// What every @luaipc addon's init does, written once:
//
//   Napi::Object Init(Napi::Env env, Napi::Object exports) {   // the package's own exports
//     exports.Set("Semaphore", Semaphore::Define(env));
//     return exports;
//   }
//   LUAIPC_ADDON(sem, Init)
//
// adds `setErrorFactory` (errors.h) and `atProcessExit` (env.h), and pins the addon in memory:
// Node unloads an addon when the last worker that loaded it ends, and a thread of ours may still
// be inside it then (a wait that is just noticing its cancellation).
#pragma once

#include <napi.h>

#include <string>

#include "luaipc/env.h"
#include "luaipc/errors.h"
#include "luaipc/glue_os.h"

namespace luaipc {

inline void InitAddon(Napi::Env env, Napi::Object exports) {
  static const bool pinned = luaipc_pin_module(reinterpret_cast<const void*>(&InitAddon)) == 0;
  (void)pinned;
  InitErrors(env, exports);
  ExportAtProcessExit(env, exports);
}

// exports.unlink(name): removes a named object through the backend's `remove(name, &error)` (0
// or an errno, the record filled), throwing its IpcError on `name`. The name arrives checked by
// the TS layer.
template <int (*remove)(const char*, luaipc_error*)>
void ExportUnlink(Napi::Env env, Napi::Object exports) {
  auto unlink = [](const Napi::CallbackInfo& info) -> Napi::Value {
    std::string name = info[0].As<Napi::String>().Utf8Value();
    luaipc_error error{};
    if (remove(name.c_str(), &error) != 0) throw IpcError(info.Env(), error, name.c_str());
    return info.Env().Undefined();
  };
  exports.Set("unlink", Napi::Function::New(env, unlink, "unlink"));
}

}  // namespace luaipc

#define LUAIPC_ADDON(modname, init)                                                  \
  static Napi::Object LuaipcAddonInit(Napi::Env env, Napi::Object exports) {         \
    luaipc::InitAddon(env, exports);                                                 \
    return init(env, exports);                                                       \
  }                                                                                  \
  NODE_API_MODULE(modname, LuaipcAddonInit)
