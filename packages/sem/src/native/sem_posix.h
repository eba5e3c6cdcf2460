// The OS side of @luaipc/sem: plain functions returning 0 or an errno, no N-API. A Windows
// (CreateSemaphore) or macOS backend implements the same declarations in its own file.
#pragma once

#include <cstdint>

namespace luaipc {
namespace sem {

struct OsSem;

// Largest initial value and longest name (bytes, without the leading '/') this OS accepts.
int64_t ValueMax();
int NameMax();

// osName is '/' + name. create: O_CREAT|O_EXCL with mode 0600 and `initial`; else open an
// existing one.
int Open(const char* osName, unsigned initial, bool create, OsSem** out);
void Close(OsSem* sem);
int Unlink(const char* osName);

int Post(OsSem* sem);
// 0 with *acquired false when the value is zero.
int TryWait(OsSem* sem, bool* acquired);

// A point in time on the clock Wait uses; -1 means never (wait forever). Seconds beyond what a
// timespec can hold count as forever.
int64_t DeadlineAfter(double seconds);

// Blocks until decremented (0, *acquired = true), until `deadline` (0, *acquired = false), or,
// when `cancelled` is given, until it returns true (ECANCELED); it is polled at least every
// few tens of milliseconds. `spin` first retries without sleeping for a few microseconds, which
// saves a kernel wake-up when the other side answers fast.
int Wait(OsSem* sem, int64_t deadline, bool (*cancelled)(const void* ctx), const void* ctx, bool spin,
         bool* acquired);

}  // namespace sem
}  // namespace luaipc
