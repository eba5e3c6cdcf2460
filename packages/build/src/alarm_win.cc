// Windows backend of alarm_os.h: the shared timer thread (alarm_timer.h) interrupting threads
// with the glue's APC (luaipc_thread_interrupt), which ends alertable waits and cancels
// synchronous I/O such as a blocking LockFileEx.
#include <errno.h>
#include <windows.h>

#include "alarm_timer.h"

using luaipc_alarm_detail::Timer;

extern "C" int luaipc_alarm_open(luaipc_alarm** out, luaipc_error* err) {
  int e = Timer::Get().EnsureRunning(err);
  if (e != 0) return e;
  auto* a = new (std::nothrow) luaipc_alarm{luaipc_thread_self(), -1, 0, false};
  if (a == nullptr) return luaipc_fail(err, ENOMEM, "pthread_create");
  *out = a;
  return 0;
}

extern "C" int luaipc_alarm_arm(luaipc_alarm* alarm, int64_t deadline_ns, int64_t repeat_ns, luaipc_error* err) {
  return Timer::Get().Arm(alarm, deadline_ns, repeat_ns < 0 ? 0 : repeat_ns, err);
}

extern "C" void luaipc_alarm_close(luaipc_alarm* alarm) {
  // An APC queued just before the disarm runs now, in an alertable no-op, so it cannot cut
  // short a later wait of this thread instead.
  if (Timer::Get().Disarm(alarm)) SleepEx(0, TRUE);
  delete alarm;
}
