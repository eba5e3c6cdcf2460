// Blocking waits on threads of ours, settled as Promises.
//
// Why not Napi::AsyncWorker / libuv's pool: a wait may block forever, and the pool has four
// threads shared with fs and dns; ten pending waits would starve fs.readFile.
//
// Each pending wait has a thread of its own, so every wait honours its own timeout and abort
// whatever other waits on the same handle do. Threads come from a pool and park when their wait
// is done: in a ping-pong one thread serves every wait, and thread creation (which may fail:
// that is an IpcError EAGAIN, never an abort) is paid once.
//
// Usage (JS thread):
//   luaipc::Waiter waiter;                                 // a member of the handle
//   waiter.KeepAliveWhileBusy(this);                      // the handle lives while a wait is pending
//   Napi::Promise p = waiter.Submit(env, {wait, undo, settle}, id);   // throws IpcError EAGAIN
//   waiter.Cancel(env, id, reason);                       // AbortSignal
//   waiter.CancelAll(env, makeReason);                    // close(): rejects every pending wait
//   waiter.Shutdown();                                    // GC / env teardown: no JavaScript
//
// A cancelled wait is rejected at once on the JS thread; its thread is interrupted
// (luaipc_thread_interrupt) and gives back what it took if it took something (`undo`).
// Results go back through a thread-safe function that is ref'd only while a wait is
// outstanding: a pending wait keeps the process alive, an idle handle does not. The threads
// never run JavaScript and the addon is pinned (addon.h), so a wait still running when its
// worker is torn down just finishes on its own.
#pragma once

#include <napi.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <utility>

#include "luaipc/errors.h"
#include "luaipc/glue_os.h"

namespace luaipc {

// The point on luaipc_now_ns()'s clock `seconds` from now (fractions allowed); -1 (never) for a
// negative or NaN timeout, or one too long for the clock (2^62 ns is ~146 years, so the sum
// cannot overflow).
inline int64_t DeadlineAfter(double seconds) {
  if (!(seconds >= 0) || seconds > 4.6e9) return -1;
  return luaipc_now_ns() + static_cast<int64_t>(seconds * 1e9);
}

// What a wait produced; its meaning is up to the operation (sem: value 1 = acquired, 0 = timed
// out; err = errno of a failed wait).
struct WaitOutcome {
  int err = 0;
  int64_t value = 0;
  // Windows: the Win32 code behind `err`, taken on the wait thread and handed back to the JS
  // thread's IpcError (glue_os.h keeps it per thread). Set by the waiter, not by the wait.
  unsigned long winerror = 0;
};

// Handed to WaitOp::wait. A wait blocks only inside Interruptible(), which returns early (its
// call sees EINTR) when the wait is cancelled; it must still look at cancelled() at least once a
// second, since an interruption can arrive just before the blocking call and be missed.
class CancelToken {
 public:
  bool cancelled() const noexcept { return flag_.load(std::memory_order_acquire); }

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

struct WaitJob {
  enum State { kRunning, kDelivered, kCancelled };
  WaitOp op;
  uint32_t id = 0;
  State state = kRunning;  // guarded by WaiterShared::mu
  WaitOutcome outcome;     // written by the thread before kDelivered
  CancelToken token;
  std::shared_ptr<WaiterShared> shared;
  napi_deferred deferred = nullptr;  // JS thread only
  Waiter* owner = nullptr;           // JS thread only; null once the owner let go of the job
};

// What the pool threads and the JS thread share for one Waiter.
struct WaiterShared {
  std::mutex mu;
  // The thread may call into tsfn only while this is true (cleared before release/finalize).
  bool tsfnAlive = false;
  napi_threadsafe_function tsfn = nullptr;
  // Set on the JS thread by the tsfn finalizer: Node deletes the tsfn right after, and at env
  // teardown that can happen before the handle is closed.
  bool tsfnFinalized = false;
};

// Threads that run one job at a time and park in between. One pool per addon (the headers are
// compiled into each addon, with hidden symbols), shared by every env of the process. It is
// never destroyed: parked threads may outlive everything else, down to process exit.
class Pool {
 public:
  static Pool& Get() {
    static Pool* pool = new Pool();
    return *pool;
  }

  // Runs `job` on a parked thread, or on a new one. Returns 0, or the OS error of a failed
  // thread start (the job then never runs).
  int Run(std::shared_ptr<WaitJob> job) {
    std::unique_lock<std::mutex> lock(mu_);
    queue_.push_back(std::move(job));
    if (idle_ >= queue_.size()) {
      cv_.notify_one();
      return 0;
    }
    const WaitJob* mine = queue_.back().get();
    lock.unlock();
    int err = luaipc_thread_start(ThreadMain, this, "luaipc-wait");
    if (err == 0) return 0;
    lock.lock();
    // A thread that came free meanwhile may have taken it; otherwise it never runs.
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (it->get() == mine) {
        queue_.erase(it);
        return err;
      }
    }
    return 0;
  }

 private:
  static constexpr auto kParkTime = std::chrono::seconds(30);

  static void ThreadMain(void* arg) {
    auto* pool = static_cast<Pool*>(arg);
    std::unique_lock<std::mutex> lock(pool->mu_);
    for (;;) {
      if (pool->queue_.empty()) {
        ++pool->idle_;
        bool woken = pool->cv_.wait_for(lock, kParkTime, [&] { return !pool->queue_.empty(); });
        --pool->idle_;
        if (!woken) return;  // parked too long: give the thread back
        continue;
      }
      std::shared_ptr<WaitJob> job = std::move(pool->queue_.front());
      pool->queue_.pop_front();
      lock.unlock();
      RunJob(job);
      job.reset();
      lock.lock();
    }
  }

  static void RunJob(const std::shared_ptr<WaitJob>& job);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<WaitJob>> queue_;
  size_t idle_ = 0;
};

inline void Pool::RunJob(const std::shared_ptr<WaitJob>& job) {
  WaiterShared& s = *job->shared;
  WaitOutcome outcome{ECANCELED, 0};
  if (!job->token.cancelled()) outcome = job->op.wait(job->token);
#ifdef _WIN32
  outcome.winerror = luaipc_take_win32_error(outcome.err);
#endif
  bool delivered = false;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (job->state == WaitJob::kRunning && s.tsfnAlive) {
      job->outcome = outcome;
      job->state = WaitJob::kDelivered;
      auto* box = new std::shared_ptr<WaitJob>(job);
      if (napi_call_threadsafe_function(s.tsfn, box, napi_tsfn_nonblocking) == napi_ok) {
        delivered = true;
      } else {
        delete box;
        job->state = WaitJob::kCancelled;
      }
    }
  }
  if (!delivered && job->op.undo) job->op.undo(outcome);
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

  // Starts `op` on a thread of its own and returns its promise. `id` identifies it for Cancel
  // (0 when it cannot be cancelled individually). Throws IpcError (EAGAIN, ...) when no thread
  // can be started, with `path` (the object) in it.
  Napi::Promise Submit(Napi::Env env, WaitOp op, uint32_t id, const char* path) {
    StartTsfn(env);
    auto job = std::make_shared<detail::WaitJob>();
    job->op = std::move(op);
    job->id = id;
    job->owner = this;
    job->shared = shared_;
    napi_value promise;
    NAPI_THROW_IF_FAILED(env, napi_create_promise(env, &job->deferred, &promise), Napi::Promise());
    outstanding_.push_back(job);
    if (outstanding_.size() == 1) SetBusy(env, true);
    int err = detail::Pool::Get().Run(job);
    if (err != 0) {
      {
        std::lock_guard<std::mutex> lock(shared_->mu);
        job->state = detail::WaitJob::kCancelled;
      }
      outstanding_.remove(job);
      job->owner = nullptr;
      if (outstanding_.empty()) SetBusy(env, false);
      napi_reject_deferred(env, job->deferred, IpcError(env, err, "pthread_create", path).Value());
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

  // close(): rejects every pending wait with makeReason(env) and releases the thread-safe
  // function. Results already on their way still resolve.
  void CancelAll(Napi::Env env, const std::function<Napi::Value(Napi::Env)>& makeReason) {
    std::list<std::shared_ptr<detail::WaitJob>> cancelled = TakePending();
    for (auto& job : cancelled) job->token.Cancel();
    ReleaseTsfn();
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
    ReleaseTsfn();
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
    if (shared_->tsfn != nullptr && !released_ && !shared_->tsfnFinalized) {
      if (busy) {
        napi_ref_threadsafe_function(env, shared_->tsfn);
      } else {
        napi_unref_threadsafe_function(env, shared_->tsfn);
      }
    }
    if (busy_) busy_(busy);
  }

  void StartTsfn(Napi::Env env) {
    if (shared_->tsfn != nullptr || released_) {
      if (released_) NAPI_THROW_VOID(ClosedError(env, "handle"));
      return;
    }
    auto* finalizeData = new std::shared_ptr<detail::WaiterShared>(shared_);
    napi_threadsafe_function tsfn;
    napi_status status = napi_create_threadsafe_function(
        env, nullptr, nullptr, Napi::String::New(env, "luaipc.wait"), 0, 1, finalizeData, TsfnFinalize,
        nullptr, CallJs, &tsfn);
    if (status != napi_ok) {
      delete finalizeData;
      NAPI_THROW_IF_FAILED_VOID(env, status);
    }
    napi_unref_threadsafe_function(env, tsfn);
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->tsfn = tsfn;
    shared_->tsfnAlive = true;
  }

  void ReleaseTsfn() noexcept {
    bool release = false;
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      shared_->tsfnAlive = false;
      release = shared_->tsfn != nullptr && !released_ && !shared_->tsfnFinalized;
      released_ = true;
    }
    // Queued deliveries are still dispatched before the tsfn closes.
    if (release) napi_release_threadsafe_function(shared_->tsfn, napi_tsfn_release);
  }

  static void CallJs(napi_env rawEnv, napi_value, void*, void* data) {
    std::shared_ptr<detail::WaitJob> job = std::move(*static_cast<std::shared_ptr<detail::WaitJob>*>(data));
    delete static_cast<std::shared_ptr<detail::WaitJob>*>(data);
    // rawEnv is null when the tsfn is torn down with items still queued.
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
#ifdef _WIN32
      luaipc_put_win32_error(job->outcome.winerror, job->outcome.err);
#endif
      Napi::Value value = job->op.settle(env, job->outcome);
      napi_resolve_deferred(env, job->deferred, value);
    } catch (const Napi::Error& error) {
      napi_reject_deferred(env, job->deferred, error.Value());
    }
#ifdef _WIN32
    luaipc_take_win32_error(0);  // a code settle did not use must not reach a later error
#endif
    if (outstanding_.empty()) SetBusy(env, false);
  }

  static void TsfnFinalize(napi_env, void* data, void*) {
    auto* shared = static_cast<std::shared_ptr<detail::WaiterShared>*>(data);
    {
      std::lock_guard<std::mutex> lock((*shared)->mu);
      (*shared)->tsfnAlive = false;
      (*shared)->tsfnFinalized = true;
    }
    delete shared;
  }

  std::shared_ptr<detail::WaiterShared> shared_;
  std::list<std::shared_ptr<detail::WaitJob>> outstanding_;  // JS thread
  BusyCallback busy_;
  bool released_ = false;
};

}  // namespace luaipc
