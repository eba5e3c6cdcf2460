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

}  // namespace luaipc

#define LUAIPC_ADDON(modname, init)                                                  \
  static Napi::Object LuaipcAddonInit(Napi::Env env, Napi::Object exports) {         \
    luaipc::InitAddon(env, exports);                                                 \
    return init(env, exports);                                                       \
  }                                                                                  \
  NODE_API_MODULE(modname, LuaipcAddonInit)
