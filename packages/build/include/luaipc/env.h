// Per-environment state shared by the luaipc glue headers.
//
// Every addon gets its own napi_env per Node environment (main thread, each worker), so this
// state lives in the env's instance data: nothing is process-global, which is what makes the
// addons context-aware.
#pragma once

#include <napi.h>

#include <unordered_set>
#include <utility>
#include <vector>

namespace luaipc {

// Implemented by handle.h's Handle<T>; the env keeps the open ones so teardown can close them.
class HandleBase {
 public:
  virtual ~HandleBase() = default;
  // Releases OS resources without running JavaScript (the env is going away).
  virtual void CloseForTeardown() noexcept = 0;
  // process.exit() skips env teardown: undo what would outlive the process (a creator removes
  // its name). The process is ending, so nothing else needs releasing.
  virtual void AtProcessExit() noexcept {}
};

struct AddonData {
  Napi::FunctionReference errorFactory;
  std::unordered_set<HandleBase*> handles;
  // Run at teardown once every handle is closed: state that handles use while they close.
  std::vector<std::pair<void (*)(void*), void*>> afterHandles;
  bool tearingDown = false;
};

namespace detail {

inline void TeardownHook(void* arg) {
  auto* data = static_cast<AddonData*>(arg);
  data->tearingDown = true;
  // Copy: closing may unregister handles.
  std::vector<HandleBase*> open(data->handles.begin(), data->handles.end());
  for (HandleBase* h : open) h->CloseForTeardown();
  data->handles.clear();
  for (auto& [fn, fnArg] : data->afterHandles) fn(fnArg);
  data->afterHandles.clear();
}

}  // namespace detail

// Node runs this hook before the env's reference finalizers and before the instance data is
// deleted (both happen in a hook registered before the addon's init, and hooks run last-in,
// first-out), so handles can still reach AddonData when they are finalized afterwards.
inline AddonData* GetAddonData(Napi::Env env) {
  auto* data = env.GetInstanceData<AddonData>();
  if (data == nullptr) {
    data = new AddonData();
    env.SetInstanceData(data);
    NAPI_THROW_IF_FAILED(env, napi_add_env_cleanup_hook(env, detail::TeardownHook, data), nullptr);
  }
  return data;
}

// False once the env is being torn down (a worker's terminate(), or process.exit() stopping the
// workers): JavaScript can no longer run there. A Sync wait on a worker's JS thread asks this
// between slices, so terminate() and exit end it instead of waiting for it. Cheap: Node-API
// checks the env's stopping flag (atomic, set from the terminating thread) before anything else.
class JsProbe {
 public:
  explicit JsProbe(Napi::Env env) : env_(env) {
    napi_value obj;
    if (napi_create_object(env, &obj) == napi_ok) obj_ = obj;
    napi_get_undefined(env, &undefined_);
  }
  bool CanRunJs() const {
    if (obj_ == nullptr) return true;
    return napi_set_named_property(env_, obj_, "probe", undefined_) == napi_ok;
  }

 private:
  napi_env env_;
  napi_value obj_ = nullptr;
  napi_value undefined_ = nullptr;
};

// Adds `exports.atProcessExit()`, which @luaipc/native/load calls from process.on('exit').
inline void ExportAtProcessExit(Napi::Env env, Napi::Object exports) {
  auto atExit = [](const Napi::CallbackInfo& info) {
    for (HandleBase* h : GetAddonData(info.Env())->handles) h->AtProcessExit();
  };
  exports.Set("atProcessExit", Napi::Function::New(env, atExit, "atProcessExit"));
}

}  // namespace luaipc
