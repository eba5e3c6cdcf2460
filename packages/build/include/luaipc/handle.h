// Lifetime guard for ObjectWrap-based handles: closed check, idempotent close, close on GC and
// at env teardown.
//
//   class Sem : public luaipc::Handle<Sem> {
//     static constexpr const char* kWhat = "semaphore";   // "attempt to use a closed semaphore"
//     void OnClose(Napi::Env env, luaipc::CloseKind kind);   // release OS resources, once
//     void Finalize(Napi::Env env) override { CloseOnFinalize(env); }   // required
//   };
//   // in a method:  EnsureOpen(env);   // throws luaipc::ClosedError (ERR_IPC_CLOSED) after close
//   // in DefineClass (the non-template overloads: these are members of the base):
//   //   InstanceMethod("close", &Sem::Close), InstanceAccessor("closed", &Sem::IsClosed, nullptr)
//
// node-addon-api only calls a Finalize that T declares itself (it detects it on T), hence the
// one-line override above; the constructor static_asserts that it is there.
//
// OnClose runs exactly once, from whichever comes first: close() (kind Explicit: JavaScript
// may run, e.g. to reject pending waits), the GC finalizer (kind Finalize) or env teardown
// (kind Teardown); for the last two it must not call into JavaScript.
#pragma once

#include <napi.h>

#include "luaipc/env.h"
#include "luaipc/errors.h"

namespace luaipc {

enum class CloseKind { Explicit, Finalize, Teardown };

template <typename T>
class Handle : public Napi::ObjectWrap<T>, public HandleBase {
 public:
  explicit Handle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<T>(info), data_(GetAddonData(info.Env())) {
    // Our Finalize(Napi::Env) must be the one node-addon-api calls on GC, or OS resources of
    // collected handles would leak silently.
    static_assert(Napi::details::HasExtendedFinalizer<T>::value, "declare `void Finalize(Napi::Env env) override { CloseOnFinalize(env); }` in T");
    data_->handles.insert(this);
  }

  ~Handle() override { Unregister(); }

  bool closed() const { return closed_; }

  void EnsureOpen(Napi::Env env) const {
    if (closed_) throw ClosedError(env, T::kWhat);
  }

  // JS `close()`: idempotent, returns undefined.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseOnce(info.Env(), CloseKind::Explicit);
    return info.Env().Undefined();
  }

  // JS `closed` getter.
  Napi::Value IsClosed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), closed_); }

  // Call from T's `void Finalize(Napi::Env env) override`.
  void CloseOnFinalize(Napi::Env env) { CloseOnce(env, CloseKind::Finalize); }

  void CloseForTeardown() noexcept override {
    try {
      CloseOnce(Napi::Env(nullptr), CloseKind::Teardown);
    } catch (...) {
      // Teardown must go on; the OS reclaims whatever was not released.
    }
  }

 private:
  void CloseOnce(Napi::Env env, CloseKind kind) {
    if (closed_) return;
    closed_ = true;
    Unregister();
    static_cast<T*>(this)->OnClose(env, kind);
  }

  void Unregister() {
    if (data_ != nullptr && !data_->tearingDown) data_->handles.erase(this);
    data_ = nullptr;
  }

  AddonData* data_;
  bool closed_ = false;
};

}  // namespace luaipc
