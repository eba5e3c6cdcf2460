// Blocking waits on threads of ours, settled as Promises: the thread pool (thread_pool.h) and the
// way into JavaScript (js_call.h) put to work for one kind of task, a bounded wait.
//
// Each pending wait has a thread of its own, so every wait honours its own timeout and abort
// whatever other waits on the same handle do. Threads come from the pool and park when their
// wait is done: in a ping-pong one thread serves every wait, and thread creation (which may
// fail: that is an IpcError EAGAIN, never an abort) is paid once.
//
// Usage (JS thread):
//   luaipc::Waiter waiter;                                 // a member of the handle
//   waiter.KeepAliveWhileBusy(this);                      // the handle lives while a wait is pending
//   luaipc::WaitOp op{wait, undo, settle};
//   Napi::Promise p = waiter.Submit(env, std::move(op), id, name);   // rejects with IpcError
//                                                         // EAGAIN (on `name`) without a thread
//   waiter.Cancel(env, id, reason);                       // AbortSignal
//   waiter.CancelAll(env, makeReason);                    // close(): rejects every pending wait
//   waiter.Shutdown();                                    // GC / env teardown: no JavaScript
//
// A cancelled wait is rejected at once on the JS thread; its thread is interrupted
// (luaipc_thread_interrupt) and gives back what it took if it took something (`undo`).
// Results go back through a JsCall that is ref'd only while a wait is outstanding: a pending
// wait keeps the process alive, an idle handle does not.
#pragma once

#include <napi.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <utility>

#include "luaipc/errors.h"
#include "luaipc/glue_os.h"
#include "luaipc/js_call.h"
#include "luaipc/sliced_wait.h"
#include "luaipc/thread_pool.h"

namespace luaipc {

// What a wait produced; its meaning is up to the operation (sem: value 1 = acquired, 0 = timed
// out; err = errno of a failed wait).
struct WaitOutcome {
  int err = 0;
  int64_t value = 0;
  // What failed when err != 0, as the seam reported it (glue_os.h), for settle's IpcError:
  // WaitOutcome::Failed(record). An outcome built from a bare errno has an empty record.
  luaipc_error error{};

  static WaitOutcome Failed(const luaipc_error& e) {
    WaitOutcome outcome;
    outcome.err = e.code;
    outcome.error = e;
    return outcome;
  }
};

// Handed to WaitOp::wait. A wait blocks only inside Interruptible(), which returns early (its
// call sees EINTR) when the wait is cancelled; it must still look at cancelled() at least once a
// second, since an interruption can arrive just before the blocking call and be missed.
class CancelToken {
 public:
  bool cancelled() const noexcept { return flag_.load(std::memory_order_acquire); }

  // The sliced wait of a thread of ours (sliced_wait.h): `sleep(until)` runs Interruptible, and
  // the cancel flag is looked at every kAsyncSliceNs besides. 0, ETIMEDOUT, ECANCELED or the
  // OS error.
  template <typename Sleep>
  int WaitSliced(int64_t deadline, Sleep sleep) const {
    return luaipc::WaitSliced(
        deadline, kAsyncSliceNs, [this] { return cancelled(); },
        [&](int64_t until) { return Interruptible([&] { return sleep(until); }); });
  }

  // Runs `call` (a blocking system call returning 0 or an errno) so that a cancellation
  // interrupts it (it then returns EINTR). ECANCELED without calling once cancelled.
  template <typename F>
  int Interruptible(F&& call) const {
    {
      std::lock_guard<std::mutex> lock(mu_);
      thread_ = luaipc_thread_self();
      inside_ = true;
    }
    struct Leave {
      const CancelToken* t;
      ~Leave() {
        std::lock_guard<std::mutex> lock(t->mu_);
        t->inside_ = false;
      }
    } leave{this};
    if (cancelled()) return ECANCELED;
    return call();
  }

 private:
  friend class Waiter;
  void Cancel() noexcept {
    flag_.store(true, std::memory_order_release);
    std::lock_guard<std::mutex> lock(mu_);
    // Only while the thread is inside the call: it cannot leave (and exit) without this lock.
    if (inside_) luaipc_thread_interrupt(thread_);
  }

  std::atomic<bool> flag_{false};
  mutable std::mutex mu_;
  mutable luaipc_thread_id thread_ = 0;
  mutable bool inside_ = false;
};

struct WaitOp {
  // Pool thread. Blocks only through token.Interruptible(); returns soon after the token is
  // cancelled. Must not touch N-API.
  std::function<WaitOutcome(const CancelToken& token)> wait;
  // Pool thread, when the outcome is thrown away because the wait was cancelled (or the
  // handle closed) while it ran: give back what `wait` took (sem: sem_post). May be empty.
  std::function<void(const WaitOutcome&)> undo;
  // JS thread: the value to resolve with; throw a Napi::Error to reject instead.
  // All three may be destroyed on either thread: capture plain data and shared_ptrs only,
  // never Napi values or references.
  std::function<Napi::Value(Napi::Env, const WaitOutcome&)> settle;
};

class Waiter;

namespace detail {

struct WaiterShared;

// One pending wait: the pool's task, and the item its JsCall delivers.
struct WaitJob : PoolTask, std::enable_shared_from_this<WaitJob> {
  enum State { kRunning, kDelivered, kCancelled };
  WaitOp op;
  uint32_t id = 0;
  State state = kRunning;  // guarded by WaiterShared::mu
  WaitOutcome outcome;     // written by the thread before kDelivered
  CancelToken token;
  std::shared_ptr<WaiterShared> shared;
  napi_deferred deferred = nullptr;  // JS thread only
  Waiter* owner = nullptr;           // JS thread only; null once the owner let go of the job

  inline void RunTask() override;
};

// What the pool threads and the JS thread share for one Waiter.
struct WaiterShared {
  // Orders a job's state change with its delivery: a job is delivered (posted) only while
  // kRunning, and Cancel sees kDelivered or makes it kCancelled first.
  std::mutex mu;
  std::shared_ptr<JsCall> call;  // set once, on the JS thread, before the first job starts
};

// The waits' threads: one pool per addon (the headers are compiled into each addon, with hidden
// symbols), shared by every env of the process. A thread parks this long between waits.
inline ThreadPool& WaitPool() {
  static ThreadPool* pool = new ThreadPool("luaipc-wait", std::chrono::seconds(30));
  return *pool;
}

inline void WaitJob::RunTask() {
  std::shared_ptr<WaitJob> job = shared_from_this();
  WaiterShared& s = *shared;
  WaitOutcome result;
  result.err = ECANCELED;
  if (!token.cancelled()) result = op.wait(token);
  bool delivered = false;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (state == kRunning) {
      outcome = result;
      state = kDelivered;
      auto* box = new std::shared_ptr<WaitJob>(job);
      if (s.call->Post(box)) {
        delivered = true;
      } else {
        delete box;
        state = kCancelled;
      }
    }
  }
  if (!delivered && op.undo) op.undo(result);
}

}  // namespace detail

class Waiter {
 public:
  Waiter() : shared_(std::make_shared<detail::WaiterShared>()) {}
  ~Waiter() { Shutdown(); }
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  using BusyCallback = std::function<void(bool busy)>;

  // Called on the JS thread when the number of outstanding waits goes 0 -> 1 (true) and back
  // to 0 (false).
  void SetBusyCallback(BusyCallback cb) { busy_ = std::move(cb); }

  // Keeps `handle`'s JS object (an ObjectWrap) alive while a wait is pending, so the wait's
  // settlement always has someone to reach.
  template <typename H>
  void KeepAliveWhileBusy(H* handle) {
    SetBusyCallback([handle](bool busy) {
      if (busy) {
        handle->Ref();
      } else {
        handle->Unref();
      }
    });
  }

  // Starts `op` on a thread of the pool and returns its promise. `id` identifies it for Cancel
  // (0 when it cannot be cancelled individually). When no thread can be started the promise is
  // rejected at once with IpcError (EAGAIN, ...) from "pthread_create" on `path` (the object;
  // may be null). Throws ERR_IPC_CLOSED after CancelAll/Shutdown.
  Napi::Promise Submit(Napi::Env env, WaitOp op, uint32_t id, const char* path) {
    StartCall(env);
    auto job = std::make_shared<detail::WaitJob>();
    job->op = std::move(op);
    job->id = id;
    job->owner = this;
    job->shared = shared_;
    napi_value promise;
    NAPI_THROW_IF_FAILED(env, napi_create_promise(env, &job->deferred, &promise), Napi::Promise());
    outstanding_.push_back(job);
    if (outstanding_.size() == 1) SetBusy(env, true);
    luaipc_error error{};
    if (detail::WaitPool().Run(job, &error) != 0) {
      {
        std::lock_guard<std::mutex> lock(shared_->mu);
        job->state = detail::WaitJob::kCancelled;
      }
      outstanding_.remove(job);
      job->owner = nullptr;
      if (outstanding_.empty()) SetBusy(env, false);
      napi_reject_deferred(env, job->deferred, IpcError(env, error, path).Value());
    }
    return Napi::Promise(env, promise);
  }

  // Rejects the pending wait `id` with `reason` at once and interrupts its thread (which gives
  // back a late success). False when no such wait is pending (settled, or its result is
  // already on the way).
  bool Cancel(Napi::Env env, uint32_t id, Napi::Value reason) {
    for (auto it = outstanding_.begin(); it != outstanding_.end(); ++it) {
      std::shared_ptr<detail::WaitJob> job = *it;
      if (job->id != id) continue;
      {
        std::lock_guard<std::mutex> lock(shared_->mu);
        if (job->state == detail::WaitJob::kDelivered) return false;
        job->state = detail::WaitJob::kCancelled;
      }
      job->token.Cancel();
      outstanding_.erase(it);
      job->owner = nullptr;
      napi_reject_deferred(env, job->deferred, reason);
      if (outstanding_.empty()) SetBusy(env, false);
      return true;
    }
    return false;
  }

  // close(): rejects every pending wait with makeReason(env) and closes the JsCall. Results
  // already on their way still resolve.
  void CancelAll(Napi::Env env, const std::function<Napi::Value(Napi::Env)>& makeReason) {
    std::list<std::shared_ptr<detail::WaitJob>> cancelled = TakePending();
    for (auto& job : cancelled) job->token.Cancel();
    CloseCall();
    for (auto& job : cancelled) {
      job->owner = nullptr;
      napi_reject_deferred(env, job->deferred, makeReason(env));
    }
    if (!cancelled.empty() && outstanding_.empty()) SetBusy(env, false);
  }

  // GC finalizer / env teardown: no JavaScript may run, so pending promises are left unsettled
  // (nothing can observe them any more); their threads are interrupted and finish by themselves.
  void Shutdown() noexcept {
    std::list<std::shared_ptr<detail::WaitJob>> cancelled = TakePending();
    for (auto& job : cancelled) job->token.Cancel();
    for (auto& job : outstanding_) job->owner = nullptr;
    for (auto& job : cancelled) job->owner = nullptr;
    outstanding_.clear();
    CloseCall();
  }

 private:
  // Marks every outstanding, undelivered job cancelled and moves it out of outstanding_.
  std::list<std::shared_ptr<detail::WaitJob>> TakePending() {
    std::list<std::shared_ptr<detail::WaitJob>> taken;
    std::lock_guard<std::mutex> lock(shared_->mu);
    for (auto it = outstanding_.begin(); it != outstanding_.end();) {
      if ((*it)->state == detail::WaitJob::kDelivered) {
        ++it;
        continue;
      }
      (*it)->state = detail::WaitJob::kCancelled;
      taken.push_back(*it);
      it = outstanding_.erase(it);
    }
    return taken;
  }

  void SetBusy(Napi::Env env, bool busy) {
    if (shared_->call) shared_->call->SetKeepAlive(env, busy);
    if (busy_) busy_(busy);
  }

  void StartCall(Napi::Env env) {
    if (closed_) NAPI_THROW_VOID(ClosedError(env, "handle"));
    if (shared_->call) return;
    shared_->call = JsCall::Create(env, "luaipc.wait", CallJs, nullptr);
  }

  void CloseCall() noexcept {
    closed_ = true;
    if (shared_->call) shared_->call->Close();
  }

  static void CallJs(napi_env rawEnv, void*, void* item) {
    auto* box = static_cast<std::shared_ptr<detail::WaitJob>*>(item);
    std::shared_ptr<detail::WaitJob> job = std::move(*box);
    delete box;
    // rawEnv is null when the JsCall is torn down with items still queued.
    if (rawEnv == nullptr || job->owner == nullptr) return;
    try {
      job->owner->Deliver(Napi::Env(rawEnv), job);
    } catch (...) {
      // Nothing may unwind into Node's C callback; a failed settle leaves the promise pending.
    }
  }

  void Deliver(Napi::Env env, const std::shared_ptr<detail::WaitJob>& job) {
    outstanding_.remove(job);
    job->owner = nullptr;
    try {
      Napi::Value value = job->op.settle(env, job->outcome);
      napi_resolve_deferred(env, job->deferred, value);
    } catch (const Napi::Error& error) {
      napi_reject_deferred(env, job->deferred, error.Value());
    }
    if (outstanding_.empty()) SetBusy(env, false);
  }

  std::shared_ptr<detail::WaiterShared> shared_;
  std::list<std::shared_ptr<detail::WaitJob>> outstanding_;  // JS thread
  BusyCallback busy_;
  bool closed_ = false;
};

}  // namespace luaipc
