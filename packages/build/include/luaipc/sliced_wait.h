// Blocking waits cut into slices, and the slice lengths, written once.
//
// A wait blocks in one OS call at a time (sem_timedwait, poll, a blocking fcntl lock, ...). It
// must still notice, within a bounded time, what no OS call reports: its worker being stopped
// (a `...Sync` call on a worker's JS thread: terminate() or process.exit() end it within 100 ms,
// the package READMEs' "Blocking" rule) or its cancel flag (a wait on a thread of ours, whose
// interruption can land just before the blocking call and be missed: waiter.h). So it sleeps
// until the earlier of its deadline and the end of a slice, looks, and sleeps again.
//
//   int err = luaipc::SyncWait(env, luaipc::DeadlineAfter(timeout), inWorker,
//                              [&](int64_t until) { return my_blocking_call(until); });
//   if (err == ECANCELED) return env.Undefined();   // the worker is being stopped: no result
//
// `sleep(until)` blocks until its event, the point `until` on luaipc_now_ns()'s clock (-1: no
// limit) or an interruption, and returns 0 (the event), ETIMEDOUT, EINTR or an OS error.
// Waits on threads of ours use waiter.h's CancelToken::WaitSliced, built on WaitSliced below.
#pragma once

#include <napi.h>

#include <cerrno>
#include <cstdint>
#include <memory>

#include "luaipc/env.h"
#include "luaipc/glue_os.h"

namespace luaipc {

constexpr int64_t kNsPerMs = 1000000;
// How often a `...Sync` wait on a worker's JS thread looks whether its worker is being stopped:
// well inside the 100 ms the READMEs promise. The only periodic wake-up of such a wait.
constexpr int64_t kSyncSliceNs = 50 * kNsPerMs;
// How often a wait on a thread of ours looks at its cancel flag besides being interrupted.
constexpr int64_t kAsyncSliceNs = 1000 * kNsPerMs;
// A slice length for WaitSliced: one sleep until the deadline.
constexpr int64_t kNoSlice = -1;

// The point on luaipc_now_ns()'s clock `seconds` from now (fractions allowed); -1 (never) for a
// negative or NaN timeout, or one too long for the clock (2^62 ns is ~146 years, so the sum
// cannot overflow).
inline int64_t DeadlineAfter(double seconds) {
  if (!(seconds >= 0) || seconds > 4.6e9) return -1;
  return luaipc_now_ns() + static_cast<int64_t>(seconds * 1e9);
}

// Sleeps in slices of `slice` ns (kNoSlice: in one piece) until the event (0), the deadline
// (ETIMEDOUT; -1: none), `stop()` turning true (ECANCELED; looked at before every sleep) or an
// OS error (returned as it came). ETIMEDOUT and EINTR from `sleep` end a slice, not the wait.
template <typename Stop, typename Sleep>
int WaitSliced(int64_t deadline, int64_t slice, Stop stop, Sleep sleep) {
  for (;;) {
    if (stop()) return ECANCELED;
    int64_t until = deadline;
    if (slice >= 0) {
      int64_t sliceEnd = luaipc_now_ns() + slice;
      if (deadline < 0 || sliceEnd < deadline) until = sliceEnd;
    }
    int err = sleep(until);
    if (err == 0) return 0;
    if (err != ETIMEDOUT && err != EINTR) return err;
    if (deadline >= 0 && luaipc_now_ns() >= deadline) return ETIMEDOUT;
  }
}

// A `...Sync` wait on a JavaScript thread. Only a worker's is sliced (kSyncSliceNs): the main
// thread cannot be terminated, so it sleeps in one piece. Returns 0, ETIMEDOUT at the deadline,
// ECANCELED when the worker is being stopped, or the OS error.
template <typename Sleep>
int SyncWait(Napi::Env env, int64_t deadline, bool inWorker, Sleep sleep) {
  std::unique_ptr<JsProbe> probe;
  if (inWorker) probe = std::make_unique<JsProbe>(env);
  return WaitSliced(
      deadline, inWorker ? kSyncSliceNs : kNoSlice, [&] { return probe && !probe->CanRunJs(); }, sleep);
}

}  // namespace luaipc
