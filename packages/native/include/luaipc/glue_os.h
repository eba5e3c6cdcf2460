// The OS side of the shared glue: a tiny C API, one backend file per OS family
// (src/glue_posix.cc, src/glue_win.cc), returning 0 or an OS error code. No N-API here.
#ifndef LUAIPC_GLUE_OS_H
#define LUAIPC_GLUE_OS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Stack size of the glue's threads: they block in one system call at a time and need
// kilobytes, not the 8 MiB default.
#define LUAIPC_THREAD_STACK (256 * 1024)

// A thread, as luaipc_thread_self returns it (pthread_t or a Windows thread id).
typedef uintptr_t luaipc_thread_id;

// Starts a detached thread named `name` (at most 15 bytes; shown by ps, top and debuggers)
// running fn(arg) on a small stack, with the process's asynchronous signals blocked in it (they
// are for the JS thread). EAGAIN (or the OS's code) when the OS refuses: then no thread was
// started and fn never runs.
int luaipc_thread_start(void (*fn)(void* arg), void* arg, const char* name);

luaipc_thread_id luaipc_thread_self(void);

// Makes a blocking call that thread `t` is in return early with EINTR (POSIX: a signal with an
// empty handler, claimed on first use; Windows: an APC, so waits there must be alertable, plus
// CancelSynchronousIo). `t` may be a thread of ours or a Node JS thread (main or worker): none
// of them blocks the signal. The caller must know `t` is still running. Best effort: a thread between its last
// check of its cancel flag and the call misses it, so such waits still look at the flag at
// least once a second.
int luaipc_thread_interrupt(luaipc_thread_id t);

// Nanoseconds on the monotonic clock (the clock every deadline of ours is on).
int64_t luaipc_now_ns(void);

#ifdef _WIN32
// The errno value for a Win32 error code (ERROR_ALREADY_EXISTS -> EEXIST, ...), one table for
// every Windows backend; EIO for codes it doesn't know. The code itself is remembered for the
// calling thread (luaipc_take_win32_error), so the error thrown to JavaScript can carry it.
int luaipc_errno_from_win32(unsigned long code);
// The Win32 code of the calling thread's last luaipc_errno_from_win32 if it became `err`, else
// 0; either way the thread's code is cleared (pass 0 just to clear it).
unsigned long luaipc_take_win32_error(int err);
// Makes `code` (mapped to `err`) the calling thread's last Win32 code: an error that happened on
// another thread (a wait thread) carries it to the JS thread's IpcError.
void luaipc_put_win32_error(unsigned long code, int err);
// The Windows handle behind a Node file descriptor (fs.openSync, FileHandle.fd), through the
// uv_get_osfhandle node.exe exports (its C runtime's descriptor table is inside node.exe). EBADF
// when the descriptor is not open.
int luaipc_os_handle_from_fd(int fd, void** handle);
#endif

// Keeps the shared object that contains `address` loaded until the process ends, so a thread of
// ours that is still inside it when Node unloads the addon (a worker's teardown) never runs
// unmapped code.
int luaipc_pin_module(const void* address);

#ifdef __cplusplus
}
#endif

#endif
