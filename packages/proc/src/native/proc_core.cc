#include "proc_core.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <utility>

namespace luaipc {
namespace proc {

namespace {

// One read batch: large enough that a fast producer costs few wake-ups of the JS thread.
constexpr size_t kBatch = 256 * 1024;
// Smaller batches are copied into an allocation of their own size, so a queue of short lines
// does not hold a read buffer each.
constexpr size_t kSmall = 32 * 1024;
// Buffers kept for reuse (reads and stdin): enough for a full output queue, the read in
// progress and a few stdin blocks.
constexpr size_t kPoolMax = 16;
// Output queued for the JS thread beyond this stops the reading (and so, through the pipe,
// the child) until the JS thread catches up: a slow callback never makes memory grow.
constexpr size_t kMaxQueued = 2 * 1024 * 1024;
// What the final drain takes from a pipe at most: more than any pipe holds (1 MiB unless the
// administrator raised it), so what is beyond it comes from a process that outlived the child
// and is still writing.
constexpr size_t kDrainMax = 4 * 1024 * 1024;
// Batching of the hand-over to the JS thread (see proc_core.h): enough to make a wake-up of
// the JS thread worth it, and soon enough that nobody notices the wait.
constexpr size_t kNotifyBytes = 256 * 1024;
constexpr int kLingerMs = 1;
// Without a pidfd the exit is found by trying to reap: right away after I/O, then at
// intervals that double up to this (an idle child with no output costs a wake-up a second).
constexpr int kMaxBackoffMs = 1000;

enum ReadResult { kClosed, kAgain, kMore };

}  // namespace

int Core::Spawn(const luaipc_proc_options& options, std::shared_ptr<Core>* out, luaipc_error* error) {
  luaipc_proc* p = nullptr;
  int err = luaipc_proc_spawn(&options, &p, error);
  if (err != 0) return err;
  std::shared_ptr<Core> core(new Core());
  core->proc_ = p;
  core->group_ = (options.flags & LUAIPC_PROC_NEW_GROUP) != 0;
  core->stdinOpen_ = luaipc_proc_piped(p, LUAIPC_PROC_STDIN) != 0;
  *out = std::move(core);
  return 0;
}

Core::~Core() { luaipc_proc_free(proc_); }

void Core::SetNotifier(void (*fn)(void*), void* arg) {
  std::lock_guard<std::mutex> lock(mu_);
  notify_ = fn;
  notifyArg_ = arg;
}

void Core::DisableNotify() {
  std::lock_guard<std::mutex> lock(mu_);
  notify_ = nullptr;
  notifyArg_ = nullptr;
}

void Core::PopAll(std::deque<Event>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  if (events_.empty()) return;
  // Taken early (the JS thread looked while the loop lingered): nothing left to tell.
  notifyPending_ = false;
  unnotifiedBytes_ = 0;
  for (Event& ev : events_) out->push_back(std::move(ev));
  events_.clear();
  eventBytes_ = 0;
  if (throttled_) {
    throttled_ = false;
    luaipc_proc_wake(proc_);
  }
}

bool Core::EndDispatch(bool again) {
  std::lock_guard<std::mutex> lock(mu_);
  jsNotified_ = again || !events_.empty();
  return jsNotified_;
}

void Core::Write(const char* data, size_t len) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!stdinOpen_ || detached_ || done_ || len == 0) return;
  bool wasEmpty = in_.empty();
  while (len > 0) {
    if (in_.empty() || in_.back().end == kBatch) {
      Block block;
      block.data = TakeBufferLocked();
      in_.push_back(std::move(block));
    }
    Block& tail = in_.back();
    size_t n = std::min(len, kBatch - tail.end);
    // Beyond `end`: the owner only ever reads [start, end) of a block it took under the lock.
    std::memcpy(tail.data.get() + tail.end, data, n);
    tail.end += n;
    data += n;
    len -= n;
  }
  if (wasEmpty) luaipc_proc_wake(proc_);
}

void Core::End() {
  std::lock_guard<std::mutex> lock(mu_);
  if (inEnd_) return;
  inEnd_ = true;
  luaipc_proc_wake(proc_);
}

int Core::Kill(int sig, luaipc_error* error) {
  std::lock_guard<std::mutex> lock(mu_);
  return luaipc_proc_kill(proc_, sig, group_ ? 1 : 0, error);
}

void Core::Detach() {
  std::lock_guard<std::mutex> lock(mu_);
  if (detached_) return;
  detached_ = true;
  if (exited_) {
    // A held group leader: nothing can signal its group any more, so let it go.
    int exited = 0, signaled = 0, code = 0;
    luaipc_proc_reap(proc_, 0, &exited, &signaled, &code);
  }
  // in_ is left to the loop owner (Prepare drops it): it may be writing from it right now.
  events_.clear();
  eventBytes_ = 0;
  notifyPending_ = false;
  due_ = false;
  notify_ = nullptr;
  notifyArg_ = nullptr;
  luaipc_proc_wake(proc_);
}

void Core::Abandon() {
  std::lock_guard<std::mutex> lock(mu_);
  luaipc_proc_abandon(proc_);
  detached_ = true;
  done_ = true;
}

namespace {

// Threads that ran a child's loop park this long for the next one before they end: a program
// that spawns one child after another reuses one thread instead of starting one per child.
luaipc::ThreadPool& Pool() {
  // Never destroyed: thread_pool.h.
  static auto* pool = new luaipc::ThreadPool("luaipc-proc", std::chrono::seconds(1));
  return *pool;
}

}  // namespace

int Core::StartThread(const std::shared_ptr<Core>& core, luaipc_error* error) {
  {
    std::lock_guard<std::mutex> lock(core->mu_);
    core->threadActive_ = true;
  }
  // 0 also when a thread that came free meanwhile took it and runs the child's loop (the caller
  // must not abandon a child that thread is serving).
  int err = Pool().Run(core, error);
  if (err == 0) return 0;
  std::lock_guard<std::mutex> lock(core->mu_);
  core->threadActive_ = false;
  return err;
}

void Core::RunTask() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (handover_) {
      parked_ = true;
      cv_.notify_all();
      cv_.wait(lock, [this] { return !handover_; });
      parked_ = false;
      continue;
    }
    if (done_) break;
    lock.unlock();
    Step(false, -1);
    lock.lock();
  }
  threadActive_ = false;
  cv_.notify_all();
}

void Core::AcquireSync() {
  std::unique_lock<std::mutex> lock(mu_);
  if (syncDepth_++ > 0) return;
  if (!threadActive_) return;
  handover_ = true;
  luaipc_proc_wake(proc_);
  cv_.wait(lock, [this] { return parked_ || !threadActive_; });
}

void Core::ReleaseSync() {
  std::lock_guard<std::mutex> lock(mu_);
  if (--syncDepth_ > 0) return;
  handover_ = false;
  cv_.notify_all();
}

bool Core::StepSync(int timeoutMs) { return Step(true, timeoutMs); }

bool Core::TakeDue() {
  std::lock_guard<std::mutex> lock(mu_);
  bool due = due_;
  due_ = false;
  return due;
}

void Core::NotifyNow() {
  std::lock_guard<std::mutex> lock(mu_);
  // Already told: a dispatch is on its way, and it looks until the queue is empty.
  if (jsNotified_ || notify_ == nullptr) return;
  jsNotified_ = true;
  notify_(notifyArg_);
}

void Core::CloseStdinLocked() {
  if (stdinOpen_) luaipc_proc_close_stream(proc_, LUAIPC_PROC_STDIN);
  stdinOpen_ = false;
  while (!in_.empty()) {
    if (pool_.size() < kPoolMax && !done_) pool_.push_back(std::move(in_.front().data));
    in_.pop_front();
  }
}

unsigned Core::Prepare(bool sync) {
  std::lock_guard<std::mutex> lock(mu_);
  unsigned want = exited_ ? 0u : LUAIPC_PROC_EV_EXIT;
  if (detached_) {
    // Closing our ends is what a parent that stops listening does: the child reads EOF and a
    // write of its gets EPIPE (or SIGPIPE).
    CloseStdinLocked();
    luaipc_proc_close_stream(proc_, LUAIPC_PROC_STDOUT);
    luaipc_proc_close_stream(proc_, LUAIPC_PROC_STDERR);
    return want;
  }
  if (stdinOpen_) {
    if (!in_.empty()) {
      want |= LUAIPC_PROC_EV_STDIN;
    } else if (inEnd_) {
      CloseStdinLocked();
    }
  }
  if (sync || eventBytes_ < kMaxQueued) {
    if (luaipc_proc_piped(proc_, LUAIPC_PROC_STDOUT)) want |= LUAIPC_PROC_EV_STDOUT;
    if (luaipc_proc_piped(proc_, LUAIPC_PROC_STDERR)) want |= LUAIPC_PROC_EV_STDERR;
  } else {
    throttled_ = true;
  }
  return want;
}

void Core::WriteSome() {
  for (;;) {
    const void* bufs[LUAIPC_PROC_MAX_PIECES];
    size_t lens[LUAIPC_PROC_MAX_PIECES];
    int n = 0;
    size_t offered = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (in_.empty() || !stdinOpen_) return;
      for (auto it = in_.begin(); it != in_.end() && n < LUAIPC_PROC_MAX_PIECES && offered < kBatch; ++it) {
        if (it->end == it->start) continue;
        bufs[n] = it->data.get() + it->start;
        lens[n] = it->end - it->start;
        offered += lens[n];
        ++n;
      }
      if (n == 0) return;
    }
    size_t done = 0;
    int err = n == 1 ? luaipc_proc_write(proc_, bufs[0], lens[0], &done)
                     : luaipc_proc_write_pieces(proc_, bufs, lens, n, &done);
    if (err == EAGAIN) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (err != 0) {
      // EPIPE: the child closed its stdin or exited. What it did not read is dropped, and the
      // exit status still comes (LuaIPC absorbs it the same way). No other error is known for a
      // pipe; any would end stdin the same way.
      CloseStdinLocked();
      return;
    }
    // Only the owner removes blocks, so the written ones are still the first ones. A block
    // written out goes back to the pool even if it is the tail (Write appends under the lock,
    // so it starts a new one), and an empty queue is what tells Prepare not to wait for POLLOUT.
    size_t left = done;
    while (!in_.empty()) {
      Block& front = in_.front();
      size_t take = std::min(left, front.end - front.start);
      front.start += take;
      left -= take;
      if (front.start < front.end) break;
      if (pool_.size() < kPoolMax) pool_.push_back(std::move(front.data));
      in_.pop_front();
    }
    if (done < offered) return;  // the pipe is full
  }
}

void Core::Emit(bool sync, Event& ev) {
  std::lock_guard<std::mutex> lock(mu_);
  if (detached_) return;
  eventBytes_ += ev.capacity;
  bool urgent = ev.kind != EventKind::kData;
  unnotifiedBytes_ += ev.size;
  events_.push_back(std::move(ev));
  if (!notifyPending_) {
    notifyPending_ = true;
    pendingSince_ = std::chrono::steady_clock::now();
  }
  if (urgent || unnotifiedBytes_ >= kNotifyBytes || eventBytes_ >= kMaxQueued || LingerLeftMsLocked() == 0) {
    NotifyLocked(sync);
  }
}

void Core::NotifyLocked(bool sync) {
  notifyPending_ = false;
  unnotifiedBytes_ = 0;
  if (sync) {
    // The JS thread runs the loop: it delivers when it sees due_.
    due_ = true;
    return;
  }
  if (jsNotified_ || events_.empty() || notify_ == nullptr) return;
  jsNotified_ = true;
  notify_(notifyArg_);
}

int Core::LingerLeftMsLocked() const {
  auto waited = std::chrono::steady_clock::now() - pendingSince_;
  auto left = std::chrono::milliseconds(kLingerMs) - std::chrono::duration_cast<std::chrono::milliseconds>(waited);
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

std::unique_ptr<char[]> Core::TakeBufferLocked() {
  if (!pool_.empty()) {
    std::unique_ptr<char[]> buffer = std::move(pool_.back());
    pool_.pop_back();
    return buffer;
  }
  return std::unique_ptr<char[]>(new char[kBatch]);
}

std::unique_ptr<char[]> Core::TakeBuffer() {
  std::lock_guard<std::mutex> lock(mu_);
  return TakeBufferLocked();
}

void Core::Recycle(std::unique_ptr<char[]> buffer) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!done_ && pool_.size() < kPoolMax) pool_.push_back(std::move(buffer));
}

int Core::ReadSome(int stream, bool sync) {
  if (!luaipc_proc_piped(proc_, stream)) return kClosed;
  std::unique_ptr<char[]> buffer = TakeBuffer();
  size_t total = 0;
  int err = 0;
  bool eof = false;
  bool again = false;
  while (total < kBatch) {
    size_t got = 0;
    size_t want = kBatch - total;
    int e = luaipc_proc_read(proc_, stream, buffer.get() + total, want, &got);
    if (e == EAGAIN) {
      again = true;
      break;
    }
    if (e != 0) {
      err = e;
      break;
    }
    if (got == 0) {
      eof = true;
      break;
    }
    total += got;
    // A short read emptied the pipe: the next read would only say EAGAIN.
    if (got < want) {
      again = true;
      break;
    }
  }
  if (err != 0 || eof) {
    std::lock_guard<std::mutex> lock(mu_);
    luaipc_proc_close_stream(proc_, stream);
  }
  if (total > 0) {
    Event ev;
    ev.kind = EventKind::kData;
    ev.stream = stream;
    ev.size = total;
    if (total >= kSmall) {
      ev.data = std::move(buffer);
      ev.capacity = kBatch;
      ev.pooled = true;
    } else {
      ev.data.reset(new char[total]);
      std::memcpy(ev.data.get(), buffer.get(), total);
      ev.capacity = total;
      Recycle(std::move(buffer));
    }
    Emit(sync, ev);
  } else {
    Recycle(std::move(buffer));
  }
  if (err != 0 || eof) {
    Event ev;
    ev.kind = err != 0 ? EventKind::kError : EventKind::kEnd;
    ev.stream = stream;
    ev.err = err;
    Emit(sync, ev);
    return kClosed;
  }
  return again ? kAgain : kMore;
}

bool Core::TryReap() {
  std::lock_guard<std::mutex> lock(mu_);
  if (exited_) return true;
  int exited = 0, signaled = 0, code = 0;
  // A group leader stays unreaped while the handle is open, so that kill() can only reach its
  // own group (Detach reaps it).
  int err = luaipc_proc_reap(proc_, group_ && !detached_ ? 1 : 0, &exited, &signaled, &code);
  if (err != 0) {
    exitErr_ = err;
    exited_ = true;
  } else if (exited) {
    exited_ = true;
    signaled_ = signaled != 0;
    code_ = code;
  }
  return exited_;
}

void Core::Finish(bool sync) {
  bool detached;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (done_) return;
    detached = detached_;
  }
  if (!detached) {
    // The child is gone, so what it wrote is all in the pipes now: drain them. A pipe that is
    // still open but empty belongs to a process that outlived the child (a background job);
    // it ends here too.
    for (int stream : {LUAIPC_PROC_STDOUT, LUAIPC_PROC_STDERR}) {
      int r;
      size_t drained = 0;
      do {
        r = ReadSome(stream, sync);
        drained += kBatch;
      } while (r == kMore && drained < kDrainMax);
      if (r != kClosed) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          luaipc_proc_close_stream(proc_, stream);
        }
        Event end;
        end.kind = EventKind::kEnd;
        end.stream = stream;
        Emit(sync, end);
      }
    }
  }
  Event ev;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (done_) return;  // a nested wait finished it while the drain called back
    CloseStdinLocked();
    luaipc_proc_close_stream(proc_, LUAIPC_PROC_STDOUT);
    luaipc_proc_close_stream(proc_, LUAIPC_PROC_STDERR);
    done_ = true;
    // Nothing polls after done_, and every wake-up is made under mu_.
    luaipc_proc_release_watch(proc_);
    pool_.clear();
    ev.kind = EventKind::kExit;
    ev.err = exitErr_;
    ev.signaled = signaled_;
    ev.code = code_;
  }
  Emit(sync, ev);
}

bool Core::Step(bool sync, int timeoutMs) {
  bool exited;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (done_) return true;
    exited = exited_;
  }
  if (exited) {
    Finish(sync);
    return true;
  }
  unsigned want = Prepare(sync);
  bool watchable = luaipc_proc_exit_watchable(proc_) != 0;
  int timeout = timeoutMs;
  if (!watchable && (timeout < 0 || timeout > backoffMs_)) timeout = backoffMs_;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (notifyPending_) {
      int left = LingerLeftMsLocked();
      if (timeout < 0 || timeout > left) timeout = left;
    }
  }
  unsigned ready = 0;
  int err = luaipc_proc_poll(proc_, want, timeout, &ready);
  if (err != 0) {
    // poll itself failed (ENOMEM): try again a little later rather than spin.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ready = 0;
  }
  if (!watchable) {
    backoffMs_ = (ready & ~LUAIPC_PROC_EV_WAKE) != 0 ? 1 : std::min(backoffMs_ * 2, kMaxBackoffMs);
  }
  if ((ready & (LUAIPC_PROC_EV_STDOUT | LUAIPC_PROC_EV_STDERR)) == 0) {
    // No more output right now (or the linger ran out): hand over what is queued.
    std::lock_guard<std::mutex> lock(mu_);
    if (notifyPending_) NotifyLocked(sync);
  }
  if ((ready & LUAIPC_PROC_EV_STDIN) != 0) WriteSome();
  if ((ready & LUAIPC_PROC_EV_STDOUT) != 0) ReadSome(LUAIPC_PROC_STDOUT, sync);
  if ((ready & LUAIPC_PROC_EV_STDERR) != 0) ReadSome(LUAIPC_PROC_STDERR, sync);
  if ((ready & LUAIPC_PROC_EV_EXIT) != 0 || !watchable) {
    if (TryReap()) {
      Finish(sync);
      return true;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  return done_;
}

}  // namespace proc
}  // namespace luaipc
