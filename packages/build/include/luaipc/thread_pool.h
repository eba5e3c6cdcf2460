// Threads of ours, for work that must not run on the JS thread nor in libuv's pool: a bounded
// wait (waiter.h: one pending sem dec, lock, doorbell wait) or a long-running I/O loop (a child
// process's pipes). libuv's four threads are shared with fs and dns, and a wait may block for
// ever; so each task has a thread to itself for as long as it runs.
//
//   class MyTask : public luaipc::PoolTask {
//     void RunTask() override { ... }             // on a pool thread; never touches N-API
//   };
//   static luaipc::ThreadPool& Pool() {            // one per purpose, named for ps and tests
//     static auto* pool = new luaipc::ThreadPool("luaipc-wait", std::chrono::seconds(30));
//     return *pool;                                // never destroyed: see below
//   }
//   int err = Pool().Run(task, &error);            // 0, or the OS error (EAGAIN, in `error`):
//                                                  // then it never runs
//
// A thread that finishes its task parks and takes the next one; one parked longer than the
// pool's park time exits, so an idle process holds no thread of ours for long, and a loop of
// short tasks (a ping-pong, spawn after spawn) pays for one thread start, not one per task.
// Threads start through luaipc_thread_start (glue_os.h): small stacks, asynchronous signals
// blocked, a name. Starting one may fail; that is an error for the caller to report (IpcError
// EAGAIN), never an abort.
//
// A pool is never destroyed: a parked thread may outlive every env, down to process exit. The
// addon that contains the pool's code is pinned in memory (addon.h), so such a thread never runs
// unmapped code after a worker's teardown (docs/ARCHITECTURE.md, Lifetime).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>

#include "luaipc/glue_os.h"

namespace luaipc {

// One unit of work for a ThreadPool. Held by shared_ptr: the pool drops its reference once
// RunTask returns, whoever else still holds the task.
class PoolTask {
 public:
  virtual ~PoolTask() = default;
  // On a pool thread. May block (that is what the pool is for); must not touch N-API: results
  // go to JavaScript through a JsCall (js_call.h).
  virtual void RunTask() = 0;
};

class ThreadPool {
 public:
  // `threadName`: at most 15 bytes, a string literal (kept, not copied). `park`: how long a
  // thread with nothing to do waits for the next task before it exits.
  ThreadPool(const char* threadName, std::chrono::milliseconds park) : name_(threadName), park_(park) {}
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Runs `task` on a parked thread, or on a new one. Returns 0, or the OS error of a failed
  // thread start (in *err, glue_os.h): then the task never runs and the pool holds no reference
  // to it. Returns 0 also when a thread started for it failed but another one came free
  // meanwhile and took it.
  int Run(std::shared_ptr<PoolTask> task, luaipc_error* err) {
    std::unique_lock<std::mutex> lock(mu_);
    queue_.push_back(std::move(task));
    // Each parked thread takes one task: more tasks than parked threads need new ones.
    if (idle_ >= queue_.size()) {
      cv_.notify_one();
      return 0;
    }
    const PoolTask* mine = queue_.back().get();
    lock.unlock();
    int e = luaipc_thread_start(ThreadMain, this, name_, err);
    if (e == 0) return 0;
    lock.lock();
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (it->get() == mine) {
        queue_.erase(it);
        return e;
      }
    }
    return 0;
  }

 private:
  static void ThreadMain(void* arg) {
    auto* pool = static_cast<ThreadPool*>(arg);
    std::unique_lock<std::mutex> lock(pool->mu_);
    for (;;) {
      if (pool->queue_.empty()) {
        ++pool->idle_;
        bool woken = pool->cv_.wait_for(lock, pool->park_, [&] { return !pool->queue_.empty(); });
        --pool->idle_;
        if (!woken) return;  // parked too long: give the thread back
        continue;
      }
      std::shared_ptr<PoolTask> task = std::move(pool->queue_.front());
      pool->queue_.pop_front();
      lock.unlock();
      task->RunTask();
      task.reset();
      lock.lock();
    }
  }

  const char* name_;
  std::chrono::milliseconds park_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<PoolTask>> queue_;
  size_t idle_ = 0;
};

}  // namespace luaipc
