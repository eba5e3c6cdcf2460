// Windows backend of alarm_os.h: the shared timer thread (alarm_timer.h) interrupting threads
// with the glue's APC (luaipc_thread_interrupt), which ends alertable waits and cancels
// synchronous I/O such as a blocking LockFileEx.
#include <errno.h>
#include <windows.h>

#include "alarm_timer.h"

using luaipc_alarm_detail::Timer;

extern "C" int luaipc_alarm_open(luaipc_alarm** out) {
  int err = Timer::Get().EnsureRunning();
  if (err != 0) return err;
  auto* a = new (std::nothrow) luaipc_alarm{luaipc_thread_self(), -1, 0, false};
  if (a == nullptr) return ENOMEM;
  *out = a;
  return 0;
}

extern "C" int luaipc_alarm_arm(luaipc_alarm* alarm, int64_t deadline_ns, int64_t repeat_ns) {
  return Timer::Get().Arm(alarm, deadline_ns, repeat_ns < 0 ? 0 : repeat_ns);
}

extern "C" void luaipc_alarm_close(luaipc_alarm* alarm) {
  // An APC queued just before the disarm runs now, in an alertable no-op, so it cannot cut
  // short a later wait of this thread instead.
  if (Timer::Get().Disarm(alarm)) SleepEx(0, TRUE);
  delete alarm;
}
