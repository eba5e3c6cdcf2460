// The I/O loop of one child process, independent of N-API and of the OS (it uses proc_os.h).
//
// The loop sends queued stdin bytes, reads stdout/stderr and notices the exit. It runs either
// on the child's own thread (the async path: results are queued as Events and a notifier
// tells the JS thread to Pop them) or, for waitSync(), on the JS thread itself, which takes the
// loop over from the thread (the thread parks meanwhile) and receives events directly.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "luaipc/thread_pool.h"
#include "proc_os.h"

namespace luaipc {
namespace proc {

// What reaches JavaScript, each kind with its arguments to the dispatch function
// (`dispatch(kind, ...)`). Mirrored once on the TypeScript side: `ProcEvent` in src/binding.ts.
enum class EventKind : int {
  kData = 0,   // stream, Buffer: output bytes (stream 1 stdout, 2 stderr)
  kEnd = 1,    // stream: that stream ended
  kError = 2,  // stream, errno: reading it failed (it ended too)
  kExit = 3,   // errno, signaled, code: the child was reaped (errno != 0: reaping failed)
  kMore = 4,   // (none): more is queued than one dispatch hands over; call drain() once the
               // event loop has had its turn. Made by the dispatch itself, never queued.
};

// One queued event (every kind but kMore).
struct Event {
  EventKind kind = EventKind::kData;
  int stream = 0;           // 1 stdout, 2 stderr (kData, kEnd, kError)
  std::unique_ptr<char[]> data;  // kData: the bytes are data[offset, offset + size)
  size_t offset = 0;
  size_t size = 0;
  size_t capacity = 0;  // of data: what the event holds in memory
  bool pooled = false;  // data is a read buffer: hand it back with Core::Recycle once copied
  int err = 0;              // kError: the read's errno; kExit: reaping failed with it
  bool signaled = false;    // kExit
  int code = 0;             // kExit: exit status or signal number
};

class Core : public luaipc::PoolTask {
 public:
  // Starts the child; see luaipc_proc_spawn for `error`.
  static int Spawn(const luaipc_proc_options& options, std::shared_ptr<Core>* out, luaipc_error* error);
  ~Core() override;
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  long pid() const { return luaipc_proc_pid(proc_); }

  // The thread's body (on a thread of the pool): runs the loop until the child is reaped (and,
  // unless detached, its output drained and the exit queued). Parks whenever a Sync wait holds
  // the loop.
  void RunTask() override;

  // Called by the thread whenever the event queue goes from empty to non-empty. May be called
  // concurrently with nothing else of ours; never after DisableNotify returns.
  void SetNotifier(void (*fn)(void*), void* arg);
  void DisableNotify();

  // JS thread. Moves every queued event to the end of `out`.
  void PopAll(std::deque<Event>* out);
  // JS thread, at the end of a dispatch. With `again` (it delivered something, or stopped with
  // events left) or when events are queued, returns true: the JS thread must look again later,
  // and until then the notifier is not called (Node would run that call in the same turn of the
  // event loop, before timers and I/O). Otherwise the next event calls the notifier.
  bool EndDispatch(bool again);
  // Any thread: a pooled event buffer whose bytes have been copied out, for the next read.
  void Recycle(std::unique_ptr<char[]> buffer);

  // JS thread: stdin. The bytes are copied at once. Bytes after the child closed stdin (or
  // exited) are dropped, as the EPIPE they would meet.
  void Write(const char* data, size_t len);
  // Closes stdin once every queued byte is written.
  void End();

  int Kill(int sig, luaipc_error* error);

  // JS thread, for waitSync: takes the loop over (parks the thread), then Step()s it.
  void AcquireSync();
  void ReleaseSync();
  // One round of the loop on the JS thread. Events are queued as on the thread; TakeDue says
  // when to hand them to JavaScript (the same batching). Returns true once the exit event has
  // been queued.
  bool StepSync(int timeoutMs);
  bool TakeDue();
  // Makes the JS thread look at the queue (after a Sync wait that stopped early).
  void NotifyNow();

  // Stop delivering: close our pipe ends, drop queued input and events, and only reap the
  // child when it ends (the thread does that; a group leader held unreaped is reaped here).
  // Any thread; idempotent.
  void Detach();

  // Undoes a spawn whose thread could not start: SIGKILL, then reap.
  void Abandon();

  // Runs the loop on a thread of proc's pool (luaipc/thread_pool.h): a parked one if there is
  // one (they park a second before they end), else a new one. 0, or the error of starting a
  // thread (EAGAIN, in *error): then nothing will run the loop.
  static int StartThread(const std::shared_ptr<Core>& core, luaipc_error* error);

 private:
  Core() = default;

  enum Owner { kThread, kSync };

  bool Step(bool sync, int timeoutMs);
  unsigned Prepare(bool sync);
  void WriteSome();
  // Reads one batch from `stream` and hands it on: kClosed, kAgain (drained for now) or kMore.
  int ReadSome(int stream, bool sync);
  void CloseStdinLocked();
  void Emit(bool sync, Event& ev);
  bool TryReap();
  void Finish(bool sync);

  luaipc_proc* proc_ = nullptr;
  bool group_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  // stdin: blocks of kBatch bytes, filled by Write at the tail and written from the front by
  // the loop owner, who alone removes them (so its unlocked writev never sees one freed).
  struct Block {
    std::unique_ptr<char[]> data;
    size_t start = 0;
    size_t end = 0;
  };
  std::deque<Block> in_;
  bool inEnd_ = false;
  bool stdinOpen_ = false;
  // events for the JS thread
  std::deque<Event> events_;
  size_t eventBytes_ = 0;
  bool throttled_ = false;
  void (*notify_)(void*) = nullptr;
  void* notifyArg_ = nullptr;
  // Output is handed over in batches: the JS thread is told at once about ends and the exit,
  // about data once kNotifyBytes have piled up or the oldest has waited kLingerMs (the loop
  // polls with that timeout meanwhile). Each wake-up of the JS thread takes a CPU from the
  // child and the reader; batching them is what keeps a fast producer fast.
  bool jsNotified_ = false;     // told, and not yet through with the queue (EndDispatch)
  bool due_ = false;            // Sync wait: the queue is ready for JavaScript
  bool notifyPending_ = false;  // data queued that the JS thread has not been told about
  size_t unnotifiedBytes_ = 0;
  std::chrono::steady_clock::time_point pendingSince_;
  void NotifyLocked(bool sync);
  int LingerLeftMsLocked() const;
  // exit
  bool exited_ = false;
  int exitErr_ = 0;
  bool signaled_ = false;
  int code_ = 0;
  bool done_ = false;
  // ownership of the loop
  bool detached_ = false;
  bool handover_ = false;
  bool parked_ = false;
  bool threadActive_ = false;
  int syncDepth_ = 0;

  // Read buffers and stdin blocks: memory that is already touched saves a page fault per 4 KiB.
  std::unique_ptr<char[]> TakeBuffer();
  std::unique_ptr<char[]> TakeBufferLocked();
  std::vector<std::unique_ptr<char[]>> pool_;  // guarded by mu_

  // Loop owner only.
  int backoffMs_ = 1;
};

}  // namespace proc
}  // namespace luaipc
