// Alarms: bounds for blocking calls that have no timeout of their own (fcntl F_OFD_SETLKW,
// F_SETLKW). An alarm interrupts one thread's blocking call, as luaipc_thread_interrupt does
// (the call returns EINTR), at a deadline on luaipc_now_ns()'s clock.
//
//   luaipc_alarm* alarm;
//   luaipc_alarm_open(&alarm, &error);                 // for the calling thread
//   for (;;) {
//     luaipc_alarm_arm(alarm, until, repeat, &error);  // until: the deadline, or the next check
//     int err = blocking_call();               // EINTR at `until` (or earlier: other signals)
//     ...
//   }
//   luaipc_alarm_close(alarm);                 // no interruption reaches the thread after this
//
// The thread must not block the glue's wake signal: threads started by luaipc_thread_start and
// Node's JS threads (main and workers) qualify. An interruption that lands just before the
// thread enters its call is lost; `repeat` sends it again every `repeat_ns` until the alarm is
// re-armed or closed.
#ifndef LUAIPC_ALARM_OS_H
#define LUAIPC_ALARM_OS_H

#include <stdint.h>

#include "luaipc/glue_os.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct luaipc_alarm luaipc_alarm;

// Failures fill *err (glue_os.h; it may be NULL) as the call that could not be made: the timer
// thread's start ("pthread_create") or the wake signal ("sigaction").

// A disarmed alarm for the calling thread. ENOMEM, the timer thread's EAGAIN, or ENOSYS when
// the process has no wake signal for us (every candidate signal is taken by other code).
int luaipc_alarm_open(luaipc_alarm** out, luaipc_error* err);

// Interrupts the alarm's thread at `deadline_ns`, then every `repeat_ns` (0: once) until re-armed
// or closed. Re-arming replaces the previous deadline. EAGAIN (or the OS's code) when the timer
// thread cannot be started; the alarm is then disarmed.
int luaipc_alarm_arm(luaipc_alarm* alarm, int64_t deadline_ns, int64_t repeat_ns, luaipc_error* err);

// Disarms and frees the alarm. Called by the alarm's thread: when it returns, any interruption
// already sent has been delivered, so none hits a later call of that thread.
void luaipc_alarm_close(luaipc_alarm* alarm);

#ifdef __cplusplus
}
#endif

#endif
