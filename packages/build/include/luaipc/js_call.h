// The one way from a thread of ours (thread_pool.h) into JavaScript: a thread-safe function
// with its whole lifecycle written once.
//
//   // JS thread, when the handle first needs it (throws a Napi::Error if Node refuses):
//   std::shared_ptr<luaipc::JsCall> call = luaipc::JsCall::Create(env, "luaipc.wait", OnJs, ctx);
//   // any thread:
//   if (!call->Post(item)) { /* closed: `item` was not taken, free it */ }
//   call->Wake();                          // coalesced: one callback however many Wake()s
//   // JS thread:
//   call->SetKeepAlive(env, true);         // while something is pending (a Promise, a child)
//   call->Close();                         // close(), GC, env teardown: no Post succeeds after it
//
//   static void OnJs(napi_env env, void* ctx, void* item) {
//     // JS thread. `item` is what Post was given (null for Wake). `env` is null when Node drops
//     // the queue at env teardown: free `item`, call nothing. Must not throw.
//   }
//
// The rules this class keeps (docs/ARCHITECTURE.md, Lifetime):
// - It starts unref'd: an idle handle does not keep the process alive; the owner refs it while
//   work is pending (SetKeepAlive).
// - Post/Wake call into Node only while the function is alive, under the lock that Close and
//   the finalizer take: never after the last release, never after Node finalized it (at env
//   teardown Node finalizes it before the handle is closed, or the other way round).
// - Items posted before Close are still delivered (or handed back with a null env).
// - The object is shared (shared_ptr) by its owner, the finalizer and the threads, so a thread
//   that posts late finds a closed JsCall, not freed memory. Threads never run JavaScript, and
//   the addon is pinned (addon.h): a thread still running when its env goes away finishes on
//   its own and never unloads from under itself.
//
// Batching is the sender's: post one item per result (waiter.h), or queue results on the
// thread's side and Wake() (proc), taking everything queued in one callback. A callback runs a
// few milliseconds at most; what is left waits for the next turn of the event loop.
#pragma once

#include <napi.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

namespace luaipc {

class JsCall {
 public:
  using Callback = void (*)(napi_env env, void* context, void* item);
  // Runs on the JS thread when Node finalizes the function (after Close, or at env teardown).
  using Finalizer = std::function<void()>;

  static std::shared_ptr<JsCall> Create(Napi::Env env, const char* name, Callback callback, void* context,
                                        Finalizer onFinalize = nullptr) {
    std::shared_ptr<JsCall> call(new JsCall(callback, context, std::move(onFinalize)));
    auto* finalizeData = new std::shared_ptr<JsCall>(call);
    napi_threadsafe_function tsfn;
    napi_status status =
        napi_create_threadsafe_function(env, nullptr, nullptr, Napi::String::New(env, name), 0, 1, finalizeData,
                                        Finalize, call.get(), CallJs, &tsfn);
    if (status != napi_ok) {
      delete finalizeData;
      NAPI_THROW_IF_FAILED(env, status, nullptr);
    }
    napi_unref_threadsafe_function(env, tsfn);
    std::lock_guard<std::mutex> lock(call->mu_);
    call->tsfn_ = tsfn;
    call->alive_.store(true, std::memory_order_relaxed);
    return call;
  }

  JsCall(const JsCall&) = delete;
  JsCall& operator=(const JsCall&) = delete;

  // Any thread. Queues `item` for the callback; false (item not taken) once closed.
  bool Post(void* item) {
    std::lock_guard<std::mutex> lock(mu_);
    return alive_.load(std::memory_order_relaxed) &&
           napi_call_threadsafe_function(tsfn_, item, napi_tsfn_nonblocking) == napi_ok;
  }

  // Any thread. Makes sure one callback with a null item is on its way: a Wake while one is
  // pending (not yet started on the JS thread) adds nothing. False once closed.
  bool Wake() {
    if (woken_.exchange(true, std::memory_order_acq_rel)) return true;
    if (Post(nullptr)) return true;
    woken_.store(false, std::memory_order_release);
    return false;
  }

  // JS thread. Whether a pending callback keeps the event loop (and so the process) alive.
  // Reads alive_ without the lock: only the JS thread changes it, and a thread that has just
  // posted may still hold the lock when the JS thread runs (the lock would cost a round of
  // context switches on every settled wait).
  void SetKeepAlive(Napi::Env env, bool keep) {
    if (!alive_.load(std::memory_order_relaxed)) return;
    if (keep) {
      napi_ref_threadsafe_function(env, tsfn_);
    } else {
      napi_unref_threadsafe_function(env, tsfn_);
    }
  }

  // Any thread that owns the JsCall (JS thread, or a GC finalizer). After it no Post succeeds;
  // what was posted before is still delivered. Idempotent.
  void Close() noexcept {
    bool release = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      release = alive_.load(std::memory_order_relaxed) && !released_;
      alive_.store(false, std::memory_order_relaxed);
      released_ = true;
    }
    if (release) napi_release_threadsafe_function(tsfn_, napi_tsfn_release);
  }

 private:
  JsCall(Callback callback, void* context, Finalizer onFinalize)
      : callback_(callback), context_(context), onFinalize_(std::move(onFinalize)) {}

  static void CallJs(napi_env env, napi_value, void* context, void* item) {
    auto* self = static_cast<JsCall*>(context);
    if (item == nullptr) self->woken_.store(false, std::memory_order_release);
    self->callback_(env, self->context_, item);
  }

  static void Finalize(napi_env, void* data, void*) {
    auto* call = static_cast<std::shared_ptr<JsCall>*>(data);
    {
      std::lock_guard<std::mutex> lock((*call)->mu_);
      (*call)->alive_.store(false, std::memory_order_relaxed);
    }
    if ((*call)->onFinalize_) (*call)->onFinalize_();
    delete call;
  }

  Callback callback_;
  void* context_;
  Finalizer onFinalize_;
  std::mutex mu_;
  napi_threadsafe_function tsfn_ = nullptr;
  // Written on the JS thread only, under mu_; Post reads it under mu_ (it may call tsfn_),
  // the JS thread without.
  std::atomic<bool> alive_{false};
  bool released_ = false;  // guarded by mu_
  std::atomic<bool> woken_{false};
};

}  // namespace luaipc
