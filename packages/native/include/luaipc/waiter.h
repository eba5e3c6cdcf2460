// Blocking waits on a dedicated thread owned by one handle, settled as Promises.
//
// Why not Napi::AsyncWorker / libuv's pool: a wait may block forever, and the pool has four
// threads shared with fs and dns; ten pending waits would starve fs.readFile. Why one
// persistent thread per handle rather than one per call: thread creation costs more than the
// waits it serves in a ping-pong, and a lazily started thread costs nothing for handles that
// never wait asynchronously.
//
// Usage (JS thread):
//   luaipc::Waiter waiter;                                 // a member of the handle
//   waiter.SetBusyCallback([this](bool busy) { busy ? Ref() : Unref(); });
//   Napi::Promise p = waiter.Submit(env, {wait, undo, settle}, id);
//   waiter.Cancel(env, id, reason);                       // AbortSignal
//   waiter.CancelAll(env, makeReason);                    // close(): rejects, stops the thread
//   waiter.Shutdown();                                    // GC / env teardown: no JavaScript
//
// Results go back through a thread-safe function that is ref'd only while a wait is
// outstanding: a pending wait keeps the process alive, an idle handle does not.
#pragma once

#include <napi.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#if defined(__linux__)
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace luaipc {

// What a wait produced; its meaning is up to the operation (sem: value 1 = acquired, 0 = timed
// out; err = errno of a failed wait).
struct WaitOutcome {
  int err = 0;
  int64_t value = 0;
};

class CancelToken {
 public:
  bool cancelled() const noexcept { return flag_.load(std::memory_order_acquire); }

 private:
  friend class Waiter;
  std::atomic<bool> flag_{false};
};

struct WaitOp {
  // Waiter thread. Must return soon after `token.cancelled()` turns true (e.g. wait in bounded
  // slices and check between them). Must not touch N-API.
  std::function<WaitOutcome(const CancelToken& token)> wait;
  // Waiter thread, when the outcome is thrown away because the wait was cancelled (or the
  // handle closed) while it ran: give back what `wait` took (sem: sem_post). May be empty.
  std::function<void(const WaitOutcome&)> undo;
  // JS thread: the value to resolve with; throw a Napi::Error to reject instead.
  // All three may be destroyed on either thread: capture plain data and shared_ptrs only,
  // never Napi values or references.
  std::function<Napi::Value(Napi::Env, const WaitOutcome&)> settle;
};

class Waiter;

namespace detail {

struct WaitJob {
  enum State { kQueued, kRunning, kDelivered, kCancelled };
  WaitOp op;
  uint32_t id = 0;
  State state = kQueued;  // guarded by WaiterShared::mu
  WaitOutcome outcome;    // written by the thread before kDelivered
  CancelToken token;
  napi_deferred deferred = nullptr;  // JS thread only
  Waiter* owner = nullptr;           // JS thread only; null once the owner let go of the job
};

struct WaiterShared {
  // Kernel thread id of the waiter thread (Linux), set before it takes its first job.
  std::atomic<int> tid{0};
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::shared_ptr<WaitJob>> queue;
  bool stop = false;
  // The thread may call into tsfn only while this is true (cleared before release/finalize).
  bool tsfnAlive = false;
  napi_threadsafe_function tsfn = nullptr;
  // Set on the JS thread by the tsfn finalizer: Node deletes the tsfn right after, and at env
  // teardown that can happen before the handle is closed.
  bool tsfnFinalized = false;
};

}  // namespace detail

class Waiter {
 public:
  using BusyCallback = std::function<void(bool busy)>;

  // Spinning for the next job before sleeping on the condition variable was measured and
  // dropped: with both processes on one CPU it slowed a ping-pong down (the spinner competes
  // with the JS thread it is waiting for). Spin inside `wait` instead, where it pays.
  Waiter() : shared_(std::make_shared<detail::WaiterShared>()) {}
  ~Waiter() { Shutdown(); }
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  // Called on the JS thread when the number of outstanding waits goes 0 -> 1 (true) and back
  // to 0 (false); handles use it to keep their JS object alive while a wait is pending.
  void SetBusyCallback(BusyCallback cb) { busy_ = std::move(cb); }

  bool busy() const { return !outstanding_.empty(); }

  // Queues `op` behind any earlier waits of this handle and returns its promise. `id`
  // identifies it for Cancel (0 when it cannot be cancelled individually).
  Napi::Promise Submit(Napi::Env env, WaitOp op, uint32_t id = 0) {
    Start(env);
    FollowJsThread();
    auto job = std::make_shared<detail::WaitJob>();
    job->op = std::move(op);
    job->id = id;
    job->owner = this;
    napi_value promise;
    NAPI_THROW_IF_FAILED(env, napi_create_promise(env, &job->deferred, &promise), Napi::Promise());
    outstanding_.push_back(job);
    if (outstanding_.size() == 1) SetBusy(env, true);
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      shared_->queue.push_back(job);
    }
    shared_->cv.notify_one();
    return Napi::Promise(env, promise);
  }

  // Rejects the pending wait `id` with `reason` at once (the thread notices within one slice
  // and undoes a late success). False when no such wait is pending (settled, or its result is
  // already on the way).
  bool Cancel(Napi::Env env, uint32_t id, Napi::Value reason) {
    for (auto it = outstanding_.begin(); it != outstanding_.end(); ++it) {
      const std::shared_ptr<detail::WaitJob>& job = *it;
      if (job->id != id) continue;
      {
        std::lock_guard<std::mutex> lock(shared_->mu);
        if (job->state == detail::WaitJob::kDelivered) return false;
        MarkCancelled(*job);
      }
      std::shared_ptr<detail::WaitJob> keep = job;
      outstanding_.erase(it);
      keep->owner = nullptr;
      napi_reject_deferred(env, keep->deferred, reason);
      if (outstanding_.empty()) SetBusy(env, false);
      return true;
    }
    return false;
  }

  // close(): rejects every pending wait with makeReason(env), stops the thread and releases
  // the thread-safe function. Results already on their way still resolve.
  void CancelAll(Napi::Env env, const std::function<Napi::Value(Napi::Env)>& makeReason) {
    std::list<std::shared_ptr<detail::WaitJob>> cancelled;
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      for (auto it = outstanding_.begin(); it != outstanding_.end();) {
        if ((*it)->state == detail::WaitJob::kDelivered) {
          ++it;
          continue;
        }
        MarkCancelled(**it);
        cancelled.push_back(*it);
        it = outstanding_.erase(it);
      }
    }
    Stop();
    for (auto& job : cancelled) {
      job->owner = nullptr;
      napi_reject_deferred(env, job->deferred, makeReason(env));
    }
    if (!cancelled.empty() && outstanding_.empty()) SetBusy(env, false);
  }

  // GC finalizer / env teardown: no JavaScript may run, so pending promises are left unsettled
  // (nothing can observe them any more).
  void Shutdown() noexcept {
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      for (auto& job : outstanding_) {
        if (job->state != detail::WaitJob::kDelivered) MarkCancelled(*job);
        job->owner = nullptr;
      }
    }
    outstanding_.clear();
    Stop();
  }

 private:
  static void MarkCancelled(detail::WaitJob& job) {
    job.state = detail::WaitJob::kCancelled;
    job.token.flag_.store(true, std::memory_order_release);
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

  void Start(Napi::Env env) {
    if (started_) return;
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
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      shared_->tsfn = tsfn;
      shared_->tsfnAlive = true;
    }
    // Detached: it owns its share of the state and exits by itself once stopped, at most one
    // wait slice after close, so neither close() nor teardown blocks on it.
    std::thread(ThreadMain, shared_).detach();
    started_ = true;
  }

  void Stop() noexcept {
    bool release = false;
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      shared_->stop = true;
      shared_->tsfnAlive = false;
      release = shared_->tsfn != nullptr && !released_ && !shared_->tsfnFinalized;
      released_ = released_ || release;
    }
    shared_->cv.notify_one();
    // Queued deliveries are still dispatched before the tsfn closes.
    if (release) napi_release_threadsafe_function(shared_->tsfn, napi_tsfn_release);
  }

  // Keeps the waiter thread on the CPU the JS thread runs on. Left alone, the kernel wakes it on
  // an idle CPU, and on a VM waking a halted vCPU costs ~25 us, twice per wait (thread wake-up,
  // then the JS thread's); on the same CPU a switch costs ~2.5 us. Only re-pinned when the JS
  // thread has moved, so it costs one sched_getcpu() per wait.
  void FollowJsThread() {
#if defined(__linux__)
    int cpu = sched_getcpu();
    int tid = shared_->tid.load(std::memory_order_acquire);
    if (cpu < 0 || cpu == pinnedCpu_ || tid == 0 || cpu >= CPU_SETSIZE) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(tid, sizeof set, &set) == 0) pinnedCpu_ = cpu;
#endif
  }

  static void ThreadMain(std::shared_ptr<detail::WaiterShared> s) {
#if defined(__linux__)
    s->tid.store(static_cast<int>(syscall(SYS_gettid)), std::memory_order_release);
#endif
    std::unique_lock<std::mutex> lock(s->mu);
    for (;;) {
      if (s->queue.empty()) {
        if (s->stop) break;
        s->cv.wait(lock, [&] { return s->stop || !s->queue.empty(); });
        continue;
      }
      std::shared_ptr<detail::WaitJob> job = std::move(s->queue.front());
      s->queue.pop_front();
      if (job->state == detail::WaitJob::kCancelled) continue;
      job->state = detail::WaitJob::kRunning;
      lock.unlock();
      WaitOutcome outcome = job->op.wait(job->token);
      lock.lock();
      bool delivered = false;
      if (job->state == detail::WaitJob::kRunning && s->tsfnAlive) {
        job->outcome = outcome;
        job->state = detail::WaitJob::kDelivered;
        auto* box = new std::shared_ptr<detail::WaitJob>(job);
        if (napi_call_threadsafe_function(s->tsfn, box, napi_tsfn_nonblocking) == napi_ok) {
          delivered = true;
        } else {
          delete box;
          job->state = detail::WaitJob::kCancelled;
        }
      }
      if (!delivered && job->op.undo) {
        lock.unlock();
        job->op.undo(outcome);
        lock.lock();
      }
      // Captures of op (e.g. the OS object) are released here or on the JS thread, whichever
      // lets go last.
      lock.unlock();
      job.reset();
      lock.lock();
    }
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
      Napi::Value value = job->op.settle(env, job->outcome);
      napi_resolve_deferred(env, job->deferred, value);
    } catch (const Napi::Error& error) {
      napi_reject_deferred(env, job->deferred, error.Value());
    }
    if (outstanding_.empty()) SetBusy(env, false);
  }

  static void TsfnFinalize(napi_env, void* data, void*) {
    auto* shared = static_cast<std::shared_ptr<detail::WaiterShared>*>(data);
    {
      std::lock_guard<std::mutex> lock((*shared)->mu);
      (*shared)->tsfnAlive = false;
      (*shared)->tsfnFinalized = true;
      (*shared)->stop = true;
    }
    (*shared)->cv.notify_one();
    delete shared;
  }

  std::shared_ptr<detail::WaiterShared> shared_;
  std::list<std::shared_ptr<detail::WaitJob>> outstanding_;  // JS thread
  BusyCallback busy_;
  bool started_ = false;
  bool released_ = false;
  int pinnedCpu_ = -1;
};

}  // namespace luaipc
