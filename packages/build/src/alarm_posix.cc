// POSIX backend of alarm_os.h: the shared timer thread (alarm_timer.h) interrupting threads with
// the glue's wake signal.
#include "luaipc/alarm_os.h"

#include <errno.h>
#include <signal.h>

#include "alarm_timer.h"

using luaipc_alarm_detail::Timer;

namespace {

// Whether the glue has a wake signal: interrupting ourselves runs its empty handler (a no-op),
// or fails with ENOSYS when no signal could be claimed.
int ProbeWakeSignal() { return luaipc_thread_interrupt(luaipc_thread_self()); }

}  // namespace

extern "C" int luaipc_alarm_open(luaipc_alarm** out, luaipc_error* err) {
  // Starting the timer thread also makes the glue claim its wake signal.
  int e = Timer::Get().EnsureRunning(err);
  if (e != 0) return e;
  static const int probe = ProbeWakeSignal();
  if (probe != 0) return luaipc_fail(err, probe, "sigaction");
  auto* a = new (std::nothrow) luaipc_alarm{luaipc_thread_self(), -1, 0, false};
  if (a == nullptr) return luaipc_fail(err, ENOMEM, "pthread_create");
  *out = a;
  return 0;
}

extern "C" int luaipc_alarm_arm(luaipc_alarm* alarm, int64_t deadline_ns, int64_t repeat_ns, luaipc_error* err) {
  return Timer::Get().Arm(alarm, deadline_ns, repeat_ns < 0 ? 0 : repeat_ns, err);
}

extern "C" void luaipc_alarm_close(luaipc_alarm* alarm) {
  if (Timer::Get().Disarm(alarm)) {
    // An interruption sent just before the disarm is pending on this thread by now; any system
    // call returns through the (empty) handler, so it cannot cut short a later call instead.
    sigset_t pending;
    sigpending(&pending);
  }
  delete alarm;
}
