// A `...Sync` wait on a JavaScript thread, cut into slices so that a worker's terminate() or
// process.exit() ends it within 100 ms (the package READMEs' "Blocking" rule).
//
//   int err = luaipc::SyncWait(env, luaipc::DeadlineAfter(timeout), inWorker,
//                              [&](int64_t until) { return my_blocking_call(until); });
//   if (err == ECANCELED) return env.Undefined();   // the worker is being stopped: no result
//
// `sleep(until)` blocks until its event, the point `until` on luaipc_now_ns()'s clock (-1: no
// limit) or an interruption, and returns 0 (the event), ETIMEDOUT, EINTR or an OS error. Only a
// worker's wait is sliced: the main thread cannot be terminated, so it sleeps in one piece.
// Returns 0, ETIMEDOUT at the deadline, ECANCELED when the env stops, or the OS error.
#pragma once

#include <napi.h>

#include <cerrno>
#include <cstdint>
#include <memory>

#include "luaipc/env.h"
#include "luaipc/glue_os.h"

namespace luaipc {

// How often a worker's Sync wait looks whether its worker is being stopped.
constexpr int64_t kSyncSliceNs = 50 * 1000000LL;

template <typename Sleep>
int SyncWait(Napi::Env env, int64_t deadline, bool inWorker, Sleep sleep) {
  std::unique_ptr<JsProbe> probe;
  if (inWorker) probe = std::make_unique<JsProbe>(env);
  for (;;) {
    if (probe && !probe->CanRunJs()) return ECANCELED;
    int64_t until = deadline;
    if (inWorker) {
      int64_t sliceEnd = luaipc_now_ns() + kSyncSliceNs;
      if (deadline < 0 || sliceEnd < deadline) until = sliceEnd;
    }
    int err = sleep(until);
    if (err == 0) return 0;
    if (err == ETIMEDOUT || err == EINTR) {
      if (deadline >= 0 && luaipc_now_ns() >= deadline) return ETIMEDOUT;
      continue;
    }
    return err;
  }
}

}  // namespace luaipc
